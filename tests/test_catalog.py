"""The catalogue face over the real data: what is catalogued, negotiation, paging, profiles, downloads, VoID, sitemap."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re

import pyoxigraph
import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, VOID, XSD

from graph_service.catalog import Catalogue, prepare
from graph_service.config import PROJECT_ROOT
from graph_service.namespaces import HYDRA, SPDX
from graph_service.web import create_app
from graph_service.web.iris import IriMapper

ORIGIN = "http://localhost"
KG = URIRef(f"{ORIGIN}/id/dataset/knowledge-graph")


def parse(response, fmt: str = "turtle") -> Graph:
    assert response.status_code == 200, response.data[:500]
    return Graph().parse(data=response.data, format=fmt)


@pytest.fixture(scope="module", autouse=True)
def prepared(settings, store) -> None:
    """The downloads of the test client's origin are written first, as ``graph-service load`` writes the public
    origin's (without it the first pages would leave sizes and checksums out: tests/test_downloads.py)."""
    prepare(settings, store, [f"{ORIGIN}/"])


@pytest.fixture(scope="module")
def page(app) -> Graph:
    return parse(app.test_client().get("/catalog.ttl"))


def test_catalogue_lists_the_graph_the_collections_and_every_report(page, kg):
    datasets = set(page.objects(URIRef(f"{ORIGIN}/catalog"), DCAT.dataset))
    reports = {row["r"] for row in kg.select(
        "SELECT ?r WHERE { VALUES ?t { <https://w3id.org/aiwatch/def/aiwatch#Report> "
        "<http://purl.org/ontology/bibo/Report> } ?r a ?t }")}
    expected = {KG, URIRef(f"{ORIGIN}/id/dataset/aiwatch-cases-2021"), URIRef(f"{ORIGIN}/id/dataset/pstw")}
    expected |= {URIRef(r.replace("https://w3id.org/aiwatch/", f"{ORIGIN}/")) for r in reports}
    assert datasets == expected
    service = URIRef(f"{ORIGIN}/catalog/service/sparql")
    assert (URIRef(f"{ORIGIN}/catalog"), DCAT.service, service) in page
    assert (service, DCAT.endpointURL, URIRef(f"{ORIGIN}/sparql")) in page
    assert (service, DCAT.endpointDescription, URIRef(f"{ORIGIN}/sparql")) in page
    assert (service, DCAT.servesDataset, KG) in page


def test_collection_description_comes_from_the_store(page, kg):
    stored = kg.select("SELECT ?t ?d WHERE { <https://w3id.org/aiwatch/id/dataset/pstw> "
                       "<http://purl.org/dc/terms/title> ?t ; <http://purl.org/dc/terms/description> ?d }")[0]
    pstw = URIRef(f"{ORIGIN}/id/dataset/pstw")
    assert str(page.value(pstw, DCTERMS.title)) == stored["t"]
    assert str(page.value(pstw, DCTERMS.description)) == stored["d"]
    countries = {row["c"] for row in kg.select(
        "SELECT DISTINCT ?c WHERE { ?x <https://w3id.org/aiwatch/def/aiwatch#sourceDataset> "
        "<https://w3id.org/aiwatch/id/dataset/pstw> ; <http://purl.org/dc/terms/spatial> ?c }")}
    assert {str(c) for c in page.objects(pstw, DCTERMS.spatial)} == countries


@pytest.mark.parametrize("dataset", ["knowledge-graph", "aiwatch-cases-2021", "pstw"])
def test_every_required_property_is_there(page, dataset):
    node = URIRef(f"{ORIGIN}/id/dataset/{dataset}")
    for predicate in (DCTERMS.title, DCTERMS.description, DCAT.keyword, DCAT.theme, DCTERMS.spatial,
                      DCTERMS.temporal, DCTERMS.publisher, DCAT.contactPoint, DCTERMS.accessRights,
                      DCTERMS.conformsTo, DCTERMS.issued, DCTERMS.modified, DCAT.landingPage, DCAT.distribution):
        assert page.value(node, predicate) is not None, predicate
    publisher = page.value(node, DCTERMS.publisher)
    assert str(publisher).startswith("http://publications.europa.eu/resource/authority/corporate-body/")
    assert (publisher, RDF.type, FOAF.Agent) in page and page.value(publisher, FOAF.name) is not None
    for distribution in page.objects(node, DCAT.distribution):
        for predicate in (DCAT.accessURL, DCTERMS.format, DCAT.mediaType, DCTERMS.license, DCTERMS.rights):
            assert page.value(distribution, predicate) is not None, (distribution, predicate)


