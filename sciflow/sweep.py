"""Parameter sweeps: a function of a core over a grid, run serially, on a process pool or on Dask,
collected into an `xarray.Dataset` (the `sciflow sweep` command).

A sweep is described by a small TOML file (this is `sweeps/transport_slab.toml`, shortened):

```toml
description = "S8 slab: leakage, iterations and spectral radius vs c and thickness"
function = "sciflow.transport.sweeps:slab_leakage"   # module:qualname
outputs = ["leakage_left", "iterations", "spectral_radius", "phi"]
output = "transport_slab.nc"                          # .nc (netCDF) or .zarr

[parameters]            # fixed keyword arguments of the function
order = 8
cells = 100

[grid]                  # name -> values; the tasks are the outer product, in this order
c = [0.5, 0.9, 0.99]
thickness = { geomspace = [1.0, 100.0, 3] }           # 1, 10, 100
accel = ["none", "dsa"]

[dims]                  # names of the extra dimensions of array outputs (optional)
phi = ["cell"]
```

and run with `sciflow sweep spec.toml [--workers N | --scheduler tcp://host:port] [--out f.nc]`
or `run_sweep(load_spec("spec.toml"), workers=...)`. The keys:

- `function` (required): `"module:qualname"` of a callable in the `sciflow` package (other
  modules are refused unless `load_spec(..., allow_any_module=True)`). It is called once per grid
  point as `function(**parameters, **point)` and returns a dict (the outputs are its keys) or an
  object (the outputs are its attributes).
- `grid` (required): name -> a non-empty list of distinct scalars (numbers, strings or
  booleans), or a table `{ range = [start, stop, step] }` (integers, as Python's `range`;
  `[stop]` and `[start, stop]` too), `{ linspace = [start, stop, num] }` or
  `{ geomspace = [start, stop, num] }` (as NumPy's). The grid names become the dimensions and
  coordinates of the dataset; the last name varies fastest. A grid of integer seeds (`rng`) is an
  ordinary parameter: a task's result depends on its parameters only, so every engine gives the
  serial result, bit for bit where the workers run the same software on the same kind of CPU.
- `outputs` (required): the results to keep: numbers, booleans, strings or arrays whose shape
  is the same for every task.
- `parameters`: fixed keyword arguments (numbers, strings, booleans or lists of them).
- `dims`: output -> names of its extra dimensions (default `<output>_dim0`, `<output>_dim1`, ...).
- `output`: default path of the dataset (`.nc` or `.zarr`), relative to the working directory.
- `description`: free text, kept in the dataset's attributes.

Any other key is an error (there is no `zip` of grid names: every sweep is an outer product).
The dataset holds one variable per output with dimensions `(*grid, *extra)`, the grid values as
coordinates, `task_wall_time` (s, per task; `run_sweep(..., timing=False)` leaves it out) and
the attributes `sweep_function`, `sweep_spec` (the spec as JSON), `sweep_description` and
`sciflow_version`. Nothing of xarray or Dask is imported before a sweep runs, nor of
`dask.distributed` unless a Client is passed as `workers` (or a scheduler address to
`main_sweep`); xarray itself imports `dask.array`, when installed, as it builds the dataset.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import json
import math
import os
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .parallel import map_tasks

__all__ = ["SweepSpec", "SweepTaskError", "load_spec", "run_sweep", "write_dataset",
           "main_sweep"]

_KEYS = ("function", "parameters", "grid", "outputs", "dims", "output", "description")
_TIMING = "task_wall_time"
_SUFFIXES = (".nc", ".zarr")
_SPACINGS = ("range", "linspace", "geomspace")


class SweepTaskError(RuntimeError):
    """A task of a sweep failed; the message names its grid point and the original error."""


# --------------------------------------------------------------------------------------------
# the spec
# --------------------------------------------------------------------------------------------
def _is_scalar(v) -> bool:
    return isinstance(v, bool | int | float | str)


def _scalar_kind(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    return "str"


def _check_name(what: str, name) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{what} names must be Python identifiers, got {name!r}")
    return name


def _check_value(where: str, value, *, allow_list: bool = True):
    """A TOML value usable as a keyword argument: a scalar or a (nested) list of scalars."""
    if _is_scalar(value):
        return value
    if allow_list and isinstance(value, list | tuple):
        return [_check_value(where, v) for v in value]
    raise TypeError(f"{where} must be a number, string, boolean or a list of them, got "
                    f"{type(value).__name__} {value!r}")


def _expand_spacing(name: str, table: Mapping) -> list:
    where = f"grid.{name}"
    if len(table) != 1 or next(iter(table)) not in _SPACINGS:
        raise ValueError(f"{where} must be a list of values or a table with one key of "
                         f"{list(_SPACINGS)}, got keys {sorted(table)}")
    kind, args = next(iter(table.items()))
    if not isinstance(args, list | tuple):
        raise TypeError(f"{where}.{kind} must be a list of numbers, got {args!r}")
    if kind == "range":
        if not 1 <= len(args) <= 3 or not all(isinstance(a, int) and not isinstance(a, bool)
                                              for a in args):
            raise ValueError(f"{where}.range must be [stop], [start, stop] or "
                             f"[start, stop, step] of integers, got {args!r}")
        if len(args) == 3 and args[2] == 0:
            raise ValueError(f"{where}.range step must not be 0, got {args!r}")
        return list(range(*args))
    if (len(args) != 3 or not all(isinstance(a, int | float) and not isinstance(a, bool)
                                  for a in args)
            or not isinstance(args[2], int) or args[2] < 1
            or not all(math.isfinite(a) for a in args)):
        raise ValueError(f"{where}.{kind} must be [start, stop, num] with finite numbers and "
                         f"an integer num >= 1, got {args!r}")
    if kind == "geomspace" and (args[0] <= 0 or args[1] <= 0):
        raise ValueError(f"{where}.geomspace start and stop must be > 0, got {args!r}")
    fn = np.linspace if kind == "linspace" else np.geomspace
    return [float(v) for v in fn(float(args[0]), float(args[1]), int(args[2]))]


def _check_grid_values(name: str, values) -> tuple:
    where = f"grid.{name}"
    if isinstance(values, Mapping):
        values = _expand_spacing(name, values)
    if isinstance(values, str | bytes) or not isinstance(values, list | tuple):
        raise TypeError(f"{where} must be a list of values or a table "
                        f"{{ range | linspace | geomspace = [...] }}, got "
                        f"{type(values).__name__} {values!r}")
    if len(values) == 0:
        raise ValueError(f"{where} must hold at least one value, got an empty list")
    for v in values:
        if not _is_scalar(v):
            raise TypeError(f"{where} values must be numbers, strings or booleans, got "
                            f"{type(v).__name__} {v!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{where} values must be finite, got {v!r}")
    kinds = {_scalar_kind(v) for v in values}
    if len(kinds) > 1:
        raise TypeError(f"{where} values must all be of one kind (numbers, strings or "
                        f"booleans), got {sorted(kinds)}")
    if len(set(values)) != len(values):
        dup = sorted({v for v in values if values.count(v) > 1}, key=str)
        raise ValueError(f"{where} values must be distinct (they label a dimension), "
                         f"repeated: {dup}")
    return tuple(values)


def _resolve(ref, allow_any_module: bool = False) -> Callable:
    """The callable named by ``"module:qualname"``."""
    if not isinstance(ref, str):
        raise TypeError(f"function must be a string 'module:qualname', got "
                        f"{type(ref).__name__} {ref!r}")
    if ref.count(":") != 1:
        raise ValueError(f"function must be a string 'module:qualname', e.g. "
                         f"'sciflow.transport.sweeps:slab_leakage', got {ref!r}")
    return _resolve_cached(ref, allow_any_module)


@functools.lru_cache(maxsize=64)
def _resolve_cached(ref: str, allow_any_module: bool) -> Callable:
    mod_name, qualname = ref.split(":")
    if not mod_name or not qualname:
        raise ValueError(f"function must be a string 'module:qualname', got {ref!r}")
    if not allow_any_module and mod_name != "sciflow" and not mod_name.startswith("sciflow."):
        raise ValueError(f"function must name a callable in the sciflow package (module "
                         f"'sciflow' or 'sciflow.*'), got module {mod_name!r}; pass "
                         f"allow_any_module=True to load_spec to run other code")
    try:
        obj: Any = importlib.import_module(mod_name)
    except ImportError as exc:
        raise ValueError(f"function {ref!r}: cannot import module {mod_name!r} ({exc})") from None
    for part in qualname.split("."):
        if part.startswith("_"):
            raise ValueError(f"function {ref!r}: private names (starting with '_') are not "
                             f"allowed")
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"function {ref!r}: module {mod_name!r} has no attribute "
                             f"{qualname!r}") from None
    if not callable(obj):
        raise TypeError(f"function {ref!r} is not callable (a {type(obj).__name__})")
    return obj


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: ``function(**parameters, **point)`` for each point of ``grid``.

    Build it with :func:`load_spec` (from TOML or a mapping); the fields are those of the spec
    format of :mod:`sciflow.sweep`. ``grid`` maps names to tuples of distinct scalars (spacing
    tables already expanded); ``dims`` maps outputs to tuples of dimension names; ``source`` is
    the spec file (or None).
    """

    function: str
    grid: Mapping[str, tuple]
    outputs: tuple[str, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    dims: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    output: str | None = None
    description: str = ""
    source: str | None = None
    allow_any_module: bool = False

    def __post_init__(self):
        set_ = object.__setattr__
        if not isinstance(self.allow_any_module, bool):
            raise TypeError(f"allow_any_module must be a bool, got {self.allow_any_module!r}")
        fn = _resolve(self.function, self.allow_any_module)
        # parameters
        if not isinstance(self.parameters, Mapping):
            raise TypeError(f"parameters must be a table (name = value), got "
                            f"{type(self.parameters).__name__}")
        params = {_check_name("parameters", k): _check_value(f"parameters.{k}", v)
                  for k, v in self.parameters.items()}
        set_(self, "parameters", params)
        # grid
        if not isinstance(self.grid, Mapping):
            raise TypeError(f"grid must be a table (name = [values]), got "
                            f"{type(self.grid).__name__}")
        if not self.grid:
            raise ValueError("grid must name at least one parameter with a list of values")
        grid = {_check_name("grid", k): _check_grid_values(k, v) for k, v in self.grid.items()}
        both = sorted(set(grid) & set(params))
        if both:
            raise ValueError(f"grid and parameters both set {both}; give each name in one of "
                             f"them")
        set_(self, "grid", grid)
        # outputs
        outputs = self.outputs
        if isinstance(outputs, str) or not isinstance(outputs, list | tuple):
            raise TypeError(f"outputs must be a list of names, got {type(outputs).__name__} "
                            f"{outputs!r}")
        if not outputs:
            raise ValueError("outputs must name at least one result of the function")
        outputs = tuple(_check_name("outputs", o) for o in outputs)
        if len(set(outputs)) != len(outputs):
            raise ValueError(f"outputs must be distinct, got {list(outputs)}")
        clash = sorted(set(outputs) & (set(grid) | {_TIMING}))
        if clash:
            raise ValueError(f"outputs {clash} clash with grid names or the reserved "
                             f"'{_TIMING}'; rename the grid parameter or drop the output")
        set_(self, "outputs", outputs)
        # dims
        if not isinstance(self.dims, Mapping):
            raise TypeError(f"dims must be a table (output = [dimension names]), got "
                            f"{type(self.dims).__name__}")
        dims = {}
        for out, names in self.dims.items():
            if out not in outputs:
                raise ValueError(f"dims.{out} names an output not in outputs {list(outputs)}")
            if isinstance(names, str) or not isinstance(names, list | tuple):
                raise TypeError(f"dims.{out} must be a list of dimension names, got {names!r}")
            names = tuple(_check_name(f"dims.{out}", n) for n in names)
            if len(set(names)) != len(names) or set(names) & (set(grid) | set(outputs)):
                raise ValueError(f"dims.{out} must be distinct names other than the grid "
                                 f"names and outputs, got {list(names)}")
            dims[out] = names
        set_(self, "dims", dims)
        # output path, description, source
        if self.output is not None:
            if not isinstance(self.output, str | os.PathLike) or \
                    Path(self.output).suffix not in _SUFFIXES:
                raise ValueError(f"output must be a path ending in .nc (netCDF) or .zarr, got "
                                 f"{self.output!r}")
            set_(self, "output", str(self.output))
        if not isinstance(self.description, str):
            raise TypeError(f"description must be a string, got {self.description!r}")
        if self.source is not None:
            set_(self, "source", str(self.source))
        # the function must accept the parameters and grid names
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):  # builtins without a signature: checked when run
            return
        try:
            sig.bind(**params, **{k: v[0] for k, v in grid.items()})
        except TypeError as exc:
            raise ValueError(f"function {self.function!r} does not accept parameters "
                             f"{sorted(params)} and grid {sorted(grid)}: {exc}") from None

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values of each grid dimension."""
        return tuple(len(v) for v in self.grid.values())

    @property
    def n_tasks(self) -> int:
        return math.prod(self.shape)

    def tasks(self) -> list[dict]:
        """Keyword arguments of each task (the parameters and one grid point), in C order."""
        names = list(self.grid)
        return [{**self.parameters, **dict(zip(names, point, strict=True))}
                for point in itertools.product(*self.grid.values())]

    def to_dict(self) -> dict:
        """The spec as TOML-able data (spacing tables expanded)."""
        d: dict[str, Any] = {"function": self.function, "parameters": dict(self.parameters),
                             "grid": {k: list(v) for k, v in self.grid.items()},
                             "outputs": list(self.outputs)}
        if self.dims:
            d["dims"] = {k: list(v) for k, v in self.dims.items()}
        if self.output is not None:
            d["output"] = self.output
        if self.description:
            d["description"] = self.description
        return d


def load_spec(spec, *, allow_any_module: bool = False) -> SweepSpec:
    """Read and validate a sweep spec: a TOML file path or a mapping of its keys.

    Raises ``ValueError``/``TypeError`` with one line naming the key at fault (a TOML syntax
    error names the file and line; a missing file raises ``FileNotFoundError``).
    ``allow_any_module`` lets ``function`` name a callable outside the sciflow package.
    """
    source = None
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, str | os.PathLike):
        path = Path(spec)
        if path.suffix != ".toml":
            raise ValueError(f"spec must be a .toml file or a mapping, got {str(spec)!r}")
        if not path.is_file():
            raise FileNotFoundError(f"spec file {str(path)!r} not found")
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: invalid TOML: {exc}") from None
        source = str(path)
    elif isinstance(spec, Mapping):
        data = dict(spec)
    else:
        raise TypeError(f"spec must be a path to a .toml file or a mapping, got "
                        f"{type(spec).__name__}")
    where = f"{source}: " if source else ""
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ValueError(f"{where}unknown key(s) {unknown}; allowed: {list(_KEYS)}")
    for key in ("function", "grid", "outputs"):
        if key not in data:
            raise ValueError(f"{where}missing key {key!r} (required: function, grid, outputs)")
    try:
        return SweepSpec(function=data["function"], grid=data["grid"], outputs=data["outputs"],
                         parameters=data.get("parameters", {}), dims=data.get("dims", {}),
                         output=data.get("output"), description=data.get("description", ""),
                         source=source, allow_any_module=allow_any_module)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{where}{exc}") from None


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------
def _run_task(task: tuple) -> tuple[dict, float]:
    """Worker side: call the function on one task, keep the outputs as arrays."""
    ref, allow_any, kwargs, outputs = task
    fn = _resolve(ref, allow_any)
    t0 = time.perf_counter()
    try:
        res = fn(**kwargs)
    except Exception as exc:
        msg = " ".join(str(exc).split())  # one line
        raise SweepTaskError(f"task {kwargs!r} of {ref}: {type(exc).__name__}: {msg}") from None
    wall = time.perf_counter() - t0
    kept = {}
    for name in outputs:
        if isinstance(res, Mapping):
            if name not in res:
                raise SweepTaskError(f"output {name!r} is not a key of the result of {ref} "
                                     f"(keys: {sorted(res)})")
            value = res[name]
        elif hasattr(res, name):
            value = getattr(res, name)
        else:
            raise SweepTaskError(f"output {name!r} is not an attribute of the "
                                 f"{type(res).__name__} returned by {ref}")
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufcUS":
            raise SweepTaskError(f"output {name!r} of {ref} must be numbers, booleans or "
                                 f"strings, got {type(value).__name__}")
        kept[name] = arr
    return kept, wall


def run_sweep(spec, *, workers=None, progress: bool = True, timing: bool = True):
    """Run every task of ``spec`` and return an :class:`xarray.Dataset`.

    Parameters
    ----------
    spec : SweepSpec, path or mapping
        The sweep (a path or mapping goes through :func:`load_spec`).
    workers : None, int, map-like or dask.distributed.Client
        Engine (see :func:`sciflow.parallel.map_tasks`); results do not depend on it.
    progress : bool
        tqdm bar over the tasks (serial and process-pool engines).
    timing : bool
        Add ``task_wall_time`` (s), the time of each function call.

    Raises
    ------
    SweepTaskError
        A task raised (the message names its parameters) or returned an unusable output.
    ValueError
        An output's shape differs between tasks.
    """
    spec = load_spec(spec)
    if not isinstance(progress, bool) or not isinstance(timing, bool):
        raise TypeError(f"progress and timing must be bools, got {progress!r}, {timing!r}")
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover - xarray comes with the dev and dask extras
        raise ImportError("run_sweep needs xarray: pip install xarray") from None

    tasks = [(spec.function, spec.allow_any_module, kw, spec.outputs) for kw in spec.tasks()]
    results = map_tasks(_run_task, tasks, workers=workers, progress=progress,
                        desc=f"sweep {spec.function}")
    grid_dims = tuple(spec.grid)
    shape = spec.shape
    data_vars: dict[str, tuple] = {}
    for name in spec.outputs:
        arrays = [r[0][name] for r in results]
        first = arrays[0].shape
        for i, a in enumerate(arrays):
            if a.shape != first:
                raise ValueError(f"output {name!r} must have the same shape for every task: "
                                 f"{first} at {spec.tasks()[0]!r}, {a.shape} at "
                                 f"{spec.tasks()[i]!r}")
        extra = spec.dims.get(name, tuple(f"{name}_dim{k}" for k in range(len(first))))
        if len(extra) != len(first):
            raise ValueError(f"dims.{name} names {len(extra)} dimension(s) {list(extra)} but "
                             f"the output has shape {first}")
        values = np.stack(arrays).reshape(shape + first)
        data_vars[name] = (grid_dims + tuple(extra), values)
    if timing:
        data_vars[_TIMING] = (grid_dims, np.array([r[1] for r in results]).reshape(shape),
                              {"units": "s", "long_name": "wall time of the function call"})
    coords = {k: np.asarray(v) for k, v in spec.grid.items()}
    from . import __version__

    attrs = {"sweep_function": spec.function,
             "sweep_spec": json.dumps(spec.to_dict(), sort_keys=True),
             "sweep_description": spec.description, "sciflow_version": __version__}
    try:
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)
    except ValueError as exc:  # e.g. a shared extra dimension with two lengths
        raise ValueError(f"outputs do not fit one dataset: {exc}") from None


def _netcdf_engine() -> str:
    """netCDF4 if installed, else h5netcdf (with h5py), else scipy (netCDF3, always there)."""
    from importlib.util import find_spec

    if find_spec("netCDF4") is not None:
        return "netcdf4"
    if find_spec("h5netcdf") is not None and find_spec("h5py") is not None:
        return "h5netcdf"
    return "scipy"


def write_dataset(ds, path) -> Path:
    """Write ``ds`` to ``path`` and return the path.

    ``.nc``: netCDF by netCDF4 or h5netcdf when installed, else scipy (netCDF3: 64-bit integers
    are stored as 32-bit ones, which xarray checks). ``.zarr``: needs ``zarr``.
    """
    if not hasattr(ds, "to_netcdf") or not hasattr(ds, "data_vars"):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    path = Path(path)
    if path.suffix not in _SUFFIXES:
        raise ValueError(f"path must end in .nc (netCDF) or .zarr, got {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"path must be in an existing folder, got {str(path)!r}")
    if path.suffix == ".nc":
        ds.to_netcdf(path, engine=_netcdf_engine())
    else:
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise ValueError(f"writing {str(path)!r} needs zarr: pip install zarr "
                             f"(or write .nc)") from None
        ds.to_zarr(path, mode="w")
    return path


def _client(scheduler: str):
    """A dask.distributed Client for ``scheduler`` (an address, or ``"local"``)."""
    from .parallel import connect

    return connect(scheduler)


def main_sweep(spec_path, out=None, workers=None, progress: bool = True,
               scheduler: str | None = None, allow_any_module: bool = False) -> int:
    """``sciflow sweep``: load the spec, run it, write the dataset, print one summary line.

    ``out`` overrides the spec's ``output``; ``workers`` is an int or a Dask Client;
    ``scheduler`` (a ``tcp://host:port`` address or ``"local"``) builds a Client instead.
    Bad input exits (``SystemExit``) with a one-line ``sciflow sweep: error: ...`` message.
    Returns 0.
    """
    t0 = time.perf_counter()
    client = None
    try:
        if scheduler is not None and workers is not None:
            raise ValueError("give workers or scheduler, not both")
        spec = load_spec(spec_path, allow_any_module=allow_any_module)
        target = out if out is not None else spec.output
        if target is None:
            target = Path(spec.source or "sweep").stem + ".nc"
        target = Path(target)
        if target.suffix not in _SUFFIXES:
            raise ValueError(f"out must be a path ending in .nc or .zarr, got {str(target)!r}")
        if not target.parent.is_dir():
            raise ValueError(f"out must be in an existing folder, got {str(target)!r}")
        if scheduler is not None:
            if not isinstance(scheduler, str) or not scheduler:
                raise TypeError(f"scheduler must be an address string, got {scheduler!r}")
            try:
                client = _client(scheduler)
            except OSError as exc:
                raise ValueError(f"cannot connect to scheduler {scheduler!r}: {exc}") from None
            workers = client
        ds = run_sweep(spec, workers=workers, progress=progress)
        path = write_dataset(ds, target)
    except (ValueError, TypeError, FileNotFoundError, ImportError, SweepTaskError) as exc:
        raise SystemExit(f"sciflow sweep: error: {exc}") from None
    finally:
        if client is not None:
            client.close()
    if workers is None or (isinstance(workers, int) and workers in (0, 1)):
        engine = "serial"
    else:
        engine = f"{workers} processes" if isinstance(workers, int) else type(workers).__name__
    sizes = ", ".join(f"{k}={v}" for k, v in zip(spec.grid, spec.shape, strict=True))
    print(f"sciflow sweep: {spec.n_tasks} tasks of {spec.function} ({sizes}) on {engine} in "
          f"{time.perf_counter() - t0:.1f} s -> {path}", file=sys.stdout)
    return 0
