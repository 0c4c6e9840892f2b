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

Writes (:meth:`OxigraphStore.update`, SPARQL Update and the Graph Store Protocol) are copy-on-write versions too:
under an exclusive ``flock`` on ``write.lock`` (one writer at a time across processes; the kernel releases it if
the writer dies), the published version is copied with ``Store.backup()`` (a RocksDB checkpoint: hard links,
milliseconds), the update runs on the copy (with a time limit, in a child process that is killed past it: pyoxigraph
cannot cancel an update; ~0.3 s per write), the union default graph is brought up to date, the caller's check
(SHACL) sees the complete change, and only then is the link switched, exactly as a publish; a refused or failed
write deletes the copy. The change is found by comparing N-Quads dumps of the copy before and after the update
(Oxigraph does not report what an update touched): about 1 s per dump on the project data (57k triples), so the
dump of the published version is kept per process for the next write.
"""

from __future__ import annotations

import fcntl
import functools
import gc
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import traceback
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Store, Triple

from .base import (
    ChangeSet,
    DataVersion,
    GraphStore,
    QueryResult,
    StoreError,
    WriteCheck,
    WriteRecord,
    WriteResult,
    WriteTimeout,
)

_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"


@functools.lru_cache(maxsize=64)  # asked on every request (ETags, caches): parse each version's name once
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
        self._link_path = str(self.path / "current")  # read on every request (data version): built once
        self._opened_target: str | None = None
        self._store: Store = Store()  # empty until a version is published
        self._empty = Store()
        #: N-Quads lines of one published version (its directory name), kept by the last write of this process.
        self._dumped: tuple[str, frozenset[bytes]] | None = None

    @property
    def _link(self) -> Path:
        return self.path / "current"

    @property
    def _versions(self) -> Path:
        return self.path / "versions"

    def _current_target(self) -> str | None:
        try:
            return os.readlink(self._link_path)
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
        return None if target is None else _version_of(os.path.basename(target))  # (no Path: asked per request)

    def quads(self, graph: str | None = None) -> Iterator[pyoxigraph.Quad]:
        store = self._reader()
        if graph:
            return store.quads_for_pattern(None, None, None, NamedNode(graph))
        # The default graph only repeats the named graphs (see module docstring).
        return (q for q in store.quads_for_pattern(None, None, None) if not isinstance(q.graph_name, DefaultGraph))

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._reader().named_graphs() if isinstance(g, NamedNode))

    def publish(self, quads: Iterable[pyoxigraph.Quad], digest: str) -> DataVersion:
        with self._write_lock():  # a load must not race a write: one of them would lose the other's change
            return self._publish(quads, digest)

    def _publish(self, quads: Iterable[pyoxigraph.Quad], digest: str) -> DataVersion:
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

    def worker_opener(self) -> functools.partial[OxigraphStore]:
        """Oxigraph allows any number of read-only openings: query workers open the same path."""
        return functools.partial(OxigraphStore, self.path, keep_versions=self.keep_versions)

    # Writes ------------------------------------------------------------------------------------------------------

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """One writer at a time, across threads and processes (``flock``: released by the kernel if we die)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / "write.lock", "a+b")  # noqa: SIM115 - closed below, after unlocking
        except OSError as error:
            raise StoreError(f"cannot write to the store {self.path}, previous data still served: {error}") from error
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def update(
        self,
        sparql: str,
        *,
        default_target: str,
        base_iri: str | None = None,
        check: WriteCheck | None = None,
        record: WriteRecord | None = None,
        timeout_s: float | None = None,
    ) -> WriteResult:
        with self._write_lock():
            return self._update(sparql, NamedNode(default_target), base_iri, check, record, timeout_s)

    def _update(self, sparql: str, default_target: NamedNode, base_iri: str | None, check: WriteCheck | None,
                record: WriteRecord | None, timeout_s: float | None) -> WriteResult:
        started = datetime.now(UTC)
        target = self._current_target()  # under the lock: the latest version, which no one else can replace now
        before = None if target is None else _version_of(Path(target).name)
        partial = self._versions / f".write-{uuid.uuid4().hex[:8]}.partial"
        writer: Store | None = None
        write: _Settlement | None = None
        try:
            self._versions.mkdir(parents=True, exist_ok=True)
            self._remove_partials()
            if target is not None:
                Store.read_only(str(self.path / target)).backup(str(partial))
            writer = Store(str(partial))
            before_lines = self._lines_of(target, writer)
            if timeout_s is None:
                writer.update(sparql, base_iri=base_iri)
            else:
                writer = None  # the child process opens the copy
                _run_update(partial, sparql, base_iri, timeout_s)
                writer = Store(str(partial))
            write = _Settlement(writer, before_lines, default_target)
            changes = write.settle(before)
            if record is not None:
                changes = write.settle(before, extra=list(record(changes)))
            if check is not None:
                check(changes)
            final_lines = write.final_lines()
            writer.flush()
            writer = write = None  # the last references: Oxigraph closes the copy now (no gc.collect(), which costs
            # a second per write in a process holding the validator's mirror of the data)
            name = f"{started.strftime(_TIME_FORMAT)}-{_next_digest(before, changes, started)}"
            partial.rename(self._versions / name)
            self._switch_to(Path("versions") / name)
        except BaseException as error:
            # Free the copy before deleting it (the traceback's frames hold it too), or RocksDB writes into it again.
            writer = write = None
            traceback.clear_frames(error.__traceback__)
            gc.collect()
            shutil.rmtree(partial, ignore_errors=True)
            if isinstance(error, OSError):
                raise StoreError(f"writing into {self.path} failed, previous data still served: {error}") from error
            raise
        self._dumped = (str(Path("versions") / name), final_lines)
        self._prune()
        return WriteResult(_version_of(name), changes)

    def _lines_of(self, target: str | None, copy: Store) -> frozenset[bytes]:
        """The N-Quads lines of the published version ``target`` (identical to its fresh ``copy``)."""
        if target is not None and self._dumped is not None and self._dumped[0] == target:
            return self._dumped[1]
        return _dump_lines(copy)


