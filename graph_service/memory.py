"""Giving back the memory a costly request took, once it is answered.

glibc's ``malloc`` keeps the pages a process freed for its next allocations (in one arena per thread), so a server
process only ever grows to the peak of its costliest request: at 10M triples, eight browse pages not cached yet
left ~600 MB with a worker (~300 MB of it free), a long query its sort with the query process. ``malloc_trim(0)``
hands every free page back to the system (~40 ms for a 600 MB heap, measured), so the processes serving after a
costly request hold what they keep (caches, the store's tables), not their peak. Only requests that took long are
followed by it: they are the ones that can take much memory, and a cheap request pays nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

#: Requests (and query jobs) that took at least this many seconds are followed by a trim.
SLOW_S = 0.5


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): their allocators give memory back themselves
        return None


_trim = _malloc_trim()


def release_free_memory() -> bool:
    """Hand the pages this process freed back to the system; whether the C library can."""
    if _trim is None:
        return False
    _trim(0)
    return True


def after_work(seconds: float) -> bool:
    """Called when a request or query job is done, ``seconds`` after it started: release if it was costly."""
    return seconds >= SLOW_S and release_free_memory()
