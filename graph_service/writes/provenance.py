"""PROV about each accepted write, in the graph ``{base}graph/write-log`` (next to the loader's ``graph/load``).

One ``prov:Activity`` per write, ``{base}id/write/{UTC time}`` (dereferenceable like any thing)::

    id:write/20261128t101500123456z a prov:Activity ;
        rdfs:label "SPARQL Update by alice" ;
        prov:wasAssociatedWith id:agent/alice ;          # who: the name of the bearer token
        prov:startedAtTime ..., prov:endedAtTime ... ;    # when
        prov:used [ a prov:Entity ;                       # what was asked: the update text, or the uploaded body's
                    dct:format "application/sparql-update" ;   # media type (the body itself is in the graph)
                    rdf:value "INSERT DATA { ... }" ;
                    spdx:checksum [ spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue "..." ] ] ;
        prov:generated <graph IRI> ... ;                  # each named graph whose content changed
        rdfs:comment "3 triple(s) added, 1 removed: <graph IRI> +3 -1" .
    id:agent/alice a prov:Agent ; foaf:name "alice" .
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from ..namespaces import DCTERMS, FOAF, PROV, RDF, RDFS, SPDX, XSD, write_log_graph
from ..store.base import ChangeSet


def writes_graph(base_iri: str) -> str:
    """The named graph receiving what a write puts into the default graph (which is the union of the others)."""
    return f"{base_iri}graph/writes"


def agent_iri(base_iri: str, writer: str) -> str:
    return f"{base_iri}id/agent/{writer}"


@dataclass(frozen=True)
class WriteRequest:
    """What a client asked for, as recorded: the operation, the text or media type, and a checksum."""

    writer: str
    operation: str  # "SPARQL Update", "Graph Store PUT <graph>"...
    media_type: str
    sha256: str
    text: str | None = None  # the update text; an uploaded body is in the data itself
    started: datetime | None = None


def summary(changes: ChangeSet, leave_out: str = "") -> str:
    """``3 triple(s) added, 1 removed: <g> +3 -1``, without the graph ``leave_out`` (the write log)."""
    added = Counter(q.graph_name.value for q in changes.added if isinstance(q.graph_name, NamedNode))
    removed = Counter(q.graph_name.value for q in changes.removed if isinstance(q.graph_name, NamedNode))
    graphs = [g for g in changes.graphs() if g != leave_out]
    per_graph = ", ".join(f"<{g}> +{added[g]} -{removed[g]}" for g in graphs)
    text = f"{sum(added[g] for g in graphs)} triple(s) added, {sum(removed[g] for g in graphs)} removed"
    return f"{text}: {per_graph}" if per_graph else text


def provenance(base_iri: str, request: WriteRequest, changes: ChangeSet) -> list[Quad]:
    """The PROV quads recording ``request`` and its ``changes``."""
    graph = NamedNode(write_log_graph(base_iri))
    now = datetime.now(UTC)
    started = request.started or now
    activity = NamedNode(f"{base_iri}id/write/{started.strftime('%Y%m%dt%H%M%S%fz')}")
    agent = NamedNode(agent_iri(base_iri, request.writer))
    used, checksum = BlankNode(), BlankNode()

    def stamp(moment: datetime) -> Literal:
        return Literal(moment.isoformat(), datatype=NamedNode(XSD.dateTime))

    def quad(s, p, o) -> Quad:
        return Quad(s, NamedNode(p), o, graph)

    quads = [
        quad(activity, RDF.type, NamedNode(PROV.Activity)),
        quad(activity, RDFS.label, Literal(f"{request.operation} by {request.writer}")),
        quad(activity, PROV.wasAssociatedWith, agent),
        quad(activity, PROV.startedAtTime, stamp(started)),
        quad(activity, PROV.endedAtTime, stamp(now)),
        quad(activity, RDFS.comment, Literal(summary(changes))),
        quad(agent, RDF.type, NamedNode(PROV.Agent)),
        quad(agent, FOAF.name, Literal(request.writer)),
        quad(activity, PROV.used, used),
        quad(used, RDF.type, NamedNode(PROV.Entity)),
        quad(used, DCTERMS["format"], Literal(request.media_type)),
        quad(used, SPDX.checksum, checksum),
        quad(checksum, RDF.type, NamedNode(SPDX.Checksum)),
        quad(checksum, SPDX.algorithm, NamedNode(SPDX.checksumAlgorithm_sha256)),
        quad(checksum, SPDX.checksumValue, Literal(request.sha256)),
    ]
    if request.text is not None:
        quads.append(quad(used, RDF.value, Literal(request.text)))
    for changed in changes.graphs():
        if changed != graph.value:
            quads.append(quad(activity, PROV.generated, NamedNode(changed)))
    return quads
