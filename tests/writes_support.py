"""Helpers shared by the write tests: writable copies of the real store, small throw-away stores, a tripwire.

The session ``store`` fixture is read by every other test module, so writes go to a copy of its published version
(``Store.backup``: a RocksDB checkpoint, hard links) that a test module owns.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pyoxigraph
from flask import Flask

from graph_service.config import Settings
from graph_service.store import OxigraphStore
from graph_service.web import create_app
from graph_service.writes import new_token

ALICE = new_token()
BOB = new_token()
TOKENS = (f"alice:{ALICE}", f"bob:{BOB}")
EX = "http://example.org/"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def copy_store(source: OxigraphStore, destination: Path) -> OxigraphStore:
    """A writable copy of ``source``'s published version (same data, same version)."""
    target = Path((source.path / "current").readlink())
    (destination / target).parent.mkdir(parents=True, exist_ok=True)
    pyoxigraph.Store.read_only(str(source.path / target)).backup(str(destination / target))
    (destination / "current").symlink_to(target)
    return OxigraphStore(destination)


def small_store(path: Path) -> OxigraphStore:
    """A throw-away store with two named graphs sharing one triple (nothing the project's shapes target)."""
    store = OxigraphStore(path)
    s, p = pyoxigraph.NamedNode(EX + "s"), pyoxigraph.NamedNode(EX + "p")
    one, two = pyoxigraph.NamedNode(EX + "graph/one"), pyoxigraph.NamedNode(EX + "graph/two")
    store.publish([
        pyoxigraph.Quad(s, p, pyoxigraph.Literal("shared"), one),
        pyoxigraph.Quad(s, p, pyoxigraph.Literal("shared"), two),
        pyoxigraph.Quad(s, p, pyoxigraph.Literal("only in one"), one),
    ], "small")
    return store


def writable_app(settings: Settings, store: OxigraphStore, **changes) -> Flask:
    """The real app over ``store`` with the two test writers (``changes``: other settings)."""
    app = create_app(settings.replace(store_path=store.path, write_tokens=TOKENS, **changes), store)
    app.config["TESTING"] = True
    return app


class Tripwire:
    """A listening socket on 127.0.0.1 that nothing should connect to: proves a request fetched nothing."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self._socket.setblocking(False)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/"

    def connections(self) -> int:
        """Connections made so far (the kernel completes them even though nobody accepts)."""
        count = 0
        while True:
            try:
                connection, _ = self._socket.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1

    def close(self) -> None:
        self._socket.close()
