"""Downloads off the request path: written at publish time (``prepare``), or in the background for an origin nobody
prepared, with catalogue pages that never name a partial page with the complete page's ETag; the files hold
exactly the store's statements at the serving origin; VoID computed once per data version."""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import os
import re
import time
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
import requests
from conftest import start_server, stop_server
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyoxigraph import RdfFormat
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, VOID, XSD

from graph_service.catalog import Catalogue, downloads, prepare
from graph_service.catalog.downloads import (
    Canonical,
    DownloadCache,
    StaleVersion,
    collection_producer,
    iri_rewriter,
    named_graphs_producer,
    union_producer,
    version_directory_name,
    wait_for_background,
)
from graph_service.config import PROJECT_ROOT, Settings
from graph_service.namespaces import SPDX
from graph_service.store import OxigraphStore, StoreError
from graph_service.web import create_app
from graph_service.web.iris import IriMapper

BASE = "https://w3id.org/aiwatch/"
PREPARED = "http://localhost/"  # the Flask test client's origin


@pytest.fixture(scope="module")
def published(tmp_path_factory, settings, store):
    """A store of its own holding the project's data (its downloads start from nothing), and its settings."""
    path = tmp_path_factory.mktemp("downloads") / "store"
    copy = OxigraphStore(path)
    copy.publish(store.quads(), "downloadtest")
    yield settings.replace(store_path=path, backend="oxigraph"), copy
    wait_for_background()
    copy.close()


