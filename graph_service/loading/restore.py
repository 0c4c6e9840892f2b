"""Restore: publish a backup written by ``graph-service dump`` (N-Quads or TriG), validated like a load, atomically.

A backup holds every named graph of the store, the load-record graph included, and nothing in the default graph
(which is the union of the named graphs, rebuilt on publishing). Restoring validates the union of the backup with
the project's shapes, as ``load`` does, and publishes all of it or nothing: the version published before stays
served if the file cannot be read, does not conform, or the disk is full. The restored version is named after the
backup's SHA-256, so restoring the same file twice publishes the same data version (and ETags).

One adaptation of the shapes: Oxigraph stores every subtype of xsd:integer (xsd:positiveInteger,
xsd:nonNegativeInteger...) as xsd:integer, so a dump says ``"3"^^xsd:integer`` where the source said
``"3"^^xsd:positiveInteger``. The shapes are applied as the store can satisfy them: where a shape asks for an integer
subtype, an xsd:integer in that subtype's value range is accepted too (:func:`as_stored`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from rdflib import XSD, BNode, Graph, Literal
from rdflib.collection import Collection

from ..config import Settings
from ..formats import guess_rdf_format
from ..namespaces import SH, load_record_graph
from ..store import DataVersion, GraphStore
from .loader import LoadError
from .sources import SourceError, parse_file, sha256_of
from .validation import ValidationReport, load_shapes, to_rdflib, validate_graph


@dataclass
class RestoreResult:
    version: DataVersion
    quads: int
    graphs: int
    report: ValidationReport


def _quiet(_: str) -> None:
    pass


def restore(settings: Settings, store: GraphStore, backup: Path, *,
            progress: Callable[[str], None] = _quiet) -> RestoreResult:
    """Publish ``backup`` as the whole dataset, or raise :class:`LoadError` and change nothing."""
    rdf_format = guess_rdf_format(backup.name)
    if rdf_format is None or not rdf_format.supports_datasets:
        raise LoadError(f"{backup}: not a backup", [
            "A backup is the N-Quads (.nq) or TriG (.trig) file `graph-service dump --format nq -o FILE` writes: "
            "other formats lose the graph names."])
    progress(f"reading {backup}")
    try:
        quads = parse_file(backup, None, settings.base_iri)
    except SourceError as error:
        raise LoadError("the backup could not be parsed; nothing was published", [str(error)]) from error
    outside = sum(1 for quad in quads if isinstance(quad.graph_name, pyoxigraph.DefaultGraph))
    if outside:
        raise LoadError(f"{backup}: {outside:,} statement(s) outside any named graph; nothing was published", [
            "A dump of this service names the graph of every statement (its default graph is their union)."])
    if not quads:
        raise LoadError(f"{backup}: the backup is empty; nothing was published", [])
    # The load record describes a load, it is not curated data: the shapes check what curators wrote.
    record_graph = pyoxigraph.NamedNode(load_record_graph(settings.base_iri))
    data = [quad for quad in quads if quad.graph_name != record_graph]
    progress(f"validating {len(data):,} triples against the shapes")
    report = validate_graph(to_rdflib(data), as_stored(load_shapes(settings.shapes_dir, settings.base_iri)))
    if not report.conforms:
        raise LoadError(f"{len(report.violations)} SHACL violation(s) in the backup; nothing was published",
                        report.lines(), report)
    graphs = len({quad.graph_name for quad in quads})
    progress(f"publishing {len(quads):,} quads in {graphs} named graphs")
    version = store.publish(quads, sha256_of(backup)[:16])
    return RestoreResult(version, len(quads), graphs, report)


#: Value ranges of the subtypes of xsd:integer (``None``: unbounded).
_INTEGER_SUBTYPES: dict = {
    XSD.positiveInteger: (1, None), XSD.nonNegativeInteger: (0, None),
    XSD.negativeInteger: (None, -1), XSD.nonPositiveInteger: (None, 0),
    XSD.long: (-(2**63), 2**63 - 1), XSD.int: (-(2**31), 2**31 - 1), XSD.short: (-32768, 32767),
    XSD.byte: (-128, 127), XSD.unsignedLong: (0, 2**64 - 1), XSD.unsignedInt: (0, 2**32 - 1),
    XSD.unsignedShort: (0, 65535), XSD.unsignedByte: (0, 255),
}


def as_stored(shapes: Graph) -> Graph:
    """``shapes`` where each ``sh:datatype`` of an integer subtype also accepts an xsd:integer in its range."""
    adapted = Graph()
    for triple in shapes:
        adapted.add(triple)
    for shape, datatype in list(shapes.subject_objects(SH.datatype)):
        if datatype not in _INTEGER_SUBTYPES:
            continue
        low, high = _INTEGER_SUBTYPES[datatype]
        exact, stored, alternatives = BNode(), BNode(), BNode()
        adapted.remove((shape, SH.datatype, datatype))
        adapted.add((exact, SH.datatype, datatype))
        adapted.add((stored, SH.datatype, XSD.integer))
        if low is not None:
            adapted.add((stored, SH.minInclusive, Literal(low)))
        if high is not None:
            adapted.add((stored, SH.maxInclusive, Literal(high)))
        Collection(adapted, alternatives, [exact, stored])
        adapted.add((shape, SH["or"], alternatives))
    return adapted
