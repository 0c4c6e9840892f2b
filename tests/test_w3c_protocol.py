"""The W3C SPARQL 1.1 Protocol and Service Description test suites, run against the real server.

The 34 protocol tests come from ../shared/standards/w3c-sparql-protocol-tests/manifest.ttl and are read from it
(nothing is re-typed here). They run against ``graph-service serve`` (gunicorn, 127.0.0.1) over a throw-away
store holding the kasei.us graphs ``dataN.rdf`` (from ``dataN.nt``), as the suite's README asks.

The endpoint is read-only unless write tokens are configured (issue 7). The 7 update tests run against a second
server over its own throw-away store with a write token, sent as ``Authorization: Bearer`` with every request of
those tests (the suite's requests carry none). The 7 ``bad_update_*`` tests run against both servers: each must be
refused with a 4xx by the read-only endpoint and, for the protocol error it is about, by the writable one too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
import requests
from conftest import LiveServer, start_server, stop_server
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from graph_service.config import Settings
from graph_service.formats import Kind, by_name
from graph_service.store import OxigraphStore
from graph_service.writes import new_token

SUITE = Path(__file__).resolve().parents[2] / "shared" / "standards" / "w3c-sparql-protocol-tests"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
KASEI_GRAPH = "http://kasei.us/2009/09/sparql/data/{name}.rdf"
ENDPOINT_PATH = "/sparql"  # the manifest's "/sparql/" prefix stands for the endpoint under test
WRITE_TOKEN = new_token()


@dataclass(frozen=True)
class ProtocolRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    expected_status: frozenset[str]  # "2xx", "3xx", "4xx"
    expected_format: str | None  # boolean | tabular | RDF
    expected_boolean: bool | None


@dataclass(frozen=True)
class ProtocolTest:
    name: str
    title: str
    requests: tuple[ProtocolRequest, ...]

    @property
    def is_update(self) -> bool:
        return self.name.startswith("update_")

    @property
    def is_bad_update(self) -> bool:
        return self.name.startswith("bad_update_") or self.name == "bad_multiple_updates"


def _read_request(manifest: Graph, node) -> ProtocolRequest:
    headers = {}
    headers_list = manifest.value(node, HT.headers)
    if headers_list is not None:
        for header in Collection(manifest, headers_list):
            headers[str(manifest.value(header, HT.fieldName))] = str(manifest.value(header, HT.fieldValue))
    body = None
    body_node = manifest.value(node, HT.body)
    if body_node is not None:
        encoding = str(manifest.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(manifest.value(body_node, CNT.chars)).encode(encoding)
    response = manifest.value(node, HT.resp)
    statuses = frozenset(str(status).removeprefix(str(HTS) + "StatusCode")
                         for status in manifest.objects(response, MF.expectedStatus))
    expected_format = manifest.value(response, MF.expectedFormat)
    expected_boolean = manifest.value(response, MF.expectedBoolean)
    path = str(manifest.value(node, HT.absolutePath))
    assert path.startswith("/sparql/"), path
    return ProtocolRequest(
        method=str(manifest.value(node, HT.methodName)),
        path=ENDPOINT_PATH + path.removeprefix("/sparql/"),
        headers=headers,
        body=body,
        expected_status=statuses,
        expected_format=None if expected_format is None else str(expected_format),
        expected_boolean=None if expected_boolean is None else bool(expected_boolean.toPython()),
    )


def protocol_tests() -> list[ProtocolTest]:
    manifest = Graph().parse(SUITE / "manifest.ttl", format="turtle")
    root = manifest.value(None, RDF.type, MF.Manifest)
    tests = []
    for entry in Collection(manifest, manifest.value(root, MF.entries)):
        action = manifest.value(entry, MF.action)
        requests_list = Collection(manifest, manifest.value(action, HT.requests))
        tests.append(ProtocolTest(
            name=str(entry).rsplit("#", 1)[1],
            title=str(manifest.value(entry, MF.name)),
            requests=tuple(_read_request(manifest, node) for node in requests_list),
        ))
    return tests


PROTOCOL_TESTS = protocol_tests()


def _params() -> list:
    """Each test with the server it runs against: updates on the writable one, bad updates on both."""
    params = []
    for test in PROTOCOL_TESTS:
        if test.is_update:
            params.append(pytest.param(test, "writable_kasei_server", id=test.name))
        else:
            params.append(pytest.param(test, "kasei_server", id=test.name))
        if test.is_bad_update:
            params.append(pytest.param(test, "writable_kasei_server", id=f"{test.name}-writes-enabled"))
    return params


def _kasei_store(path: Path) -> None:
    """A throw-away store holding data1/2/3.nt as the kasei.us graphs."""
    quads = []
    for number in (1, 2, 3):
        graph = pyoxigraph.NamedNode(KASEI_GRAPH.format(name=f"data{number}"))
        with open(SUITE / f"data{number}.nt", "rb") as source:
            quads += [pyoxigraph.Quad(t.subject, t.predicate, t.object, graph)
                      for t in pyoxigraph.parse(source, pyoxigraph.RdfFormat.N_TRIPLES)]
    store = OxigraphStore(path)
    store.publish(quads, "w3c-protocol-suite")
    store.close()


@pytest.fixture(scope="module")
def kasei_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server, read-only (no write token configured), over the kasei.us graphs."""
    path = tmp_path_factory.mktemp("w3c-store")
    _kasei_store(path)
    server = start_server(Settings.from_env(environ={}, store_path=path), env={"AIWATCH_WRITE_TOKENS": ""})
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def writable_kasei_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server with a write token, over its own copy of the kasei.us graphs (the update tests clear it)."""
    path = tmp_path_factory.mktemp("w3c-writable-store")
    _kasei_store(path)
    server = start_server(Settings.from_env(environ={}, store_path=path),
                          env={"AIWATCH_WRITE_TOKENS": f"w3c-suite:{WRITE_TOKEN}"})
    yield server
    stop_server(server)


def test_the_manifest_has_the_34_tests_of_the_suite():
    assert len(PROTOCOL_TESTS) == 34
    assert sum(test.is_update for test in PROTOCOL_TESTS) == 7


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


def _boolean(response: requests.Response) -> bool:
    fmt = by_name(response.headers["Content-Type"].split(";")[0], Kind.RESULTS)
    assert fmt is not None, response.headers["Content-Type"]
    result = pyoxigraph.parse_query_results(response.content, fmt.results_format)
    assert isinstance(result, pyoxigraph.QueryBoolean)
    return bool(result)


def _check_format(response: requests.Response, expected: str) -> None:
    media_type = response.headers["Content-Type"].split(";")[0]
    if expected == "boolean":
        _boolean(response)
    elif expected == "tabular":
        fmt = by_name(media_type, Kind.RESULTS)
        assert fmt is not None, media_type
        if fmt.name == "csv":
            assert next(csv.reader(io.StringIO(response.text)))
        else:
            assert isinstance(pyoxigraph.parse_query_results(response.content, fmt.results_format),
                              pyoxigraph.QuerySolutions)
    else:
        fmt = by_name(media_type, Kind.GRAPH)
        assert fmt is not None and fmt.name in ("rdf", "ttl", "nt"), media_type  # the suite's RDF family
        Graph().parse(data=response.content, format=fmt.rdflib_name)


@pytest.mark.parametrize(("test", "server_fixture"), _params())
def test_w3c_protocol(test: ProtocolTest, server_fixture: str, request: pytest.FixtureRequest):
    server: LiveServer = request.getfixturevalue(server_fixture)
    token = {"Authorization": f"Bearer {WRITE_TOKEN}"} if server_fixture == "writable_kasei_server" else {}
    for step in test.requests:
        # No request of the suite sends Accept: drop the one requests adds by default.
        headers = {"Accept": None, **step.headers, **token}
        response = requests.request(step.method, server.url + step.path, headers=headers, data=step.body,
                                    timeout=30)
        assert _status_class(response.status_code) in step.expected_status, (test.title, response.text)
        if step.expected_format is not None:
            _check_format(response, step.expected_format)
        if step.expected_boolean is not None:
            assert _boolean(response) is step.expected_boolean, test.title
        if _status_class(response.status_code) == "4xx":
            assert response.headers["Content-Type"].startswith("text/plain") and response.text.strip(), test.title


# The SPARQL 1.1 Service Description suite (service-description-manifest.ttl): three tests, named there.
SD_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix : <urn:test:> .
:Service a sh:NodeShape ; sh:targetClass sd:Service ;
  sh:property [ sh:path sd:endpoint ; sh:minCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:supportedLanguage ; sh:minCount 1 ;
                sh:in ( sd:SPARQL10Query sd:SPARQL11Query sd:SPARQL11Update ) ] ;
  sh:property [ sh:path sd:feature ; sh:in ( sd:DereferencesURIs sd:UnionDefaultGraph sd:RequiresDataset
                                             sd:EmptyGraphs sd:BasicFederatedQuery ) ] ;
  sh:property [ sh:path sd:resultFormat ; sh:minCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:defaultDataset ; sh:maxCount 1 ; sh:class sd:Dataset ] .
:Dataset a sh:NodeShape ; sh:targetClass sd:Dataset ;
  sh:property [ sh:path sd:defaultGraph ; sh:maxCount 1 ; sh:class sd:Graph ] ;
  sh:property [ sh:path sd:namedGraph ; sh:class sd:NamedGraph ] .
:NamedGraph a sh:NodeShape ; sh:targetClass sd:NamedGraph ;
  sh:property [ sh:path sd:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:graph ; sh:maxCount 1 ; sh:class sd:Graph ] .
:Graph a sh:NodeShape ; sh:targetClass sd:Graph ;
  sh:property [ sh:path void:triples ; sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:integer ] .
"""