@pytest.fixture(scope="module")
def app(published):
    own_settings, own_store = published
    application = create_app(own_settings, own_store)
    application.config["TESTING"] = True
    return application


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its inode and modification time: any file written changes it."""
    found = {}
    for directory, _folders, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            stat = path.stat()
            found[str(path.relative_to(root))] = (stat.st_ino, stat.st_mtime_ns)
    return found


def local_distributions(graph: Graph) -> list[URIRef]:
    return [d for d in graph.subjects(RDF.type, DCAT.Distribution)
            if "/download/" in str(graph.value(d, DCAT.downloadURL) or "")]


# -- rewriting IRIs in N-Quads text ------------------------------------------------------------------------------

#: Literal text made of the pieces that could confuse a rewriter: quotes, backslashes, IRIs under the base.
TEXT = st.lists(st.sampled_from(['"', "\\", "<", ">", "\n", "\r", "\t", "\x00", "\x01", "é", " ", "^", "a", BASE,
                                 f"<{BASE}id/x>", '\\"', "@en", "^^<"]), max_size=12).map("".join)
NODE = st.one_of(
    st.sampled_from([f"{BASE}id/case/a", f"{BASE}def/aiwatch#T", "http://purl.org/dc/terms/title",
                     "https://w3id.org/other/x", f"{BASE}concept/s/é"]).map(pyoxigraph.NamedNode),
    st.sampled_from(["b1", "b2"]).map(pyoxigraph.BlankNode),
)
LITERAL = st.one_of(
    TEXT.map(pyoxigraph.Literal),
    st.builds(lambda text: pyoxigraph.Literal(text, language="en"), TEXT),
    st.builds(lambda text, datatype: pyoxigraph.Literal(text, datatype=pyoxigraph.NamedNode(datatype)),
              TEXT, st.sampled_from([f"{BASE}def/aiwatch#code", str(XSD.token)])),
)
QUAD = st.builds(pyoxigraph.Quad, NODE, NODE.filter(lambda n: isinstance(n, pyoxigraph.NamedNode)),
                 st.one_of(NODE, LITERAL),
                 st.sampled_from([f"{BASE}graph/data/a", "http://example.org/g"]).map(pyoxigraph.NamedNode))


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(QUAD, max_size=8))
def test_rewriting_the_text_equals_rewriting_each_term(quads):
    """Byte-level rewriting gives exactly what the IRI mapper gives term by term: IRIs under the base move to the
    origin, literals (text and datatype) do not, whatever quotes, backslashes or IRIs a literal holds."""
    mapper = IriMapper(BASE, "http://127.0.0.1:5000/")
    text = pyoxigraph.serialize(quads, format=RdfFormat.N_QUADS)
    rewritten = iri_rewriter(mapper)(text)
    assert list(pyoxigraph.parse(rewritten, format=RdfFormat.N_QUADS)) == list(mapper.quads(quads))


def test_rewriting_outside_oxigraphs_canonical_form_is_still_exact():
    """Text written by another engine may hold raw control characters; it is tokenised exactly then."""
    mapper = IriMapper(BASE, "http://127.0.0.1:5000/")
    text = f'<{BASE}a> <{BASE}p> "raw \x01 <{BASE}b> \\" <{BASE}c>"^^<{BASE}t> <{BASE}g> .\n'.encode()
    expected = (f'<http://127.0.0.1:5000/a> <http://127.0.0.1:5000/p> "raw \x01 <{BASE}b> \\" <{BASE}c>"^^<{BASE}t> '
                f'<http://127.0.0.1:5000/g> .\n').encode()
    assert iri_rewriter(mapper)(text) == expected


# -- publish, prepare, serve -------------------------------------------------------------------------------------

def test_after_prepare_no_request_writes_a_download(published, app):
    """The load path: publish, prepare the public origin, then serve: pages state every size and checksum, and
    serving the catalogue and every download writes nothing."""
    own_settings, own_store = published
    prepare(own_settings, own_store, [PREPARED])
    root = own_settings.store_path / "downloads"
    before = listing(root)
    client = app.test_client()
    checked = 0
    for profile, algorithm in (("dcat-ap-3", "sha256"), ("dcat-ap-2", "sha1")):
        response = client.get(f"/catalog.ttl?profile={profile}")
        assert response.status_code == 200 and "no-cache" not in response.headers["Cache-Control"]
        graph = Graph().parse(data=response.data, format="turtle")
        distributions = local_distributions(graph)
        assert len(distributions) >= 8
        for distribution in distributions:
            download = client.get(str(graph.value(distribution, DCAT.downloadURL)).replace(PREPARED, "/"))
            body = download.get_data()
            assert download.status_code == 200
            assert int(graph.value(distribution, DCAT.byteSize).toPython()) == len(body)  # decimal in DCAT-AP 2
            checksum = graph.value(graph.value(distribution, SPDX.checksum), SPDX.checksumValue)
            assert str(checksum) == hashlib.new(algorithm, body).hexdigest(), distribution
            checked += 1
    assert checked >= 16
    assert client.get("/catalog/dataset/pstw.ttl").status_code == 200
    assert listing(root) == before


@pytest.mark.parametrize("name", ["no-such-file.ttl", ".complete", "knowledge-graph.nq.json", ".work/union.nt",
                                  "%2E%2E/canonical/named-graphs.nq", "dataset/../knowledge-graph.nq.json"])
def test_only_downloads_are_served(published, app, name):
    own_settings, own_store = published
    prepare(own_settings, own_store, [PREPARED])
    assert app.test_client().get(f"/download/{name}").status_code == 404


def test_prepare_again_writes_nothing(published):
    own_settings, own_store = published
    prepare(own_settings, own_store, [PREPARED])
    before = listing(own_settings.store_path / "downloads")
    prepare(own_settings, own_store, [PREPARED])
    assert listing(own_settings.store_path / "downloads") == before


def test_an_unprepared_origin_gets_a_partial_page_at_once_then_the_complete_one(published, app):
    """An origin nobody prepared: the first page comes without sizes and checksums, with an ETag of its own and
    ``no-cache``; the files are written in the background; then the complete page, which a cache revalidating the
    partial page's ETag gets in full (never a 304 for the partial one)."""
    client = app.test_client()
    origin = "http://127.0.0.1:5001"
    first = client.get("/catalog.ttl", base_url=origin)
    assert first.status_code == 200
    partial = Graph().parse(data=first.data, format="turtle")
    distributions = local_distributions(partial)
    assert distributions and all(str(d).startswith(origin) for d in distributions)
    assert not list(partial.objects(None, DCAT.byteSize)) and not list(partial.objects(None, SPDX.checksum))
    assert "no-cache" in first.headers["Cache-Control"]
    shapes = Graph().parse(PROJECT_ROOT / "shapes" / "catalog.ttl")
    conforms, _, text = validate(partial, shacl_graph=shapes, inference="none", advanced=True)
    assert conforms, text  # sizes and checksums are optional: the partial page is a valid catalogue

    again = client.get("/catalog.ttl", base_url=origin, headers={"If-None-Match": first.headers["ETag"]})
    wait_for_background()
    complete = client.get("/catalog.ttl", base_url=origin, headers={"If-None-Match": first.headers["ETag"]})
    assert complete.status_code == 200 and "no-cache" not in complete.headers["Cache-Control"]
    assert complete.headers["ETag"] != first.headers["ETag"]
    graph = Graph().parse(data=complete.data, format="turtle")
    assert all(graph.value(d, DCAT.byteSize) is not None for d in local_distributions(graph))
    assert client.get("/catalog.ttl", base_url=origin,
                      headers={"If-None-Match": complete.headers["ETag"]}).status_code == 304
    # while pending, the partial page revalidates as itself (same bytes), or the complete one has replaced it
    assert again.status_code == 304 or again.headers["ETag"] == complete.headers["ETag"]


