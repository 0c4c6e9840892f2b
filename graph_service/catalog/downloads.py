"""Downloads generated from the store: full dumps, each cases collection as CSV and Turtle, each report's RDF.

Files are written once per data version and serving origin (IRIs under the base are rewritten to the origin that
serves them, as in every response), under ``<store_path>/downloads/<data version>/<origin digest>/``, so a new data
version regenerates them and the byte size and checksums the catalogue states are those of the bytes served. A
finished file is renamed into place atomically and its size and checksums are kept beside it in ``<name>.json``;
when every file of an origin is there, a ``.complete`` marker says so (:meth:`DownloadCache.ready`). A file
started for one data version is dropped if another is published before it is finished (:class:`StaleVersion`).

**Off the request path.** ``graph-service load`` / ``restore`` call :func:`graph_service.catalog.prepare`, which
writes every file for the persistent base (and any other origin it is given) right after publishing. An origin
nobody prepared (a laptop at ``http://127.0.0.1:5000/``, or any origin after a write through SPARQL Update) is
prepared in the background (a child process, or a thread for a remote store) by the first server process whose
catalogue finds it missing (:func:`prepare_in_background`); meanwhile the catalogue is served without byte sizes
and checksums (see :mod:`graph_service.web.catalog` for how such pages are cached), and ``/download/{name}``
writes the one file it is asked for.

**Why generation is fast.** Scanning the store costs most (Oxigraph looks up the text of every term it returns:
~9 µs of CPU per triple), Python work per statement comes next. So:

* a data version is scanned once, by Oxigraph's own serialiser: the quads of the named graphs (``CONSTRUCT`` per
  graph, N-Triples lines given their graph name), kept as a *canonical* N-Quads text with persistent IRIs in
  ``<data version>/canonical/`` (:class:`Canonical`) that every origin starts from. The union is that text without
  the graph names when no triple is stated in two graphs (two ``COUNT`` queries tell), else a second scan (the
  store's default graph); a collection's triples are the union's lines whose subject is one of its cases;
* an origin's files come from the canonical texts by rewriting IRIs on the bytes (:func:`iri_rewriter`: C-level
  ``bytes.replace`` outside literals), then pyoxigraph parses and serialises the target format (Turtle, JSON-LD);
  for the persistent base nothing is rewritten, and its N-Quads dump is a hard link to the canonical file;
* nothing sorted in Python (the engine's order groups triples by subject, as Turtle wants); gzip level 6 (level 9
  costs 2x the time for a file 2 % smaller); checksums computed while writing, not by reading the file back.

Every download of the benchmark data for ``http://127.0.0.1:5000/``, CPU time (wall time on this shared 2-core
machine in brackets): 100k triples 9.0 s (13 s) before, 4.1 s (5.7 s) now; 1M triples 94 s (210 s) before, 40 s
(76 s) now, of which 14 s are the cases CSV (:func:`collection_csv_writer`: 19 SELECTs read row by row in Python).
The canonical texts cost disk, kept for origins still to come: at 1M triples 0.54 GB per data version, of which
the N-Quads text (0.23 GB) is also the persistent base's dump.

Locks (``flock``; several server processes share the folder): one per file (a request waits only for the file it
asks for), one per canonical text, and one per origin for whoever writes all of its files.
"""

from __future__ import annotations

import csv
import fcntl
import gzip
import hashlib
import io
import json
import logging
import multiprocessing
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyoxigraph
from pyoxigraph import RdfFormat, Triple

from ..config import Settings
from ..describe import describe, sparql_iri
from ..files import partial_path, remove_old_versions
from ..formats import by_name
from ..namespaces import AIW, PREFIXES
from ..store import DataVersion, GraphStore, StoreError
from ..web.iris import IriMapper

log = logging.getLogger(__name__)

#: Writes the content of one download for the given store and IRI mapping (queries the store itself).
Writer = Callable[[GraphStore, IriMapper, BinaryIO], None]

#: gzip level of compressed dumps: 6 (gzip's own default) is ~2x faster than 9 for a file ~2 % larger.
GZIP_LEVEL = 6
_BLOCK = 1 << 22  # bytes read or rewritten at a time
_COMPLETE = ".complete"
_WORK = ".work"  # an origin's rewritten canonical texts, removed once all its files are written


