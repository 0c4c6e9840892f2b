"""The embedded default backend: Oxigraph on disk, one immutable directory per published version.

Layout of ``store_path``::

    versions/<UTC time>-<digest>/   a complete Oxigraph database, never written after it is published
    current -> versions/<...>       symlink; publishing swaps it with one atomic rename

Publishing builds the next version in a private ``.partial`` directory and only then swaps the link, so a crash
or an error mid-load leaves the previous version published, and any number of server processes can open the
published version read-only at the same time (Oxigraph forbids read-only opens of a database being written).
Readers check the link on every query (one ``readlink``) and reopen when it moved.

The default graph of each version holds the set union of all named graphs, written at publish time: SPARQL's
union default graph is an RDF merge (a triple stated by two sources counts once), which Oxigraph's
``use_default_graph_as_union`` does not deduplicate, and a materialised union is also faster to query.
"""

from __future__ import annotations

import gc
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph
from pyoxigraph import DefaultGraph, NamedNode, Store

from .base import DataVersion, GraphStore, QueryResult, StoreError

_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"


def _version_of(directory_name: str) -> DataVersion:
    stamp, _, digest = directory_name.partition("-")
    published = datetime.strptime(stamp, _TIME_FORMAT).replace(tzinfo=UTC)
    return DataVersion(digest=digest, published=published)


def _with_union(quads: Iterable[pyoxigraph.Quad]) -> Iterator[pyoxigraph.Quad]:
    """Each quad, and its triple in the default graph (the store deduplicates: the union is a set)."""
    default = DefaultGraph()
    for quad in quads:
        yield quad
        if not isinstance(quad.graph_name, DefaultGraph):
            yield pyoxigraph.Quad(quad.subject, quad.predicate, quad.object, default)


class OxigraphStore(GraphStore):
    """Oxigraph on disk, read-only for serving, publishing by atomic version switch."""

    def __init__(self, path: Path, keep_versions: int = 2) -> None:
        self.path = Path(path)
        self.keep_versions = keep_versions
        self._lock = threading.Lock()
        self._opened_target: str | None = None
        self._store: Store = Store()  # empty until a version is published
        self._empty = Store()

    @property
    def _link(self) -> Path:
        return self.path / "current"

    @property
    def _versions(self) -> Path:
        return self.path / "versions"

    def _current_target(self) -> str | None:
        try:
            return os.readlink(self._link)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreError(f"cannot read the store link {self._link}: {error}") from error

    def _reader(self) -> Store:
        """The store of the published version, reopened if another process published since."""
        target = self._current_target()
        if target == self._opened_target:
            return self._store
        with self._lock:
            if target != self._opened_target:
                if target is None:
                    self._store = self._empty
                else:
                    try:
                        self._store = Store.read_only(str(self.path / target))
                    except OSError as error:
                        raise StoreError(f"cannot open store version {target}: {error}") from error
                self._opened_target = target
        return self._store

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        store = self._reader()
        kwargs: dict = {"base_iri": base_iri}
        if default_graphs is not None:  # otherwise the store's default graph: the materialised union
            kwargs["default_graph"] = [NamedNode(g) for g in default_graphs]  # [] is an empty default graph
        if named_graphs is not None:
            kwargs["named_graphs"] = [NamedNode(g) for g in named_graphs]
        return store.query(sparql, **kwargs)

    def version(self) -> DataVersion | None:
        target = self._current_target()
        return None if target is None else _version_of(Path(target).name)

    def quads(self, graph: str | None = None) -> Iterator[pyoxigraph.Quad]:
        store = self._reader()
        if graph:
            return store.quads_for_pattern(None, None, None, NamedNode(graph))
        # The default graph only repeats the named graphs (see module docstring).
        return (q for q in store.quads_for_pattern(None, None, None) if not isinstance(q.graph_name, DefaultGraph))

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._reader().named_graphs() if isinstance(g, NamedNode))

    def publish(self, quads: Iterable[pyoxigraph.Quad], digest: str) -> DataVersion:
        name = f"{datetime.now(UTC).strftime(_TIME_FORMAT)}-{digest}"
        partial = self._versions / f".{name}.{uuid.uuid4().hex[:8]}.partial"
        try:
            self._versions.mkdir(parents=True, exist_ok=True)
            self._remove_partials()
            writer = Store(str(partial))
            writer.bulk_extend(_with_union(quads))
            writer.flush()
            writer.optimize()
            del writer
            gc.collect()  # Oxigraph releases its lock when the object is freed
            final = self._versions / name
            partial.rename(final)
            self._switch_to(Path("versions") / name)
        except OSError as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise StoreError(f"publishing into {self.path} failed, previous data still served: {error}") from error
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        self._prune()
        return _version_of(name)

    def _switch_to(self, relative_target: Path) -> None:
        temporary_link = self.path / f".current.{uuid.uuid4().hex[:8]}"
        os.symlink(relative_target, temporary_link)
        os.replace(temporary_link, self._link)  # atomic on POSIX
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def _remove_partials(self) -> None:
        for leftover in self._versions.glob(".*.partial"):
            shutil.rmtree(leftover, ignore_errors=True)

    def _prune(self) -> None:
        """Keep the published version and ``keep_versions`` older ones (other processes may still read them)."""
        current = self._current_target()
        versions = sorted(p for p in self._versions.iterdir() if not p.name.startswith("."))
        older = [p for p in versions if current is None or p.name != Path(current).name]
        for stale in older[: max(0, len(older) - self.keep_versions)]:
            shutil.rmtree(stale, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._store = self._empty
            self._opened_target = None
