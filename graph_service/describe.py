"""What the graph says about one resource: the model behind every Linked Data representation of it.

A :class:`Description` holds, as quads (graph names kept, for TriG and N-Quads):

* every triple whose subject is the resource, in every named graph, plus the triples of the hash IRIs under it
  (``<thing#fragment>``: dereferencing those fetches this document too);
* the concise bounded description of the blank nodes they reach (nested nodes, ``rdf:List`` cells of author lists);
* the labels and types of the resources all of those link to, and the labels of the properties and classes used,
  so that a reader (or a page) can name what it sees without dereferencing anything else;
* the inverse links (``?s ?p <thing>``), bounded per property, with the total count per property.

It is built with a handful of indexed SPARQL queries through the :class:`GraphStore` interface, so it works over any
backend. The model is plain data (pyoxigraph terms) that every face can reuse: the Linked Data pages, the catalogue,
the browse pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Triple

from .namespaces import DCTERMS, FOAF, OWL, RDF, RDFS, SCHEMA, SKOS
from .store import GraphStore

Term = NamedNode | BlankNode | Literal

#: Properties that name a resource, most preferred first (ontology/README.md: concepts and organisations use
#: skos:prefLabel, reports dct:title, workshops schema:name, people foaf:name, ontology terms rdfs:label).
LABEL_PROPERTIES: tuple[str, ...] = (
    str(SKOS.prefLabel), str(DCTERMS.title), str(SCHEMA.name), str(FOAF.name), str(RDFS.label),
)
RDF_TYPE = str(RDF.type)
RDF_FIRST, RDF_REST, RDF_NIL = str(RDF.first), str(RDF.rest), str(RDF.nil)
OWL_SAME_AS = str(OWL.sameAs)

#: Inverse links listed per property in a description; the rest is counted and paged elsewhere.
DEFAULT_INVERSE_LIMIT = 20
#: Nesting depth of blank nodes followed (an author list of n people is n levels deep).
MAX_BLANK_NODE_DEPTH = 100
#: IRIs put into one VALUES block (keeps queries a reasonable size for remote engines).
_VALUES_CHUNK = 200

# Characters that may not appear in an IRI written as <...> in SPARQL (SPARQL 1.1 grammar, IRIREF).
_FORBIDDEN_IN_IRIREF = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def sparql_iri(iri: str) -> str:
    """``<iri>`` for a SPARQL query; refuses IRIs that could break out of the angle brackets."""
    if _FORBIDDEN_IN_IRIREF.search(iri):
        raise ValueError(f"not an IRI that can be queried: {iri!r}")
    return f"<{iri}>"


def _values(iris: Iterable[str]) -> str:
    return " ".join(sparql_iri(iri) for iri in iris)


def _chunks(items: Sequence[str], size: int = _VALUES_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class GraphView:
    """Read access to a set of quads by subject and predicate, with labels in the preferred language."""

    def __init__(self, quads: Iterable[Quad]) -> None:
        self._quads: list[Quad] = []
        self._index: dict[Term, dict[str, list[Term]]] = {}
        seen: set[Quad] = set()
        for quad in quads:
            if quad in seen:
                continue
            seen.add(quad)
            self._quads.append(quad)
            objects = self._index.setdefault(quad.subject, {}).setdefault(quad.predicate.value, [])
            if quad.object not in objects:
                objects.append(quad.object)

    @property
    def quads(self) -> list[Quad]:
        """Every quad once, in the order they were found."""
        return list(self._quads)

    def triples(self) -> list[Triple]:
        """Every triple once, whatever graphs it is stated in."""
        seen: dict[Triple, None] = {}
        for quad in self._quads:
            seen.setdefault(Triple(quad.subject, quad.predicate, quad.object), None)
        return list(seen)

    def subjects(self) -> list[Term]:
        return list(self._index)

    def predicates(self, subject: Term) -> list[str]:
        return list(self._index.get(subject, {}))

    def values(self, subject: Term, predicate: str) -> list[Term]:
        return list(self._index.get(subject, {}).get(predicate, ()))

    def value(self, subject: Term, predicate: str) -> Term | None:
        values = self._index.get(subject, {}).get(predicate)
        return values[0] if values else None

    def types(self, subject: Term) -> list[NamedNode]:
        return [t for t in self.values(subject, RDF_TYPE) if isinstance(t, NamedNode)]

    def graphs_of(self, subject: Term) -> list[str]:
        """The named graphs that state something about ``subject``."""
        return sorted({q.graph_name.value for q in self._quads
                       if q.subject == subject and isinstance(q.graph_name, NamedNode)})

    def label_literal(self, term: Term, languages: Sequence[str] = ("en", "")) -> Literal | None:
        """The best label of ``term``: the first label property that has one, in the first language that has one."""
        for predicate in LABEL_PROPERTIES:
            literals = [v for v in self.values(term, predicate) if isinstance(v, Literal)]
            if literals:
                return preferred_literal(literals, languages)
        return None

    def label(self, term: Term, languages: Sequence[str] = ("en", "")) -> str | None:
        literal = self.label_literal(term, languages)
        return literal.value if literal is not None else None

    def list_items(self, head: Term) -> list[Term] | None:
        """The members of the ``rdf:List`` at ``head`` in order, or ``None`` if it is not a well-formed list."""
        items: list[Term] = []
        seen: set[Term] = set()
        node = head
        while not (isinstance(node, NamedNode) and node.value == RDF_NIL):
            if not isinstance(node, BlankNode) or node in seen:
                return None
            seen.add(node)
            first, rest = self.values(node, RDF_FIRST), self.values(node, RDF_REST)
            if len(first) != 1 or len(rest) != 1:
                return None
            items.append(first[0])
            node = rest[0]
        return items


def preferred_literal(literals: Sequence[Literal], languages: Sequence[str] = ("en", "")) -> Literal:
    """The literal in the first preferred language (``""``: no language tag), else the first one."""
    for language in languages:
        for literal in literals:
            if (literal.language or "") == language or (literal.language or "").startswith(language + "-") and language:
                return literal
    return literals[0]


@dataclass(frozen=True)
class InverseLinks:
    """Resources linking to the described one with one property: the first few, and how many there are."""

    predicate: NamedNode
    count: int
    subjects: tuple[NamedNode, ...]

    @property
    def truncated(self) -> bool:
        return self.count > len(self.subjects)


@dataclass
class Description(GraphView):
    """Everything a representation of ``resource`` shows (see the module docstring)."""

    resource: NamedNode
    statements: list[Quad]
    context: list[Quad]
    inverse: list[InverseLinks] = field(default_factory=list)
    inverse_statements: list[Quad] = field(default_factory=list)
    #: Local resources that are ``owl:sameAs`` an external IRI the description links to (EU authority IRIs), with
    #: their labels: pages can name ``euc:ESP`` "Spain" without the authority table being loaded.
    aliases: dict[NamedNode, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        GraphView.__init__(self, [*self.statements, *self.inverse_statements, *self.context])

    @cached_property
    def hash_resources(self) -> list[NamedNode]:
        """The ``<resource#fragment>`` IRIs described along with the resource (in the order found)."""
        prefix = self.resource.value + "#"
        found = dict.fromkeys(q.subject for q in self.statements
                              if isinstance(q.subject, NamedNode) and q.subject.value.startswith(prefix))
        return list(found)

    @property
    def source_graphs(self) -> list[str]:
        """The named graphs that state something about the resource itself."""
        return self.graphs_of(self.resource)

    def named(self, term: Term) -> str | None:
        """A label for ``term``: its own, or that of the local resource that is ``owl:sameAs`` it."""
        return self.label(term) or (self.aliases.get(term) if isinstance(term, NamedNode) else None)


