"""The catalogue-level constants of ``catalogue.ttl``, parsed against the configured base IRI."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS
from rdflib.term import Node

from .vocab import TPL

#: Kinds of catalogue record (``tpl:`` terms of catalogue.ttl).
KNOWLEDGE_GRAPH = TPL.KnowledgeGraph
CASES_COLLECTION = TPL.CasesCollection
REPORT = TPL.Report


@dataclass(frozen=True)
class Constants:
    graph: Graph
    base_iri: str

    def iri(self, relative: str) -> URIRef:
        return URIRef(self.base_iri + relative)

    @property
    def catalog(self) -> URIRef:
        return self.iri("catalog")

    @property
    def service(self) -> URIRef:
        return next(s for s in self.graph.subjects(RDF.type, DCAT.DataService) if isinstance(s, URIRef))

    @property
    def knowledge_graph(self) -> URIRef:
        return next(s for s in self.graph.subjects(TPL.kind, KNOWLEDGE_GRAPH) if isinstance(s, URIRef))

    def defaults(self, kind: URIRef) -> list[tuple[URIRef, Node]]:
        """(property, value) pairs every record of ``kind`` gets."""
        return self._pairs(kind, TPL.defaults)

    def fallbacks(self, kind: URIRef) -> list[tuple[URIRef, Node]]:
        """(property, value) pairs a record of ``kind`` gets for each property the data leaves empty."""
        return self._pairs(kind, TPL.fallbacks)

    def _pairs(self, kind: URIRef, link: URIRef) -> list[tuple[URIRef, Node]]:
        pairs = []
        for node in self.graph.objects(kind, link):
            pairs += [(p, o) for p, o in self.graph.predicate_objects(node)]
        return sorted(pairs)

    def metadata_licence(self, kind: URIRef) -> URIRef:
        return self.graph.value(kind, TPL.metadataLicence)

    def rights_statement(self, licence: URIRef) -> URIRef | None:
        return self.graph.value(licence, TPL.rights)

    def file_type(self, media_type: str) -> URIRef | None:
        """The EU file-type IRI of a media type (``text/turtle`` -> ``.../file-type/RDF_TURTLE``)."""
        for node in self.graph.subjects(TPL.mediaType, Literal(media_type)):
            return self.graph.value(node, DCTERMS.format)
        return None

    @property
    def range_classes(self) -> dict[URIRef, URIRef]:
        return {p: c for p, c in self.graph.subject_objects(TPL.rangeClass)}

    def literal(self, subject: URIRef, predicate: URIRef) -> Literal | None:
        value = self.graph.value(subject, predicate)
        return value if isinstance(value, Literal) else None

    def label(self, subject: Node) -> str | None:
        for predicate in (DCTERMS.title, RDFS.label):
            value = self.graph.value(subject, predicate)
            if value is not None:
                return str(value)
        return None

    def description_of(self, subject: Node) -> list[tuple[Node, URIRef, Node]]:
        """The published triples about ``subject`` (no ``tpl:`` configuration), with nested blank nodes."""
        triples: list[tuple[Node, URIRef, Node]] = []
        for p, o in self.graph.predicate_objects(subject):
            if str(p).startswith(str(TPL)):
                continue
            triples.append((subject, p, o))
            if isinstance(o, BNode):
                triples += self.description_of(o)
        return triples


@cache
def load_constants(base_iri: str) -> Constants:
    """catalogue.ttl with relative IRIs resolved against ``base_iri``."""
    text = resources.files(__package__).joinpath("catalogue.ttl").read_text(encoding="utf-8")
    graph = Graph()
    graph.parse(data=text, format="turtle", publicID=base_iri)
    return Constants(graph, base_iri)
