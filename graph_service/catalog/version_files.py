"""Results computed once per data version and kept as files beside that version's downloads, for every process.

Some answers cost seconds of aggregates over the whole store (VoID statistics, catalogue pages) yet change only
when the data does. Kept in memory, each gunicorn worker would compute them again after every publish; kept here,
under the data version's folder (``<store_path>/downloads/<data version>/``, see
:class:`~.downloads.DownloadCache`), the first process (or ``graph-service load``, through
:func:`graph_service.catalog.prepare`) computes one and every other process reads it in milliseconds. The folder
goes with its data version (:meth:`~.downloads.DownloadCache._prune`), so nothing here is ever stale.

A file is written only if the data version it was computed from is still the published one when it is done (else
it may describe a mix of two versions), to a private temporary name first and then renamed into place: readers
see a whole file or none, and two processes computing the same result at once both write the same bytes, the
last rename winning harmlessly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..files import write_atomically
from ..store import DataVersion, GraphStore


def read_stored(path: Path) -> bytes | None:
    """The bytes kept at ``path``, or ``None`` when nothing is kept there (yet)."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def keep(path: Path, data: bytes, store: GraphStore, version: DataVersion | None) -> bool:
    """Write ``data`` to ``path`` atomically, if data ``version`` is still the published one; whether it was."""
    if store.version() != version:
        return False
    write_atomically(path, data)
    return True


def computed_once(path: Path, store: GraphStore, version: DataVersion | None, compute: Callable[[], bytes]) -> bytes:
    """The bytes kept at ``path`` for data ``version``, else ``compute()`` (kept there for the next process)."""
    stored = read_stored(path)
    if stored is not None:
        return stored
    data = compute()
    keep(path, data, store, version)
    return data
