"""Where chunks of rows are processed: in this process, a local process pool, or Ray.

Every engine runs the same :func:`lintseq.generate.records.process_rows` and yields the chunks'
results in input order (a chunk that finishes early waits for the ones before it); at most
``window`` chunks are in flight, so memory stays bounded on inputs of any size.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
import os
from typing import Iterable, Iterator

from .records import JobSpec, RowResult, process_rows
from ..data.sources import Row
from ..stop import worker_init

ENGINES = ("local", "ray")


def run_chunks(
    chunks: Iterable[list[Row]], spec: JobSpec, engine: str = "local", workers: int = 1, address: str | None = None
) -> Iterator[list[RowResult]]:
    if engine == "ray":
        yield from _ray(chunks, spec, workers, address)
    elif engine != "local":
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    elif workers <= 1:
        for chunk in chunks:
            yield process_rows(chunk, spec)
    else:
        yield from _pool(chunks, spec, workers)


def _pool(chunks: Iterable[list[Row]], spec: JobSpec, workers: int) -> Iterator[list[RowResult]]:
    """A process pool whose workers die with this process (``stop.worker_init``); on any exit
    that is not the end of the input (Ctrl-C, SIGTERM, an error, the consumer leaving) the
    workers are terminated at once and the chunks they held are dropped (a rerun resumes them).
    Chunks come back in input order, whatever order they finish in: the output file's order is
    the input's at any worker count."""
    window = workers * 4
    it = iter(chunks)
    pool = multiprocessing.Pool(workers, initializer=worker_init, initargs=(os.getpid(),))
    try:
        pending = collections.deque(pool.apply_async(process_rows, (c, spec)) for c in itertools.islice(it, window))
        while pending:
            result = pending.popleft().get()  # re-raises what the worker raised
            pending.extend(pool.apply_async(process_rows, (c, spec)) for c in itertools.islice(it, 1))
            yield result
        pool.close()
        pool.join()
    finally:
        pool.terminate()


def _ray(chunks: Iterable[list[Row]], spec: JobSpec, workers: int, address: str | None) -> Iterator[list[RowResult]]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError("--engine ray needs Ray: pip install 'lintseq[ray]'") from exc
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            try:
                ray.init(address=address, log_to_driver=False)
            except (ValueError, ConnectionError, RuntimeError) as exc:  # no ray[client], no cluster there
                from ..errors import LintseqError

                raise LintseqError(f"cannot join the Ray cluster at {address!r}: {exc}",
                                   fix="check the address; a ray:// address needs pip install 'ray[client]'") from None
        else:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
    task = ray.remote(num_cpus=1)(process_rows)
    window = max(1, workers) * 4
    it = iter(chunks)
    try:
        pending = collections.deque(task.remote(c, spec) for c in itertools.islice(it, window))
        while pending:  # in input order, as the pool
            result = ray.get(pending.popleft())
            pending.extend(task.remote(c, spec) for c in itertools.islice(it, 1))
            yield result
    finally:
        if started_here:
            ray.shutdown()
