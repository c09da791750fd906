"""Run the authors' ``pylintseq`` CLI unmodified on Python 3.11.

pylintseq 0.0.2 passes ``NamedTemporaryFile(delete_on_close=...)``, an argument added in
Python 3.12; this shim drops that one argument and then calls the peer's own entry point.
"""

import sys
import tempfile

_original = tempfile.NamedTemporaryFile


def _named_temporary_file(*args, delete_on_close=None, **kwargs):
    return _original(*args, **kwargs)


tempfile.NamedTemporaryFile = _named_temporary_file

if __name__ == "__main__":
    from pylintseq.generate import generate

    sys.argv[0] = "pylintseq"
    generate()