def exists(store: GraphStore, iri: str) -> bool:
    """Whether the graph mentions ``iri`` at all (as subject or object)."""
    resource = sparql_iri(iri)
    return store.ask(f"ASK {{ {{ {resource} ?p ?o }} UNION {{ ?s ?p {resource} }} }}")


def describe(store: GraphStore, iri: str, *, inverse_limit: int = DEFAULT_INVERSE_LIMIT) -> Description | None:
    """The description of ``iri``, or ``None`` if the graph does not mention it."""
    if not exists(store, iri):
        return None
    resource = NamedNode(iri)
    roots = [iri, *_hash_iris(store, iri)]
    statements = _statements_about(store, roots)
    statements += _blank_node_closure(store, roots)
    inverse, inverse_statements = _inverse_links(store, iri, inverse_limit)
    linked = _linked_iris([*statements, *inverse_statements])
    context = _labels_and_types(store, linked)
    # Second round: the classes of linked resources need names too.
    classes = [t.value for t in {q.object for q in context if q.predicate.value == RDF_TYPE}
               if isinstance(t, NamedNode) and t.value not in linked]
    context += _labels_and_types(store, sorted(classes), types=False)
    labelled = {q.subject.value for q in context if q.predicate.value in LABEL_PROPERTIES}
    aliases = _alias_labels(store, [i for i in linked if i not in labelled], exclude=iri)
    return Description(resource=resource, statements=statements, context=context, inverse=inverse,
                       inverse_statements=inverse_statements, aliases=aliases)


