"""The SPARQL face over the real loaded data: protocol, datasets, formats, errors, limits, service description,
HTTP behaviour, and the SERVICE safety policy (as a unit and end to end, with loopback traffic only)."""

from __future__ import annotations

import csv
import gzip
import http.server
import io
import json
import os
import threading
from collections.abc import Iterator

import pyoxigraph
import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef

from graph_service.formats import BY_NAME
from graph_service.namespaces import PREFIXES, graph_iri
from graph_service.sparql.execution import InProcessExecutor, ProcessExecutor, store_opener
from graph_service.sparql.federation import ServiceForbidden, check_services, endpoint_refusal, is_internal_host
from graph_service.sparql.jobs import EndpointBusy, QueryJob
from graph_service.sparql.query_text import first_keyword, rewrite_iris, service_calls
from graph_service.store import GraphStore
from graph_service.web import create_app
from graph_service.writes import new_token

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
#: A writer for the apps with writes enabled (no test here writes: they check what such an app announces).
WRITERS = (f"alice:{new_token()}",)
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")
PUBLIC = "http://localhost/"  # the origin the Flask test client serves from
PROLOGUE = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())
MEMBER_STATES = PROLOGUE + "SELECT ?ms ?label WHERE { ?ms a aiw:MemberState ; skos:prefLabel ?label } ORDER BY ?ms"
SOME_TRIPLES = PROLOGUE + "CONSTRUCT { ?ms a aiw:MemberState ; skos:prefLabel ?label } " \
                          "WHERE { ?ms a aiw:MemberState ; skos:prefLabel ?label }"
RESULT_TYPES = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                "csv": "text/csv", "tsv": "text/tab-separated-values"}
GRAPH_TYPES = {"ttl": "text/turtle", "nt": "application/n-triples", "rdf": "application/rdf+xml",
               "jsonld": "application/ld+json", "trig": "application/trig", "nq": "application/n-quads"}


@pytest.fixture()
def client_with(settings, store):
    """A test client of an app with other settings; its query workers stop with the test."""
    apps = []

    def make(**changes):
        apps.append(create_app(settings.replace(**changes), store))
        return apps[-1].test_client()

    yield make
    for app in apps:
        app.extensions["sparql_executor"].close()


def get(client, query: str, accept: str | None = None, **params):
    headers = {"Accept": accept} if accept else {}
    return client.get("/sparql", query_string={"query": query, **params}, headers=headers)


def media_type(response) -> str:
    return response.headers["Content-Type"].split(";")[0]


def rows(response) -> list[dict[str, str]]:
    """Solutions of a SELECT answer in any results format, as {variable: value}."""
    fmt = {v: k for k, v in RESULT_TYPES.items()}[media_type(response)]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    solutions = pyoxigraph.parse_query_results(response.get_data(), BY_NAME[fmt].results_format)
    names = [v.value for v in solutions.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]


def boolean(response) -> bool:
    fmt = {v: k for k, v in RESULT_TYPES.items()}[media_type(response)]
    if fmt in ("csv", "tsv"):
        return response.get_data(as_text=True).strip() == "true"
    return bool(pyoxigraph.parse_query_results(response.get_data(), BY_NAME[fmt].results_format))


def graph_of(response) -> Graph:
    fmt = {v: k for k, v in GRAPH_TYPES.items()}[media_type(response)]
    return Graph().parse(data=response.get_data(), format=BY_NAME[fmt].rdflib_name)


def graph(settings, path: str) -> str:
    return graph_iri(settings.base_iri, path)


def public(settings, iri: str) -> str:
    return PUBLIC + iri.removeprefix(settings.base_iri)


def count_in(kg, graph_iri_: str) -> int:
    return int(kg.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_iri_}> {{ ?s ?p ?o }} }}")[0]["n"])


# --- protocol operations ---------------------------------------------------------------------------------------

def test_get_post_form_and_post_direct_give_the_same_answer(client, kg):
    by_get = get(client, MEMBER_STATES)
    by_form = client.post("/sparql", data={"query": MEMBER_STATES})
    by_body = client.post("/sparql", data=MEMBER_STATES.encode(), content_type="application/sparql-query")
    assert by_get.status_code == by_form.status_code == by_body.status_code == 200
    assert by_get.get_data() == by_form.get_data() == by_body.get_data()
    assert len(rows(by_get)) == len(kg.select(MEMBER_STATES)) > 0


def test_without_a_dataset_the_default_graph_is_the_union_of_all_graphs(client, kg):
    # Cases and the labels of their member states are published in different graphs.
    query = PROLOGUE + "ASK { ?case a aiw:AIUseCase ; aiw:memberState ?ms . ?ms skos:prefLabel ?label }"
    assert kg.ask(PROLOGUE + "ASK { GRAPH ?g { ?case aiw:memberState ?ms . ?ms skos:prefLabel ?l } }") is False
    assert boolean(get(client, query)) is True