def test_a_download_at_an_unprepared_origin_is_written_on_demand(published, app):
    client = app.test_client()
    response = client.get("/download/report/jrc126501.ttl", base_url="http://127.0.0.1:5002")
    wait_for_background()
    assert response.status_code == 200
    body = response.get_data()
    described = Graph().parse(data=body, format="turtle")
    assert (URIRef("http://127.0.0.1:5002/id/report/jrc126501"), DCTERMS.title, None) in described
    import base64
    assert response.headers["Digest"] == "sha-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_a_store_named_by_a_relative_path_serves_its_downloads(published, monkeypatch):
    """``AIWATCH_STORE_PATH=var/store`` means the working directory's folder: Flask's send_file resolves a relative
    file against the package folder, so every download answered 500 before the settings made the path absolute."""
    own_settings, own_store = published
    monkeypatch.chdir(own_settings.store_path.parent)
    relative = Settings.from_env(environ={"AIWATCH_STORE_PATH": own_settings.store_path.name},
                                 project_root=own_settings.project_root, base_iri=own_settings.base_iri)
    assert relative.store_path == own_settings.store_path
    prepare(own_settings, own_store, [PREPARED])
    monkeypatch.chdir(PROJECT_ROOT / "graph_service")  # a server started elsewhere keeps the folder named at start
    application = create_app(relative, own_store)
    response = application.test_client().get("/download/report/jrc126501.ttl")
    assert response.status_code == 200
    assert (URIRef(PREPARED + "id/report/jrc126501"), DCTERMS.title, None) in Graph().parse(
        data=response.get_data(), format="turtle")


