"""The SPARQL 1.1 Graph Store HTTP Protocol at /rdf-graph-store (issue 7, point 1).

Reads are served to anyone from the real data; writes go to a copy of it or to small throw-away stores
(tests/writes_support.py). Hostile bodies are checked against a tripwire socket: nothing may connect to it.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF
from writes_support import ALICE, EX, Tripwire, bearer, copy_store, small_store, writable_app

from graph_service.config import Settings
from graph_service.formats import BY_NAME
from graph_service.store import OxigraphStore

BASE = "https://w3id.org/aiwatch/"
PUBLIC = "http://localhost/"
REPORTS = "graph/data/curated/reports"
E = Namespace(EX)
FORMATS = ["ttl", "nt", "rdf", "jsonld", "trig", "nq", "n3"]


def _url(graph: str | None) -> str:
    return "/rdf-graph-store?default" if graph is None else f"/rdf-graph-store?graph={quote(graph, safe='')}"


def _parse(body: bytes, fmt_name: str) -> Graph:
    """A response body as one rdflib graph (the union of its graphs for TriG and N-Quads)."""
    fmt = BY_NAME[fmt_name]
    if fmt_name in ("trig", "nq"):
        dataset = Dataset()
        dataset.parse(data=body, format=fmt.rdflib_name)
        graph = Graph()
        for s, p, o, _ in dataset.quads((None, None, None, None)):
            graph.add((s, p, o))
        return graph
    return Graph().parse(data=body, format=fmt.rdflib_name)


def _sample() -> Graph:
    """Terms of every kind: IRIs, a blank node, plain, language-tagged and typed literals, non-ASCII text."""
    graph = Graph()
    node = BNode()
    graph.add((E.report, RDF.type, E.Report))
    graph.add((E.report, E.title, Literal("Intelligence artificielle à l'œuvre", lang="fr")))
    graph.add((E.report, E.pages, Literal(42)))
    graph.add((E.report, E.issued, Literal("2021-06-30", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date"))))
    graph.add((E.report, E.author, node))
    graph.add((node, E.name, Literal('Ana "Quoted" Pérez\nsecond line')))
    return graph


@pytest.fixture()
def small(tmp_path) -> OxigraphStore:
    return small_store(tmp_path / "store")


@pytest.fixture()
def small_client(settings: Settings, small: OxigraphStore):
    return writable_app(settings, small).test_client()


@pytest.fixture(scope="module")
def real_copy(store: OxigraphStore, tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    return copy_store(store, tmp_path_factory.mktemp("gsp-real-store"))


@pytest.fixture(scope="module")
def real_client(settings: Settings, real_copy: OxigraphStore):
    return writable_app(settings, real_copy).test_client()


# ---------------------------------------------------------------------------------------------------------------
# Reading (no token needed, read-only service too)
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt_name", FORMATS)
def test_get_a_named_graph_in_every_rdf_format(client, store, fmt_name):
    fmt = BY_NAME[fmt_name]
    response = client.get(_url(PUBLIC + REPORTS), headers={"Accept": fmt.media_type})
    assert response.status_code == 200, response.text
    assert response.content_type.startswith(fmt.media_type) and "Accept" in response.headers["Vary"]
    graph = _parse(response.data, fmt_name)
    assert len(graph) == sum(1 for _ in store.quads(BASE + REPORTS))
    assert (URIRef(PUBLIC + "id/report/jrc126501"), None, None) in graph  # served under the serving origin


def test_get_the_default_graph_is_the_union(client, store):
    response = client.get(_url(None), headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    (count,) = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert len(response.data.splitlines()) == int(count["n"].value)


def test_get_is_cacheable_and_head_answers_the_same_headers(client):
    response = client.get(_url(PUBLIC + REPORTS))
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    head = client.head(_url(PUBLIC + REPORTS))
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == response.headers["ETag"]
    assert client.get(_url(PUBLIC + REPORTS), headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_bad_graph_requests_are_clear_4xx(client):
    assert client.get(_url(PUBLIC + "graph/no-such-graph")).status_code == 404
    assert client.get("/rdf-graph-store").status_code == 400
    assert client.get(f"{_url(PUBLIC + REPORTS)}&default").status_code == 400
    assert client.get("/rdf-graph-store?graph=relative/iri").status_code == 400
    assert client.get(_url(PUBLIC + REPORTS), headers={"Accept": "image/png"}).status_code == 406


def test_writes_need_configured_tokens_and_a_valid_one(client, small_client, small):
    assert client.put(_url(EX + "g"), data=b"", content_type="text/turtle").status_code == 405
    assert client.delete(_url(PUBLIC + REPORTS)).status_code == 405
    before = small.version()
    body = f"<{EX}s> <{EX}p> 'x' .".encode()
    missing = small_client.put(_url(EX + "g"), data=body, content_type="text/turtle")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer ")
    wrong = small_client.put(_url(EX + "g"), data=body, content_type="text/turtle", headers=bearer("y" * 43))
    assert wrong.status_code == 403
    assert small_client.delete(_url(EX + "graph/one")).status_code == 401
    assert small.version() == before


# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt_name", FORMATS)
def test_put_then_get_round_trips_every_format(small_client, fmt_name):
    fmt = BY_NAME[fmt_name]
    sample = _sample()
    if fmt_name in ("trig", "nq"):  # dataset syntaxes: the triples in the default graph of the document
        dataset = Dataset()
        for triple in sample:
            dataset.default_graph.add(triple)
        body = dataset.serialize(format=fmt.rdflib_name, encoding="utf-8")
    else:
        body = sample.serialize(format=fmt.rdflib_name, encoding="utf-8")
    graph = f"{EX}graph/{fmt_name}"
    created = small_client.put(_url(graph), data=body, headers={"Content-Type": fmt.media_type, **bearer(ALICE)})
    assert created.status_code == 201, created.text
    replaced = small_client.put(_url(graph), data=body, headers={"Content-Type": fmt.media_type, **bearer(ALICE)})
    assert replaced.status_code == 200, replaced.text
    response = small_client.get(_url(graph), headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert isomorphic(_parse(response.data, fmt_name), sample)


def test_post_adds_and_delete_drops(small_client, small):
    graph = EX + "graph/posted"
    headers = {"Content-Type": "text/turtle", **bearer(ALICE)}
    first = small_client.post(_url(graph), data=f"<{EX}a> <{EX}p> [ <{EX}q> 1 ] .".encode(), headers=headers)
    second = small_client.post(_url(graph), data=f"<{EX}a> <{EX}p> [ <{EX}q> 1 ] .".encode(), headers=headers)
    assert (first.status_code, second.status_code) == (201, 200), (first.text, second.text)
    posted = _parse(small_client.get(_url(graph)).data, "ttl")
    assert len(set(posted.objects(E.a, E.p))) == 2  # blank nodes of separate requests stay separate
    assert small_client.delete(_url(graph), headers=bearer(ALICE)).status_code == 200
    assert small_client.get(_url(graph)).status_code == 404
    assert small_client.delete(_url(graph), headers=bearer(ALICE)).status_code == 404
    assert graph not in small.graph_names()


def test_put_to_the_default_graph_replaces_the_union(small_client, small):
    body = f"<{EX}s> <{EX}p> 'shared', 'new' .".encode()
    response = small_client.put(_url(None), data=body, headers={"Content-Type": "text/turtle", **bearer(ALICE)})
    assert response.status_code == 200, response.text
    values = {(q.graph_name.value, q.object.value) for q in small.quads() if q.subject.value == EX + "s"}
    assert values == {(EX + "graph/one", "shared"), (EX + "graph/two", "shared"), (BASE + "graph/writes", "new")}


def test_a_conforming_upload_of_real_data_is_served_and_a_violating_one_is_422(real_client, real_copy):
    graph = PUBLIC + "graph/curated-by-test"
    case = PUBLIC + "id/case/test-upload-1"
    body = f"""@prefix dct: <http://purl.org/dc/terms/> . @prefix aiw: <{PUBLIC}def/aiwatch#> .
        <{case}> a aiw:AIUseCase ; dct:title "A case uploaded by a curator"@en ; dct:identifier "TEST-1" ;
            aiw:sourceDataset <{PUBLIC}id/dataset/pstw> .""".encode()
    headers = {"Content-Type": "text/turtle", **bearer(ALICE)}
    before = real_copy.version()
    missing_title = body.replace(b'dct:title "A case uploaded by a curator"@en ;', b"")
    refused = real_client.put(_url(graph), data=missing_title, headers=headers)
    assert refused.status_code == 422 and "id:case/test-upload-1 – dct:title –" in refused.text
    assert real_copy.version() == before and real_client.get("/doc/case/test-upload-1").status_code == 404

    created = real_client.put(_url(graph), data=body, headers=headers)
    assert created.status_code == 201, created.text
    page = real_client.get("/doc/case/test-upload-1", headers={"Accept": "text/turtle"})
    assert page.status_code == 200 and "A case uploaded by a curator" in page.text
    stored = {q.graph_name.value for q in real_copy.quads() if q.subject.value == BASE + "id/case/test-upload-1"}
    assert stored == {BASE + "graph/curated-by-test"}  # IRIs of the serving origin are stored under the base
    assert real_client.delete(_url(graph), headers=bearer(ALICE)).status_code == 200
    assert real_client.get("/doc/case/test-upload-1").status_code == 404


# ---------------------------------------------------------------------------------------------------------------
# Hostile and malformed bodies: a clear 4xx, nothing fetched, nothing changed
# ---------------------------------------------------------------------------------------------------------------

def _xml_with_entity(declaration: str) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ {declaration} ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="{EX}">
  <rdf:Description rdf:about="{EX}s"><ex:p>&e;</ex:p></rdf:Description>
</rdf:RDF>""".encode()