class StaleVersion(Exception):
    """The published data changed while a file was being written: the file is dropped, not published."""


class OriginRefused(Exception):
    """This origin gets no files: as many origins as allowed have files of this data version already."""


@dataclass(frozen=True)
class DownloadSpec:
    """One downloadable file: ``name`` is its path under ``{base}download/``."""

    name: str
    media_type: str  # what the bytes are (the Content-Type served)
    content_media_type: str  # the media type of the content once decompressed (= media_type if not compressed)
    writer: Writer | DerivedWriter
    compressed: bool = False

    @property
    def url_path(self) -> str:
        return f"download/{self.name}"


@dataclass(frozen=True)
class DownloadFile:
    path: Path
    size: int
    sha1: str
    sha256: str


# ---------------------------------------------------------------------------------------------------------------
# Canonical texts of a data version, and their rewriting to an origin
# ---------------------------------------------------------------------------------------------------------------

#: Writes a canonical text (N-Triples or N-Quads, persistent IRIs) from the store or from other canonical texts.
Producer = Callable[["Canonical", BinaryIO], None]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (released by the kernel if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Canonical:
    """The canonical texts of one data version (persistent IRIs), each written once and shared by every origin."""

    def __init__(self, directory: Path, store: GraphStore, version: DataVersion | None) -> None:
        self.directory = directory
        self.store = store
        self.version = version

    def path(self, key: str, produce: Producer) -> Path:
        target = self.directory / key
        if target.is_file():
            return target
        with _locked(self.directory / f".{key}.lock"):
            if not target.is_file():  # another process may have written it meanwhile
                partial = partial_path(target)
                try:
                    with open(partial, "wb") as out:
                        produce(self, out)
                    _check_version(self.store, self.version)
                    os.replace(partial, target)
                finally:
                    partial.unlink(missing_ok=True)
        return target


def _check_version(store: GraphStore, version: DataVersion | None) -> None:
    if store.version() != version:
        raise StaleVersion(f"the data version changed from {version} while writing downloads")


def iri_rewriter(mapper: IriMapper) -> Callable[[bytes], bytes]:
    """Rewrites the IRIs under the persistent base to the origin in N-Triples / N-Quads text made of whole lines,
    leaving literals (and literal datatypes, as :meth:`IriMapper.term` does) untouched.

    Outside literals, ``<`` only opens an IRI; inside them, ``"`` and ``\\`` appear only escaped. So once the two
    escapes are parked on bytes that never occur in N-Triples (Oxigraph writes control characters as ``\\uXXXX``),
    splitting at ``"`` alternates outside / inside literals, and the outside parts are rewritten with C-level
    ``bytes.replace``: ~10x faster than a regular expression with a Python callback per term.
    """
    old, new = b"<" + mapper.base_iri.encode(), b"<" + mapper.public_base.encode()
    datatype = b"^^" + old

    def outside(part: bytes) -> bytes:
        if part.startswith(datatype):  # a literal's datatype stays as it is
            end = part.index(b">") + 1
            return part[:end] + part[end:].replace(old, new)
        return part.replace(old, new)

    exact = re.compile(rb'("(?:[^"\\\n\r]|\\.)*"(?:\^\^<[^>]*>)?)|' + re.escape(old))

    def rewrite(text: bytes) -> bytes:
        if old not in text:
            return text
        if b"\x00" in text or b"\x01" in text:  # not Oxigraph's canonical form: tokenise exactly, slowly
            return exact.sub(lambda m: m.group(1) or new, text)
        parts = text.replace(b"\\\\", b"\x00").replace(b'\\"', b"\x01").split(b'"')
        parts[::2] = [outside(part) if b"^^" in part else part.replace(old, new) for part in parts[::2]]
        return b'"'.join(parts).replace(b"\x01", b'\\"').replace(b"\x00", b"\\\\")

    return rewrite


def _whole_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The text of ``stream`` in blocks of whole lines (a line of N-Triples / N-Quads is one statement)."""
    tail = b""
    for block in iter(lambda: stream.read(_BLOCK), b""):
        block = tail + block
        cut = block.rfind(b"\n") + 1
        tail = block[cut:]
        yield block[:cut]
    if tail:
        yield tail


def _rewrite_file(source: Path, out: BinaryIO, mapper: IriMapper) -> None:
    rewrite = iri_rewriter(mapper)
    with open(source, "rb") as stream:
        for lines in _whole_lines(stream):
            out.write(rewrite(lines))


class Sources:
    """What the writers of one origin start from: the store, the mapping, and the canonical texts rewritten."""

    def __init__(self, store: GraphStore, mapper: IriMapper, canonical: Canonical, work: Path) -> None:
        self.store = store
        self.mapper = mapper
        self.canonical = canonical
        self.work = work

    def public(self, key: str, produce: Producer) -> Path:
        """The canonical text ``key`` with the origin's IRIs (the canonical file itself for the persistent base)."""
        source = self.canonical.path(key, produce)
        if self.mapper.identity:
            return source
        target = self.work / key
        if target.is_file():
            return target
        with _locked(self.work / f".{key}.lock"):
            if not target.is_file():
                partial = partial_path(target)
                try:
                    with open(partial, "wb") as out:
                        _rewrite_file(source, out, self.mapper)
                    os.replace(partial, target)
                finally:
                    partial.unlink(missing_ok=True)
        return target


# ---------------------------------------------------------------------------------------------------------------
# Producers of canonical texts
# ---------------------------------------------------------------------------------------------------------------

class _Lines:
    """A binary writer counting lines, optionally appending a graph name to each N-Triples line (-> N-Quads)."""

    def __init__(self, out: BinaryIO, graph: bytes | None = None) -> None:
        self.out = out
        self.suffix = b" " + graph + b" .\n" if graph else None
        self.lines = 0
        self._tail = b""

    def write(self, data: bytes) -> int:
        if self.suffix is None:
            self.lines += data.count(b"\n")
            return self.out.write(data) or len(data)
        text = self._tail + bytes(data)
        cut = text.rfind(b"\n") + 1
        self._tail = text[cut:]
        complete = text[:cut]
        self.lines += complete.count(b"\n")
        # Every line ends with " .\n", and no N-Triples term holds a raw newline: this names exactly each line.
        self.out.write(complete.replace(b" .\n", self.suffix))
        return len(data)

    def flush(self) -> None:
        self.out.flush()

    def finish(self) -> None:
        if self._tail:
            raise ValueError("the engine's N-Triples did not end with a newline")


def _count(store: GraphStore, where: str) -> int:
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
    return int(rows[0]["n"].value) if rows else 0


def _construct_page(store: GraphStore, query: str, out: BinaryIO, graph: bytes | None) -> int:
    """Write a CONSTRUCT's triples with the engine's own serialiser; the number of triples written."""
    lines = _Lines(out, graph)
    store.query(query).serialize(lines, format=RdfFormat.N_TRIPLES)
    lines.finish()
    return lines.lines


#: Triples per page when an engine fails to answer a whole graph at once (Virtuoso past a million triples).
PAGE_TRIPLES = 250_000


def _construct_into(store: GraphStore, where: str, out: BinaryIO, graph: bytes | None = None) -> None:
    """Write ``CONSTRUCT { ?s ?p ?o } WHERE { where }`` as N-Triples (N-Quads in ``graph``).

    An engine that caps result sizes (Virtuoso's ResultSetMaxRows) returns fewer triples than ``where`` matches,
    and Virtuoso fails outright on a CONSTRUCT of more than a million triples ("array in for vectored over max
    vector length 1000001 > 1000000"): then the triples are asked for again in pages (:func:`_construct_in_pages`)
    of half what the engine gave, or of :data:`PAGE_TRIPLES` when it gave nothing but that error.
    """
    expected = _count(store, where)
    start = out.tell()
    try:
        written: int | None = _construct_page(store, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}", out, graph)
    except StoreError as error:
        if expected <= PAGE_TRIPLES:
            raise
        log.info("reading %s triples page by page: the engine did not answer them at once (%s)", expected, error)
        written = None
    if written == expected:
        return
    out.seek(start)
    out.truncate()
    if written == 0:
        raise StoreError(f"the engine returned no triple of {expected} for a download")
    page = PAGE_TRIPLES if written is None else max(1, written // 2)
    total = _construct_in_pages(store, where, out, graph, page)
    if total != expected:
        raise StoreError(f"the engine returned {total} of {expected} triples for a download, page by page")


def _construct_in_pages(store: GraphStore, where: str, out: BinaryIO, graph: bytes | None, page: int) -> int:
    """The triples of ``where`` in pages of at most ``page``; the number written.

    First one predicate at a time (``VALUES ?p``: an index lookup, no sorting; at 10M triples every predicate of
    the cases graph holds less than a page). A predicate with more triples than a page comes in ranges of subjects
    (by their text), each range ending where the next one starts, so that no query skips more than a page of rows
    (plain ``LIMIT``/``OFFSET`` paging would make the engine sort millions of rows for the last pages, which
    Virtuoso refuses past ``MaxSortedTopRows``); its blank-node subjects, which have no text every engine orders by,
    are paged by ``OFFSET``.
    """
    total = 0
    for row in store.select(f"SELECT DISTINCT ?p WHERE {{ {where} }}"):
        part = f"VALUES ?p {{ {row['p']} }} {where}"
        if _count(store, part) <= page:
            total += _construct_page(store, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {part} }}", out, graph)
        else:
            total += _construct_by_subject(store, part, out, graph, page)
    return total


def _construct_by_subject(store: GraphStore, where: str, out: BinaryIO, graph: bytes | None, page: int) -> int:
    def construct(condition: str) -> int:
        return _construct_page(store, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} {condition} }}", out, graph)

    total, lower = 0, "FILTER(isIRI(?s))"
    while True:
        # The subject of the first triple past this page: the page stops before it.
        rows = store.select(f"SELECT ?s WHERE {{ {where} {lower} }} ORDER BY STR(?s) LIMIT 1 OFFSET {page}")
        if not rows:
            total += construct(lower)
            break
        end = str(pyoxigraph.Literal(rows[0]["s"].value))
        written = construct(f"{lower} FILTER(STR(?s) < {end})")
        total += written
        if written == 0:  # the range's first subject has more than a page of triples: it alone, then past it
            total += construct(f"FILTER(isIRI(?s) && STR(?s) = {end})")
            lower = f"FILTER(isIRI(?s) && STR(?s) > {end})"
        else:
            lower = f"FILTER(isIRI(?s) && STR(?s) >= {end})"
    for offset in range(0, _count(store, f"{where} FILTER(isBlank(?s))"), page):
        total += _construct_page(store, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT ?s ?p ?o WHERE {{ {where} "
                                        f"FILTER(isBlank(?s)) }} ORDER BY ?s ?p ?o LIMIT {page} OFFSET {offset} }} }}",
                                 out, graph)
    return total


def named_graphs_producer(canonical: Canonical, out: BinaryIO) -> None:
    """Every quad of every named graph (N-Quads)."""
    store = canonical.store
    for graph in store.graph_names():
        term = str(pyoxigraph.NamedNode(graph)).encode()
        _construct_into(store, f"GRAPH {sparql_iri(graph)} {{ ?s ?p ?o }}", out, term)


_GRAPH_NAME = re.compile(rb" <[^<>]*> \.\n")  # the last term of an N-Quads line (named graphs are IRIs)


def union_producer(canonical: Canonical, out: BinaryIO) -> None:
    """Every triple of the union of the graphs, once (N-Triples): the store's default graph, already a set.

    When no triple is stated in two graphs (as many triples in the union as quads in the graphs), the union is
    the named graphs' text without the graph names: a pass over text instead of a second scan of the store.
    """
    store = canonical.store
    if _count(store, "?s ?p ?o") == _count(store, "GRAPH ?g { ?s ?p ?o }"):
        with open(canonical.path(_NAMED, named_graphs_producer), "rb") as named:
            for lines in _whole_lines(named):
                out.write(_GRAPH_NAME.sub(b" .\n", lines))
        return
    _construct_into(store, "?s ?p ?o", out)


def collection_producer(dataset_iri: str) -> Producer:
    """The cases of one collection (every triple about each case) and the collection's own description.

    Taken from the union's text, keeping the lines whose subject is one of them: a pass over text in Python is
    ~10x cheaper than another scan of the store (which looks up the text of every term it returns).
    """

    def produce(canonical: Canonical, out: BinaryIO) -> None:
        rows = canonical.store.query(f"SELECT ?s WHERE {{ ?s <{AIW.sourceDataset}> {sparql_iri(dataset_iri)} }}")
        subjects = {str(row[0]).encode() for row in rows} | {str(pyoxigraph.NamedNode(dataset_iri)).encode()}
        with open(canonical.path(_UNION, union_producer), "rb") as union:
            out.writelines(line for line in union if line[:line.find(b" ")] in subjects)

    return produce


# ---------------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------------

def _prefixes(mapper: IriMapper) -> dict[str, str]:
    return {prefix: mapper.to_public_iri(namespace) for prefix, namespace in PREFIXES.items()}


@dataclass(frozen=True)
class DerivedWriter:
    """A download made from a canonical text (``key``, written by ``produce``) rewritten to the origin: copied as
    it is (``rdf_format`` ``None``), or parsed and serialised in ``rdf_format``."""

    key: str
    produce: Producer
    source_format: RdfFormat
    rdf_format: RdfFormat | None = None

    def write(self, sources: Sources, out: BinaryIO) -> None:
        source = sources.public(self.key, self.produce)
        with open(source, "rb") as stream:
            if self.rdf_format is None:
                shutil.copyfileobj(stream, out, _BLOCK)
                return
            prefixes = _prefixes(sources.mapper) if self.rdf_format in (RdfFormat.TURTLE, RdfFormat.TRIG) else None
            statements = pyoxigraph.parse(stream, format=self.source_format)
            pyoxigraph.serialize(statements, out, format=self.rdf_format, prefixes=prefixes)

    def verbatim(self, sources: Sources) -> Path | None:
        """The file whose bytes are exactly this download's, when there is one (it is then linked, not copied)."""
        return sources.public(self.key, self.produce) if self.rdf_format is None else None


_NAMED, _UNION = "named-graphs.nq", "union.nt"


def dump_writer(format_name: str) -> DerivedWriter:
    """The whole graph in ``format_name``: quads (graph names kept) if the format has them, else the union."""
    fmt = by_name(format_name)
    assert fmt is not None and fmt.rdf_format is not None, format_name
    if fmt.rdf_format.supports_datasets:
        key, produce, source_format = _NAMED, named_graphs_producer, RdfFormat.N_QUADS
    else:
        key, produce, source_format = _UNION, union_producer, RdfFormat.N_TRIPLES
    same = fmt.rdf_format == source_format
    return DerivedWriter(key, produce, source_format, None if same else fmt.rdf_format)


def collection_turtle_writer(dataset_iri: str) -> DerivedWriter:
    """The cases of one collection (every triple about each case), with the collection's own description."""
    key = "collection-" + hashlib.sha256(dataset_iri.encode()).hexdigest()[:16] + ".nt"
    return DerivedWriter(key, collection_producer(dataset_iri), RdfFormat.N_TRIPLES, RdfFormat.TURTLE)


#: Columns of the cases CSV: (header, SPARQL pattern binding ?v for ?case, multi-valued).
CASE_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("identifier", "?case dct:identifier ?v", False),
    ("title", "?case dct:title ?v", False),
    ("description", "?case dct:description ?v", False),
    ("countries", "?case dct:spatial ?c . BIND(STRAFTER(STR(?c), '/country/') AS ?v)", True),
    ("geographic_extent", "?case aiw:geographicExtent/skos:prefLabel ?v", True),
    ("organisation", "?case aiw:responsibleOrganisation/skos:prefLabel ?v", True),
    ("organisation_category", "?case aiw:responsibleOrganisation/aiw:organisationCategory/skos:prefLabel ?v", True),
    ("cofog_function", "?case aiw:cofogFunction/skos:prefLabel ?v", True),
    ("cofog_subfunction", "?case aiw:cofogSubfunction/skos:prefLabel ?v", True),
    ("status", "?case aiw:status/skos:prefLabel ?v", True),
    ("process_type", "?case aiw:processType/skos:prefLabel ?v", True),
    ("application_type", "?case aiw:applicationType/skos:prefLabel ?v", True),
    ("interaction", "?case aiw:interaction/skos:prefLabel ?v", True),
    ("ai_technology", "?case aiw:aiTechnology/skos:prefLabel ?v", True),
    ("start_year", "?case aiw:startYear ?v", False),
    ("end_year", "?case aiw:endYear ?v", False),
    ("website", "?case foaf:page ?v", True),
    ("modified", "?case dct:modified ?v", False),
)

_CSV_PREFIXES = (
    f"PREFIX aiw: <{AIW}> PREFIX dct: <http://purl.org/dc/terms/> "
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX foaf: <http://xmlns.com/foaf/0.1/> "
)


def collection_csv_writer(dataset_iri: str) -> Writer:
    """One row per case of the collection (RFC 4180, UTF-8, header row); multiple values joined with "; "."""

    def write(store: GraphStore, mapper: IriMapper, out: BinaryIO) -> None:
        dataset = sparql_iri(dataset_iri)
        cases = [row["case"].value for row in store.select(
            f"{_CSV_PREFIXES} SELECT ?case WHERE {{ ?case aiw:sourceDataset {dataset} }} ORDER BY ?case")]
        values: dict[str, dict[str, list[str]]] = {case: {} for case in cases}
        for header, pattern, _multi in CASE_COLUMNS:
            rows = store.select(
                f"{_CSV_PREFIXES} SELECT ?case ?v WHERE {{ ?case aiw:sourceDataset {dataset} . {pattern} }}"
            )
            for row in rows:
                values[row["case"].value].setdefault(header, []).append(row["v"].value)
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        table = csv.writer(text, lineterminator="\r\n")
        table.writerow(["case", *(header for header, _, _ in CASE_COLUMNS)])
        for case in cases:
            cells = [mapper.to_public_iri(case)]
            for header, _pattern, multi in CASE_COLUMNS:
                found = sorted(set(values[case].get(header, [])))
                cells.append("; ".join(found) if multi else (found[0] if found else ""))
            table.writerow(cells)
        text.flush()
        text.detach()

    return write


def description_turtle_writer(iri: str) -> Writer:
    """The RDF description of one resource, as the Linked Data face builds it (its triples, hash IRIs, blank nodes)."""

    def write(store: GraphStore, mapper: IriMapper, out: BinaryIO) -> None:
        description = describe(store, iri)
        statements = description.statements if description else []
        triples = sorted({Triple(q.subject, q.predicate, q.object) for q in statements},
                         key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        pyoxigraph.serialize(mapper.triples(triples), out, format=RdfFormat.TURTLE, prefixes=_prefixes(mapper))

    return write


# ---------------------------------------------------------------------------------------------------------------
# The files of one data version and origin
# ---------------------------------------------------------------------------------------------------------------

class _Checksummed(io.RawIOBase):
    """A binary writer that hashes and counts what it writes (no second read of the file)."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self.out = out
        self.sha1, self.sha256, self.size = hashlib.sha1(), hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self.sha1.update(data)
        self.sha256.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def origin_directory_name(origin: str) -> str:
    return hashlib.sha256(origin.encode()).hexdigest()[:12]


_ORIGIN_DIRECTORY = re.compile(r"[0-9a-f]{12}")


def version_directory_name(version: DataVersion | None) -> str:
    """Names a data version: its digest and publish time (a forced republish of the same sources is new data:
    its load record differs)."""
    if version is None:
        return "empty"
    return f"{version.digest}-{version.published.strftime('%Y%m%dT%H%M%S%fZ')}"


class DownloadCache:
    """The generated files of one data version, for one serving origin."""

    def __init__(self, root: Path, store: GraphStore, mapper: IriMapper, *, origin_limit: int | None = None,
                 unlimited: Iterable[str] = ()) -> None:
        """``origin_limit``: how many origins other than ``unlimited`` (origins) may have files of a data version."""
        self.version = store.version()
        self.store = store
        self.mapper = mapper
        self.root = root
        self.version_dir = root / version_directory_name(self.version)
        self.directory = self.version_dir / origin_directory_name(mapper.public_base)
        self._unlimited = frozenset(origin_directory_name(origin) for origin in unlimited)
        self.origin_limit = None if self.directory.name in self._unlimited else origin_limit
        self.sources = Sources(store, mapper, Canonical(self.version_dir / "canonical", store, self.version),
                               self.directory / _WORK)

    @classmethod
    def of(cls, settings: Settings, store: GraphStore, mapper: IriMapper) -> DownloadCache:
        """The files of the published data version at ``mapper``'s origin, in the configured store folder (at most
        ``max_download_origins`` origins besides those ``load`` prepares), read with the downloads' time limit."""
        return cls(settings.store_path / "downloads", store.with_query_time_limit(settings.download_query_timeout_s),
                   mapper, origin_limit=settings.max_download_origins, unlimited=settings.prepared_origins)

    def ready(self) -> bool:
        """Whether every file of this data version and origin is written (one ``stat``)."""
        return (self.directory / _COMPLETE).is_file()

    def admits(self) -> bool:
        """Whether this origin's files may be written: each origin's are a copy of the data (its own IRIs), so any
        ``Host`` a client sends must not cost one. An origin that has files already is admitted."""
        if self.origin_limit is None or self.directory.is_dir():
            return True
        try:
            others = sum(1 for entry in os.scandir(self.version_dir)
                         if _ORIGIN_DIRECTORY.fullmatch(entry.name) and entry.name not in self._unlimited)
        except FileNotFoundError:
            return True
        return others < self.origin_limit

    def written(self, name: str) -> tuple[DownloadFile, str] | None:
        """The file called ``name`` and its media type, if the origin is complete and lists it (one small read:
        no query; names not in the list, such as ``../x``, are never looked up)."""
        try:
            files = json.loads((self.directory / _COMPLETE).read_text())["files"]
        except (OSError, ValueError, KeyError):
            return None
        media_type = files.get(name) if isinstance(files, dict) else None
        file = self._read_sidecar(self.directory / name) if media_type else None
        return (file, media_type) if file is not None else None

    def lookup(self, spec: DownloadSpec) -> DownloadFile | None:
        """The file of ``spec`` if it is written, never generating it."""
        return self._read_sidecar(self.directory / spec.name)

    def get(self, spec: DownloadSpec) -> DownloadFile:
        """The file of ``spec``, generated first if this data version does not have it yet (waits for the process
        generating it, if one is)."""
        target = self.directory / spec.name
        known = self._read_sidecar(target)
        if known is not None:
            return known
        if not self.admits():
            raise OriginRefused(self.mapper.public_base)
        with _locked(target.with_name(f".{target.name}.lock")):
            known = self._read_sidecar(target)  # another process may have written it meanwhile
            if known is None:
                known = self._generate(spec, target)
        self._prune()
        return known

    def generate_all(self, specs: list[DownloadSpec], progress: Callable[[str], None] | None = None) -> None:
        """Write every file of ``specs`` not written yet, then mark the origin complete (one generator at a time)."""
        if not self.admits():
            raise OriginRefused(self.mapper.public_base)
        with _locked(self.directory / ".generator.lock"):
            if self.ready():
                return
            for spec in specs:
                started = time.perf_counter()
                file = self.get(spec)
                if progress is not None:
                    progress(f"  {spec.name}: {file.size / 1e6:,.1f} MB in {time.perf_counter() - started:.1f} s")
            _check_version(self.store, self.version)
            # The list of files and their media types: a download is then served without reading the records.
            marker = {"files": {spec.name: spec.media_type for spec in sorted(specs, key=lambda s: s.name)}}
            (self.directory / _COMPLETE).write_text(json.dumps(marker))
            shutil.rmtree(self.directory / _WORK, ignore_errors=True)

    def _generate(self, spec: DownloadSpec, target: Path) -> DownloadFile:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = partial_path(target)
        try:
            verbatim = spec.writer.verbatim(self.sources) \
                if isinstance(spec.writer, DerivedWriter) and not spec.compressed else None
            if verbatim is not None:
                file = self._link(verbatim, partial)
            else:
                file = self._write(spec, partial)
            _check_version(self.store, self.version)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        sidecar = target.with_name(target.name + ".json")
        sidecar.write_text(json.dumps({"size": file.size, "sha1": file.sha1, "sha256": file.sha256}))
        return DownloadFile(target, file.size, file.sha1, file.sha256)

    def _write(self, spec: DownloadSpec, partial: Path) -> DownloadFile:
        with open(partial, "wb") as raw:
            out = _Checksummed(raw)
            if spec.compressed:
                # mtime=0 and no file name: the same content always gives the same bytes (and checksum)
                with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=GZIP_LEVEL) as packed:
                    self._run(spec, packed)
            else:
                self._run(spec, out)
        return DownloadFile(partial, out.size, out.sha1.hexdigest(), out.sha256.hexdigest())

    def _run(self, spec: DownloadSpec, out: BinaryIO) -> None:
        if isinstance(spec.writer, DerivedWriter):
            spec.writer.write(self.sources, out)
        else:
            spec.writer(self.store, self.mapper, out)

    @staticmethod
    def _link(source: Path, partial: Path) -> DownloadFile:
        try:
            os.link(source, partial)
        except OSError:  # another file system, or no hard links: a copy
            shutil.copyfile(source, partial)
        sha1, sha256, size = hashlib.sha1(), hashlib.sha256(), 0
        with open(partial, "rb") as stream:
            for block in iter(lambda: stream.read(_BLOCK), b""):
                sha1.update(block)
                sha256.update(block)
                size += len(block)
        return DownloadFile(partial, size, sha1.hexdigest(), sha256.hexdigest())

    @staticmethod
    def _read_sidecar(target: Path) -> DownloadFile | None:
        sidecar = target.with_name(target.name + ".json")
        try:
            meta = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            return None
        if not target.is_file():
            return None
        return DownloadFile(target, int(meta["size"]), meta["sha1"], meta["sha256"])

    def _prune(self) -> None:
        """Remove the files of data versions no longer published (keep this one and the one before)."""
        remove_old_versions(self.root, self.version_dir)