def test_origins_beyond_the_limit_get_a_catalogue_but_no_files(published, tmp_path):
    """Each origin's downloads are a copy of the data under its own IRIs: past ``max_download_origins`` (the base
    and ``download_origins`` not counted), an origin's catalogue states no sizes and its downloads answer 421,
    writing nothing; origins that have files keep them."""
    own_settings, own_store = published
    path = tmp_path / "store"
    copy = OxigraphStore(path)
    copy.publish(own_store.quads(), "origin-limit")
    limited = own_settings.replace(store_path=path, max_download_origins=1, download_origins=("http://127.0.0.1:5011/",))
    client = create_app(limited, copy).test_client()
    try:
        for admitted in ("http://127.0.0.1:5011", "http://127.0.0.1:5012"):  # configured, then the one allowed
            assert client.get("/download/report/jrc126501.ttl", base_url=admitted).status_code == 200
            client.get("/catalog.ttl", base_url=admitted)
            wait_for_background()
            assert DownloadCache.of(limited, copy, IriMapper(BASE, admitted + "/")).ready()
        before = listing(path / "downloads")

        refused = client.get("/download/report/jrc126501.ttl", base_url="http://127.0.0.1:5013")
        page = client.get("/catalog.ttl", base_url="http://127.0.0.1:5013")
        wait_for_background()

        assert refused.status_code == 421 and b"AIWATCH_DOWNLOAD_ORIGINS" in refused.data
        graph = Graph().parse(data=page.data, format="turtle")
        assert page.status_code == 200 and local_distributions(graph)
        assert not list(graph.objects(None, DCAT.byteSize))
        assert listing(path / "downloads") == before  # nothing written for it, no folder either
        assert client.get("/download/report/jrc126501.ttl", base_url="http://127.0.0.1:5012").status_code == 200
    finally:
        copy.close()


def test_a_server_writes_an_unprepared_origins_files_in_the_background(published):
    """``graph-service serve`` (gunicorn, two worker processes) at an origin nobody prepared: the first page comes
    at once without sizes; a worker writes the files in the background; then pages state what is served."""
    own_settings, own_store = published
    server = start_server(own_settings)
    try:
        first = requests.get(f"{server.url}/catalog.ttl", timeout=60)
        assert first.status_code == 200 and "no-cache" in first.headers["Cache-Control"]
        assert not list(Graph().parse(data=first.text, format="turtle").objects(None, DCAT.byteSize))
        cache = DownloadCache.of(own_settings, own_store, IriMapper(BASE, f"{server.url}/"))
        deadline = time.monotonic() + 600  # a bound on waiting, not an assertion on speed
        while not cache.ready() and time.monotonic() < deadline:
            time.sleep(0.2)
        complete = requests.get(f"{server.url}/catalog.ttl", timeout=60)
        assert "no-cache" not in complete.headers["Cache-Control"] and complete.headers["ETag"] != first.headers["ETag"]
        graph = Graph().parse(data=complete.text, format="turtle")
        distributions = local_distributions(graph)
        assert distributions
        for distribution in distributions:
            body = requests.get(str(graph.value(distribution, DCAT.downloadURL)), timeout=60).content
            checksum = graph.value(graph.value(distribution, SPDX.checksum), SPDX.checksumValue)
            assert str(checksum) == hashlib.sha256(body).hexdigest(), distribution
    finally:
        stop_server(server)


# -- the files hold the store ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def elsewhere(published):
    """Every download of the data, written for an origin other than the persistent base."""
    own_settings, own_store = published
    mapper = IriMapper(BASE, "http://127.0.0.1:5003/")
    catalogue = Catalogue(own_store, own_settings, mapper)
    catalogue.prepare_downloads()
    return catalogue


def _file(catalogue: Catalogue, name: str) -> bytes:
    return catalogue.download(name)[1].path.read_bytes()


def _triples(statements) -> set[pyoxigraph.Triple]:
    return {pyoxigraph.Triple(s.subject, s.predicate, s.object) for s in statements}


