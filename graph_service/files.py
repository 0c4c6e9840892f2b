"""Files several processes write and read at once: written under a private temporary name, then renamed into place,
so that a reader sees a whole file or none, and two writers of the same bytes race harmlessly (the last rename
wins)."""

from __future__ import annotations

import os
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
