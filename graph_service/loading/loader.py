"""Loading: parse every source -> validate the union with SHACL -> publish all of it atomically, or nothing.

Each source file becomes one named graph; the graph ``{base}graph/load`` records PROV about the load (source file,
SHA-256, time, shapes used). The data version is a digest of the sources and shapes, so reloading unchanged files
is a no-op and ETags change exactly when the data does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from .. import __version__
from ..config import Settings
from ..namespaces import DCTERMS, PROV, RDF, SPDX, VOID, XSD, load_record_graph
from ..store import DataVersion, GraphStore
from .carry_over import CarriedOver, carry_over
from .sources import Source, SourceError, discover, parse_file, rdf_files, sha256_of
from .validation import ValidationReport, load_shapes, to_rdflib, validate_graph

Progress = Callable[[str], None]


class LoadError(Exception):
    """Nothing was published; ``problems`` are the lines to show (parse errors or SHACL findings)."""

    def __init__(self, summary: str, problems: list[str], report: ValidationReport | None = None) -> None:
        super().__init__(summary)
        self.problems = problems
        self.report = report


@dataclass
class LoadResult:
    version: DataVersion
    changed: bool
    sources: list[Source]
    triples: int
    report: ValidationReport
    carried: CarriedOver | None = None


def _quiet(_: str) -> None:
    pass


def parse_sources(sources: Iterable[Source], base_iri: str) -> dict[Source, list[Quad]]:
    """Parse every source, collecting every file's error before giving up (curators fix them all at once)."""
    parsed: dict[Source, list[Quad]] = {}
    errors: list[str] = []
    for source in sources:
        try:
            parsed[source] = parse_file(source.path, source.graph, base_iri)
        except SourceError as error:
            errors.append(str(error))
    if errors:
        raise LoadError(f"{len(errors)} source file(s) could not be parsed; nothing was published", errors)
    return parsed


def data_digest(settings: Settings, sources: list[Source], shapes: list[Path]) -> str:
    """Changes exactly when a source, a shape file or the base IRI changes."""
    digest = hashlib.sha256(settings.base_iri.encode())
    for source in sources:
        digest.update(f"\n{source.relative_path} {source.sha256}".encode())
    for path in shapes:
        digest.update(f"\nshapes {path.name} {sha256_of(path)}".encode())
    return digest.hexdigest()[:16]


def _checksum(subject: BlankNode, sha256: str, graph: NamedNode) -> list[Quad]:
    checksum = BlankNode()
    return [
        Quad(subject, NamedNode(SPDX.checksum), checksum, graph),
        Quad(checksum, NamedNode(RDF.type), NamedNode(SPDX.Checksum), graph),
        Quad(checksum, NamedNode(SPDX.algorithm), NamedNode(SPDX.checksumAlgorithm_sha256), graph),
        Quad(checksum, NamedNode(SPDX.checksumValue), Literal(sha256), graph),
    ]


def provenance(
    settings: Settings, parsed: dict[Source, list[Quad]], shapes: list[Path], started: datetime
) -> list[Quad]:
    """PROV about this load, in the load-record graph."""
    graph = NamedNode(load_record_graph(settings.base_iri))
    activity = NamedNode(f"{graph.value}#activity")
    ended = datetime.now(UTC)

    def stamp(moment: datetime) -> Literal:
        return Literal(moment.isoformat(), datatype=NamedNode(XSD.dateTime))

    quads = [
        Quad(activity, NamedNode(RDF.type), NamedNode(PROV.Activity), graph),
        Quad(activity, NamedNode(PROV.startedAtTime), stamp(started), graph),
        Quad(activity, NamedNode(PROV.endedAtTime), stamp(ended), graph),
        Quad(activity, NamedNode(DCTERMS.description), Literal(f"loaded by graph-service {__version__}"), graph),
    ]
    for path in shapes:
        used = BlankNode()
        quads += [
            Quad(activity, NamedNode(PROV.used), used, graph),
            Quad(used, NamedNode(RDF.type), NamedNode(PROV.Entity), graph),
            Quad(used, NamedNode(DCTERMS.identifier), Literal(f"shapes/{path.name}"), graph),
            *_checksum(used, sha256_of(path), graph),
        ]
    for source, source_quads in parsed.items():
        entity = NamedNode(source.graph)
        origin = BlankNode()
        quads += [
            Quad(entity, NamedNode(RDF.type), NamedNode(PROV.Entity), graph),
            Quad(entity, NamedNode(RDF.type), NamedNode(VOID.Dataset), graph),
            Quad(entity, NamedNode(PROV.wasGeneratedBy), activity, graph),
            Quad(entity, NamedNode(PROV.generatedAtTime), stamp(ended), graph),
            Quad(entity, NamedNode(VOID.triples), Literal(str(len(source_quads)), datatype=NamedNode(XSD.integer)),
                 graph),
            Quad(entity, NamedNode(PROV.wasDerivedFrom), origin, graph),
            Quad(origin, NamedNode(RDF.type), NamedNode(PROV.Entity), graph),
            Quad(origin, NamedNode(DCTERMS.identifier), Literal(str(source.relative_path)), graph),
            *_checksum(origin, source.sha256, graph),
        ]
    return quads