def test_dumps_hold_exactly_the_store_at_the_origin(published, elsewhere):
    _, own_store = published
    quads = set(elsewhere.mapper.quads(own_store.quads()))
    triples = _triples(quads)
    assert set(pyoxigraph.parse(_file(elsewhere, "knowledge-graph.nq"), format=RdfFormat.N_QUADS)) == quads
    assert set(pyoxigraph.parse(_file(elsewhere, "knowledge-graph.jsonld"), format=RdfFormat.JSON_LD)) == quads
    nt = gzip.decompress(_file(elsewhere, "knowledge-graph.nt.gz"))
    assert sum(1 for _ in io.BytesIO(nt)) == len(triples)  # the union: each triple once
    assert _triples(pyoxigraph.parse(nt, format=RdfFormat.N_TRIPLES)) == triples
    assert _triples(pyoxigraph.parse(_file(elsewhere, "knowledge-graph.ttl"), format=RdfFormat.TURTLE)) == triples
    assert b"@prefix aiw: <http://127.0.0.1:5003/def/aiwatch#>" in _file(elsewhere, "knowledge-graph.ttl")


def test_a_collection_holds_its_cases_and_its_description(published, elsewhere):
    _, own_store = published
    pstw = f"{BASE}id/dataset/pstw"
    expected = set(elsewhere.mapper.triples(own_store.construct(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ ?s <{BASE}def/aiwatch#sourceDataset> <{pstw}> }} UNION "
        f"{{ BIND(<{pstw}> AS ?s) }} ?s ?p ?o }}")))
    served = _triples(pyoxigraph.parse(_file(elsewhere, "dataset/pstw.ttl"), format=RdfFormat.TURTLE))
    assert served == expected and len(served) > 1000


def test_the_persistent_base_dump_is_the_canonical_text(published):
    """For the persistent base nothing is rewritten: the N-Quads dump is the version's canonical file."""
    own_settings, own_store = published
    prepare(own_settings, own_store)
    catalogue = Catalogue(own_store, own_settings, IriMapper(BASE, BASE))
    dump = catalogue.download("knowledge-graph.nq")[1].path
    canonical = catalogue.downloads.version_dir / "canonical" / "named-graphs.nq"
    assert dump.stat().st_ino == canonical.stat().st_ino
    assert set(pyoxigraph.parse(dump.read_bytes(), format=RdfFormat.N_QUADS)) == set(own_store.quads())


# -- data versions -----------------------------------------------------------------------------------------------

def publish_tiny(store: OxigraphStore, title: str, digest: str) -> None:
    """Publish a one-dataset catalogue whose title is ``title`` (a new data version)."""
    graph = pyoxigraph.NamedNode(BASE + "graph/data/curated/datasets")
    pstw = pyoxigraph.NamedNode(BASE + "id/dataset/pstw")
    quads = [pyoxigraph.Quad(pstw, pyoxigraph.NamedNode(str(p)), o, graph)
             for p, o in ((RDF.type, pyoxigraph.NamedNode(str(DCAT.Dataset))),
                          (DCTERMS.title, pyoxigraph.Literal(title, language="en")),
                          (DCTERMS.description, pyoxigraph.Literal("d", language="en")))]
    store.publish(quads, digest)


