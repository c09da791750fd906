"""Is the Hugging Face hub reachable? Asked once, answered in seconds, so that a dataset or model
that is not local fails at once with the local alternative named, instead of after a minute of
the hub client's retries.

    >>> import os; os.environ["HF_HUB_OFFLINE"] = "1"; hub_reachable.cache_clear()
    >>> hub_reachable()
    False
"""

from __future__ import annotations

import functools
import os
import socket
from urllib.parse import urlparse

from .errors import LintseqError


@functools.lru_cache(maxsize=1)
def hub_reachable(timeout: float = 3.0) -> bool:
    """False when offline mode is set (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE) or the endpoint does
    not accept a TCP connection within ``timeout`` seconds."""
    if any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def require_hub(what: str, fix: str) -> None:
    """Raise a LintseqError naming ``what`` and the local alternative unless the hub is reachable."""
    if not hub_reachable():
        why = "HF_HUB_OFFLINE is set" if os.environ.get("HF_HUB_OFFLINE") else "the Hugging Face hub is not reachable"
        raise LintseqError(f"{what} is not available locally and {why}", fix=fix)