# ---------------------------------------------------------------------------------------------------------------
# Background generation (an origin nobody prepared)
# ---------------------------------------------------------------------------------------------------------------

#: Seconds before a failed background generation is tried again.
RETRY_AFTER_FAILURE_S = 60.0
_running: dict[Path, threading.Thread] = {}
_failed: dict[Path, float] = {}
_registry_lock = threading.Lock()


def prepare_in_background(cache: DownloadCache, work: Callable[[], None]) -> bool:
    """Start ``work`` (writing every file of ``cache``) in a daemon thread of this process, unless one already
    runs for it (or failed less than a minute ago); ``True`` if a thread was started. Other processes doing the
    same wait on the origin's generator lock and find the work done."""
    key = cache.directory
    with _registry_lock:
        running = _running.get(key)
        if running is not None and running.is_alive():
            return False
        if time.monotonic() - _failed.get(key, -RETRY_AFTER_FAILURE_S) < RETRY_AFTER_FAILURE_S:
            return False

        def run() -> None:
            try:
                work()
            except StaleVersion:
                pass  # a newer version is published: its own first catalogue request starts over
            except Exception:  # noqa: BLE001 - a background thread has no caller to raise to
                log.exception("writing the downloads of %s failed", key)
                with _registry_lock:
                    _failed[key] = time.monotonic()
            finally:
                with _registry_lock:
                    _running.pop(key, None)

        thread = threading.Thread(target=run, name=f"downloads-{key.name}", daemon=True)
        _running[key] = thread
        thread.start()
        return True


def run_in_child_process(target: Callable[..., None], *args: object, name: str) -> None:
    """Run ``target(*args)`` in a new Python process (spawned: nothing of this one is copied) and wait for it;
    raises if it fails. The arguments must pickle."""
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name, daemon=True)
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"the process writing the {name} ended with exit code {process.exitcode}")


def wait_for_background(timeout: float | None = None) -> None:
    """Wait until the background generations of this process end (tests, orderly shutdown)."""
    with _registry_lock:
        threads = list(_running.values())
    for thread in threads:
        thread.join(timeout)
