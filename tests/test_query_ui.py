"""The SPARQL query UI: example queries against the real data, the page, stable example links, the bundled YASGUI."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pyoxigraph
import pytest
from rdflib import Graph
from rdflib.namespace import RDF, RDFS

from graph_service.config import PROJECT_ROOT
from graph_service.namespaces import PREFIXES, SCHEMA, SH
from graph_service.web.query_ui import (
    ASSETS_DIR,
    EXAMPLES_DIR,
    declare_prefixes,
    load_examples,
    parse_example,
    render_query_ui,
)

EXAMPLES = load_examples()
BUNDLE_SCRIPT = PROJECT_ROOT / "scripts" / "bundle-yasgui.sh"


# --------------------------------------------------------------------------------------------------------------
# Example queries


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.slug for e in EXAMPLES])
def test_every_example_returns_results_on_the_real_data(store, example):
    result = store.query(example.query)
    if isinstance(result, pyoxigraph.QuerySolutions):
        assert list(result), f"{example.slug} returns no row"
    elif isinstance(result, pyoxigraph.QueryTriples):
        assert list(result), f"{example.slug} returns no triple"
    else:
        assert bool(result), f"{example.slug} answers false"


def test_examples_cover_the_domain():
    slugs = {e.slug for e in EXAMPLES}
    assert len(EXAMPLES) >= 12
    assert {
        "cases-per-member-state", "cases-per-ai-technology", "cases-per-status", "cases-per-cofog-function",
        "cases-per-start-year", "cases-of-a-country", "reports-with-dois-and-authors", "report-as-schema-org",
        "workshops-with-participants", "strategies-by-year", "member-states-with-authority-iris",
        "concept-schemes-and-sizes",
    } <= slugs
    assert {e.form for e in EXAMPLES} >= {"select", "construct"}
    for example in EXAMPLES:
        assert example.title and len(example.description) > 20, example.slug


def test_example_files_hold_no_prefix_declarations():
    # Prefixes live in namespaces.PREFIXES only; they are declared when an example is served.
    for path in EXAMPLES_DIR.glob("*.rq"):
        assert not re.search(r"(?im)^\s*PREFIX\s", path.read_text(encoding="utf-8")), path.name


def test_authors_come_in_the_order_of_the_author_list(kg):
    example = next(e for e in EXAMPLES if e.slug == "reports-with-dois-and-authors")
    rows = kg.select(example.query)
    seed = [r for r in rows if r["report"] == "https://w3id.org/aiwatch/id/report/jrc126501"]
    assert seed and all(r["doi"] == "10.2760/162795" for r in seed)
    # The order of the RDF list itself, walked node by node.
    nodes = {r["node"]: (r["first"], r["rest"]) for r in kg.select("""
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?node ?first ?rest WHERE {
          <https://w3id.org/aiwatch/id/report/jrc126501> <http://purl.org/ontology/bibo/authorList>/rdf:rest* ?node .
          ?node rdf:first ?first ; rdf:rest ?rest .
        }""")}
    assert len(nodes) == len(seed)
    head = next(n for n in nodes if n not in {rest for _, rest in nodes.values()})
    in_order = []
    while head in nodes:
        first, head = nodes[head]
        in_order.append(first)
    assert [r["author"] for r in sorted(seed, key=lambda r: int(r["position"]))] == in_order
    assert [int(r["position"]) for r in sorted(seed, key=lambda r: int(r["position"]))] == list(
        range(1, len(in_order) + 1))


def test_served_example_declares_exactly_the_prefixes_it_uses():
    example = next(e for e in EXAMPLES if e.slug == "strategies-by-year")
    declared = dict(re.findall(r"(?m)^PREFIX (\w+): <([^>]+)>$", example.query))
    assert declared == {"aiw": PREFIXES["aiw"], "dct": PREFIXES["dct"], "skos": PREFIXES["skos"]}
    assert example.query.startswith(f"# {example.title}\n# ")


@pytest.mark.parametrize(("body", "expected"), [
    ("SELECT * { ?s aiw:memberState/skos:prefLabel ?n }", ["aiw", "skos"]),  # after a property path '/'
    ("SELECT * { ?s a ?c FILTER(STRSTARTS(STR(?c), STR(euc:))) }", ["euc"]),
    ("PREFIX skos: <urn:mine#>\nSELECT * { ?s skos:x ?o }", []),  # declared by the query itself: left alone
    ("# dct:title in a comment\nSELECT * { ?s <https://schema.org/name> ?o }", []),  # comments and IRIs
    ("SELECT * { ?s a <https://w3id.org/aiwatch/def/aiwatch#Report> ; rdfs:label 'x:y' }", ["rdfs"]),
])
def test_declare_prefixes(body, expected):
    assert re.findall(r"PREFIX (\w+):", declare_prefixes(body)) == expected


def test_a_malformed_example_is_refused_with_its_file_name(tmp_path):
    bad = tmp_path / "broken-example.rq"
    bad.write_text("# title: Broken\n# description: A query with a syntax error in it.\nSELECT WHERE {\n")
    with pytest.raises(ValueError, match="broken-example.rq"):
        parse_example(bad)
    untitled = tmp_path / "untitled.rq"
    untitled.write_text("SELECT * WHERE { ?s ?p ?o }\n")
    with pytest.raises(ValueError, match="title"):
        parse_example(untitled)


# --------------------------------------------------------------------------------------------------------------
# The page


class _PageParser(HTMLParser):
    """Collects every URL the page makes a browser load, and the embedded UI configuration."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.links: list[str] = []
        self.styles: list[str] = []
        self.config: dict | None = None
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in {"script", "img", "iframe", "audio", "video", "source", "embed"} and attributes.get("src"):
            self.loaded.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.loaded.append(attributes["href"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "script" and attributes.get("id") == "query-ui-config":
            self._in = "config"
        elif tag == "style":
            self._in = "style"

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "config":
            self.config = json.loads(data)
        elif self._in == "style":
            self.styles.append(data)


def _parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


def test_the_page_loads_only_same_origin_assets(client):
    response = client.get("/sparql/ui", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = _parse(response.get_data(as_text=True))
    assert len(page.loaded) >= 3  # icon, stylesheet, script
    for url in page.loaded:
        parts = urlsplit(url)
        assert parts.scheme in ("", "data") and not parts.netloc, f"external resource {url}"
        if parts.scheme == "":
            asset = client.get(url)
            assert asset.status_code == 200, url
    for style in page.styles:
        assert not re.search(r"(?i)(@import|url\()\s*['\"]?(https?:)?//", style)


def test_the_page_configures_yasgui_for_this_endpoint_and_the_project_prefixes(client):
    page = _parse(client.get("/sparql/ui").get_data(as_text=True))
    config = page.config
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == PREFIXES
    for name, iri in PREFIXES.items():
        assert f"PREFIX {name}: <{iri}>\n" in config["defaultQuery"]
    assert pyoxigraph.Store().query(config["defaultQuery"]) is not None  # it parses
    assert [e["slug"] for e in config["examples"]] == [e.slug for e in EXAMPLES]
    assert config["selected"] is None and config["run"] is False
    for example in EXAMPLES:
        assert f"/sparql/examples/{example.slug}" in page.links


def test_render_query_ui_is_what_the_sparql_endpoint_shows_a_browser(app):
    with app.test_request_context("/sparql?example=cases-per-status&run=1", headers={"Accept": "text/html"}):
        response = render_query_ui()
    assert response.status_code == 200
    assert "Accept" in response.vary
    config = _parse(response.get_data(as_text=True)).config
    assert config["selected"] == "cases-per-status" and config["run"] is True
    with app.test_request_context("/sparql?example=no-such-example", headers={"Accept": "text/html"}):
        config = _parse(render_query_ui().get_data(as_text=True)).config
    assert config["selected"] is None


def test_the_endpoint_shows_a_browser_the_ui(client):
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/sparql?example=strategies-by-year", headers={"Accept": browser_accept})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert _parse(response.get_data(as_text=True)).config["selected"] == "strategies-by-year"


def test_the_page_is_cacheable_and_revalidates(client):
    first = client.get("/sparql/ui")
    assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"]
    again = client.get("/sparql/ui", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


# --------------------------------------------------------------------------------------------------------------
# Stable links


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.slug for e in EXAMPLES])
def test_each_example_has_a_stable_link_opening_it(client, example):
    response = client.get(f"/sparql/examples/{example.slug}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    config = _parse(response.get_data(as_text=True)).config
    assert config["selected"] == example.slug and config["run"] is False
    assert next(e for e in config["examples"] if e["slug"] == example.slug)["query"] == example.query
    assert _parse(client.get(f"/sparql/examples/{example.slug}?run=1").get_data(as_text=True)).config["run"] is True

    raw = client.get(f"/sparql/examples/{example.slug}.rq")
    assert raw.status_code == 200
    assert raw.mimetype == "application/sparql-query"
    assert raw.get_data(as_text=True) == example.query


def test_unknown_examples_are_404_in_plain_text(client):
    for path in ("/sparql/examples/no-such-example", "/sparql/examples/no-such-example.rq",
                 f"/sparql/examples/{EXAMPLES[0].slug}.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "text/plain"


def test_the_example_list_is_the_ui_for_people_and_rdf_for_machines(client):
    html = client.get("/sparql/examples", headers={"Accept": "text/html,*/*;q=0.8"})
    assert html.mimetype == "text/html" and "Accept" in html.vary
    assert len(_parse(html.get_data(as_text=True)).config["examples"]) == len(EXAMPLES)

    turtle = client.get("/sparql/examples", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle"
    graph = Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    executables = set(graph.subjects(RDF.type, SH.SPARQLExecutable))
    assert len(executables) == len(EXAMPLES)
    for node in executables:
        assert str(node).startswith("http://localhost/sparql/examples/")
        assert graph.value(node, RDFS.label) is not None
        assert str(graph.value(node, SCHEMA.target)) == "http://localhost/sparql"
        text = graph.value(node, SH.select) or graph.value(node, SH.construct)
        assert client.get(urlsplit(str(node)).path + ".rq").get_data(as_text=True) == str(text)

    assert client.get("/sparql/examples", headers={"Accept": "image/png"}).status_code == 406


# --------------------------------------------------------------------------------------------------------------
# The bundled YASGUI build


def test_the_bundle_is_the_pinned_release_unchanged():
    pinned = re.search(r'^YASGUI_VERSION="([^"]+)"', BUNDLE_SCRIPT.read_text(), re.M)[1]
    integrity = re.search(r'^YASGUI_INTEGRITY="([^"]+)"', BUNDLE_SCRIPT.read_text(), re.M)[1]
    version_lines = (ASSETS_DIR / "VERSION").read_text().splitlines()
    assert version_lines[0] == f"@zazuko/yasgui {pinned}"
    assert version_lines[1] == f"integrity {integrity}"
    for line in version_lines[2:]:
        digest, name = line.split()
        assert hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest() == digest, name
    licence = (ASSETS_DIR / "LICENSE").read_text()
    assert "MIT License" in licence and "codemirror@" in licence


def test_assets_are_gzipped_cached_and_revalidated(client):
    page = _parse(client.get("/sparql/ui").get_data(as_text=True))
    script = next(url for url in page.loaded if "yasgui.min.js" in url)
    plain = client.get(script)
    assert plain.mimetype == "text/javascript"
    assert plain.get_data() == (ASSETS_DIR / "yasgui.min.js").read_bytes()
    zipped = client.get(script, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert len(zipped.get_data()) < len(plain.get_data()) / 2
    assert "Accept-Encoding" in zipped.vary and "max-age" in zipped.headers["Cache-Control"]
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # different bytes, different strong validators
    assert client.get(script, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    assert client.get("/sparql/ui/assets/no-such-file.js").status_code == 404
    assert client.get("/sparql/ui/assets/..%2Fquery_ui.html").status_code == 404