_UPDATE_CHILD = "from graph_service.store.oxigraph import run_update_child; run_update_child()"
_SYNTAX_ERROR_EXIT = 3


def _run_update(path: Path, sparql: str, base_iri: str | None, timeout_s: float | None) -> None:
    """Run ``sparql`` on the store copy at ``path`` in a child process, killed past ``timeout_s``."""
    request = json.dumps({"path": str(path), "sparql": sparql, "base_iri": base_iri}).encode("utf-8")
    child = subprocess.Popen([sys.executable, "-c", _UPDATE_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        output, errors = child.communicate(request, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise WriteTimeout(f"the update ran longer than {timeout_s:g} s and was cancelled; nothing changed") from None
    if child.returncode == _SYNTAX_ERROR_EXIT:
        raise SyntaxError(output.decode("utf-8", "replace"))
    if child.returncode != 0:
        reason = errors.decode("utf-8", "replace").strip().splitlines()
        raise StoreError(f"the update failed: {reason[-1] if reason else f'exit status {child.returncode}'}")


def run_update_child() -> None:
    """The child of :func:`_run_update`: one update on one store, its syntax error on stdout."""
    request = json.loads(sys.stdin.buffer.read())
    store = Store(request["path"])
    try:
        store.update(request["sparql"], base_iri=request["base_iri"])
    except SyntaxError as error:
        sys.stdout.write(str(error))
        sys.exit(_SYNTAX_ERROR_EXIT)
    store.flush()


def _dump_lines(store: Store) -> frozenset[bytes]:
    return frozenset(store.dump(format=RdfFormat.N_QUADS).splitlines())


def _line(quad: Quad) -> bytes:
    """``quad`` as Oxigraph's N-Quads dump writes it (same serialiser, so dumped lines can be looked up)."""
    return pyoxigraph.serialize([quad], format=RdfFormat.N_QUADS).rstrip(b"\n")


def _parse_lines(lines: Iterable[bytes]) -> list[Quad]:
    data = b"\n".join(lines)
    return list(pyoxigraph.parse(data, format=RdfFormat.N_QUADS)) if data else []


def _as_stored(quads: Sequence[Quad]) -> list[Quad]:
    """``quads`` as Oxigraph stores them: it normalises some literals (xsd:dateTime offsets, integer subtypes...),
    and the lines of the dump must be found again from these quads."""
    memory = Store()
    memory.extend(quads)
    return list(memory)


def _triple(quad: Quad) -> Triple:
    return Triple(quad.subject, quad.predicate, quad.object)


def _is_named(quad: Quad) -> bool:
    return not isinstance(quad.graph_name, DefaultGraph)


def _next_digest(before: DataVersion | None, changes: ChangeSet, when: datetime) -> str:
    """A new digest from the previous one and the change (and the time: every accepted write is a new version)."""
    digest = hashlib.sha256(f"{before.digest if before else ''}\n{when.isoformat()}".encode())
    for line in sorted(_line(q) for q in changes.added):
        digest.update(b"+" + line)
    for line in sorted(_line(q) for q in changes.removed):
        digest.update(b"-" + line)
    return digest.hexdigest()[:16]


class _Settlement:
    """Turns what an update did to a copy of the store into the service's semantics, and reports the change.

    Oxigraph ran the update against the copy whose default graph holds the union; here the default-graph part of
    the change is moved to named graphs (inserted -> ``default_target``, deleted -> every graph holding the triple,
    unless the request itself inserted it into a named graph), then the union is brought up to date.
    """

    def __init__(self, store: Store, before_lines: frozenset[bytes], default_target: NamedNode) -> None:
        self.store = store
        self.before_lines = before_lines
        after_lines = _dump_lines(store)
        self.after_lines = after_lines
        added = _parse_lines(after_lines - before_lines)
        removed = _parse_lines(before_lines - after_lines)
        unchanged = set(added) & set(removed)  # the same quad written two ways is no change
        added = [q for q in added if q not in unchanged]
        removed = [q for q in removed if q not in unchanged]
        default = DefaultGraph()
        named_added = {q for q in added if _is_named(q)}
        self.touched: set[Quad] = named_added | {q for q in removed if _is_named(q)}
        self.triples: set[Triple] = set()
        for quad in (q for q in added if not _is_named(q)):
            moved = Quad(quad.subject, quad.predicate, quad.object, default_target)
            self._add(moved)
        for quad in (q for q in removed if not _is_named(q)):
            self.triples.add(_triple(quad))
            for held in list(store.quads_for_pattern(quad.subject, quad.predicate, quad.object, None)):
                if _is_named(held) and held not in named_added:
                    store.remove(held)
                    self.touched.add(held)
        self.default_target = default_target
        self._default = default

    def _add(self, quad: Quad) -> None:
        if quad not in self.store:
            self.store.add(quad)
        self.touched.add(quad)

    def settle(self, before: DataVersion | None, extra: Sequence[Quad] = ()) -> ChangeSet:
        """Add ``extra`` quads, make the default graph the union again, and say what changed since ``before``."""
        for quad in _as_stored(extra):
            self._add(quad if _is_named(quad) else Quad(quad.subject, quad.predicate, quad.object,
                                                         self.default_target))
        self.triples |= {_triple(q) for q in self.touched}
        union_added, union_removed = [], []
        for triple in self.triples:
            in_union = Quad(triple.subject, triple.predicate, triple.object, self._default)
            named = any(_is_named(q) for q in self.store.quads_for_pattern(
                triple.subject, triple.predicate, triple.object, None))
            if named and in_union not in self.store:
                self.store.add(in_union)
            elif not named and in_union in self.store:
                self.store.remove(in_union)
            was = _line(in_union) in self.before_lines
            if named and not was:
                union_added.append(triple)
            elif was and not named:
                union_removed.append(triple)
        added, removed = [], []
        for quad in self.touched:
            was, now = _line(quad) in self.before_lines, quad in self.store
            if now and not was:
                added.append(quad)
            elif was and not now:
                removed.append(quad)
        return ChangeSet(tuple(added), tuple(removed), tuple(union_added), tuple(union_removed), before)

    def final_lines(self) -> frozenset[bytes]:
        """The N-Quads lines of the settled store (the dump after the update, corrected by what was settled)."""
        lines = set(self.after_lines)
        quads = self.touched | {Quad(t.subject, t.predicate, t.object, self._default) for t in self.triples}
        for quad in quads:
            (lines.add if quad in self.store else lines.discard)(_line(quad))
        return frozenset(lines)
