"""The audit hook that makes the cheap in-process forgeries fail (loaded by ``runner.py``).

Where a benchmark's test must run in the program's process (HumanEval, BigCodeBench, DS-1000),
the verdict is the runner's final line with a per-run nonce the program never gets. While armed
(the program and its tests running) the hook refuses: reaching the runner's frames (where the
nonce lives) by ``sys._getframe``/``f_back``/``tb_frame``, ``gc``'s object lists, other threads'
frames, trace and profile hooks, swapping the ``__code__`` of (or patching) the runner's, its checks' or
unittest's classes and functions, reading /proc/self/mem or raw memory through ctypes. Audit hooks cannot be
removed from Python; a determined program can still read its own memory by other means (a stated
limit in the README).
"""

import os
import sys
import types

_FRAME_LINKS = frozenset({"f_back", "tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_DENIED = frozenset({"sys._current_frames", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
                     "sys.settrace", "sys.setprofile", "ctypes.string_at", "ctypes.wstring_at", "ctypes.cdata"})
_WATCHED = _DENIED | _FRAME_LINKS | {"sys._getframe", "object.__getattr__", "object.__setattr__", "object.__delattr__", "open"}


def install(protected, holders, guarded_modules):
    """Add the hook. ``protected``: the files whose functions named in ``holders`` hold the nonce
    or the key; ``guarded_modules``: module-name prefixes whose classes and functions the program
    may not patch. It is armed and disarmed by the audit event ``lintseq.arm`` (key, on) with the
    key the process registered first (``lintseq.key``, before any program code runs): its state
    lives only in this closure, which nothing in Python can reach (audit hooks cannot be listed)."""
    state = {"armed": False, "busy": False, "key": None}

    def secret(frame):
        return type(frame) is types.FrameType and frame.f_code.co_filename in protected \
            and frame.f_code.co_name in holders

    def hook(event, args):
        if event == "lintseq.key" and state["key"] is None and type(args[0]) is bytes:
            state["key"] = args[0]
        elif event == "lintseq.arm" and len(args) == 2 and type(args[0]) is bytes and args[0] == state["key"]:
            state["armed"] = args[1] is True  # exact types: no __eq__ or __bool__ of the program's runs here
        if event not in _WATCHED or not state["armed"] or state["busy"]:
            return
        state["busy"] = True
        try:
            bad = event in _DENIED
            if event == "sys._getframe":
                bad = secret(args[0]) if args else True
            elif event == "object.__getattr__" and args[1] in _FRAME_LINKS:
                bad = secret(getattr(args[0], args[1], None))
            elif event in ("object.__setattr__", "object.__delattr__"):
                # only the harness's own classes and functions: libraries swap ``__code__`` and set
                # ``__defaults__`` on theirs (namedtuple, types.coroutine) as a matter of course
                obj = args[0]
                owner = getattr(obj, "__module__", "") if isinstance(obj, type) or callable(obj) else ""
                bad = isinstance(owner, str) and owner.startswith(guarded_modules)
            elif event == "open" and isinstance(args[0], (str, bytes)):
                path = os.fsdecode(args[0])
                bad = os.path.basename(path) == "mem" or (
                    os.path.islink(path) and os.path.basename(os.path.realpath(path)) == "mem")
        finally:
            state["busy"] = False
        if bad:
            raise RuntimeError(f"lintseq sandbox: {event} is not allowed while a program runs")

    sys.addaudithook(hook)
