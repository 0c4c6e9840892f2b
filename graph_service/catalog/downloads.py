"""Downloads generated from the store: full dumps, each cases collection as CSV and Turtle, each report's RDF.

Files are written once per data version and serving origin (IRIs under the base are rewritten to the origin that
serves them, as in every response), under ``<store_path>/downloads/<data digest>/<origin digest>/``, so a new data
version regenerates them and the byte size and checksums the catalogue states are those of the bytes served.
Generation happens under an exclusive file lock (several server processes share the folder); a finished file is
renamed into place atomically and its size and checksums are kept beside it in ``<name>.json``.
"""

from __future__ import annotations

import csv
import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyoxigraph
from pyoxigraph import Quad, Triple

from ..describe import describe, sparql_iri
from ..formats import by_name
from ..namespaces import AIW, PREFIXES
from ..store import GraphStore
from ..web.iris import IriMapper

#: Writes the content of one download for the given store and IRI mapping.
Writer = Callable[[GraphStore, IriMapper, BinaryIO], None]


@dataclass(frozen=True)
class DownloadSpec:
    """One downloadable file: ``name`` is its path under ``{base}download/``."""

    name: str
    media_type: str  # what the bytes are (the Content-Type served)
    content_media_type: str  # the media type of the content once decompressed (= media_type if not compressed)
    writer: Writer
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


class DownloadCache:
    """The generated files of one data version, for one serving origin."""

    def __init__(self, root: Path, store: GraphStore, mapper: IriMapper) -> None:
        version = store.version()
        self.store = store
        self.mapper = mapper
        origin = hashlib.sha256(mapper.public_base.encode()).hexdigest()[:12]
        self.version_dir = root / (version.digest if version else "empty")
        self.directory = self.version_dir / origin
        self.root = root

    def get(self, spec: DownloadSpec) -> DownloadFile:
        """The file of ``spec``, generated first if this data version does not have it yet."""
        target = self.directory / spec.name
        known = self._read_sidecar(target)
        if known is not None:
            return known
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                known = self._read_sidecar(target)  # another process may have written it meanwhile
                if known is None:
                    known = self._generate(spec, target)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self._prune()
        return known

    def _generate(self, spec: DownloadSpec, target: Path) -> DownloadFile:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        with open(partial, "wb") as out:
            if spec.compressed:
                # mtime=0 and no file name: the same content always gives the same bytes (and checksum)
                with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as compressed:
                    spec.writer(self.store, self.mapper, compressed)
            else:
                spec.writer(self.store, self.mapper, out)
        sha1, sha256, size = hashlib.sha1(), hashlib.sha256(), 0
        with open(partial, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                sha1.update(block)
                sha256.update(block)
                size += len(block)
        file = DownloadFile(target, size, sha1.hexdigest(), sha256.hexdigest())
        os.replace(partial, target)
        sidecar = target.with_name(target.name + ".json")
        sidecar.write_text(json.dumps({"size": size, "sha1": file.sha1, "sha256": file.sha256}))
        return file

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
        try:
            versions = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        except OSError:
            return
        stale = [p for p in versions if p != self.version_dir][:-1]
        for directory in stale:
            shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------------

def _prefixes(mapper: IriMapper) -> dict[str, str]:
    return {prefix: mapper.to_public_iri(namespace) for prefix, namespace in PREFIXES.items()}


def _union_triples(store: GraphStore) -> Iterator[Triple]:
    """Every triple of the union of the graphs, once (a triple stated in two graphs is written once).

    The store's default graph is that union, already a set (GraphStore), so the triples stream from it: remembering
    every triple seen to drop repeats took memory in proportion to the data (gigabytes at 10M triples).
    """
    for row in store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }"):
        yield Triple(row[0], row[1], row[2])


def dump_writer(format_name: str) -> Writer:
    """The whole graph in ``format_name``: quads (graph names kept) if the format has them, else the union."""
    fmt = by_name(format_name)
    assert fmt is not None and fmt.rdf_format is not None, format_name

    def write(store: GraphStore, mapper: IriMapper, out: BinaryIO) -> None:
        if fmt.rdf_format.supports_datasets:
            statements: Iterable[Quad | Triple] = mapper.quads(store.quads())
        else:
            statements = mapper.triples(_union_triples(store))
        prefixes = _prefixes(mapper) if fmt.rdf_format in (pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.TRIG) \
            else None
        pyoxigraph.serialize(statements, out, format=fmt.rdf_format, prefixes=prefixes)

    return write


def collection_turtle_writer(dataset_iri: str) -> Writer:
    """The cases of one collection (every triple about each case), with the collection's own description."""

    def write(store: GraphStore, mapper: IriMapper, out: BinaryIO) -> None:
        dataset = sparql_iri(dataset_iri)
        triples = store.construct(
            "CONSTRUCT { ?s ?p ?o } WHERE { "
            f"{{ ?s <{AIW.sourceDataset}> {dataset} }} UNION {{ BIND({dataset} AS ?s) }} "
            "?s ?p ?o }"
        )
        triples = sorted(set(triples), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        pyoxigraph.serialize(mapper.triples(triples), out, format=pyoxigraph.RdfFormat.TURTLE,
                             prefixes=_prefixes(mapper))

    return write


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
        pyoxigraph.serialize(mapper.triples(triples), out, format=pyoxigraph.RdfFormat.TURTLE,
                             prefixes=_prefixes(mapper))

    return write

