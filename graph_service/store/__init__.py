"""Store backends behind one interface; :func:`open_store` picks the configured one."""

from __future__ import annotations

from ..config import Settings
from .base import DataVersion, GraphStore, QueryResult, StoreError, Term
from .oxigraph import OxigraphStore

__all__ = ["DataVersion", "GraphStore", "OxigraphStore", "QueryResult", "StoreError", "Term", "open_store"]


def _remote(settings: Settings) -> GraphStore:
    from .remote import RemoteStore  # imported on use: SPARQLWrapper is not needed by embedded-only processes

    return RemoteStore.from_settings(settings)


#: Backend name -> factory; a new backend registers here and nowhere else.
BACKENDS = {
    "oxigraph": lambda settings: OxigraphStore(settings.store_path, keep_versions=settings.keep_versions),
    "remote": _remote,
}


def open_store(settings: Settings) -> GraphStore:
    """The store the settings name (``backend``)."""
    try:
        factory = BACKENDS[settings.backend]
    except KeyError:
        raise ValueError(f"unknown backend {settings.backend!r}; known: {', '.join(sorted(BACKENDS))}") from None
    return factory(settings)
