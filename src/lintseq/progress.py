"""The one progress bar every workflow shows (tqdm, as the Hugging Face tools do), or None when
it is turned off (``--quiet``, ``--json``, a process other than the main one) or tqdm is missing.

    >>> progress_bar("lintseq demo", "item", 3, enabled=False) is None
    True
"""

from __future__ import annotations


def progress_bar(desc: str, unit: str, total: int | None, initial: int = 0, enabled: bool = True):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with transformers and datasets
        return None
    return tqdm(total=total, initial=initial, unit=unit, desc=desc, dynamic_ncols=True)