def _billion_laughs() -> bytes:
    levels = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 12)]
    return _xml_with_entity(" ".join(levels) + ' <!ENTITY e "&l11;">')


def test_hostile_bodies_are_refused_without_fetching_anything(small_client, small):
    tripwire = Tripwire()
    try:
        hostile = [
            ("application/rdf+xml", _xml_with_entity(f'<!ENTITY e SYSTEM "{tripwire.url}entity">')),
            ("application/rdf+xml", _xml_with_entity('<!ENTITY e SYSTEM "file:///etc/passwd">')),
            ("application/rdf+xml", _billion_laughs()),
            ("application/rdf+xml", _xml_with_entity('<!ENTITY e "harmless">').replace(b"<", b"<\x00")),
            ("application/ld+json", f'{{"@context": "{tripwire.url}context.jsonld", "@id": "{EX}s", "p": "x"}}'
             .encode()),
            ("application/ld+json", f'{{"@context": {{"@import": "{tripwire.url}c.jsonld"}}, "@id": "{EX}s"}}'
             .encode()),
            ("application/ld+json", f'{{"@context": ["{tripwire.url}a.jsonld"], "@id": "{EX}s"}}'.encode()),
        ]
        before = small.version()
        for media_type, body in hostile:
            started = time.monotonic()
            response = small_client.put(_url(EX + "graph/hostile"), data=body,
                                        headers={"Content-Type": media_type, **bearer(ALICE)})
            assert response.status_code == 400, (media_type, body[:80], response.text)
            assert response.content_type.startswith("text/plain") and response.text.strip()
            assert time.monotonic() - started < 5  # refused up front, nothing expanded
        assert tripwire.connections() == 0
        assert small.version() == before
    finally:
        tripwire.close()