def inverse_page(
    store: GraphStore, iri: str, predicate: str, *, offset: int, limit: int
) -> tuple[int, list[NamedNode]]:
    """One page of the resources linking to ``iri`` with ``predicate`` (ordered by label), and their total count."""
    resource, property_ = sparql_iri(iri), sparql_iri(predicate)
    count_rows = store.select(
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s {property_} {resource} FILTER(isIRI(?s)) }}"
    )
    total = int(count_rows[0]["n"].value) if count_rows else 0
    return total, _linking_subjects(store, iri, predicate, offset=offset, limit=limit)


def view_of(store: GraphStore, quads: list[Quad]) -> GraphView:
    """A :class:`GraphView` of ``quads`` plus the labels and types of everything they link to."""
    linked = _linked_iris(quads)
    return GraphView([*quads, *_labels_and_types(store, linked)])


# ---------------------------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------------------------

def _quads_from(rows: Iterable[dict[str, Term]], subject: Term | None = None) -> list[Quad]:
    quads = []
    for row in rows:
        graph = row.get("g")
        quads.append(Quad(subject or row["s"], row["p"], row["o"], graph if graph is not None else DefaultGraph()))
    return quads


def _hash_iris(store: GraphStore, iri: str) -> list[str]:
    """IRIs ``<iri#...>`` linked from or to the resource (reification statements, parts), described with it."""
    resource = sparql_iri(iri)
    prefix = Literal(iri + "#")
    rows = store.select(
        f"SELECT DISTINCT ?h WHERE {{ {{ {resource} ?p ?h }} UNION {{ ?h ?p {resource} }} "
        f"FILTER(isIRI(?h) && STRSTARTS(STR(?h), {_literal(prefix)})) }} ORDER BY ?h"
    )
    return [row["h"].value for row in rows]


def _literal(literal: Literal) -> str:
    # pyoxigraph's str() of a literal is its N-Triples form, which SPARQL accepts and which escapes quotes.
    return str(literal)


def _statements_about(store: GraphStore, subjects: Sequence[str]) -> list[Quad]:
    quads: list[Quad] = []
    for chunk in _chunks(list(subjects)):
        rows = store.select(
            f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {_values(chunk)} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        )
        quads += _quads_from(rows)
    return quads


def _blank_node_closure(store: GraphStore, roots: Sequence[str]) -> list[Quad]:
    """Triples of the blank nodes reachable from ``roots`` through blank nodes only (concise bounded description).

    SPARQL cannot name a stored blank node in a later query, so level ``n`` is one query that walks the chain of
    ``n`` blank nodes from the roots again; it stops when a level finds no blank node not seen before.
    """
    quads: list[Quad] = []
    seen: set[BlankNode] = set()
    values = _values(roots)
    for depth in range(1, MAX_BLANK_NODE_DEPTH + 1):
        chain = [f"VALUES ?b0 {{ {values} }}"]
        for level in range(1, depth + 1):
            chain.append(f"?b{level - 1} ?p{level} ?b{level} . FILTER(isBlank(?b{level}))")
        rows = store.select(
            f"SELECT DISTINCT (?b{depth} AS ?s) ?p ?o ?g WHERE {{ {' '.join(chain)} GRAPH ?g {{ ?b{depth} ?p ?o }} }}"
        )
        new_nodes = {row["s"] for row in rows} - seen
        if not new_nodes:
            break
        seen |= new_nodes
        quads += [q for q in _quads_from(rows) if q.subject in new_nodes]
    return quads


