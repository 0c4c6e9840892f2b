"""The Linked Data face through the Flask test client, over the real loaded data.

The test client serves at ``http://localhost/``: every IRI under the persistent base must come back rewritten to
that origin (DESIGN.md "Identifiers").
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from rdflib import RDF, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, FOAF, OWL, SKOS

from graph_service.formats import BY_NAME
from graph_service.namespaces import BIBO, SCHEMA, SH
from graph_service.web.linked_data import OFFERED, RDF_FORMATS
from graph_service.web.pages import embeddable_json

BASE = "https://w3id.org/aiwatch/"
ORIGIN = "http://localhost/"
REPORT = "report/jrc126501"
REPORT_IRI = URIRef(ORIGIN + "id/" + REPORT)
AIW = ORIGIN + "def/aiwatch#"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
SEED_AUTHORS = ["C. van Noordt", "A. Alishani", "L. Tangi", "D. Gattwinkel", "F. Pignatelli"]


def parse(response, fmt_name: str) -> Dataset:
    """The body of ``response`` parsed by rdflib as the format it claims (a Dataset keeps the named graphs)."""
    fmt = BY_NAME[fmt_name]
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == fmt.media_type
    dataset = Dataset(default_union=True)
    dataset.parse(data=response.data, format=fmt.rdflib_name)
    return dataset


def iris_in(graph: Graph) -> set[str]:
    return {str(t) for triple in graph for t in triple if isinstance(t, URIRef)}


VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """The parts of an HTML page the tests look at: links, element ids, the text of <main>, JSON-LD, the h1."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.json_ld: list[str] = []
        self.h1 = ""
        self._in: list[str] = []
        self._script_type = ""
        self.text_parts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "script":
            self._script_type = attributes.get("type", "")
        if tag not in VOID_ELEMENTS:
            self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if "h1" in self._in:
            self.h1 += data
        if self._in and self._in[-1] == "script" and self._script_type == "application/ld+json":
            self.json_ld.append(data)
        if "main" in self._in:
            self.text_parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text_parts))


def html_page(client, path: str) -> Page:
    response = client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html"
    return Page(response.get_data(as_text=True))


# ---------------------------------------------------------------------------------------------------------------
# URI pattern: 303, negotiation, suffixes, 404, 406
# ---------------------------------------------------------------------------------------------------------------

