"""What the faces ask of the store answers the same on every backend (issue 8, point 4).

Runs on the backend of the session (``--backend oxigraph|remote``; ``make test-remote`` runs it on Virtuoso) and
compares its answers with an in-memory Oxigraph copy of the same published data: grouped queries of the shapes
Virtuoso 7 refuses or miscompiles (rewritten by the remote backend), dataset clauses against protocol datasets,
BASE, and the order of answers to queries without ORDER BY. The rewrite itself is checked on the embedded store:
the rewritten text means the same as the original.
"""

from __future__ import annotations

import pyoxigraph
import pytest

from graph_service.namespaces import PREFIXES, graph_iri
from graph_service.store import GraphStore
from graph_service.store.virtuoso_sparql import grouped_query_for_virtuoso

PROLOGUE = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())
LABEL = "skos:prefLabel|dct:title|schema:name|foaf:name|rdfs:label"

#: Grouped SELECTs as the faces write them (browse lists, inverse links, map), and the other shapes the rewrite
#: handles. Every ORDER BY is total, so that both stores must give one and the same order.
GROUPED = {
    "aggregates combined in the projection, ordered by them": (
        f"SELECT ?item (COALESCE(MIN(STR(?en)), MIN(STR(?any))) AS ?label) (MIN(?s) AS ?sort) WHERE {{ "
        f"?item a aiw:Workshop OPTIONAL {{ ?item {LABEL} ?en FILTER(LANGMATCHES(LANG(?en), 'en')) }} "
        f"OPTIONAL {{ ?item {LABEL} ?any }} OPTIONAL {{ ?item aiw:seriesNumber ?s }} }} GROUP BY ?item "
        f"ORDER BY ASC(?sort) LCASE(?label) STR(?item) LIMIT 3 OFFSET 1"),
    "an ORDER BY expression over an aggregate alias": (
        f"SELECT ?s (MIN(LCASE(STR(?l))) AS ?key) WHERE {{ ?s aiw:memberState ?ms "
        f"OPTIONAL {{ ?s {LABEL} ?l }} }} GROUP BY ?s ORDER BY COALESCE(?key, LCASE(STR(?s))) ?s LIMIT 7"),
    "aggregates combined, no ORDER BY, over a sub-query": (
        f"SELECT ?ms ?n (COALESCE(MIN(STR(?en)), MIN(STR(?any))) AS ?label) WHERE {{ "
        f"{{ SELECT ?ms (COUNT(DISTINCT ?case) AS ?n) WHERE {{ ?ms a aiw:MemberState "
        f"OPTIONAL {{ ?case aiw:memberState ?ms }} }} GROUP BY ?ms }} "
        f"OPTIONAL {{ ?ms {LABEL} ?en FILTER(LANGMATCHES(LANG(?en), 'en')) }} OPTIONAL {{ ?ms {LABEL} ?any }} }} "
        f"GROUP BY ?ms ?n"),
    "an alias in GROUP BY, ordered by an expression": (
        "SELECT ?key (COUNT(*) AS ?n) WHERE { ?case aiw:memberState ?ms } GROUP BY (STR(?ms) AS ?key) "
        "ORDER BY DESC(?n + 0) ?key LIMIT 5"),
    "DISTINCT, ordered by an aggregate call": (
        "SELECT DISTINCT ?ms (COUNT(?case) AS ?n) WHERE { ?case a aiw:AIUseCase ; aiw:memberState ?ms } "
        "GROUP BY ?ms ORDER BY DESC(COUNT(?case)) ?ms LIMIT 4"),
    "HAVING, and an aggregate computed on": (
        "SELECT ?ms (COUNT(?case) * 2 AS ?twice) WHERE { ?case a aiw:AIUseCase ; aiw:memberState ?ms } "
        "GROUP BY ?ms HAVING (COUNT(?case) > 20) ORDER BY DESC(?twice) ?ms"),
    "one aggregate in an expression, no GROUP BY": (
        "SELECT (CONCAT(STR(COUNT(*)), ' cases') AS ?text) WHERE { ?case a aiw:AIUseCase }"),
}


def rows(result: object) -> list[tuple[str, ...]]:
    assert isinstance(result, pyoxigraph.QuerySolutions)
    names = [variable.value for variable in result.variables]
    return [tuple(str(solution[name]) for name in names) for solution in result]


