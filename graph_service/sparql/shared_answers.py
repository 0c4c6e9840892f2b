"""Answers of costly queries shared by every server process: kept as files per data version.

The answer cache (:mod:`.cache`) lives in each gunicorn worker: a dashboard's GROUP BY of a second at a million
triples would be computed once per worker after every publish, and a client whose connection lands on a worker
that has not computed it yet waits that second. Here the first process to compute an answer that took at least
``min_compute_s`` writes it to ``<folder>/<data version>/<sha256 of the job>``; any other process finds it there
(a file read, well under a millisecond) before running the query. Answers cheaper than that are computed again
rather than kept (they would fill the disk for nothing).

Correctness as in :mod:`.cache`: a file is only written if the data version it was computed from is still the
published one when the answer is done, under a private temporary name renamed into place (readers see a whole
answer or none); the folders of versions no longer published are removed (the one before stays a while for
processes still serving it). Bounded: at most ``max_entry_bytes`` per answer and ``max_bytes`` per data version.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from ..files import remove_old_versions, write_atomically
from .jobs import QueryJob, QueryOutcome

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_ENTRY_BYTES = 4 * 1024 * 1024


class SharedAnswers:
    def __init__(self, folder: Path, min_compute_s: float, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES) -> None:
        self.folder = folder
        self.min_compute_s = min_compute_s
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._lock = threading.Lock()
        self._bytes: dict[str, int] = {}  # bytes this process saw in a version's folder (counted once per version)

    def read(self, version: str, job: QueryJob) -> QueryOutcome | None:
        try:
            data = self._path(version, job).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        header, newline, body = data.partition(b"\n")
        if not newline:
            return None
        format_name, rows = header.decode("ascii").split(" ")
        return QueryOutcome(format_name, body, None if rows == "-" else int(rows))

    def keep(self, version: str, job: QueryJob, outcome: QueryOutcome, compute_s: float,
             current_version: Callable[[], str]) -> bool:
        """Write ``outcome`` if it was costly, fits the bounds, and ``version`` is still the published one."""
        if compute_s < self.min_compute_s or len(outcome.body) > self.max_entry_bytes:
            return False
        rows = "-" if outcome.rows is None else str(outcome.rows)
        data = f"{outcome.format_name} {rows}\n".encode("ascii") + outcome.body
        path = self._path(version, job)
        with self._lock:
            used = self._used(version, path.parent)
            if used + len(data) > self.max_bytes:
                return False
            self._bytes[version] = used + len(data)
        if current_version() != version:
            return False
        write_atomically(path, data)
        return True

    def _path(self, version: str, job: QueryJob) -> Path:
        # A QueryJob is a frozen dataclass of strings, numbers and tuples of them: its repr names it exactly.
        name = hashlib.sha256(repr(job).encode("utf-8")).hexdigest()
        return self.folder / _folder_name(version) / name

    def _used(self, version: str, directory: Path) -> int:
        """Bytes kept for ``version`` (read from the folder the first time this process writes for it)."""
        if version not in self._bytes:
            remove_old_versions(self.folder, directory)
            try:
                with os.scandir(directory) as entries:
                    self._bytes = {version: sum(e.stat().st_size for e in entries if e.is_file())}
            except FileNotFoundError:
                self._bytes = {version: 0}
        return self._bytes[version]


def _folder_name(version: str) -> str:
    return hashlib.sha256(version.encode("utf-8")).hexdigest()[:24]