def test_every_object_node_carries_its_class(page):
    ranges = {DCTERMS.publisher: FOAF.Agent, DCTERMS.license: DCTERMS.LicenseDocument,
              DCTERMS.format: DCTERMS.MediaTypeOrExtent, DCAT.mediaType: DCTERMS.MediaType,
              DCTERMS.spatial: DCTERMS.Location, DCTERMS.temporal: DCTERMS.PeriodOfTime,
              DCTERMS.accessRights: DCTERMS.RightsStatement, DCTERMS.rights: DCTERMS.RightsStatement,
              DCAT.contactPoint: URIRef("http://www.w3.org/2006/vcard/ns#Kind"),
              DCTERMS.conformsTo: DCTERMS.Standard, SPDX.checksum: SPDX.Checksum,
              DCTERMS.accrualPeriodicity: DCTERMS.Frequency, DCAT.landingPage: FOAF.Document}
    for predicate, cls in ranges.items():
        objects = set(page.objects(None, predicate))
        assert objects, predicate
        for obj in objects:
            assert (obj, RDF.type, cls) in page, (obj, cls)


def test_report_distributions_doi_and_rdf_description(app, kg):
    client = app.test_client()
    report = parse(client.get("/catalog/report/jrc126501.ttl"))
    dataset = URIRef(f"{ORIGIN}/id/report/jrc126501")
    urls = {str(page_url) for d in report.objects(dataset, DCAT.distribution)
            for page_url in report.objects(d, DCAT.accessURL)}
    assert "https://doi.org/10.2760/162795" in urls
    assert f"{ORIGIN}/doc/report/jrc126501" in urls
    pdfs = kg.select("SELECT ?pdf WHERE { <https://w3id.org/aiwatch/id/report/jrc126501> "
                     "<https://w3id.org/aiwatch/def/aiwatch#pdf> ?pdf }")
    for row in pdfs:
        assert row["pdf"] in {str(u) for d in report.objects(dataset, DCAT.distribution)
                              for u in report.objects(d, DCAT.downloadURL)}
    # the RDF description download is the report's own description
    download = client.get("/download/report/jrc126501.ttl")
    described = Graph().parse(data=download.data, format="turtle")
    assert (dataset, DCTERMS.title, None) in described


@pytest.mark.parametrize("suffix,media_type,rdflib_format", [
    ("ttl", "text/turtle", "turtle"), ("rdf", "application/rdf+xml", "xml"),
    ("jsonld", "application/ld+json", "json-ld"), ("nt", "application/n-triples", "nt"),
])
def test_negotiation_and_suffixes_give_the_same_graph(client, page, suffix, media_type, rdflib_format):
    by_suffix = client.get(f"/catalog.{suffix}")
    negotiated = client.get("/catalog", headers={"Accept": media_type})
    assert by_suffix.mimetype == negotiated.mimetype == media_type
    assert "Accept" in negotiated.headers["Vary"]
    assert negotiated.headers["Content-Location"].endswith(f"/catalog.{suffix}")
    assert len(parse(by_suffix, rdflib_format)) == len(parse(negotiated, rdflib_format)) == len(page)


