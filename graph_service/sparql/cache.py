"""Answers cached per data version: a portal refreshing a dashboard asks the same query again and again.

:class:`VersionedCache` is a bounded, thread-safe LRU of finished answers (bytes and what serving them needs),
keyed by what determines an answer: for SPARQL the whole :class:`~.jobs.QueryJob` (query text, dataset, result
formats, IRI rewriting to the serving origin, row cap), for Linked Data documents the request URL and the
negotiated format; and always by the **data version** digest.

Correctness rules, which the tests check:

- An entry is only ever served for the data version it was computed from. The digest is read before the answer is
  computed and again after; if a publish happened in between, the answer is returned but not stored (it may come
  from either version). A lookup with a new digest drops every entry of the old one, so memory goes to the
  current data only.
- Errors are never cached (a timeout may pass, a busy endpoint frees up).
- Sizes are bounded: entries larger than ``max_entry_bytes`` are not kept, and the least recently used entries go
  once ``max_bytes`` is exceeded.

The cache lives in each server process: a hit costs a dictionary lookup, and each worker warms up with the
traffic it serves; answers that were costly to compute are also shared by every process through files
(:mod:`.shared_answers`), so a worker that has not computed one yet reads it instead of running the query again.
A request with ``Cache-Control: no-cache`` is answered fresh (and refreshes the entry), as a client or the
benchmark may ask; so is one with ``no-store``.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from ..store import DataVersion, GraphStore

V = TypeVar("V")

#: Default bounds: 64 MiB per process, no single answer above 4 MiB (bigger ones are downloads, not dashboards).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_ENTRY_BYTES = 4 * 1024 * 1024


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0
    invalidations: int = 0


class VersionedCache(Generic[V]):
    """A bounded LRU of values of one data version at a time."""

    def __init__(self, size_of: Callable[[V], int], max_bytes: int = DEFAULT_MAX_BYTES,
                 max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES) -> None:
        self._size_of = size_of
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._version: str | None = None
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def _switch_to(self, version: str) -> None:
        """Called with the lock held: a new data version drops everything computed from another one."""
        if version != self._version:
            if self._entries:
                self.stats.invalidations += 1
            self._entries.clear()
            self._bytes = 0
            self._version = version

    def get(self, version: str, key: Hashable) -> V | None:
        with self._lock:
            self._switch_to(version)
            entry = self._entries.get(key)
            if entry is None:
                self.stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return entry[0]

    def put(self, version: str, key: Hashable, value: V) -> bool:
        """Keep ``value`` as the answer to ``key`` under data ``version``; ``False`` if it was not kept."""
        size = self._size_of(value)
        if size > self.max_entry_bytes:
            return False
        with self._lock:
            if version != self._version:
                # Only a lookup moves the cache to a new version: a value computed for an older one is dropped.
                return False
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous[1]
            self._entries[key] = (value, size)
            self._bytes += size
            self.stats.stored += 1
            while self._bytes > self.max_bytes and self._entries:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
            return True

    def answer(self, version_of: Callable[[], str], key: Hashable, compute: Callable[[], V], *,
               fresh: bool = False) -> tuple[V, bool]:
        """The cached value of ``key`` for the current data version, or ``compute()`` (kept if the data version
        did not change meanwhile). Returns the value and whether it came from the cache. ``fresh`` skips the
        lookup (``Cache-Control: no-cache``) but still stores the new value."""
        version = version_of()
        if not fresh:
            cached = self.get(version, key)
            if cached is not None:
                return cached, True
        else:
            with self._lock:
                self._switch_to(version)
        value = compute()
        if version_of() == version:
            self.put(version, key, value)
        return value, False

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def wants_fresh(cache_control: str | None) -> bool:
    """Whether a request's ``Cache-Control`` asks for an answer not taken from a cache (``no-cache``, ``no-store``).

    ``max-age=0``, which browsers send on every reload, does not: a dashboard reloaded in a browser still gets the
    cached answer of the current data version, which is never stale.
    """
    if not cache_control:
        return False
    directives = {part.strip().split("=", 1)[0].lower() for part in cache_control.split(",")}
    return "no-cache" in directives or "no-store" in directives


def version_key(store: GraphStore) -> str:
    """Names the published data: its digest and publish time (a forced republish also starts a new cache)."""
    version = store.version()
    return _key_of(version) if version else ""


@functools.lru_cache(maxsize=16)  # asked on every request, for the one or two versions a process ever serves
def _key_of(version: DataVersion) -> str:
    return f"{version.digest}@{version.published.isoformat()}"
