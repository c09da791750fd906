"""Where chunks of rows are processed: in this process, a local process pool, or Ray.

Every engine runs the same :func:`lintseq.generate.records.process_rows` and yields results as chunks
finish (in any order); at most ``window`` chunks are in flight, so memory stays bounded on
inputs of any size.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
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
    workers are terminated at once and the chunks they held are dropped (a rerun resumes them)."""
    window = workers * 4
    it = iter(chunks)
    finished: queue.SimpleQueue = queue.SimpleQueue()
    pool = multiprocessing.Pool(workers, initializer=worker_init, initargs=(os.getpid(),))
    try:
        def submit(chunk: list[Row]) -> None:
            pool.apply_async(process_rows, (chunk, spec), callback=finished.put,
                             error_callback=lambda exc: finished.put(_Failed(exc)))

        pending = 0
        for chunk in itertools.islice(it, window):
            submit(chunk)
            pending += 1
        while pending:
            result = finished.get()
            pending -= 1
            if isinstance(result, _Failed):
                raise result.exc
            yield result
            for chunk in itertools.islice(it, 1):
                submit(chunk)
                pending += 1
        pool.close()
        pool.join()
    finally:
        pool.terminate()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def _ray(chunks: Iterable[list[Row]], spec: JobSpec, workers: int, address: str | None) -> Iterator[list[RowResult]]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError("--engine ray needs Ray: pip install 'lintseq[ray]'") from exc
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
    task = ray.remote(num_cpus=1)(process_rows)
    window = max(1, workers) * 4
    it = iter(chunks)
    try:
        pending = [task.remote(c, spec) for c in itertools.islice(it, window)]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
            pending += [task.remote(c, spec) for c in itertools.islice(it, len(done))]
    finally:
        if started_here:
            ray.shutdown()