def test_default_graph_uri_makes_the_default_graph(client, kg, settings):
    member_states = graph(settings, "data/curated/member-states")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    for named_as in (member_states, public(settings, member_states)):  # persistent or served IRI
        answer = rows(get(client, count, **{"default-graph-uri": named_as}))
        assert int(answer[0]["n"]) == count_in(kg, member_states)


def test_repeated_default_graph_uris_merge_their_graphs(client, kg, settings):
    both = [graph(settings, "data/curated/member-states"), graph(settings, "data/curated/reports")]
    response = client.get("/sparql", query_string=[("query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"),
                                                   *[("default-graph-uri", g) for g in both]])
    expected = kg.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { "
                         f"{{ GRAPH <{both[0]}> {{ ?s ?p ?o }} }} UNION {{ GRAPH <{both[1]}> {{ ?s ?p ?o }} }} }} }}")
    assert rows(response)[0]["n"] == expected[0]["n"]


def test_named_graph_uri_names_the_only_named_graphs_and_leaves_the_default_graph_empty(client, settings):
    reports = graph(settings, "data/curated/reports")
    response = get(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": reports})
    assert rows(response) == [{"g": public(settings, reports)}]
    assert boolean(get(client, "ASK { ?s ?p ?o }", **{"named-graph-uri": reports})) is False


def test_the_protocol_dataset_overrides_from_clauses(client, kg, settings):
    reports, member_states = graph(settings, "data/curated/reports"), graph(settings, "data/curated/member-states")
    query = f"SELECT (COUNT(*) AS ?n) FROM <{reports}> WHERE {{ ?s ?p ?o }}"
    assert int(rows(get(client, query))[0]["n"]) == count_in(kg, reports)  # FROM applies on its own
    overridden = get(client, query, **{"default-graph-uri": member_states})
    assert int(rows(overridden)[0]["n"]) == count_in(kg, member_states)


def test_head_answers_like_get_without_a_body(client):
    response = client.head("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 200 and response.get_data() == b""
    assert media_type(response) == "application/sparql-results+json"


# --- protocol errors: 4xx with a plain-text reason -----------------------------------------------------------

def assert_plain_error(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = response.get_data(as_text=True)
    for word in words:
        assert word.lower() in text.lower(), text


def test_two_query_parameters_are_refused(client):
    response = client.get("/sparql", query_string=[("query", "ASK {}"), ("query", "SELECT * {}")])
    assert_plain_error(response, 400, "exactly one 'query'")


def test_a_query_and_an_update_together_are_refused(client):
    response = client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert_plain_error(response, 400, "either a query or an update")


@pytest.mark.parametrize("send", [
    lambda c: c.post("/sparql", data={"update": "CLEAR ALL"}),
    lambda c: c.post("/sparql", data=b"CLEAR ALL", content_type="application/sparql-update"),
    lambda c: c.post("/sparql", data=b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                     content_type="application/sparql-query"),
    lambda c: c.get("/sparql", query_string={"update": "CLEAR ALL"}),
], ids=["form", "sparql-update", "update-as-query", "get"])
def test_updates_are_refused_by_the_read_only_endpoint(client, send, kg):
    before = kg.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert_plain_error(send(client), 400, "SPARQL Update is not accepted")
    assert kg.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "multipart/form-data; boundary=x", None])
def test_a_post_of_another_media_type_is_refused(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/sparql", data=b"query=ASK%20%7B%7D", headers=headers)
    assert_plain_error(response, 415, "application/sparql-query")
    assert response.headers["Accept-Post"] == "application/sparql-query, application/x-www-form-urlencoded"


@pytest.mark.parametrize("send", [
    lambda c: c.post("/sparql", data={"default-graph-uri": "urn:x"}),
    lambda c: c.post("/sparql", data=b"", content_type="application/sparql-query"),
    lambda c: c.get("/sparql", query_string={"query": "  "}),
], ids=["form-without-query", "empty-body", "blank-query"])
def test_a_missing_query_is_refused(client, send):
    response = send(client)
    assert response.status_code == 400 and response.mimetype == "text/plain"


def test_queries_must_be_utf8(client):
    utf16 = client.post("/sparql", data="ASK {}".encode("utf-16"),
                        content_type="application/sparql-query; charset=UTF-16")
    assert_plain_error(utf16, 415, "UTF-8")
    invalid = client.post("/sparql", data=b"ASK { FILTER(\"\xff\") }", content_type="application/sparql-query")
    assert_plain_error(invalid, 400, "UTF-8")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_the_allowed_ones(client, method):
    response = client.open("/sparql", method=method, query_string={"query": "ASK {}"})
    assert_plain_error(response, 405, method)
    assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"


def test_a_malformed_query_is_400_with_the_parsers_message_and_position(client):
    response = get(client, "SELECT ?s WHERE {\n  ?s ?p\n}")
    assert_plain_error(response, 400, "Malformed query", "error at 3:")


def test_a_dataset_parameter_must_be_an_iri(client):
    assert_plain_error(get(client, "ASK {}", **{"default-graph-uri": "not an iri"}), 400, "default-graph-uri")


def test_a_request_over_the_size_limit_is_413(client, settings):
    response = client.post("/sparql", data=b"#" * (settings.max_request_bytes + 1),
                           content_type="application/sparql-query")
    assert_plain_error(response, 413, "limit")


# --- result formats and negotiation ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(RESULT_TYPES))
def test_select_answers_in_each_results_format(client, kg, name):
    response = get(client, MEMBER_STATES, accept=RESULT_TYPES[name])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{RESULT_TYPES[name]}; charset=utf-8"
    assert "Accept" in response.headers["Vary"]
    assert [r["label"] for r in rows(response)] == [r["label"] for r in kg.select(MEMBER_STATES)]


@pytest.mark.parametrize("name", list(RESULT_TYPES))
def test_ask_answers_in_each_results_format(client, name):
    assert boolean(get(client, PROLOGUE + "ASK { ?x a aiw:MemberState }", accept=RESULT_TYPES[name])) is True
    assert boolean(get(client, "ASK { <urn:nothing> ?p ?o }", accept=RESULT_TYPES[name])) is False


@pytest.mark.parametrize("name", list(GRAPH_TYPES))
@pytest.mark.parametrize("form", ["construct", "describe"])
def test_graph_queries_answer_in_each_rdf_format(client, kg, settings, name, form):
    query = SOME_TRIPLES if form == "construct" else PROLOGUE + "DESCRIBE ?ms WHERE { ?ms a aiw:MemberState }"
    response = get(client, query, accept=GRAPH_TYPES[name])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{GRAPH_TYPES[name]}; charset=utf-8"
    parsed = graph_of(response)
    member_states = len(kg.select(MEMBER_STATES))
    served_class = URIRef(PUBLIC + PREFIXES["aiw"].removeprefix(settings.base_iri) + "MemberState")
    assert len(set(parsed.subjects(RDF.type, served_class))) == member_states


def test_text_plain_is_n_triples(client):
    response = get(client, SOME_TRIPLES, accept="text/plain")
    assert media_type(response) == "application/n-triples" and len(graph_of(response)) > 0


@pytest.mark.parametrize("name, query", [
    *[(name, MEMBER_STATES) for name in RESULT_TYPES], *[(name, SOME_TRIPLES) for name in GRAPH_TYPES]])
def test_the_format_parameter_overrides_accept(client, name, query):
    response = get(client, query, accept="application/sparql-results+xml, application/rdf+xml", format=name)
    assert media_type(response) == {**RESULT_TYPES, **GRAPH_TYPES}[name]


@pytest.mark.parametrize("name, expected", [("json", "application/ld+json"), ("xml", "application/rdf+xml"),
                                            ("csv", "text/turtle"), ("turtle", "text/turtle")])
def test_a_format_name_is_read_for_the_query_form(client, name, expected):
    assert media_type(get(client, SOME_TRIPLES, format=name)) == expected


def test_sparqlwrapper_style_format_parameters_are_understood(client):
    # SPARQLWrapper sends format, output and results, repeated with the media type for TSV / RDF/XML / JSON-LD.
    params = [("query", MEMBER_STATES)] + [(p, v) for p in ("format", "output", "results")
                                           for v in ("tsv", "text/tab-separated-values")]
    assert media_type(client.get("/sparql", query_string=params)) == "text/tab-separated-values"
    params = [("query", SOME_TRIPLES), ("format", "rdf+xml"), ("format", "application/rdf+xml")]
    assert media_type(client.get("/sparql", query_string=params)) == "application/rdf+xml"


def test_an_unknown_format_is_400_listing_the_known_ones(client):
    assert_plain_error(get(client, MEMBER_STATES, format="pdf"), 400, "'pdf'", "json", "ttl", "nq")


@pytest.mark.parametrize("accept, query, expected", [
    ("application/sparql-results+json;q=0.5, text/csv", MEMBER_STATES, "text/csv"),
    ("text/csv;q=0.4, application/sparql-results+xml;q=0.8, */*;q=0.1", MEMBER_STATES,
     "application/sparql-results+xml"),
    ("*/*", MEMBER_STATES, "application/sparql-results+json"),
    ("*/*", SOME_TRIPLES, "text/turtle"),
    ("application/json", MEMBER_STATES, "application/sparql-results+json"),
    ("application/json", SOME_TRIPLES, "application/ld+json"),
    ("text/tab-separated-values, */*;q=0", MEMBER_STATES, "text/tab-separated-values"),
    ("text/turtle;q=0.5, application/trig", SOME_TRIPLES, "application/trig"),
])
def test_accept_q_values_wildcards_and_specificity(client, accept, query, expected):
    assert media_type(get(client, query, accept=accept)) == expected


@pytest.mark.parametrize("accept, query, expected", [
    ("text/*;q=0.9, text/csv;q=0.1", MEMBER_STATES, "text/tab-separated-values"),
    ("application/*;q=0.9, application/sparql-results+json;q=0.1", MEMBER_STATES, "application/sparql-results+xml"),
    # Specificity: the more specific entries lower Turtle and RDF/XML below what application/* grants.
    ("application/*;q=0.5, application/rdf+xml;q=0.1, text/turtle;q=0.2", SOME_TRIPLES, "application/n-triples"),
])
def test_a_wildcard_does_not_select_a_format_through_an_alias(client, accept, query, expected):
    assert media_type(get(client, query, accept=accept)) == expected


@pytest.mark.parametrize("accept, query, expected", [
    ("application/sparql-results+json", SOME_TRIPLES, "text/turtle"),
    ("application/sparql-results+xml, text/csv", "DESCRIBE <https://w3id.org/aiwatch/id/report/jrc126501>",
     "text/turtle"),
    ("text/turtle", MEMBER_STATES, "application/sparql-results+json"),
    ("application/rdf+xml;q=0.9, application/n-triples", "ASK {}", "application/sparql-results+json"),
])
def test_an_accept_for_the_other_family_gets_the_default_of_the_query_form(client, accept, query, expected):
    response = get(client, query, accept=accept)
    assert response.status_code == 200 and media_type(response) == expected


def test_406_lists_the_offered_types_only_when_nothing_fits(client):
    response = get(client, MEMBER_STATES, accept="image/png, text/html;q=0.5")
    assert_plain_error(response, 406, "image/png", "application/sparql-results+json", "text/turtle",
                       "application/n-quads")
    assert "Accept" in response.headers["Vary"]


def test_iris_are_served_under_the_serving_origin_and_understood_in_queries(client, settings):
    answer = rows(get(client, MEMBER_STATES))
    assert all(r["ms"].startswith(PUBLIC + "id/member-state/") for r in answer)
    some = answer[0]["ms"]
    by_served_iri = rows(get(client, f"SELECT ?label WHERE {{ <{some}> <{PREFIXES['skos']}prefLabel> ?label }}"))
    persistent = settings.base_iri + some.removeprefix(PUBLIC)
    by_persistent_iri = rows(get(client, f"SELECT ?label WHERE {{ <{persistent}> "
                                         f"<{PREFIXES['skos']}prefLabel> ?label }}"))
    assert by_served_iri == by_persistent_iri == [{"label": answer[0]["label"]}]
    turtle = get(client, SOME_TRIPLES, accept="text/turtle").get_data(as_text=True)
    assert f"@prefix id: <{PUBLIC}id/>" in turtle and settings.base_iri not in turtle


def test_relative_iris_resolve_against_the_endpoint(client):
    response = get(client, "CONSTRUCT { <s> <p> 1 } WHERE {}", accept="application/n-triples")
    assert response.get_data(as_text=True).startswith(f"<{PUBLIC}s> <{PUBLIC}p> ")


# --- limits: row cap and time limit ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def capped_client(settings, store):
    app = create_app(settings.replace(max_result_rows=10), store)
    yield app.test_client()
    app.extensions["sparql_executor"].close()


def test_results_over_the_row_cap_are_refused_visibly(capped_client):
    response = get(capped_client, "SELECT * WHERE { ?s ?p ?o } LIMIT 11")
    assert_plain_error(response, 422, "more than 10 rows", "LIMIT")
    assert response.headers["X-SPARQL-Max-Rows"] == "10"
    assert_plain_error(get(capped_client, "CONSTRUCT WHERE { ?s ?p ?o }", accept="text/turtle"), 422, "10 rows")


def test_results_at_the_row_cap_are_complete(capped_client):
    for accept in RESULT_TYPES.values():
        assert len(rows(get(capped_client, "SELECT * WHERE { ?s ?p ?o } LIMIT 10", accept=accept))) == 10
    response = get(capped_client, "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 10", accept="application/n-triples")
    assert len(graph_of(response)) == 10
    assert boolean(get(capped_client, "ASK { ?s ?p ?o }")) is True


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^14 solutions to count


@pytest.mark.embedded_only  # worker processes are the embedded store's; a remote engine stops its own work
def test_a_query_over_the_time_limit_is_cancelled_and_its_process_killed(client_with):
    client = client_with(query_timeout_s=1.0)
    executor = client.application.extensions["sparql_executor"]
    assert get(client, "ASK {}").status_code == 200
    [worker] = executor.get().pids()  # the process that will run the next query

    response = get(client, RUNAWAY)

    assert_plain_error(response, 503, "cancelled after 1 s")
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)  # the work is really gone, not left running in the background
    assert boolean(get(client, "ASK { ?s ?p ?o }")) is True  # a fresh worker takes over
    assert executor.get().pids() != [worker]


def test_a_query_that_finds_every_worker_busy_is_503_without_running(store):
    executor = ProcessExecutor(store_opener(store), timeout_s=0.2, max_queries=1)
    executor._slots.acquire()  # the only worker is taken by another request
    with pytest.raises(EndpointBusy, match="busy"):
        executor.run(QueryJob("ASK {}", None, None, None, "json", "ttl", 10))
    assert executor.pids() == []  # nothing was started for it


class DelegatingStore(GraphStore):
    """A backend query workers cannot open (as a remote engine): its queries run in the request thread."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner

    def query(self, sparql, **options):
        return self.inner.query(sparql, **options)

    def version(self):
        return self.inner.version()

    def publish(self, quads, digest):
        raise NotImplementedError

    def quads(self, graph=None):
        return self.inner.quads(graph)

    def graph_names(self):
        return self.inner.graph_names()


def test_other_backends_answer_in_process_with_the_same_limits(settings, store, kg):
    app = create_app(settings.replace(max_result_rows=10), DelegatingStore(store))
    client = app.test_client()
    assert isinstance(app.extensions["sparql_executor"].get(), InProcessExecutor)
    assert [r["label"] for r in rows(get(client, MEMBER_STATES + " LIMIT 10"))] == \
        [r["label"] for r in kg.select(MEMBER_STATES + " LIMIT 10")]
    assert_plain_error(get(client, "SELECT * WHERE { ?s ?p ?o }"), 422, "more than 10 rows")
    assert_plain_error(get(client, "SELECT * {"), 400, "Malformed query")


# --- service description --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def description(app) -> Graph:
    response = app.test_client().get("/sparql")
    assert response.status_code == 200 and media_type(response) == "text/turtle"
    return Graph().parse(data=response.get_data(), format="turtle")


def test_the_service_description_names_the_endpoint_languages_and_features(description):
    service = URIRef(PUBLIC + "sparql#service")
    assert (service, RDF.type, SD.Service) in description
    assert (service, SD.endpoint, URIRef(PUBLIC + "sparql")) in description
    assert set(description.objects(service, SD.supportedLanguage)) == {SD.SPARQL10Query, SD.SPARQL11Query}
    assert set(description.objects(service, SD.feature)) == {SD.UnionDefaultGraph}  # no federation by default
    formats = set(description.objects(service, SD.resultFormat))
    assert {FORMATS_NS[n] for n in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                                    "SPARQL_Results_TSV", "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "TriG",
                                    "N-Quads")} <= formats


def test_the_service_description_counts_the_triples_of_each_named_graph(description, store, kg, settings):
    dataset = description.value(URIRef(PUBLIC + "sparql#service"), SD.defaultDataset)
    counted = {}
    for named in description.objects(dataset, SD.namedGraph):
        counted[str(description.value(named, SD.name))] = description.value(description.value(named, SD.graph),
                                                                            VOID.triples).toPython()
    assert counted == {public(settings, g): count_in(kg, g) for g in store.graph_names()}
    union = kg.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }")
    default_graph = description.value(dataset, SD.defaultGraph)
    assert description.value(default_graph, VOID.triples) == Literal(int(union[0]["n"]))


@pytest.mark.parametrize("how", [{"headers": {"Accept": "application/ld+json"}},
                                 {"query_string": {"format": "jsonld"}}])
def test_the_service_description_is_negotiated(client, how):
    response = client.get("/sparql", **how)
    assert media_type(response) == "application/ld+json" and "Accept" in response.headers["Vary"]
    parsed = Graph().parse(data=response.get_data(), format="json-ld")
    assert (URIRef(PUBLIC + "sparql#service"), SD.endpoint, URIRef(PUBLIC + "sparql")) in parsed


def test_a_browser_gets_the_query_ui(client):
    response = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200 and media_type(response) == "text/html"
    assert "yasgui" in response.get_data(as_text=True).lower() and "Accept" in response.headers["Vary"]


def test_a_read_only_service_describes_no_update_language_and_no_update_endpoint(description):
    assert SD.SPARQL11Update not in set(description.objects(None, SD.supportedLanguage))
    assert set(description.subjects(RDF.type, SD.Service)) == {URIRef(PUBLIC + "sparql#service")}
    assert "Read-only" in str(description.value(URIRef(PUBLIC + "sparql#service"), RDFS.comment))


def test_with_write_tokens_the_description_announces_sparql_update_and_the_update_endpoint(client_with):
    client = client_with(write_tokens=WRITERS)
    parsed = Graph().parse(data=client.get("/sparql").get_data(), format="turtle")
    service, updates = URIRef(PUBLIC + "sparql#service"), URIRef(PUBLIC + "update#service")
    assert set(parsed.objects(service, SD.supportedLanguage)) == {SD.SPARQL10Query, SD.SPARQL11Query,
                                                                  SD.SPARQL11Update}
    assert set(parsed.subjects(RDF.type, SD.Service)) == {service, updates}
    assert (updates, SD.endpoint, URIRef(PUBLIC + "update")) in parsed
    assert set(parsed.objects(updates, SD.supportedLanguage)) == {SD.SPARQL11Update}
    assert parsed.value(updates, SD.defaultDataset) == parsed.value(service, SD.defaultDataset)
    assert "bearer token" in str(parsed.value(service, RDFS.comment))
    # ... and both endpoints really take updates: without a token they ask for one (401), not 400/405.
    for path in ("/sparql", "/update"):
        answer = client.post(path, data=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"})
        assert answer.status_code == 401, (path, answer.text)


def test_the_description_of_another_configuration_has_another_etag(client, client_with):
    """Same data, other settings (writes, federation): other bytes, so a cache revalidating must not get a 304."""
    read_only = client.get("/sparql", headers={"Accept": "text/turtle"})
    writable = client_with(write_tokens=WRITERS).get("/sparql", headers={"Accept": "text/turtle",
                                                                         "If-None-Match": read_only.headers["ETag"]})
    assert writable.status_code == 200 and writable.data != read_only.data
    assert writable.headers["ETag"] != read_only.headers["ETag"]
    again = client.get("/sparql", headers={"Accept": "text/turtle", "If-None-Match": read_only.headers["ETag"]})
    assert again.status_code == 304


def test_with_an_allowlist_the_description_announces_federation(client_with):
    client = client_with(sparql_service_allowlist=("https://query.example.org/sparql",))
    parsed = Graph().parse(data=client.get("/sparql").get_data(), format="turtle")
    assert SD.BasicFederatedQuery in set(parsed.objects(URIRef(PUBLIC + "sparql#service"), SD.feature))


# --- CORS, gzip, caching --------------------------------------------------------------------------------------

def test_cors_preflight_and_responses(client):
    preflight = client.options("/sparql", headers={"Origin": "https://portal.example", "Access-Control-Request-Method":
                                                   "POST", "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    response = get(client, "ASK {}")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def preflight(client, path: str, method: str, headers: str | None = None):
    asked = {"Origin": "https://portal.example", "Access-Control-Request-Method": method}
    if headers is not None:
        asked["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=asked)


def test_preflights_of_queries_allow_the_method_and_the_headers_and_are_cacheable(client):
    for path in ("/sparql", "/rdf-graph-store?default"):
        for method in ("GET", "POST") if path == "/sparql" else ("GET",):
            answer = preflight(client, path, method, "Accept, Content-Type")
            assert answer.status_code == 204, (path, method)
            assert answer.headers["Access-Control-Allow-Origin"] == "*"
            assert answer.headers["Access-Control-Allow-Methods"] == method  # echoed, as Oxigraph's server does
            assert answer.headers["Access-Control-Allow-Headers"] == "Accept, Content-Type"
            assert int(answer.headers["Access-Control-Max-Age"]) >= 600
            assert {"Access-Control-Request-Method", "Access-Control-Request-Headers"} <= set(answer.vary)
    # Without Access-Control-Request-Headers the usual request headers are allowed, the bearer token's included.
    allowed = {h.strip().lower() for h in preflight(client, "/sparql", "POST").headers["Access-Control-Allow-Headers"]
               .split(",")}
    assert {"accept", "content-type", "authorization", "if-none-match"} <= allowed


def test_a_read_only_service_refuses_preflights_of_writes(client):
    for path, method in (("/rdf-graph-store?default", "PUT"), ("/rdf-graph-store?graph=x", "DELETE"),
                         ("/sparql", "PUT"), ("/sparql", "DELETE"), ("/update", "POST")):
        answer = preflight(client, path, method, "Authorization, Content-Type")
        # The method is not echoed, so the browser does not send the request; the answer lists what is allowed.
        assert method not in answer.headers["Access-Control-Allow-Methods"].split(", "), (path, method)
        assert ("GET" in answer.headers["Access-Control-Allow-Methods"]) == (path != "/update")
    assert preflight(client, "/no-such-page", "GET").status_code == 404


def test_with_write_tokens_preflights_allow_graph_store_writes_and_the_authorization_header(client_with):
    client = client_with(write_tokens=WRITERS)
    for path, method in (("/rdf-graph-store?default", "PUT"), ("/rdf-graph-store?graph=https%3A%2F%2Fex.org%2Fg",
                                                                 "DELETE"),
                         ("/rdf-graph-store?default", "POST"), ("/update", "POST"), ("/sparql", "POST")):
        answer = preflight(client, path, method, "authorization, content-type")
        assert answer.status_code == 204, (path, method)
        assert answer.headers["Access-Control-Allow-Methods"] == method, (path, method)
        assert answer.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in answer.headers  # the token is a header, not a cookie
    # The preflight only asks: nothing ran, and the actual write still needs its token.
    put = client.put("/rdf-graph-store?default", data=b"", content_type="text/turtle",
                     headers={"Origin": "https://portal.example"})
    assert put.status_code == 401 and put.headers["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in put.headers["Access-Control-Expose-Headers"]


def test_a_plain_options_request_lists_the_methods(client):
    response = client.options("/sparql")
    assert response.status_code == 204 and response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"


def test_results_are_gzipped_when_accepted(client):
    response = client.get("/sparql", query_string={"query": MEMBER_STATES}, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(response.get_data()))["results"]["bindings"]) > 0


def test_get_results_are_cacheable_and_revalidated_without_a_body(client):
    first = get(client, MEMBER_STATES)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "public" in first.headers["Cache-Control"] and "max-age" in first.headers["Cache-Control"]
    again = client.get("/sparql", query_string={"query": MEMBER_STATES}, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    as_csv = get(client, MEMBER_STATES, accept="text/csv")
    assert as_csv.headers["ETag"] != first.headers["ETag"]  # a different representation, a different validator
    posted = client.post("/sparql", data={"query": MEMBER_STATES})
    assert "ETag" not in posted.headers


# --- SERVICE safety --------------------------------------------------------------------------------------------

ALLOWED = ("https://query.example.org/sparql",)


@pytest.mark.parametrize("query", [
    "SELECT * { SERVICE <https://query.example.org/sparql> { ?s ?p ?o } }",
    "select * { service silent <https://query.example.org/sparql/sub> { ?s ?p ?o } }",
    "PREFIX q: <https://query.example.org/> SELECT * { SERVICE q:sparql { ?s ?p ?o } }",
])
def test_allowlisted_endpoints_may_be_called(query):
    check_services(query, ALLOWED)


@pytest.mark.parametrize("query, reason", [
    ("SELECT * { SERVICE <https://elsewhere.example.org/sparql> { ?s ?p ?o } }", "allowlist"),
    ("SELECT * { SERVICE <https://query.example.org.evil.example/sparql> { ?s ?p ?o } }", "allowlist"),
    ("SELECT * { SERVICE <https://query.example.org@evil.example/sparql> { ?s ?p ?o } }", "allowlist"),
    ("SELECT * { SERVICE <https://query.example.org:8443/sparql> { ?s ?p ?o } }", "allowlist"),
    ("SELECT * { SERVICE <http://query.example.org/sparql> { ?s ?p ?o } }", "allowlist"),
    ("SELECT * { SERVICE <https://query.example.org/other> { ?s ?p ?o } }", "allowlist"),
    ("SELECT * { SERVICE <https://evil.example\\u005C@query.example.org/sparql> { ?s ?p ?o } }", "ASCII"),
    ("SELECT * { SERVICE <file:///etc/passwd> { ?s ?p ?o } }", "http"),
    ("SELECT * { SERVICE <http://127.0.0.1:8890/sparql> { ?s ?p ?o } }", "internal"),
    ("SELECT * { BIND(<https://query.example.org/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }", "variable"),
    ("SELECT * { ?s ?p ?o .SERVICE<https://elsewhere.example.org/>{ ?s ?p ?o } }", "allowlist"),
    ("SELECT * { ?s ?p <urn:x> # comment\n SeRvIcE <https://elsewhere.example.org/> { } }", "allowlist"),
    ("PREFIX e: <https://elsewhere.example.org/> SELECT * { SERVICE e:sparql { ?s ?p ?o } }", "allowlist"),
    ("SELECT * { SERVICE unknown:sparql { ?s ?p ?o } }", "endpoint"),
    ("SELECT * { ?s ?p ex:a\\# SERVICE <https://elsewhere.example.org/> { } }", "allowlist"),
    ("SELECT * { \\u0053ERVICE <https://elsewhere.example.org/> { ?s ?p ?o } }", "allowlist"),
    ("SELECT * { SERVICE <https://query.example.org/sparql> {} SERVICE <https://elsewhere.example.org/> {} }",
     "allowlist"),
])
def test_other_service_calls_are_refused(query, reason):
    with pytest.raises(ServiceForbidden, match=reason):
        check_services(query, ALLOWED)


def test_service_is_off_without_an_allowlist():
    with pytest.raises(ServiceForbidden, match="disabled"):
        check_services("SELECT * { SERVICE <https://query.example.org/sparql> { ?s ?p ?o } }", ())
    assert endpoint_refusal("https://query.example.org/sparql", ()) is not None


@pytest.mark.parametrize("query", [
    'SELECT * { ?case ?p "AI in public service delivery" }',
    "SELECT * { ?case ?p ?o } # no SERVICE here",
    "SELECT * { ?case <https://w3id.org/aiwatch/concept/process-type/service-delivery> ?o }",
    "PREFIX service: <urn:s:> SELECT ?service { ?service service:type ex:SERVICE }",
    "SELECT * { ?s ?p '''a SERVICE <https://elsewhere.example.org/> { } in a long string''' }",
])
def test_the_word_service_elsewhere_is_not_a_service_call(query):
    assert service_calls(query) == []
    check_services(query, ())


@pytest.mark.parametrize("host, internal", [
    ("localhost", True), ("127.0.0.1", True), ("127.1", True), ("2130706433", True), ("0x7f.1", True),
    ("::1", True), ("::ffff:127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.1", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("0.0.0.0", True), ("fd00::1", True), ("fe80::1", True), ("intranet", True),
    ("db.internal", True), ("printer.local", True), ("x.localhost", True), ("100.64.0.1", True),
    ("query.wikidata.org", False), ("8.8.8.8", False), ("2001:4860:4860::8888", False),
])
def test_internal_hosts_are_recognised(host, internal):
    assert is_internal_host(host) is internal


@pytest.fixture()
def loopback_sparql_endpoint() -> Iterator[tuple[str, list[str]]]:
    """A fake SPARQL endpoint on 127.0.0.1 recording every request it gets (it should get none)."""
    received: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            received.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(b'{"head":{"vars":[]},"results":{"bindings":[]}}')

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/sparql", received
    server.shutdown()


SNEAKY_SERVICE_CALLS = [
    "SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}",
    "select * {{ bind(1 as ?x) service silent <{endpoint}> {{}} }}",
    "PREFIX e: <{endpoint}/> SELECT * {{ BIND(1 AS ?x) SERVICE e:x {{}} }}",
    "SELECT * {{ BIND(1 AS ?x) FILTER(1<2)SERVICE<{endpoint}>{{}} }}",
    "SELECT * {{ BIND(1 AS ?x) . SERVICE#comment\n<{endpoint}>{{}} }}",
    "SELECT * {{ BIND(1 AS ?x) {{ SELECT * {{ SERVICE <{endpoint}> {{}} }} }} }}",
    "SELECT * {{ BIND(1 AS ?x) FILTER EXISTS {{ SERVICE <{endpoint}> {{}} }} }}",
    "SELECT * {{ BIND(<{endpoint}> AS ?e) SERVICE ?e {{}} }}",
    "SELECT * {{ BIND(1 AS ?x) \\u0053ERVICE <{endpoint}> {{}} }}",
    "SELECT * {{ BIND(1 AS ?x) ?s ?p <http://x/# > SERVICE <{endpoint}> {{}} }}",
    "SELECT * {{ BIND(1 AS ?x) SERVICE <{localhost}> {{}} }}",
]


@pytest.mark.parametrize("template", SNEAKY_SERVICE_CALLS)
@pytest.mark.parametrize("allowlisted", [False, True], ids=["default", "allowlisted-but-internal"])
def test_no_query_reaches_an_internal_address(client_with, loopback_sparql_endpoint, template, allowlisted):
    endpoint, received = loopback_sparql_endpoint
    localhost = endpoint.replace("127.0.0.1", "localhost")
    allowlist = (endpoint, localhost) if allowlisted else ()
    client = client_with(sparql_service_allowlist=allowlist)
    response = get(client, template.format(endpoint=endpoint, localhost=localhost))
    assert response.status_code in (400, 403) and response.mimetype == "text/plain"
    assert received == []


def test_the_allowlist_may_come_from_the_environment_as_text(client_with):
    client = client_with(sparql_service_allowlist="https://a.example/sparql https://b.example/")
    parsed = Graph().parse(data=client.get("/sparql").get_data(), format="turtle")
    assert SD.BasicFederatedQuery in set(parsed.objects(URIRef(PUBLIC + "sparql#service"), SD.feature))
    assert get(client, "SELECT * { SERVICE <https://c.example/> { ?s ?p ?o } }").status_code == 403


# --- the query text -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, keyword", [
    ("SELECT * {}", "SELECT"),
    ("# a comment with INSERT\nPREFIX a: <urn:a#>\nBASE <urn:b>\n ask {}", "ASK"),
    ("PREFIX : <urn:x> INSERT DATA { :a :b :c }", "INSERT"),
    ("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
])
def test_the_first_keyword_after_the_prologue(text, keyword):
    assert first_keyword(text) == keyword


def test_iri_rewriting_leaves_strings_and_comments_alone():
    text = 'PREFIX id: <http://localhost/id/> SELECT * { <http://localhost/x> ?p "<http://localhost/y>" } ' \
           "# <http://localhost/z>"
    assert rewrite_iris(text, "http://localhost/", "https://w3id.org/aiwatch/") == (
        'PREFIX id: <https://w3id.org/aiwatch/id/> SELECT * { <https://w3id.org/aiwatch/x> ?p '
        '"<http://localhost/y>" } # <http://localhost/z>')