def test_a_publish_while_writing_publishes_no_file(tmp_path, settings):
    """Files are named by the data version they were started for: if another version is published meanwhile,
    what was written (possibly from both) is dropped."""
    tiny = OxigraphStore(tmp_path / "store")
    own_settings = settings.replace(store_path=tmp_path / "store")
    publish_tiny(tiny, "first", "aaaa")
    catalogue = Catalogue(tiny, own_settings, IriMapper(BASE, "http://localhost/"))
    spec = catalogue.download_specs()["knowledge-graph.ttl"]
    cache = DownloadCache(own_settings.store_path / "downloads", tiny, catalogue.mapper)
    publish_tiny(tiny, "second", "bbbb")
    with pytest.raises(StaleVersion):
        cache.get(spec)
    assert cache.lookup(spec) is None
    assert not [p for p in cache.version_dir.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    tiny.close()


def test_a_forced_republish_of_the_same_sources_is_a_new_version(tmp_path, settings):
    tiny = OxigraphStore(tmp_path / "store")
    publish_tiny(tiny, "first", "aaaa")
    first = version_directory_name(tiny.version())
    publish_tiny(tiny, "first", "aaaa")
    assert version_directory_name(tiny.version()) != first
    tiny.close()


def test_a_collection_taken_from_the_union_text(published):
    """A collection's triples come from the union's text (the store is not scanned again)."""
    _, own_store = published
    catalogue = Catalogue(own_store, published[0], IriMapper(BASE, BASE))
    canonical = catalogue.downloads.sources.canonical
    path = canonical.path("collection-test.nt", collection_producer(f"{BASE}id/dataset/aiwatch-cases-2021"))
    lines = path.read_bytes().splitlines()
    assert lines and all(line.startswith((f"<{BASE}id/case/aiwatch-2021-".encode(),
                                          f"<{BASE}id/dataset/aiwatch-cases-2021>".encode())) for line in lines)


# -- VoID --------------------------------------------------------------------------------------------------------

def test_void_is_computed_once_per_data_version(published, app):
    own_settings, own_store = published
    prepare(own_settings, own_store)
    version_dir = own_settings.store_path / "downloads" / version_directory_name(own_store.version())
    stored = version_dir / "void.nt"
    assert stored.is_file()  # written at publish time
    # What is served is the stored description (marked here), not a new computation.
    with open(stored, "a", encoding="utf-8") as text:
        text.write(f'<{BASE}id/dataset/knowledge-graph> <{DCTERMS.description}> "stored"@en .\n')
    client = app.test_client()
    void = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    knowledge_graph = URIRef("http://localhost/id/dataset/knowledge-graph")
    assert void.value(knowledge_graph, DCTERMS.description) == Literal("stored", lang="en")
    assert int(void.value(knowledge_graph, VOID.triples)) == len(_triples(own_store.quads()))
    pages = app.extensions["catalog.pages"]
    hits = pages.stats.hits
    again = client.get("/.well-known/void")
    assert pages.stats.hits == hits + 1  # the serialised answer is kept in memory too
    assert isomorphic(Graph().parse(data=again.data, format="turtle"), void)
    nt = client.get("/.well-known/void.nt")
    assert isomorphic(Graph().parse(data=nt.data, format="nt"), void)


def test_void_of_a_new_version_is_new(tmp_path, settings):
    tiny = OxigraphStore(tmp_path / "store")
    own_settings = settings.replace(store_path=tmp_path / "store")
    client = create_app(own_settings, tiny).test_client()
    publish_tiny(tiny, "first", "aaaa")
    first = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    publish_tiny(tiny, "second", "bbbb")
    tiny_graph = pyoxigraph.NamedNode(BASE + "graph/data/curated/extra")
    tiny.publish([*tiny.quads(), pyoxigraph.Quad(pyoxigraph.NamedNode(BASE + "id/x"),
                                                 pyoxigraph.NamedNode(str(DCTERMS.title)),
                                                 pyoxigraph.Literal("x"), tiny_graph)], "cccc")
    second = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    knowledge_graph = URIRef("http://localhost/id/dataset/knowledge-graph")
    assert int(first.value(knowledge_graph, VOID.triples)) == 3
    assert int(second.value(knowledge_graph, VOID.triples)) == 4
    tiny.close()


# -- engines that cap result sizes -------------------------------------------------------------------------------

class CappedEngine(OxigraphStore):
    """Oxigraph answering CONSTRUCT queries with at most ``cap`` triples, as Virtuoso does (ResultSetMaxRows); with
    ``max_vector`` set, failing instead on a CONSTRUCT that matches more triples than that, or on a page whose
    OFFSET + LIMIT passes it, as Virtuoso does past a million ("array in for vectored over max vector length")."""

    cap = 500
    max_vector: int | None = None

    def query(self, sparql, **kwargs):
        paging = re.search(r"LIMIT (\d+) OFFSET (\d+)", sparql)
        if self.max_vector and paging and int(paging[1]) + int(paging[2]) > self.max_vector:
            raise StoreError(f"array in for vectored over max vector length {int(paging[1]) + int(paging[2])} > "
                             f"{self.max_vector}")
        result = super().query(sparql, **kwargs)
        if not isinstance(result, pyoxigraph.QueryTriples):
            return result
        if self.max_vector:
            triples = list(result)
            if len(triples) > self.max_vector:
                raise StoreError(f"array in for vectored over max vector length {len(triples)} > {self.max_vector}")
            result = iter(triples)
        capped = pyoxigraph.Store()
        capped.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in itertools.islice(result, self.cap))
        return capped.query("CONSTRUCT WHERE { ?s ?p ?o }")