def _inverse_links(store: GraphStore, iri: str, limit: int) -> tuple[list[InverseLinks], list[Quad]]:
    """Per property: how many IRIs link to ``iri`` and the first ``limit`` of them (blank nodes and the resource's
    own hash IRIs are part of the description, not inverse links)."""
    resource = sparql_iri(iri)
    prefix = Literal(iri + "#")
    counts = store.select(
        f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p {resource} "
        f"FILTER(isIRI(?s) && !STRSTARTS(STR(?s), {_literal(prefix)})) }} GROUP BY ?p ORDER BY DESC(?n) ?p"
    )
    groups: list[InverseLinks] = []
    quads: list[Quad] = []
    for row in counts:
        predicate: NamedNode = row["p"]  # type: ignore[assignment]
        subjects = _linking_subjects(store, iri, predicate.value, offset=0, limit=limit)
        groups.append(InverseLinks(predicate, int(row["n"].value), tuple(subjects)))
        quads += _inverse_quads(store, iri, predicate.value, subjects)
    return groups, quads


def _linking_subjects(store: GraphStore, iri: str, predicate: str, *, offset: int, limit: int) -> list[NamedNode]:
    """IRIs that link to ``iri`` with ``predicate``, ordered by label (then IRI) so pages are stable."""
    resource, property_ = sparql_iri(iri), sparql_iri(predicate)
    label_path = "|".join(sparql_iri(p) for p in LABEL_PROPERTIES)
    prefix = Literal(iri + "#")
    rows = store.select(
        f"SELECT ?s (MIN(LCASE(STR(?l))) AS ?key) WHERE {{ ?s {property_} {resource} "
        f"FILTER(isIRI(?s) && !STRSTARTS(STR(?s), {_literal(prefix)})) "
        f"OPTIONAL {{ ?s {label_path} ?l }} }} GROUP BY ?s ORDER BY COALESCE(?key, LCASE(STR(?s))) ?s "
        f"OFFSET {int(offset)} LIMIT {int(limit)}"
    )
    return [row["s"] for row in rows]  # type: ignore[misc]


def _inverse_quads(store: GraphStore, iri: str, predicate: str, subjects: Sequence[NamedNode]) -> list[Quad]:
    if not subjects:
        return []
    rows = store.select(
        f"SELECT ?s ?g WHERE {{ VALUES ?s {{ {_values(s.value for s in subjects)} }} "
        f"GRAPH ?g {{ ?s {sparql_iri(predicate)} {sparql_iri(iri)} }} }}"
    )
    p, o = NamedNode(predicate), NamedNode(iri)
    return [Quad(row["s"], p, o, row["g"]) for row in rows]


def _linked_iris(quads: Iterable[Quad]) -> list[str]:
    """Every IRI the quads mention (subjects of inverse links, objects, predicates), in a stable order."""
    iris: dict[str, None] = {}
    for quad in quads:
        for term in (quad.subject, quad.predicate, quad.object):
            if isinstance(term, NamedNode):
                iris.setdefault(term.value, None)
    return list(iris)


def _labels_and_types(store: GraphStore, iris: Sequence[str], *, types: bool = True) -> list[Quad]:
    properties = [*LABEL_PROPERTIES, *([RDF_TYPE] if types else [])]
    quads: list[Quad] = []
    for chunk in _chunks(list(iris)):
        # Subjects in VALUES, properties in a FILTER: with a second VALUES block for the properties Oxigraph scans
        # every quad and joins afterwards (300 ms per document at 1M triples); (subject, property) pairs are index
        # lookups but make a long query text that takes longer to parse than this filter takes to run.
        rows = store.select(
            f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {_values(chunk)} }} GRAPH ?g {{ ?s ?p ?o }} "
            f"FILTER(?p IN ({', '.join(sparql_iri(p) for p in properties)})) }}"
        )
        quads += _quads_from(rows)
    return quads


def _alias_labels(store: GraphStore, iris: Sequence[str], exclude: str) -> dict[NamedNode, str]:
    """Labels of local resources declared ``owl:sameAs`` the given (unlabelled) IRIs, other than ``exclude``
    (a report is the same as its DOI: the DOI link should not be named after the report on its own page)."""
    aliases: dict[NamedNode, str] = {}
    label_path = "|".join(sparql_iri(p) for p in LABEL_PROPERTIES)
    for chunk in _chunks(list(iris)):
        rows = store.select(
            f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {_values(chunk)} }} ?local {sparql_iri(OWL_SAME_AS)} ?x . "
            f"?local {label_path} ?l FILTER(?local != {sparql_iri(exclude)}) }}"
        )
        by_iri: dict[NamedNode, list[Literal]] = {}
        for row in rows:
            by_iri.setdefault(row["x"], []).append(row["l"])  # type: ignore[arg-type]
        aliases |= {iri: preferred_literal(labels).value for iri, labels in by_iri.items()}
    return aliases