def answer(result: object, query: str) -> list[tuple[str, ...]]:
    """The rows in their order when the query has one, else sorted (each engine has its own order then)."""
    found = rows(result)
    return found if "ORDER BY" in query else sorted(found)


@pytest.fixture(scope="module")
def embedded_copy(store: GraphStore) -> pyoxigraph.Store:
    """The published data of ``store`` in memory: named graphs, and their set union as the default graph."""
    copy = pyoxigraph.Store()
    quads = list(store.quads())
    copy.bulk_extend(quads)
    copy.bulk_extend(pyoxigraph.Quad(q.subject, q.predicate, q.object, pyoxigraph.DefaultGraph()) for q in quads)
    return copy


@pytest.mark.parametrize("query", GROUPED.values(), ids=GROUPED.keys())
def test_grouped_queries_answer_as_on_the_embedded_store(store, embedded_copy, query):
    expected = answer(embedded_copy.query(PROLOGUE + query), query)
    assert expected, "a query that finds nothing would prove little"
    assert answer(store.query(PROLOGUE + query), query) == expected


@pytest.mark.parametrize("query", GROUPED.values(), ids=GROUPED.keys())
def test_the_virtuoso_form_of_a_grouped_query_means_the_same(embedded_copy, query):
    rewritten = grouped_query_for_virtuoso(PROLOGUE + query)
    assert rewritten != PROLOGUE + query, "each of these shapes is one Virtuoso fails on"
    assert answer(embedded_copy.query(rewritten), query) == answer(embedded_copy.query(PROLOGUE + query), query)


@pytest.mark.parametrize("query", [
    "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 3",
    "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY DESC(?n) ?p LIMIT 3",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY (?g) HAVING (COUNT(*) > 1) ORDER BY ?g",
    "SELECT ?x (MIN(?y) AS ?m) WHERE { ?x ?p ?y } GROUP BY ?x VALUES ?x { <urn:x> } ORDER BY LCASE(?m)",
    "ASK { ?s ?p ?o }",
])
def test_queries_virtuoso_runs_as_they_are_stay_as_they_are(query):
    assert grouped_query_for_virtuoso(query) == query


def test_protocol_datasets_replace_the_query_dataset_clause_by_clause(store, embedded_copy, settings):
    reports, states = (graph_iri(settings.base_iri, f"data/curated/{name}") for name in ("reports", "member-states"))
    query = (f"SELECT ?g (COUNT(*) AS ?n) FROM <{reports}> FROM NAMED <{states}> "
             "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g ORDER BY ?g")
    cases = [{}, {"default_graphs": [states]}, {"named_graphs": [reports]},
             {"default_graphs": [], "named_graphs": [states, reports]}, {"default_graphs": ["urn:x-not-published"]}]
    for case in cases:
        options = {"default_graph": [pyoxigraph.NamedNode(g) for g in case["default_graphs"]]} \
            if "default_graphs" in case else {}
        if "named_graphs" in case:
            options["named_graphs"] = [pyoxigraph.NamedNode(g) for g in case["named_graphs"]]
        assert rows(store.query(query, **case)) == rows(embedded_copy.query(query, **options)), case
    only_from = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert rows(store.query(only_from.replace("WHERE", f"FROM <{reports}> WHERE"))) == [], \
        "a query with FROM clauses only has no named graphs"
    prefixed = f"PREFIX g: <{settings.base_iri}graph/data/curated/> SELECT (COUNT(*) AS ?n) FROM g:reports " \
               "WHERE { ?s ?p ?o }"
    assert rows(store.query(prefixed)) == rows(embedded_copy.query(prefixed))


def test_a_query_base_wins_over_the_given_base(store, embedded_copy, settings):
    query = "BASE <https://w3id.org/aiwatch/id/> ASK { <report/jrc126501> ?p ?o }"
    assert bool(store.query(query, base_iri="http://elsewhere.example/")) is \
        bool(embedded_copy.query(query, base_iri="http://elsewhere.example/")) is True


def test_answers_without_order_by_are_the_same_each_time(store, embedded_copy):
    """The faces serve the same bytes under one ETag from every process: an unordered answer must repeat."""
    query = PROLOGUE + "SELECT DISTINCT ?s ?p ?o WHERE { ?s a aiw:Workshop ; ?p ?o }"
    first = rows(store.query(query))
    assert sorted(first) == sorted(rows(embedded_copy.query(query)))
    for _ in range(3):
        assert rows(store.query(query)) == first