def test_html_view_lists_datasets_with_schema_org(client, page):
    response = client.get("/catalog", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.data.decode()
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(script.group(1))
    assert data["@type"] == "DataCatalog"
    assert {d["@id"] for d in data["dataset"]} == {str(d) for d in page.objects(None, DCAT.dataset)}
    assert all(d["@type"] == "Dataset" and d["name"] and d["license"] for d in data["dataset"])


def test_schema_org_of_a_dataset_for_its_page(settings, store):
    catalogue = Catalogue(store, settings, IriMapper(settings.base_iri, "http://localhost/"))
    data = catalogue.schema_org("https://w3id.org/aiwatch/id/report/jrc126501")
    assert data["@type"] == "Dataset" and data["@id"] == f"{ORIGIN}/id/report/jrc126501"
    assert data["license"] and data["distribution"] and data["publisher"]["name"]
    assert catalogue.schema_org("https://w3id.org/aiwatch/id/case/not-catalogued") is None


def test_record_page_carries_schema_org_dataset(client):
    html = client.get("/catalog/dataset/pstw.html").data.decode()
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "Dataset" and data["@id"] == f"{ORIGIN}/id/dataset/pstw"
    assert any(d["contentUrl"].endswith("/download/dataset/pstw.csv") for d in data["distribution"])


# -- paging ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_pages(settings, store):
    app = create_app(settings.replace(catalog_page_size=4), store)
    return app.test_client()


def test_paging_links_follow_ckanext_dcat(small_pages, page):
    total = len(set(page.objects(None, DCAT.dataset)))
    seen, url, pages = [], "/catalog.ttl", 0
    while url:
        graph = parse(small_pages.get(url))
        pages += 1
        node = next(graph.subjects(RDF.type, HYDRA.PagedCollection))
        assert graph.value(node, HYDRA.totalItems) == Literal(total, datatype=XSD.integer)
        assert int(graph.value(node, HYDRA.itemsPerPage)) == 4
        for new, old in (("first", "firstPage"), ("last", "lastPage"), ("next", "nextPage"),
                         ("previous", "previousPage")):
            assert graph.value(node, HYDRA[new]) == graph.value(node, HYDRA[old])
            assert graph.value(node, HYDRA[new]) is None or isinstance(graph.value(node, HYDRA[new]), Literal)
        on_page = list(graph.objects(None, DCAT.dataset))
        assert 0 < len(on_page) <= 4
        seen += on_page
        following = graph.value(node, HYDRA.next)
        url = str(following).replace(ORIGIN, "") if following is not None else None
    assert pages == -(-total // 4)
    assert len(seen) == len(set(seen)) == total


def test_modified_since_and_profile_are_kept_in_links(small_pages, page):
    graph = parse(small_pages.get("/catalog.ttl?profile=dcat-ap-2&modified_since=2000-01-01"))
    node = next(graph.subjects(RDF.type, HYDRA.PagedCollection))
    following = str(graph.value(node, HYDRA.next))
    assert "profile=dcat-ap-2" in following and "modified_since=2000-01-01" in following and "page=2" in following
    later = parse(small_pages.get("/catalog.ttl?modified_since=2100-01-01"))
    assert not list(later.objects(None, DCAT.dataset))


def test_modified_since_filters_by_last_change(client, page):
    graph = parse(client.get("/catalog.ttl?modified_since=2022-01-01"))
    kept = set(graph.objects(None, DCAT.dataset))
    for dataset in page.objects(None, DCAT.dataset):
        modified = str(page.value(dataset, DCTERMS.modified))
        day = modified[:10] if len(modified) >= 10 else f"{modified}-01-01"  # an xsd:gYear starts on 1 January
        assert (dataset in kept) == (day >= "2022-01-01"), (dataset, modified)


@pytest.mark.parametrize("query", ["page=0", "page=x", "modified_since=yesterday", "profile=dcat-ap-9"])
def test_bad_parameters_are_400(client, query):
    response = client.get(f"/catalog.ttl?{query}")
    assert response.status_code == 400 and response.mimetype == "text/plain"


# -- profiles ----------------------------------------------------------------------------------------------------

def test_profiles_differ_where_the_shapes_disagree(client):
    three = client.get("/catalog.ttl")
    two_by_query = client.get("/catalog.ttl?profile=dcat-ap-2")
    two_by_header = client.get("/catalog.ttl", headers={
        "Accept-Profile": "<https://semiceu.github.io/DCAT-AP/releases/2.1.1/>;q=1, <https://x.example/p>;q=0.5"})
    assert three.headers["Content-Profile"] == "<https://semiceu.github.io/DCAT-AP/releases/3.0.1/>"
    for response in (two_by_query, two_by_header):
        assert response.headers["Content-Profile"] == "<https://semiceu.github.io/DCAT-AP/releases/2.1.1/>"
        assert "Accept-Profile" in response.headers["Vary"]
    g3, g2 = parse(three), parse(two_by_header)
    assert {o.datatype for o in g3.objects(None, DCAT.byteSize)} == {XSD.nonNegativeInteger}
    assert {o.datatype for o in g2.objects(None, DCAT.byteSize)} == {XSD.decimal}
    assert set(g2.objects(None, SPDX.algorithm)) == {SPDX.checksumAlgorithm_sha1}
    assert set(g3.objects(None, SPDX.algorithm)) == {URIRef("https://spdx.org/rdf/terms#checksumAlgorithm_sha256")}


# -- downloads ---------------------------------------------------------------------------------------------------

def _distributions_with_files(graph: Graph):
    for distribution in graph.subjects(DCAT.byteSize, None):
        checksum = graph.value(distribution, SPDX.checksum)
        yield (str(graph.value(distribution, DCAT.downloadURL)), int(graph.value(distribution, DCAT.byteSize)),
               str(graph.value(checksum, SPDX.checksumValue)), graph.value(distribution, DCAT.mediaType),
               graph.value(distribution, DCAT.compressFormat))


def test_byte_size_and_checksum_match_the_served_bytes(client, page):
    found = list(_distributions_with_files(page))
    names = {url.rsplit("/download/", 1)[1] for url, *_ in found}
    assert {"knowledge-graph.nt.gz", "knowledge-graph.ttl", "knowledge-graph.nq", "knowledge-graph.jsonld",
            "dataset/pstw.csv", "dataset/aiwatch-cases-2021.csv"} <= names
    for url, size, sha256, media_type, compress in found:
        response = client.get(url.replace(ORIGIN, ""))
        assert response.status_code == 200
        body = response.get_data()
        assert len(body) == size == int(response.headers["Content-Length"]), url
        assert hashlib.sha256(body).hexdigest() == sha256, url
        expected = str(compress or media_type).rsplit("media-types/", 1)[1]
        assert response.mimetype == expected, url


def test_dumps_hold_the_store(client, store):
    stored = {(q.subject, q.predicate, q.object, q.graph_name) for q in store.quads()}
    body = client.get("/download/knowledge-graph.nq").get_data()
    served = list(pyoxigraph.parse(io.BytesIO(body), format=pyoxigraph.RdfFormat.N_QUADS))
    assert len(served) == len(stored)
    assert all(isinstance(q.graph_name, pyoxigraph.NamedNode) for q in served)
    triples = {(s, p, o) for s, p, o, _ in stored}
    nt = gzip.decompress(client.get("/download/knowledge-graph.nt.gz").get_data())
    assert sum(1 for _ in pyoxigraph.parse(io.BytesIO(nt), format=pyoxigraph.RdfFormat.N_TRIPLES)) == len(triples)
    ttl = client.get("/download/knowledge-graph.ttl").get_data()
    assert sum(1 for _ in pyoxigraph.parse(io.BytesIO(ttl), format=pyoxigraph.RdfFormat.TURTLE)) == len(triples)
    jsonld = client.get("/download/knowledge-graph.jsonld").get_data()
    assert sum(1 for _ in pyoxigraph.parse(io.BytesIO(jsonld), format=pyoxigraph.RdfFormat.JSON_LD)) == len(stored)


def test_cases_csv_has_one_row_per_case(client, kg):
    import csv

    for key in ("pstw", "aiwatch-cases-2021"):
        rows = list(csv.DictReader(io.StringIO(client.get(f"/download/dataset/{key}.csv").data.decode())))
        cases = kg.select("SELECT (COUNT(?c) AS ?n) WHERE { ?c <https://w3id.org/aiwatch/def/aiwatch#sourceDataset> "
                          f"<https://w3id.org/aiwatch/id/dataset/{key}> }}")
        assert len(rows) == int(cases[0]["n"])
        assert all(row["case"].startswith(f"{ORIGIN}/id/case/") and row["title"] for row in rows)


def test_downloads_are_regenerated_when_the_data_changes(tmp_path, settings):
    """A new data version gets new files (and new sizes in the catalogue); the old version's files go."""
    from graph_service.store import OxigraphStore

    ex = "https://w3id.org/aiwatch/"
    small = OxigraphStore(tmp_path / "store")
    settings = settings.replace(store_path=tmp_path / "store")

    def publish(title: str, digest: str) -> None:
        graph = pyoxigraph.NamedNode(ex + "graph/data/curated/datasets")
        quads = [pyoxigraph.Quad(pyoxigraph.NamedNode(ex + "id/dataset/pstw"), pyoxigraph.NamedNode(str(p)), o, graph)
                 for p, o in ((RDF.type, pyoxigraph.NamedNode(str(DCAT.Dataset))),
                              (DCTERMS.title, pyoxigraph.Literal(title, language="en")),
                              (DCTERMS.description, pyoxigraph.Literal("d", language="en")))]
        small.publish(quads, digest)

    publish("first", "aaaa")
    mapper = IriMapper(ex, "http://localhost/")
    first = Catalogue(small, settings, mapper).download("knowledge-graph.ttl")[1]
    publish("a longer second title", "bbbb")
    second = Catalogue(small, settings, mapper).download("knowledge-graph.ttl")[1]
    assert first.path != second.path and second.size > first.size
    assert b"a longer second title" in second.path.read_bytes()
    small.close()


# -- the project's own shapes ------------------------------------------------------------------------------------

def test_project_shapes_cover_the_catalogue(page, client):
    shapes = Graph().parse(PROJECT_ROOT / "shapes" / "catalog.ttl")
    for graph in (page, parse(client.get("/catalog.ttl?profile=dcat-ap-2"))):
        conforms, _, text = validate(graph, shacl_graph=shapes, inference="none", advanced=True)
        assert conforms, text
    broken = Graph() + page
    distribution = next(broken.subjects(DCAT.byteSize, None))
    broken.remove((distribution, DCTERMS.format, None))
    broken.remove((KG, DCAT.keyword, None))
    conforms, report, text = validate(broken, shacl_graph=shapes, inference="none", advanced=True)
    assert not conforms and "format" in text and "keyword" in text


# -- VoID and sitemap --------------------------------------------------------------------------------------------

def test_void_describes_the_graph(client, store):
    void = parse(client.get("/.well-known/void"))
    triples = {(q.subject, q.predicate, q.object) for q in store.quads()}
    assert int(void.value(KG, VOID.triples)) == len(triples)
    assert int(void.value(KG, VOID.distinctSubjects)) == len({t[0] for t in triples})
    assert int(void.value(KG, VOID.distinctObjects)) == len({t[2] for t in triples})
    assert int(void.value(KG, VOID.entities)) > 0
    assert void.value(KG, VOID.sparqlEndpoint) == URIRef(f"{ORIGIN}/sparql")
    assert URIRef(f"{ORIGIN}/download/knowledge-graph.nt.gz") in set(void.objects(KG, VOID.dataDump))
    classes = {void.value(p, VOID["class"]) for p in void.objects(KG, VOID.classPartition)}
    assert URIRef(f"{ORIGIN}/def/aiwatch#AIUseCase") in classes  # IRIs under the base speak the origin
    properties = {void.value(p, VOID.property) for p in void.objects(KG, VOID.propertyPartition)}
    assert DCTERMS.title in properties
    assert URIRef("http://purl.org/dc/terms/") in set(void.objects(KG, VOID.vocabulary))
    targets = {void.value(ls, VOID.objectsTarget) for ls in void.subjects(RDF.type, VOID.Linkset)}
    assert URIRef("http://publications.europa.eu/resource/authority/country") in targets
    assert URIRef("http://publications.europa.eu/resource/authority/licence") in targets
    assert URIRef("https://doi.org/") in targets


def test_sitemap_lists_every_page(client, kg):
    import xml.etree.ElementTree as ElementTree

    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    locs = {e.text for e in ElementTree.fromstring(response.data).iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    for path in ("/", "/catalog", "/sparql", "/def/aiwatch", "/doc/report/jrc126501", "/catalog/dataset/pstw"):
        assert f"{ORIGIN}{path}" in locs, path
    cases = kg.select("SELECT ?c WHERE { ?c a <https://w3id.org/aiwatch/def/aiwatch#AIUseCase> } LIMIT 3")
    concepts = kg.select("SELECT ?c WHERE { ?c a <http://www.w3.org/2004/02/skos/core#Concept> "
                         "FILTER(STRSTARTS(STR(?c), 'https://w3id.org/aiwatch/concept/')) } LIMIT 3")
    for row in cases:
        assert row["c"].replace("https://w3id.org/aiwatch/id/", f"{ORIGIN}/doc/") in locs
    for row in concepts:
        assert row["c"].replace("https://w3id.org/aiwatch/", f"{ORIGIN}/") in locs
