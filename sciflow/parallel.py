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
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor

from tqdm import tqdm

__all__ = ["map_tasks"]


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
