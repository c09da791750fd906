"""Stopping when asked, and never outliving the parent.

* The CLI calls :func:`sigterm_as_interrupt`: SIGTERM then raises ``KeyboardInterrupt`` in the
  main thread, as Ctrl-C (SIGINT) does, so every command stops one way: the work in flight is
  dropped, what finished stays on disk, and running the same command again resumes.
* Worker processes call :func:`worker_init` first: they ignore SIGINT (a terminal's Ctrl-C
  reaches the whole process group; the parent decides), on SIGTERM run what :func:`on_term`
  registered (temp folders) in the handler itself and exit, and ask the kernel to send them
  SIGTERM when their parent dies, ``kill -9`` included (``prctl(PR_SET_PDEATHSIG)``, Linux).
* :class:`Deferred` holds SIGINT/SIGTERM back over a unit of work that must not be cut in two
  (an optimizer step): the signal is noted, the unit finishes, then ``stop_requested()`` says so;
  a second signal interrupts at once.

    >>> with Deferred() as d:
    ...     os.kill(os.getpid(), signal.SIGTERM)
    ...     d.stop_requested()
    True
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(KeyboardInterrupt):
    """Raised for SIGTERM (a KeyboardInterrupt, so every ``except KeyboardInterrupt`` sees it)."""

    signum = signal.SIGTERM


def _raise_interrupted(signum, frame):
    raise Interrupted()


def sigterm_as_interrupt() -> None:
    """Make SIGTERM raise :class:`Interrupted` in the main thread (no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupted)


def exit_code(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (the shell's 128 + signal number)."""
    return EXIT_CODES[getattr(exc, "signum", signal.SIGINT)]


def die_with_parent(parent_pid: int | None = None, sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies; exits at once if the
    parent (``parent_pid``, when given) is already gone. Linux only; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:  # pragma: no cover
        return
    if parent_pid is not None and os.getppid() != parent_pid:  # died before prctl took effect
        os._exit(1)


_ON_TERM: list = []


def on_term(fn, *args) -> None:
    """In a worker (:func:`worker_init`), run ``fn(*args)`` when SIGTERM stops it."""
    _ON_TERM.append((fn, args))


def _exit_on_term(signum, frame):
    # the clean-up runs here, not in finalizers reached by a SystemExit: raised while the worker
    # is inside a weakref callback or __del__ (pylint and astroid make many), that exception is
    # printed and dropped, and the worker later died with its temp folder left behind (seen in CI)
    for fn, args in _ON_TERM:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - the process is going; nothing else may stop that
            pass
    os._exit(128 + signum)


def worker_init(parent_pid: int | None = None) -> None:
    """First thing in a worker process: see the module docstring."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_term)
    die_with_parent(parent_pid)


class Deferred:
    """Within the block, SIGINT/SIGTERM only set a flag (a second one interrupts at once);
    outside it the previous handlers are back. Main thread only (elsewhere: a no-op)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict = {}

    def _note(self, signum, frame):
        if self.signum is not None:  # asked twice: stop now
            raise Interrupted() if signum == signal.SIGTERM else KeyboardInterrupt()
        self.signum = signum

    def stop_requested(self) -> bool:
        return self.signum is not None

    def interrupt(self) -> None:
        """Raise what the noted signal would have raised."""
        raise Interrupted() if self.signum == signal.SIGTERM else KeyboardInterrupt()

    def __enter__(self) -> "Deferred":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._note)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