@pytest.fixture(scope="module")
def description(kasei_server: LiveServer) -> tuple[str, requests.Response]:
    endpoint = kasei_server.url + ENDPOINT_PATH
    return endpoint, requests.get(endpoint, timeout=30)


def test_sd_returns_rdf(description):
    _, response = description
    assert response.status_code == 200
    fmt = by_name(response.headers["Content-Type"].split(";")[0], Kind.GRAPH)
    assert fmt is not None
    assert len(Graph().parse(data=response.content, format=fmt.rdflib_name)) > 0


def test_sd_has_endpoint_triple(description):
    endpoint, response = description
    graph = Graph().parse(data=response.content, format="turtle")
    services = set(graph.subjects(SD.endpoint, URIRef(endpoint)))
    assert len(services) == 1 and (services.pop(), RDF.type, SD.Service) in graph


def test_sd_conforms_to_schema(description):
    _, response = description
    graph = Graph().parse(data=response.content, format="turtle")
    conforms, _, report = validate(graph, shacl_graph=Graph().parse(data=SD_SHAPES, format="turtle"))
    assert conforms, report
    triples = URIRef("http://rdfs.org/ns/void#triples")
    named = {str(graph.value(n, SD.name)): graph.value(graph.value(n, SD.graph), triples)
             for n in graph.subjects(RDF.type, SD.NamedGraph)}
    assert named == {KASEI_GRAPH.format(name=f"data{n}"): Literal(1) for n in (1, 2, 3)}