def load(
    settings: Settings, store: GraphStore, *, force: bool = False, discard_writes: bool = False,
    progress: Progress = _quiet,
) -> LoadResult:
    """Build and publish the whole dataset from the project's sources, or raise :class:`LoadError`.

    What was written through the API since is kept or refused as :mod:`.carry_over` describes;
    ``discard_writes`` makes the data exactly the files (the write log is kept as history).
    """
    started = datetime.now(UTC)
    sources = discover(settings.source_dirs, settings.project_root, settings.base_iri)
    if not sources:
        raise LoadError("no RDF source files found", [str(d) for d in settings.source_dirs])
    shapes = list(rdf_files([settings.shapes_dir]))
    carried = carry_over(store, settings.base_iri, {source.graph for source in sources},
                         discard_writes=discard_writes)
    if carried.conflicts:
        files = {source.graph: str(source.relative_path) for source in sources}
        raise LoadError(
            f"{len(carried.conflicts)} graph(s) from the source files were changed through the API since the last "
            "load; nothing was published. Bring the changes into the files (graph-service dump --graph <IRI> "
            "--format ttl) or drop them with `graph-service load --discard-writes`",
            [conflict.line(files) for conflict in carried.conflicts],
        )
    digest = data_digest(settings, sources, shapes)
    if carried.graphs:
        digest = hashlib.sha256(f"{digest} {carried.digest()}".encode()).hexdigest()[:16]
    current = store.version()
    if current is not None and current.digest == digest and not force:
        progress(f"data unchanged since {current.published.isoformat()} (version {digest}); nothing to do")
        return LoadResult(current, False, sources, 0, ValidationReport())

    progress(f"parsing {len(sources)} source files")
    parsed = parse_sources(sources, settings.base_iri)
    all_quads = [quad for quads in parsed.values() for quad in quads]
    if carried.graphs:
        progress(f"keeping {len(carried.graphs)} graph(s) written through the API: " + ", ".join(carried.graphs))
        all_quads += carried.data_quads
    progress(f"validating {len(all_quads):,} triples against {len(shapes)} shapes file(s)")
    report = validate_graph(to_rdflib(all_quads), load_shapes(settings.shapes_dir, settings.base_iri))
    if not report.conforms:
        raise LoadError(
            f"{len(report.violations)} SHACL violation(s); nothing was published", report.lines(), report
        )
    all_quads += provenance(settings, parsed, shapes, started) + carried.write_log
    graphs = len(parsed) + len(carried.graphs) + 1 + bool(carried.write_log)
    progress(f"publishing {len(all_quads):,} quads in {graphs} named graphs")
    version = store.publish(all_quads, digest)
    return LoadResult(version, True, sources, len(all_quads), report, carried)


def validate_paths(paths: Iterable[Path], settings: Settings) -> ValidationReport:
    """Validate curator files (any RDF syntax) with the project's shapes.

    The ontology and concept schemes are validated alongside, so that "value from the right concept scheme"
    checks can see the schemes; raises :class:`LoadError` when a file cannot be parsed.
    """
    files = list(rdf_files(paths))
    if not files:
        raise LoadError("no RDF files to validate", [str(p) for p in paths])
    background = [s.path for s in discover([settings.project_root / "ontology"], settings.project_root,
                                           settings.base_iri)]
    errors: list[str] = []
    quads: list[pyoxigraph.Quad] = []
    for path in dict.fromkeys([*files, *background]):
        try:
            quads.extend(parse_file(path, None, settings.base_iri))
        except SourceError as error:
            errors.append(str(error))
    if errors:
        raise LoadError(f"{len(errors)} file(s) could not be parsed", errors)
    return validate_graph(to_rdflib(quads), load_shapes(settings.shapes_dir, settings.base_iri))
