"""Files several processes write and read at once: written under a private temporary name, then renamed into place,
so that a reader sees a whole file or none, and two writers of the same bytes race harmlessly (the last rename
wins)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path


def partial_path(target: Path) -> Path:
    """Where this thread writes ``target`` before renaming it into place (a dot name: listings skip it)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` (its folder created if need be) so that readers never see part of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def remove_old_versions(root: Path, current: Path) -> None:
    """Remove the folders of ``root`` (one per data version) except ``current`` and the newest other one, which
    processes still serving the version before may read a while longer."""
    try:
        others = sorted((p for p in root.iterdir() if p.is_dir() and p != current), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for directory in others[:-1]:
        shutil.rmtree(directory, ignore_errors=True)