def test_thing_iri_answers_303_to_its_document(client):
    response = client.get(f"/id/{REPORT}", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{ORIGIN}doc/{REPORT}"
    assert "public" in response.headers["Cache-Control"]


def test_thing_iri_with_a_suffix_redirects_to_that_file(client):
    response = client.get(f"/id/{REPORT}.ttl")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{ORIGIN}doc/{REPORT}.ttl"


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_document_negotiates_every_rdf_format(client, fmt):
    response = client.get(f"/doc/{REPORT}", headers={"Accept": fmt.media_type})
    dataset = parse(response, fmt.name)
    assert (REPORT_IRI, DCTERMS.title, None) in dataset
    document = URIRef(f"{ORIGIN}doc/{REPORT}")
    assert (document, FOAF.primaryTopic, REPORT_IRI) in dataset
    assert response.headers["Content-Location"] == f"{ORIGIN}doc/{REPORT}.{fmt.extension}"
    assert "Accept" in response.headers["Vary"]
    alternates = response.headers["Link"]
    for other in OFFERED:
        if other is not fmt:
            assert f'<{ORIGIN}doc/{REPORT}.{other.extension}>; rel="alternate"; type="{other.media_type}"' in alternates
    assert f"doc/{REPORT}.{fmt.extension}>" not in alternates


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "*/*", None, "text/html;q=0.5, text/turtle;q=0.4"])
def test_people_get_the_page(client, accept):
    response = client.get(f"/doc/{REPORT}", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Location"] == f"{ORIGIN}doc/{REPORT}.html"


def test_q_values_decide(client):
    response = client.get(f"/doc/{REPORT}", headers={"Accept": "text/html;q=0.2, application/ld+json;q=0.9"})
    assert response.mimetype == "application/ld+json"


@pytest.mark.parametrize("fmt", OFFERED, ids=lambda f: f.name)
def test_suffix_urls_bypass_negotiation(client, fmt):
    response = client.get(f"/doc/{REPORT}.{fmt.extension}", headers={"Accept": "application/pdf"})
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    assert "Accept" not in response.headers.get("Vary", "")
    assert response.headers["Content-Location"] == f"{ORIGIN}doc/{REPORT}.{fmt.extension}"


def test_nothing_acceptable_is_406(client):
    response = client.get(f"/doc/{REPORT}", headers={"Accept": "application/pdf, image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.get_data(as_text=True)
    assert "Accept" in response.headers["Vary"]


def test_unknown_resource_is_404_with_a_page_for_browsers(client):
    for path in ("/id/report/jrc000000", "/doc/report/jrc000000", "/doc/report/jrc000000.ttl",
                 "/concept/status/no-such-status", "/def/nothing"):
        page = client.get(path, headers={"Accept": BROWSER_ACCEPT})
        assert page.status_code == 404, path
        assert page.mimetype == "text/html"
        assert "Not found" in page.get_data(as_text=True)
        script = client.get(path, headers={"Accept": "text/turtle"})
        assert script.status_code == 404, path
        assert script.mimetype == "text/plain"


@pytest.mark.parametrize("path", [
    "/doc/report/..%2f..%2fetc%2fpasswd", "/doc/report/../../etc/passwd", "/doc/report/%2e%2e", "/id/report/%00",
    "/doc/report/jrc126501.exe", "/doc/report/jrc126501.ttl.ttl", "/doc/REPORT/jrc126501", "/doc/report/JRC126501",
    "/doc/report/" + "a" * 5000, "/id/" + "b" * 300 + "/x", "/doc/report/x%3E%20%3Fs%20%3Fp", "/doc/report/a%22b",
    "/doc/report/jrc126501/extra/segments", "/concept/status/implemented/x/y", "/def/aiwatch/../../x",
    "/doc/report/jrc126501/inverse?property=%3E%7D", "/doc/report/-", "/doc/report/jrc126501.", "/shapes.exe",
])
def test_odd_paths_are_404_never_500(client, path):
    response = client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code in (400, 404), (path, response.status_code)


# ---------------------------------------------------------------------------------------------------------------
# What a description holds
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report_turtle(app) -> Dataset:
    with app.test_client() as client:
        return parse(client.get(f"/doc/{REPORT}.ttl"), "ttl")


def test_description_has_every_triple_about_the_resource(report_turtle, kg):
    stored = kg.select(f"SELECT DISTINCT ?p ?o WHERE {{ <{BASE}id/{REPORT}> ?p ?o FILTER(!isBlank(?o)) }}")
    assert stored
    for row in stored:
        predicate = URIRef(row["p"].replace(BASE, ORIGIN))
        assert (REPORT_IRI, predicate, None) in report_turtle, row


def test_author_list_comes_whole_and_in_order(report_turtle):
    head = report_turtle.value(REPORT_IRI, BIBO.authorList)
    authors = list(Collection(report_turtle, head))
    assert [str(report_turtle.value(a, FOAF.name)) for a in authors] == SEED_AUTHORS


def test_linked_resources_come_with_labels_and_types(report_turtle):
    workshop = URIRef(ORIGIN + "id/workshop/plw-3")
    assert (REPORT_IRI, URIRef(AIW + "reportOf"), workshop) in report_turtle
    assert (workshop, SCHEMA.name, None) in report_turtle
    assert (workshop, RDF.type, URIRef(AIW + "Workshop")) in report_turtle
    assert (URIRef(AIW + "Workshop"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"), None) in report_turtle


def test_hash_iris_under_the_resource_are_described_with_it(report_turtle, kg):
    parts = kg.select(f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '{BASE}id/{REPORT}#')) }}")
    assert parts, "the seed report has reified statements under its IRI"
    for row in parts:
        assert (URIRef(row["s"].replace(BASE, ORIGIN)), RDF.type, None) in report_turtle


def test_inverse_links_are_included(report_turtle):
    assert (URIRef(ORIGIN + "id/workshop/plw-3"), URIRef(AIW + "report"), REPORT_IRI) in report_turtle


def test_trig_and_nquads_keep_the_source_graphs(client):
    for name in ("trig", "nq"):
        dataset = parse(client.get(f"/doc/{REPORT}.{BY_NAME[name].extension}"), name)
        graph = dataset.graph(URIRef(ORIGIN + "graph/data/curated/reports"))
        assert (REPORT_IRI, DCTERMS.title, None) in graph, name


def test_representations_speak_the_serving_origin(app):
    with app.test_client() as client:
        for fmt in RDF_FORMATS:
            response = client.get(f"/doc/{REPORT}.{fmt.extension}", base_url="http://127.0.0.1:8123")
            iris = iris_in(parse(response, fmt.name))
            assert f"http://127.0.0.1:8123/id/{REPORT}" in iris
            assert not [iri for iri in iris if iri.startswith(BASE)], fmt.name
        html = client.get(f"/doc/{REPORT}.html", base_url="http://127.0.0.1:8123").get_data(as_text=True)
        assert BASE not in html


def test_bounded_inverse_links_count_and_page_the_rest(client, kg):
    busiest = kg.select(
        f"SELECT ?ms (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{BASE}def/aiwatch#memberState> ?ms }} "
        "GROUP BY ?ms ORDER BY DESC(?n) LIMIT 1")[0]
    total, key = int(busiest["n"]), busiest["ms"].rsplit("/", 1)[1]
    assert total > 20, "some Member State has more cases than a description lists"
    page = html_page(client, f"/doc/member-state/{key}")
    assert re.search(rf"Is member state of {total}\b", page.text, re.IGNORECASE)
    more = [link for link in page.links if "/inverse?" in link]
    assert len(more) == 1
    listed: set[str] = set()
    next_url: str | None = more[0]
    while next_url:
        response = client.get(next_url.replace(ORIGIN, "/"), headers={"Accept": BROWSER_ACCEPT})
        assert response.status_code == 200
        listing = Page(response.get_data(as_text=True))
        listed |= {link for link in listing.links if "/id/" in link and not link.endswith(f"/member-state/{key}")}
        following = re.search(r'<([^>]+)>; rel="next"', response.headers["Link"])
        next_url = following.group(1) if following else None
    assert len(listed) == total


def test_inverse_listing_in_rdf(client):
    property_ = "https%3A%2F%2Fw3id.org%2Faiwatch%2Fdef%2Faiwatch%23reportOf"
    response = client.get(f"/doc/workshop/plw-3/inverse.ttl?property={property_}&page=1")
    graph = parse(response, "ttl")
    assert (REPORT_IRI, URIRef(AIW + "reportOf"), URIRef(ORIGIN + "id/workshop/plw-3")) in graph


# ---------------------------------------------------------------------------------------------------------------
# Pages people read
# ---------------------------------------------------------------------------------------------------------------

def test_report_page_reads_well(client):
    page = html_page(client, f"/doc/{REPORT}")
    text = page.text
    assert page.h1.startswith("AI Watch. Artificial Intelligence for the public sector")
    assert text.index("Report") < text.index(page.h1.strip()[:30])  # type first
    positions = [text.index(name) for name in SEED_AUTHORS]
    assert positions == sorted(positions), "authors in the order of bibo:authorList"
    assert "8 October 2021" in text and "2021-10-08" not in text
    assert "https://doi.org/10.2760/162795" in page.links
    assert "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0" in page.links
    assert "Publications Office of the European Union" in text
    for label in ("Authors", "Published", "Licence", "DOI", "Report of"):
        assert label in text
    assert "dct:title" not in text and "http://purl.org/dc/terms/" not in text  # labels, not raw IRIs
    assert f"{ORIGIN}id/workshop/plw-3" in page.links
    assert f"{ORIGIN}doc/{REPORT}.ttl" in page.links


def test_report_page_embeds_schema_org_json_ld(client):
    page = html_page(client, f"/doc/{REPORT}")
    assert len(page.json_ld) == 1
    data = json.loads(page.json_ld[0])
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Report"
    assert data["@id"] == str(REPORT_IRI)
    assert data["name"].startswith("AI Watch. Artificial Intelligence")
    assert [a["name"] for a in data["author"]] == SEED_AUTHORS
    assert data["datePublished"] == "2021-10-08"
    assert "https://doi.org/10.2760/162795" in data["sameAs"]


@pytest.mark.parametrize("path, schema_type", [
    ("/doc/workshop/plw-3", "Event"), ("/doc/member-state/esp", "Country"), ("/concept/status/implemented",
                                                                             "DefinedTerm"),
])
def test_schema_org_types(client, path, schema_type):
    data = json.loads(html_page(client, path).json_ld[0])
    assert data["@type"] == schema_type


def test_case_page(client, kg):
    row = kg.select(
        f"SELECT ?case ?title ?ms WHERE {{ ?case a <{BASE}def/aiwatch#AIUseCase> ; <{DCTERMS.title}> ?title ; "
        f"<{BASE}def/aiwatch#memberState> ?ms ; <{BASE}def/aiwatch#status> ?status }} ORDER BY ?case LIMIT 1")[0]
    page = html_page(client, row["case"].replace(BASE, "/").replace("/id/", "/doc/"))
    assert page.h1.strip() == row["title"]
    assert "AI use case" in page.text
    assert row["ms"].replace(BASE, ORIGIN) in page.links
    assert json.loads(page.json_ld[0])["@type"] == "CreativeWork"


def test_embedded_json_cannot_close_the_script():
    text = embeddable_json({"name": "</script><script>alert(1)</script> & <!--"})
    assert "</" not in text and "<!--" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script> & <!--"


def test_language_tags_are_shown(client):
    page = client.get(f"/doc/{REPORT}.html").get_data(as_text=True)
    assert 'lang="en"' in page


# ---------------------------------------------------------------------------------------------------------------
# Ontology, concept schemes, shapes
# ---------------------------------------------------------------------------------------------------------------

def test_ontology_documents_every_term_with_an_anchor(client, kg):
    terms = [row["t"] for row in kg.select(
        f"SELECT ?t WHERE {{ ?t <http://www.w3.org/2000/01/rdf-schema#isDefinedBy> <{BASE}def/aiwatch> }}")]
    assert len(terms) > 30
    page = html_page(client, "/def/aiwatch")
    for term in terms:
        assert term.split("#")[1] in page.ids, term
    assert page.h1.strip() == "AI Watch ontology"


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_ontology_in_every_rdf_format(client, fmt):
    dataset = parse(client.get("/def/aiwatch", headers={"Accept": fmt.media_type}), fmt.name)
    assert (URIRef(ORIGIN + "def/aiwatch"), RDF.type, OWL.Ontology) in dataset
    assert (URIRef(AIW + "Report"), RDF.type, OWL.Class) in dataset


def test_ontology_version_iri_leads_to_the_ontology(client, kg):
    version = kg.select(f"SELECT ?v WHERE {{ <{BASE}def/aiwatch> <{OWL.versionIRI}> ?v }}")[0]["v"]
    response = client.get(version.replace(BASE, "/"))
    assert response.status_code == 303
    assert response.headers["Location"] == ORIGIN + "def/aiwatch"


def test_every_scheme_and_concept_has_a_page(client, kg):
    schemes = kg.select(f"SELECT ?s WHERE {{ ?s a <{SKOS.ConceptScheme}> }}")
    assert len(schemes) >= 10
    listing = html_page(client, "/concept")
    for row in schemes:
        assert row["s"].replace(BASE, ORIGIN) in listing.links
    status = html_page(client, "/concept/status")
    concepts = kg.select(f"SELECT ?c WHERE {{ ?c <{SKOS.inScheme}> <{BASE}concept/status> }}")
    for row in concepts:
        assert row["c"].replace(BASE, ORIGIN) in status.links
        assert client.get(row["c"].replace(BASE, "/"), headers={"Accept": BROWSER_ACCEPT}).status_code == 200


def test_concept_rdf_has_the_concept_as_subject(client):
    for fmt in RDF_FORMATS:
        dataset = parse(client.get("/concept/status/implemented", headers={"Accept": fmt.media_type}), fmt.name)
        assert (URIRef(ORIGIN + "concept/status/implemented"), SKOS.prefLabel, Literal("Implemented", lang="en")) \
            in dataset


def test_shapes_are_served(client, settings):
    import pyoxigraph

    shapes = set()
    for path in settings.shapes_dir.glob("*.ttl"):
        shapes |= {str(t.subject) for t in pyoxigraph.parse(path=str(path))
                   if t.predicate.value == str(RDF.type) and t.object.value == str(SH.NodeShape)}
    assert shapes
    page = html_page(client, "/shapes")
    graph = parse(client.get("/shapes", headers={"Accept": "text/turtle"}), "ttl")
    served = {str(s) for s in graph.subjects(RDF.type, SH.NodeShape)}
    assert len(served) == len(shapes)
    hash_shapes = [s for s in shapes if s.startswith(BASE + "shapes#")]
    for shape in hash_shapes:
        assert shape.split("#")[1] in page.ids
        assert shape.replace(BASE, ORIGIN) in served


# ---------------------------------------------------------------------------------------------------------------
# HTTP caching and HEAD
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [f"/doc/{REPORT}", f"/doc/{REPORT}.ttl", "/def/aiwatch", "/concept/status",
                                  "/shapes"])
def test_conditional_requests(client, path):
    first = client.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    since = client.get(path, headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    other = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_each_representation_has_its_own_etag(client):
    etags = {client.get(f"/doc/{REPORT}", headers={"Accept": f.media_type}).headers["ETag"] for f in OFFERED}
    assert len(etags) == len(OFFERED)


def test_head(client):
    get = client.get(f"/doc/{REPORT}", headers={"Accept": "text/turtle"})
    head = client.head(f"/doc/{REPORT}", headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.data == b""
    for header in ("Content-Type", "ETag", "Content-Location", "Link", "Vary"):
        assert head.headers[header] == get.headers[header]
    assert client.head(f"/id/{REPORT}").status_code == 303
    assert client.head("/id/report/jrc000000").status_code == 404


# ---------------------------------------------------------------------------------------------------------------
# The description model other faces reuse
# ---------------------------------------------------------------------------------------------------------------

def test_describe_model(store, kg):
    from graph_service.describe import describe, sparql_iri

    assert describe(store, BASE + "id/report/jrc000000") is None
    description = describe(store, f"{BASE}id/member-state/esp", inverse_limit=5)
    assert description.label(description.resource) == "Spain"
    counts = {row["p"]: int(row["n"]) for row in kg.select(
        f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p <{BASE}id/member-state/esp> FILTER(isIRI(?s)) }} "
        "GROUP BY ?p")}
    assert {g.predicate.value: g.count for g in description.inverse} == counts
    assert all(len(g.subjects) == min(5, g.count) for g in description.inverse)
    assert any(g.truncated for g in description.inverse)
    report = describe(store, f"{BASE}id/{REPORT}")
    head = report.value(report.resource, str(BIBO.authorList))
    assert [report.label(person) for person in report.list_items(head)] == SEED_AUTHORS
    assert report.source_graphs == [BASE + "graph/data/curated/reports"]
    for hostile in ("x> ?p ?o } #", 'a"b', "a b", "a{b}"):
        with pytest.raises(ValueError):
            sparql_iri(hostile)
