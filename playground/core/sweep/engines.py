"""Where a sweep's runs execute: in this process, a local process pool, or a Dask cluster."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from .runs import RunSpec, run_one

__all__ = ["run_all"]


def _pin_threads(threads: int) -> None:
    """A pool worker's initializer: torch's thread count before the first run."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def run_all(
    specs: Sequence[RunSpec],
    workers: int = 1,
    address: str | None = None,
    progress: Callable[[int, int, dict[str, Any]], Any] | None = None,
) -> list[dict[str, Any]]:
    """Run every spec (:func:`~.runs.run_one`) and return their rows in the specs' order.

    Runs are seeded (each builds its own session from its seed), so the rows do not depend
    on where or in which order they ran: the three engines give the same table.

    Arguments:
        specs: the runs.
        workers: local processes (``concurrent.futures.ProcessPoolExecutor`` with the
            ``spawn`` context, so no worker inherits a parent's torch threads or locks);
            each pins torch to its spec's ``threads``. ``0`` runs them one after another
            in this process (no start-up cost; what the quick tests use).
        address: a Dask distributed scheduler (``tcp://host:8786``); the runs are
            submitted to it instead (``workers`` is then ignored). Dask is imported only
            here.
        progress: ``progress(done, total, row)`` after each run finishes.

    Returns:
        One row per spec, in the order of ``specs``.

    Raises:
        ValueError: ``workers < 0``, or ``address`` given without ``dask.distributed``
            installed (``pip install dgm-playground[sweep]``).
        OSError: the scheduler at ``address`` cannot be reached.
    """
    if workers < 0:
        raise ValueError("--workers must be >= 0 (0: run in this process)")
    total = len(specs)
    rows: list[dict[str, Any] | None] = [None] * total
    done = 0

    def finished(i: int, row: dict[str, Any]) -> None:
        nonlocal done
        rows[i] = row
        done += 1
        if progress is not None:
            progress(done, total, row)

    if address is not None:
        _run_dask(specs, address, finished)
    elif workers == 0 or total == 0:
        for i, spec in enumerate(specs):
            finished(i, run_one(spec))
    else:
        threads = max((s.threads for s in specs), default=1)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=min(workers, total),
            mp_context=context,
            initializer=_pin_threads,
            initargs=(threads,),
        ) as pool:
            futures = {pool.submit(run_one, spec): i for i, spec in enumerate(specs)}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    return [r for r in rows if r is not None]


def _run_dask(specs: Sequence[RunSpec], address: str, finished: Callable) -> None:
    """Submit every spec to the Dask scheduler at ``address`` and collect the rows."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as e:
        raise ValueError(
            "--address needs Dask distributed: pip install 'dgm-playground[sweep]'"
        ) from e
    with Client(address) as client:
        # pure=False: two equal specs (a repeated seed) are two runs, not one cached result
        futures = [client.submit(run_one, spec, pure=False) for spec in specs]
        index = {f.key: i for i, f in enumerate(futures)}
        for future in dask_completed(futures):
            finished(index[future.key], future.result())
