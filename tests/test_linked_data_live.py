"""The Linked Data face as real clients see it: gunicorn on 127.0.0.1, rdflib and requests over HTTP.

``rdflib.Graph().parse(url)`` must find triples whose subject is exactly the URL it dereferenced, in every format,
and every IRI it gets must point into the serving origin (DESIGN.md "Identifiers").
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser

import pytest
import requests
from rdflib import Dataset, Graph, URIRef

from graph_service.web.linked_data import OFFERED, RDF_FORMATS

BASE = "https://w3id.org/aiwatch/"
THINGS = ["report/jrc126501", "workshop/plw-3", "member-state/esp"]
#: rdflib's own Accept header for each format it can ask for (rdflib.parser.URLInputSource).
RDFLIB_FORMATS = ["xml", "turtle", "nt", "n3", "json-ld", "trig"]


def public_iris(graph: Graph) -> set[str]:
    return {str(t) for triple in graph for t in triple if isinstance(t, URIRef)}


def dereference(url: str, rdflib_format: str | None) -> Graph:
    """What rdflib gets from ``url``: a Graph, or for TriG (named graphs) a Dataset seen as the union of its graphs."""
    if rdflib_format == "trig":
        return Dataset(default_union=True).parse(url, format="trig")
    return Graph().parse(url, format=rdflib_format) if rdflib_format else Graph().parse(url)


@pytest.fixture(scope="module")
def origin(live_server) -> str:
    return live_server.url


@pytest.mark.parametrize("thing", THINGS)
@pytest.mark.parametrize("rdflib_format", [None, *RDFLIB_FORMATS])
def test_rdflib_dereferences_the_thing_iri(origin, thing, rdflib_format):
    """Follows the 303 from /id/ and finds the thing as a subject, whatever format it asked for."""
    url = f"{origin}/id/{thing}"
    graph = dereference(url, rdflib_format)
    assert (URIRef(url), None, None) in graph
    assert not [iri for iri in public_iris(graph) if iri.startswith(BASE)]


@pytest.mark.parametrize("thing", THINGS)
@pytest.mark.parametrize("rdflib_format", [None, *RDFLIB_FORMATS])
def test_rdflib_dereferences_the_document(origin, thing, rdflib_format):
    url = f"{origin}/doc/{thing}"
    graph = dereference(url, rdflib_format)
    assert (URIRef(url), None, None) in graph
    assert (URIRef(f"{origin}/id/{thing}"), None, None) in graph


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_every_suffix_url_parses_with_itself_as_a_subject(origin, fmt):
    url = f"{origin}/doc/report/jrc126501.{fmt.extension}"
    dataset = Dataset(default_union=True)
    dataset.parse(url)  # rdflib picks the parser from the Content-Type it gets
    assert (URIRef(url), None, None) in dataset
    assert (URIRef(f"{origin}/id/report/jrc126501"), None, None) in dataset
    assert not [iri for iri in public_iris(dataset) if iri.startswith(BASE)]


def test_nquads_by_negotiation(origin):
    response = requests.get(f"{origin}/doc/report/jrc126501", headers={"Accept": "application/n-quads"}, timeout=10)
    assert response.headers["Content-Type"].startswith("application/n-quads")
    dataset = Dataset()
    dataset.parse(data=response.text, format="nquads")
    graph = dataset.graph(URIRef(f"{origin}/graph/data/curated/reports"))
    assert (URIRef(f"{origin}/id/report/jrc126501"), None, None) in graph


@pytest.mark.parametrize("path", ["/def/aiwatch", "/concept/status", "/concept/status/implemented", "/shapes"])
@pytest.mark.parametrize("rdflib_format", RDFLIB_FORMATS)
def test_vocabularies_dereference(origin, path, rdflib_format):
    url = origin + path
    graph = dereference(url, rdflib_format)
    assert (URIRef(url), None, None) in graph


def test_303_raw(origin):
    response = requests.get(f"{origin}/id/report/jrc126501", headers={"Accept": "text/turtle"},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{origin}/doc/report/jrc126501"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    missing = requests.get(f"{origin}/id/report/jrc000000", allow_redirects=False, timeout=10)
    assert missing.status_code == 404


def test_negotiation_headers_raw(origin):
    response = requests.get(f"{origin}/doc/report/jrc126501", headers={"Accept": "application/ld+json"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ld+json; charset=utf-8"
    assert response.headers["Content-Location"] == f"{origin}/doc/report/jrc126501.jsonld"
    assert "Accept" in response.headers["Vary"]
    links = dict((m.group(2), m.group(1)) for m in re.finditer(r'<([^>]+)>; rel="alternate"; type="([^"]+)"',
                                                              response.headers["Link"]))
    assert set(links) == {f.media_type for f in OFFERED} - {"application/ld+json"}
    for media_type, url in links.items():
        alternate = requests.get(url, timeout=10)
        assert alternate.status_code == 200
        assert alternate.headers["Content-Type"].split(";")[0] == media_type
    assert requests.get(f"{origin}/doc/report/jrc126501", headers={"Accept": "image/png"},
                        timeout=10).status_code == 406


def test_gzip_when_accepted(origin):
    response = requests.get(f"{origin}/doc/report/jrc126501", headers={"Accept": "text/turtle",
                                                                         "Accept-Encoding": "gzip"}, stream=True,
                            timeout=10)
    assert response.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(response.raw.read())
    assert f"{origin}/id/report/jrc126501".encode() in body or b"jrc126501" in body


@pytest.mark.parametrize("path, accept", [
    ("/doc/report/jrc126501", "text/html"), ("/doc/report/jrc126501", "text/turtle"),
    ("/doc/report/jrc126501.nt", None), ("/def/aiwatch", "application/rdf+xml"), ("/concept/cofog", "text/html"),
    ("/shapes", "text/turtle"),
])
def test_304_round_trips(origin, path, accept):
    headers = {"Accept": accept} if accept else {}
    first = requests.get(origin + path, headers=headers, timeout=10)
    assert first.status_code == 200
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "max-age=" in first.headers["Cache-Control"]
    by_etag = requests.get(origin + path, headers={**headers, "If-None-Match": etag}, timeout=10)
    assert by_etag.status_code == 304 and by_etag.content == b""
    assert by_etag.headers["ETag"] == etag
    by_date = requests.get(origin + path, headers={**headers, "If-Modified-Since": last_modified}, timeout=10)
    assert by_date.status_code == 304
    stale = requests.get(origin + path, headers={**headers, "If-None-Match": '"0000"'}, timeout=10)
    assert stale.status_code == 200 and stale.content == first.content


def test_head_raw(origin):
    get = requests.get(f"{origin}/doc/report/jrc126501.ttl", timeout=10)
    head = requests.head(f"{origin}/doc/report/jrc126501.ttl", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert requests.head(f"{origin}/id/report/jrc126501", allow_redirects=False, timeout=10).status_code == 303


class _Links(HTMLParser):
    """Links inside <main> (the navigation is other faces' business)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth += 1
        elif tag == "a" and self.depth:
            self.links.append(dict(attrs).get("href", ""))

    def handle_endtag(self, tag):
        if tag == "main":
            self.depth -= 1


@pytest.mark.parametrize("path", ["/doc/report/jrc126501", "/doc/workshop/plw-3"])
def test_every_local_link_on_a_page_resolves(origin, path):
    page = requests.get(origin + path, headers={"Accept": "text/html"}, timeout=10)
    parser = _Links()
    parser.feed(page.text)
    assert not [link for link in parser.links if link.startswith(BASE)]
    local = sorted({link.split("#")[0] for link in parser.links if link.startswith(origin)})
    assert len(local) > 10
    for link in local:
        response = requests.get(link, headers={"Accept": "text/html"}, timeout=10)
        assert response.status_code == 200, link
        if not re.search(r"\.[a-z0-9]+$", link):  # the download links name their format
            assert response.headers["Content-Type"].startswith("text/html"), link
