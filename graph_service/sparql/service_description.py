"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/).

``<endpoint#service>`` is the ``sd:Service``: its endpoint, languages, result formats, features
(``sd:UnionDefaultGraph`` always, ``sd:BasicFederatedQuery`` only when SERVICE is allowlisted) and the default
dataset ``<endpoint#dataset>``: the union default graph and every named graph, each with its ``void:triples``
count. The limits a client meets (time, rows) are stated in ``rdfs:comment``: the vocabulary has no terms for them.

When writes are enabled (bearer tokens configured), the endpoint also states ``sd:supportedLanguage
sd:SPARQL11Update`` (it takes updates by POST), and ``<update endpoint#service>`` describes the update-only alias
(Fuseki's ``/update``) as a second ``sd:Service``; read-only, neither is stated. The vocabulary has no terms for
authentication or the Graph Store Protocol, so those are stated in ``rdfs:comment`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ..formats import Format
from ..store.base import GraphStore

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCT = "http://purl.org/dc/terms/"
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")

#: Short format name (graph_service.formats) -> its IRI in the W3C formats namespace (https://www.w3.org/ns/formats/).
W3C_FORMAT_IRIS: dict[str, str] = {
    "json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
    "tsv": "SPARQL_Results_TSV", "ttl": "Turtle", "nt": "N-Triples", "rdf": "RDF_XML", "jsonld": "JSON-LD",
    "trig": "TriG", "nq": "N-Quads", "n3": "N3",
}

PREFIXES = {"sd": SD, "void": VOID, "formats": FORMATS_NS, "rdfs": RDFS, "dct": DCT,
            "xsd": "http://www.w3.org/2001/XMLSchema#"}


@dataclass(frozen=True)
class DatasetStatistics:
    union_triples: int
    graph_triples: tuple[tuple[str, int], ...]  # (graph IRI, triples), sorted by IRI


def dataset_statistics(store: GraphStore) -> DatasetStatistics:
    """Triple counts of the union default graph and of each named graph: scans of the quad indexes.

    Both backends keep the union materialised as the default graph, a set: counting it needs no ``DISTINCT`` over
    every quad (which held all of them in a hash set: 20.6 s and 1.7 GB at 10M triples, against 2.8 s and no
    memory to speak of).
    """
    per_graph = store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    union = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    graphs = sorted((row["g"].value, int(row["n"].value)) for row in per_graph if isinstance(row["g"], NamedNode))
    return DatasetStatistics(int(union[0]["n"].value) if union else 0, tuple(graphs))


def _n(iri: str) -> NamedNode:
    return NamedNode(iri)


def _count(value: int) -> Literal:
    return Literal(str(value), datatype=XSD_INTEGER)


def describe_service(
    endpoint: str,
    statistics: DatasetStatistics,
    result_formats: Sequence[Format],
    *,
    federation: bool,
    timeout_s: float,
    max_rows: int,
    public_iri: Callable[[str], str] = lambda iri: iri,
    update_endpoint: str | None = None,
) -> list[Triple]:
    """The service description triples; ``public_iri`` maps stored graph IRIs to the ones clients see.

    ``update_endpoint``: the URL of the update-only endpoint when writes are enabled; ``None``: read-only.
    """
    # Blank nodes named by position: the same settings and data give the same bytes (its ETag is strong).
    service, dataset, default_graph = _n(endpoint + "#service"), _n(endpoint + "#dataset"), BlankNode("default")
    features = [SD + "UnionDefaultGraph", *([SD + "BasicFederatedQuery"] if federation else [])]
    languages = ["SPARQL10Query", "SPARQL11Query", *(["SPARQL11Update"] if update_endpoint else [])]
    limits = (f"The default graph is the union of all named graphs. Queries are cancelled after {timeout_s:g} s; "
              f"results of more than {max_rows:,} rows are refused (page with LIMIT/OFFSET).")
    access = (f"Queries need no authentication. SPARQL 1.1 Update (POST here or at {update_endpoint}) and the "
              f"SPARQL 1.1 Graph Store HTTP Protocol need a bearer token (Authorization: Bearer ...); every write "
              f"is validated with the SHACL shapes before it commits." if update_endpoint else "Read-only.")
    triples = [
        Triple(service, RDF_TYPE, _n(SD + "Service")),
        Triple(service, _n(SD + "endpoint"), _n(endpoint)),
        Triple(service, _n(DCT + "title"), Literal(
            "AI Watch knowledge graph: SPARQL 1.1 " + ("query and update endpoint" if update_endpoint else
                                                       "query endpoint"), language="en")),
        Triple(service, _n(RDFS + "comment"), Literal(f"{access} {limits}", language="en")),
        *(Triple(service, _n(SD + "supportedLanguage"), _n(SD + language)) for language in languages),
        *(Triple(service, _n(SD + "feature"), _n(feature)) for feature in features),
        *(Triple(service, _n(SD + "resultFormat"), _n(FORMATS_NS + W3C_FORMAT_IRIS[fmt.name]))
          for fmt in result_formats if fmt.name in W3C_FORMAT_IRIS),
        Triple(service, _n(SD + "defaultEntailmentRegime"), _n("http://www.w3.org/ns/entailment/Simple")),
        Triple(service, _n(SD + "defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, _n(SD + "Dataset")),
        Triple(dataset, RDF_TYPE, _n(VOID + "Dataset")),
        Triple(dataset, _n(VOID + "sparqlEndpoint"), _n(endpoint)),
        Triple(dataset, _n(VOID + "triples"), _count(statistics.union_triples)),
        Triple(dataset, _n(SD + "defaultGraph"), default_graph),
    ]
    graphs: list[Triple] = [
        Triple(default_graph, RDF_TYPE, _n(SD + "Graph")),
        Triple(default_graph, _n(VOID + "triples"), _count(statistics.union_triples)),
        Triple(default_graph, _n(RDFS + "comment"), Literal("The union of all named graphs.", language="en")),
    ]
    for position, (graph_iri, count) in enumerate(statistics.graph_triples):
        named, graph = BlankNode(f"named{position}"), BlankNode(f"graph{position}")
        triples.append(Triple(dataset, _n(SD + "namedGraph"), named))
        graphs += [
            Triple(named, RDF_TYPE, _n(SD + "NamedGraph")),
            Triple(named, _n(SD + "name"), _n(public_iri(graph_iri))),
            Triple(named, _n(SD + "graph"), graph),
            Triple(graph, RDF_TYPE, _n(SD + "Graph")),
            Triple(graph, _n(VOID + "triples"), _count(count)),
        ]
    if update_endpoint:
        updates = _n(update_endpoint + "#service")
        triples += [
            Triple(updates, RDF_TYPE, _n(SD + "Service")),
            Triple(updates, _n(SD + "endpoint"), _n(update_endpoint)),
            Triple(updates, _n(DCT + "title"),
                   Literal("AI Watch knowledge graph: SPARQL 1.1 update endpoint", language="en")),
            Triple(updates, _n(RDFS + "comment"), Literal(
                "Takes SPARQL 1.1 Update only (queries go to the query endpoint); needs a bearer token "
                "(Authorization: Bearer ...). Every write is validated with the SHACL shapes before it commits.",
                language="en")),
            Triple(updates, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Update")),
            Triple(updates, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")),
            Triple(updates, _n(SD + "defaultDataset"), dataset),
        ]
    return triples + graphs