def test_malformed_bodies_are_clear_4xx_and_change_nothing(small_client, small):
    before = small.version()
    cases = [
        ({}, b"<http://example.org/s> <http://example.org/p> 'x' .", 415),
        ({"Content-Type": "application/octet-stream"}, b"\x00\x01", 415),
        ({"Content-Type": "text/turtle; charset=utf-16"}, "<a> <b> <c> .".encode("utf-16"), 415),
        ({"Content-Type": "text/turtle"}, b"<http://example.org/s> <http://example.org/p> .", 400),
        ({"Content-Type": "text/turtle"}, b"<http://example.org/s> <http://example.org/p> '\xff\xfe' .", 400),
        ({"Content-Type": "application/trig"}, f"<{EX}g> {{ <{EX}s> <{EX}p> 'x' }}".encode(), 400),
    ]
    for headers, body, status in cases:
        response = small_client.put(_url(EX + "graph/bad"), data=body, headers={**headers, **bearer(ALICE)})
        assert response.status_code == status, (headers, body, response.text)
    assert small.version() == before


def test_an_oversized_body_is_413_and_changes_nothing(settings, small):
    client = writable_app(settings, small, max_write_bytes=2_000).test_client()
    before = small.version()
    body = "".join(f'<{EX}s> <{EX}p> "{n}" .\n' for n in range(200)).encode()
    assert len(body) > 2_000
    response = client.put(_url(EX + "graph/big"), data=body, headers={"Content-Type": "application/n-triples",
                                                                         **bearer(ALICE)})
    assert response.status_code == 413
    assert small.version() == before
    small_body = body[:1_500].rsplit(b"\n", 1)[0] + b"\n"
    accepted = client.put(_url(EX + "graph/big"), data=small_body,
                          headers={"Content-Type": "application/n-triples", **bearer(ALICE)})
    assert accepted.status_code == 201, accepted.text