class FailingPastAVector(CappedEngine):
    max_vector = 2 * CappedEngine.cap


@pytest.mark.parametrize("engine", [CappedEngine, FailingPastAVector], ids=["caps-answers", "fails-past-a-vector"])
def test_an_engine_that_caps_results_is_read_page_by_page(published, tmp_path, monkeypatch, engine):
    """The canonical texts are complete whatever an engine's result size limit, whether it cuts answers or fails
    on large ones: the triples are paged, and no page asks the engine to skip more rows than a page (a graph of
    3,000 triples, 6 times the cap)."""
    _, own_store = published
    small = OxigraphStore(tmp_path / "store")
    small.publish(itertools.islice(own_store.quads(), 3000), "small")
    monkeypatch.setattr(downloads, "PAGE_TRIPLES", CappedEngine.cap // 2)  # (the real one is for millions)
    capped = engine(tmp_path / "store")
    whole = Canonical(tmp_path / "whole", small, small.version())
    paged = Canonical(tmp_path / "paged", capped, small.version())
    for key, produce in (("named-graphs.nq", named_graphs_producer), ("union.nt", union_producer)):
        expected = whole.path(key, produce).read_bytes().splitlines()
        assert sorted(paged.path(key, produce).read_bytes().splitlines()) == sorted(expected)
    named = whole.path("named-graphs.nq", named_graphs_producer).read_bytes().splitlines()
    per_graph = Counter(line.rsplit(b" ", 2)[-2] for line in named)
    assert max(per_graph.values()) > 2 * CappedEngine.cap  # a graph was read in several pages
    capped.close()
    small.close()


def test_a_subject_with_more_triples_than_a_page_is_read_alone(tmp_path):
    """Pages end at a subject; one subject with more triples than a page (but fewer than the engine's cap) is
    read by itself, and blank-node subjects by OFFSET."""
    graph = pyoxigraph.NamedNode(BASE + "graph/big")
    label = pyoxigraph.NamedNode(str(DCTERMS.description))
    quads = [pyoxigraph.Quad(pyoxigraph.NamedNode(BASE + "id/hub"), label, pyoxigraph.Literal(f"part {i}"), graph)
             for i in range(CappedEngine.cap * 3 // 4)]  # more than a page (half the cap), less than the cap
    quads += [pyoxigraph.Quad(pyoxigraph.NamedNode(f"{BASE}id/leaf-{i:04d}"), label, pyoxigraph.Literal("leaf"), graph)
              for i in range(CappedEngine.cap * 2)]
    quads += [pyoxigraph.Quad(pyoxigraph.BlankNode(f"b{i}"), label, pyoxigraph.Literal("blank"), graph)
              for i in range(CappedEngine.cap // 2)]
    small = OxigraphStore(tmp_path / "store")
    small.publish(quads, "big-subject")
    capped = CappedEngine(tmp_path / "store")
    whole = Canonical(tmp_path / "whole", small, small.version()).path("named-graphs.nq", named_graphs_producer)
    paged = Canonical(tmp_path / "paged", capped, small.version()).path("named-graphs.nq", named_graphs_producer)
    assert len(paged.read_bytes().splitlines()) == len(quads)
    assert sorted(paged.read_bytes().splitlines()) == sorted(whole.read_bytes().splitlines())
    capped.close()
    small.close()

