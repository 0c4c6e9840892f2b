"""VoID description of the knowledge graph (``/.well-known/void``), computed from the store.

Statistics: triples, entities (IRIs under ``{base}id/``), distinct subjects and objects, one class partition per
class and one property partition per property, the vocabularies used, the SPARQL endpoint, the data dumps, and one
``void:Linkset`` per (link predicate, target) towards the EU authority tables and DOIs.

The statistics are aggregates over every triple (~10 s of CPU at a million triples), so :func:`stored_void`
computes them once per data version and keeps the graph (persistent IRIs) beside that version's downloads: written
by :func:`graph_service.catalog.prepare` at publish time, or by the first server process asked for it, then read by
every process (milliseconds), which also keeps the serialised answers per origin and format in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, VOID, XSD

from ..namespaces import EU_AUTHORITY
from ..store import DataVersion, GraphStore
from .build import new_graph
from .version_files import computed_once
from .vocab import DOI_RESOLVER, authority_table


def _count(store: GraphStore, query: str) -> int:
    rows = store.select(query)
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


def _namespace(iri: str) -> str:
    for separator in ("#", "/"):
        if separator in iri:
            return iri[: iri.rindex(separator) + 1]
    return iri


def build_void(store: GraphStore, base_iri: str, dataset: URIRef, dumps: list[URIRef], title: Literal | None) -> Graph:
    """The VoID graph of the union of all graphs (persistent IRIs; the web face rewrites them)."""
    graph = new_graph()
    document = URIRef(base_iri + ".well-known/void")
    graph.add((document, RDF.type, VOID.DatasetDescription))
    graph.add((document, FOAF.primaryTopic, dataset))
    graph.add((document, DCTERMS.title, Literal("VoID description of the AI Watch knowledge graph", lang="en")))
    graph.add((dataset, RDF.type, VOID.Dataset))
    if title is not None:
        graph.add((dataset, DCTERMS.title, title))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(base_iri + "sparql")))
    graph.add((dataset, VOID.uriSpace, Literal(base_iri + "id/")))
    graph.add((dataset, VOID.rootResource, URIRef(base_iri + "catalog")))
    for dump in dumps:
        graph.add((dataset, VOID.dataDump, dump))

    def integer(value: int) -> Literal:
        return Literal(value, datatype=XSD.integer)

    graph.add((dataset, VOID.triples, integer(_count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))))
    graph.add((dataset, VOID.entities, integer(_count(
        store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && "
               f"STRSTARTS(STR(?s), \"{base_iri}id/\")) }}"))))
    graph.add((dataset, VOID.distinctSubjects, integer(_count(
        store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"))))
    graph.add((dataset, VOID.distinctObjects, integer(_count(
        store, "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"))))
    graph.add((dataset, VOID.classes, integer(_count(
        store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }"))))
    graph.add((dataset, VOID.properties, integer(_count(
        store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }"))))

    vocabularies: set[str] = set()
    for number, row in enumerate(store.select(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?c)) } GROUP BY ?c ORDER BY ?c"
    ), start=1):
        partition = URIRef(f"{document}#class-{number}")
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(row["c"].value)))
        graph.add((partition, VOID.entities, integer(int(row["n"].value))))
        vocabularies.add(_namespace(row["c"].value))
    for number, row in enumerate(store.select(
        "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"
    ), start=1):
        partition = URIRef(f"{document}#property-{number}")
        graph.add((dataset, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, URIRef(row["p"].value)))
        graph.add((partition, VOID.triples, integer(int(row["n"].value))))
        vocabularies.add(_namespace(row["p"].value))
    for vocabulary in sorted(vocabularies):
        graph.add((dataset, VOID.vocabulary, URIRef(vocabulary)))

    links: Counter[tuple[str, str]] = Counter()
    for row in store.select(
        "SELECT ?p ?o WHERE { ?s ?p ?o FILTER(isIRI(?o) && (STRSTARTS(STR(?o), "
        f"\"{EU_AUTHORITY}\") || STRSTARTS(STR(?o), \"{DOI_RESOLVER}\"))) }}"
    ):
        target = authority_table(row["o"].value)
        target_iri = EU_AUTHORITY + target if target else DOI_RESOLVER
        links[(row["p"].value, target_iri)] += 1
    for number, ((predicate, target), count) in enumerate(sorted(links.items()), start=1):
        linkset = URIRef(f"{document}#linkset-{number}")
        graph.add((dataset, VOID.subset, linkset))
        graph.add((linkset, RDF.type, VOID.Linkset))
        graph.add((linkset, VOID.subjectsTarget, dataset))
        graph.add((linkset, VOID.objectsTarget, URIRef(target)))
        graph.add((linkset, VOID.linkPredicate, URIRef(predicate)))
        graph.add((linkset, VOID.triples, integer(count)))
        graph.add((URIRef(target), RDF.type, VOID.Dataset))
        graph.add((URIRef(target), FOAF.homepage, URIRef(target)))
    return graph


def stored_void(path: Path, store: GraphStore, version: DataVersion | None, base_iri: str, dataset: URIRef,
                dumps: Callable[[], list[URIRef]], title: Literal | None) -> Graph:
    """The VoID graph of data ``version``, read from ``path`` (N-Triples) when it was computed already, else
    computed and written there (see :mod:`.version_files`). ``dumps`` is only called to compute it (listing the
    downloads reads the catalogue's records: seconds at a million triples)."""

    def compute() -> bytes:
        return build_void(store, base_iri, dataset, dumps(), title).serialize(format="nt", encoding="utf-8")

    return new_graph().parse(data=computed_once(path, store, version, compute), format="nt")
