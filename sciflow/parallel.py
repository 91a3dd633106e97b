"""Map a function over tasks: serially, on a process pool, or on any map-like executor.

``workers`` selects the engine (the convention of scipy's ``workers=`` and emcee's ``pool=``):

* ``None`` or ``1`` — serial, in this process (the default);
* an int ``n > 1`` (or ``-1`` for all cores) — a :class:`concurrent.futures.ProcessPoolExecutor`;
* an object with ``.submit`` and ``.gather`` — a ``dask.distributed.Client`` (tasks are submitted
  and gathered, so results come back in task order);
* any other object with ``.map`` — a ``multiprocessing.Pool``, an executor, ``map`` itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor

from tqdm import tqdm

__all__ = ["map_tasks", "connect", "resolve_workers"]

_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s/:]+(:\d{1,5})?/?$")


def map_tasks(fn: Callable, tasks: Iterable, *, workers=None, progress: bool = False,
              desc: str | None = None) -> list:
    """Return ``[fn(task) for task in tasks]``, computed by the engine ``workers`` selects.

    ``fn`` must be picklable (a module-level function) for process pools and clusters.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__} {fn!r}")
    try:
        tasks = list(tasks)
    except TypeError:
        raise TypeError(f"tasks must be iterable, got {type(tasks).__name__}") from None
    if isinstance(workers, bool):
        raise TypeError(f"workers must be None, an int or an executor, got bool {workers!r}")
    if workers is None or (isinstance(workers, int) and workers in (0, 1)):
        it = tqdm(tasks, desc=desc, disable=not progress)
        return [fn(t) for t in it]
    if isinstance(workers, int):
        if workers < -1:
            raise ValueError(f"workers must be -1, None or a positive integer, got {workers}")
        n = (os.cpu_count() or 1) if workers == -1 else workers
        with ProcessPoolExecutor(max_workers=n) as pool:
            return list(tqdm(pool.map(fn, tasks), total=len(tasks), desc=desc,
                             disable=not progress))
    if hasattr(workers, "submit") and hasattr(workers, "gather"):
        futures = [workers.submit(fn, t, pure=False) for t in tasks]
        return list(workers.gather(futures))
    if hasattr(workers, "map"):
        return list(tqdm(workers.map(fn, tasks), total=len(tasks), desc=desc,
                         disable=not progress))
    if callable(workers):  # e.g. the builtin map
        return list(workers(fn, tasks))
    raise TypeError(
        "workers must be None, an int, a dask.distributed.Client or an object with .map; "
        f"got {type(workers).__name__}"
    )


def connect(address: str, *, timeout: float = 10.0):
    """A ``dask.distributed.Client`` connected to the scheduler at ``address``
    (``tcp://host:port``), or to a new local cluster of worker processes for ``"local"``;
    dask is imported here, only when a scheduler is asked for.

    Raises ``ValueError`` for a malformed address or a scheduler that does not answer within
    ``timeout`` seconds, and ``ImportError`` (with the install line) without dask.
    """
    if not isinstance(address, str):
        raise TypeError(f"address must be a string like 'tcp://host:8786', got {address!r}")
    address = address.strip()
    if address != "local" and not _ADDRESS.match(address):
        raise ValueError(f"scheduler address must look like 'tcp://host:8786' (or be 'local'), "
                         f"got {address!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    try:
        from dask.distributed import Client
    except ImportError:
        raise ImportError("a dask scheduler needs dask.distributed: "
                          "pip install 'sciflow[dask]'") from None
    if address == "local":  # the Client owns the cluster and closes it with itself
        return Client(processes=True, dashboard_address=None)
    try:
        return Client(address, timeout=f"{float(timeout)}s")
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"cannot reach the dask scheduler at {address!r} within "
                         f"{timeout:g} s ({type(exc).__name__})") from None


def resolve_workers(workers: int | None = None, scheduler: str | None = None):
    """The ``workers=`` engine for :func:`map_tasks` from the command-line options:
    ``scheduler`` (an address, connected with :func:`connect`) or ``workers`` (an int;
    ``None``/1 serial, -1 all cores); not both."""
    if workers is not None and scheduler is not None:
        raise ValueError("give either workers or scheduler, not both")
    if scheduler is not None:
        return connect(scheduler)
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"workers must be an integer (-1 for all cores), got {workers!r}")
    if workers == 0 or workers < -1:
        raise ValueError(f"workers must be -1 or a positive integer, got {workers}")
    return workers
