"""Where chunks of rows are processed: in this process, a local process pool, or Ray.

Every engine runs the same :func:`lintseq.generate.records.process_rows` and yields results as chunks
finish (in any order); at most ``window`` chunks are in flight, so memory stays bounded on
inputs of any size.
"""

from __future__ import annotations

import itertools
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Iterable, Iterator

from .records import JobSpec, RowResult, process_rows
from ..data.sources import Row

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
    window = workers * 4
    it = iter(chunks)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = {pool.submit(process_rows, c, spec) for c in itertools.islice(it, window)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
            for c in itertools.islice(it, len(done)):
                pending.add(pool.submit(process_rows, c, spec))


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
