"""Real SPARQL clients against the real server (gunicorn on 127.0.0.1) over the real data.

SPARQLWrapper (GET, POST, POSTDIRECTLY; JSON, XML, CSV, TSV; CONSTRUCT into rdflib), rdflib's SPARQLStore with
each of its return formats, and curl-style raw HTTP with ``requests``. SPARQLWrapper warns when an answer is not in
the format it asked for: those warnings are errors here.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator

import pytest
import requests
from conftest import LiveServer, start_server, stop_server
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

from graph_service.namespaces import PREFIXES

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

PROLOGUE = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())
LABELS = PROLOGUE + "SELECT ?ms ?label WHERE { ?ms a aiw:MemberState ; skos:prefLabel ?label } ORDER BY ?label"
GRAPH = PROLOGUE + "CONSTRUCT { ?ms skos:prefLabel ?label } WHERE { ?ms a aiw:MemberState ; skos:prefLabel ?label }"
ASK_TRUE = PROLOGUE + "ASK { ?ms a aiw:MemberState }"
ASK_FALSE = "ASK { <urn:nothing> ?p ?o }"


@pytest.fixture(scope="module")
def endpoint(live_server: LiveServer) -> str:
    return live_server.url + "/sparql"


@pytest.fixture(scope="module")
def labels(kg) -> list[str]:
    return [row["label"] for row in kg.select(LABELS)]


def wrapper(endpoint: str, query: str, return_format: str, method: str, request_method: str) -> SPARQLWrapper:
    client = SPARQLWrapper(endpoint)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    client.setMethod(method)
    client.setRequestMethod(request_method)
    return client


WAYS = [(GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)]
WAY_IDS = ["GET", "POST", "POSTDIRECTLY"]


def labels_from(result, return_format: str) -> list[str]:
    if return_format == JSON:
        return [b["label"]["value"] for b in result["results"]["bindings"]]
    if return_format == XML:
        return [b.getElementsByTagName("literal")[0].firstChild.data
                for b in result.getElementsByTagName("binding") if b.getAttribute("name") == "label"]
    delimiter = "," if return_format == CSV else "\t"
    table = list(csv.DictReader(io.StringIO(result.decode()), delimiter=delimiter))
    if return_format == TSV:  # TSV cells are RDF terms: "Spain"@en
        return [row["?label"].rsplit("@", 1)[0].strip('"') for row in table]
    return [row["label"] for row in table]


@pytest.mark.parametrize("method, request_method", WAYS, ids=WAY_IDS)
@pytest.mark.parametrize("return_format", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select(endpoint, labels, method, request_method, return_format):
    result = wrapper(endpoint, LABELS, return_format, method, request_method).query()
    assert labels_from(result.convert(), return_format) == labels


@pytest.mark.parametrize("method, request_method", WAYS, ids=WAY_IDS)
@pytest.mark.parametrize("return_format", [JSON, XML])
def test_sparqlwrapper_ask(endpoint, method, request_method, return_format):
    for query, expected in ((ASK_TRUE, True), (ASK_FALSE, False)):
        result = wrapper(endpoint, query, return_format, method, request_method).query().convert()
        value = result["boolean"] if return_format == JSON else \
            result.getElementsByTagName("boolean")[0].firstChild.data == "true"
        assert value is expected


@pytest.mark.parametrize("method, request_method", WAYS, ids=WAY_IDS)
@pytest.mark.parametrize("return_format", [XML, RDFXML, JSONLD, TURTLE, N3])
def test_sparqlwrapper_construct_into_rdflib(endpoint, labels, method, request_method, return_format):
    converted = wrapper(endpoint, GRAPH, return_format, method, request_method).query().convert()
    graph = converted if isinstance(converted, Graph) else Graph().parse(data=converted, format="turtle")
    assert sorted(str(o) for o in graph.objects(None, URIRef(PREFIXES["skos"] + "prefLabel"))) == sorted(labels)


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
@pytest.mark.parametrize("return_format", ["xml", "json", "csv", "tsv"])
def test_rdflib_sparqlstore(endpoint, labels, method, return_format):
    graph = Graph(SPARQLStore(endpoint, returnFormat=return_format, method=method))
    assert [str(row.label) for row in graph.query(LABELS)] == labels
    constructed = graph.query(GRAPH).graph  # whatever the return format, a graph query answers RDF
    assert sorted(str(o) for o in constructed.objects()) == sorted(labels)


@pytest.mark.parametrize("return_format", ["xml", "json"])
def test_rdflib_sparqlstore_ask(endpoint, return_format):
    graph = Graph(SPARQLStore(endpoint, returnFormat=return_format))
    assert graph.query(ASK_TRUE).askAnswer is True
    assert graph.query(ASK_FALSE).askAnswer is False


def test_rdflib_sparqlstore_sees_served_iris_and_can_use_them(endpoint, live_server):
    graph = Graph(SPARQLStore(endpoint, returnFormat="json"))
    some = next(iter(graph.query(LABELS)))
    assert str(some.ms).startswith(live_server.url + "/id/member-state/")
    again = graph.query(f"SELECT ?label WHERE {{ <{some.ms}> <{PREFIXES['skos']}prefLabel> ?label }}")
    assert [row.label for row in again] == [Literal(str(some.label), lang="en")]


# --- curl-style raw HTTP ---------------------------------------------------------------------------------------

def test_raw_get_post_form_and_post_direct(endpoint, labels):
    by_get = requests.get(endpoint, params={"query": LABELS}, headers={"Accept": "text/csv"}, timeout=30)
    by_form = requests.post(endpoint, data={"query": LABELS}, headers={"Accept": "text/csv"}, timeout=30)
    by_body = requests.post(endpoint, data=LABELS.encode(), timeout=30,
                            headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    assert by_get.text == by_form.text == by_body.text
    assert [row["label"] for row in csv.DictReader(io.StringIO(by_get.text))] == labels
    assert by_get.headers["Content-Type"] == "text/csv; charset=utf-8" and "Accept" in by_get.headers["Vary"]


def test_raw_gzip_etag_and_cors(endpoint):
    first = requests.get(endpoint, params={"query": LABELS}, headers={"Origin": "https://portal.example"},
                         timeout=30)  # requests asks for gzip and inflates it transparently
    assert first.headers["Content-Encoding"] == "gzip" and first.json()["results"]["bindings"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    revalidated = requests.get(endpoint, params={"query": LABELS}, headers={"If-None-Match": first.headers["ETag"]},
                               timeout=30)
    assert revalidated.status_code == 304 and revalidated.content == b""
    preflight = requests.options(endpoint, timeout=30, headers={
        "Origin": "https://portal.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    raw = requests.get(endpoint, params={"query": LABELS}, headers={"Accept-Encoding": "gzip"}, stream=True,
                       timeout=30).raw.read(decode_content=False)
    assert json.loads(gzip.decompress(raw))["head"]["vars"] == ["ms", "label"]


def test_raw_errors_are_plain_text(endpoint):
    malformed = requests.get(endpoint, params={"query": "SELECT * {"}, timeout=30)
    assert malformed.status_code == 400 and malformed.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "error at 1:" in malformed.text
    update = requests.post(endpoint, data=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"},
                           timeout=30)
    assert update.status_code == 400 and "not accepted" in update.text
    service = requests.get(endpoint, params={"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"},
                           timeout=30)
    assert service.status_code == 403 and "disabled" in service.text


def test_raw_service_description(endpoint):
    response = requests.get(endpoint, headers={"Accept": "text/turtle"}, timeout=30)
    graph = Graph().parse(data=response.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert (URIRef(endpoint + "#service"), URIRef(sd + "endpoint"), URIRef(endpoint)) in graph


@pytest.fixture(scope="module")
def impatient_server(settings, store) -> Iterator[LiveServer]:
    """The production server with a 1 s query time limit."""
    server = start_server(settings, env={"AIWATCH_QUERY_TIMEOUT_S": "1"})
    yield server
    stop_server(server)


def test_raw_timeout_is_a_503_and_the_server_keeps_answering(impatient_server):
    endpoint = impatient_server.url + "/sparql"
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    response = requests.get(endpoint, params={"query": runaway}, timeout=60)
    assert response.status_code == 503 and "cancelled after 1 s" in response.text
    assert requests.get(endpoint, params={"query": ASK_TRUE}, timeout=30).json()["boolean"] is True
