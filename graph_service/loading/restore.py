"""Restore: publish a backup written by ``graph-service dump`` (N-Quads or TriG), validated like a load, atomically.

A backup holds every named graph of the store, the load-record graph included, and nothing in the default graph
(which is the union of the named graphs, rebuilt on publishing). Restoring validates the union of the backup with
the project's shapes, as ``load`` does, and publishes all of it or nothing: the version published before stays
served if the file cannot be read, does not conform, or the disk is full. The restored version is named after the
backup's SHA-256, so restoring the same file twice publishes the same data version (and ETags).

Oxigraph stores every subtype of xsd:integer as xsd:integer (a dump says ``"3"^^xsd:integer`` where the source said
``"3"^^xsd:positiveInteger``); the shapes accept both and check the range on the value, so a backup validates as is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph

from ..config import Settings
from ..formats import guess_rdf_format
from ..namespaces import load_record_graph
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
    report = validate_graph(to_rdflib(data), load_shapes(settings.shapes_dir, settings.base_iri))
    if not report.conforms:
        raise LoadError(f"{len(report.violations)} SHACL violation(s) in the backup; nothing was published",
                        report.lines(), report)
    graphs = len({quad.graph_name for quad in quads})
    progress(f"publishing {len(quads):,} quads in {graphs} named graphs")
    version = store.publish(quads, sha256_of(backup)[:16])
    return RestoreResult(version, len(quads), graphs, report)
