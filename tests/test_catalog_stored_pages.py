"""Catalogue pages built once per data version for every server process: kept as files beside the version's
downloads (graph_service.catalog.stored_pages), read by any other process (app) before it would build, never for
a page built while the downloads are pending, new with each data version, written at publish time by ``prepare``
for the first page, byte for byte what the view builds."""

from __future__ import annotations

import threading

import pytest
import requests
from conftest import start_server, stop_server
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS
from test_downloads import publish_tiny

from graph_service.catalog import prepare
from graph_service.catalog.downloads import DownloadCache, version_directory_name, wait_for_background
from graph_service.catalog.profiles import DEFAULT_PROFILE, PROFILES
from graph_service.catalog.stored_pages import (
    FOLDER,
    MAX_PAGES_PER_VERSION,
    RDF_FORMATS,
    PageKey,
    StoredPage,
    StoredPages,
    page_url,
)
from graph_service.store import OxigraphStore
from graph_service.web import create_app
from graph_service.web.iris import IriMapper

BASE = "https://w3id.org/aiwatch/"
PREPARED = "http://127.0.0.1:5099/"
TURTLE = {"Accept": "text/turtle"}


@pytest.fixture(scope="module")
def published(tmp_path_factory, settings, store):
    """A store of its own holding the project's data (its folder of downloads and pages starts empty), with the
    downloads and first pages of ``PREPARED`` written as ``graph-service load`` writes them."""
    path = tmp_path_factory.mktemp("stored-pages") / "store"
    copy = OxigraphStore(path)
    copy.publish(store.quads(), "storedpagestest")
    own_settings = settings.replace(store_path=path, backend="oxigraph")
    prepare(own_settings, copy, [PREPARED])
    yield own_settings, copy
    wait_for_background()
    copy.close()


def new_app(published):
    """One more server process, as far as pages go: an app of its own, with nothing in memory."""
    own_settings, own_store = published
    application = create_app(own_settings, own_store)
    application.config["TESTING"] = True
    return application


def stored_pages(published, origin: str) -> StoredPages:
    own_settings, own_store = published
    return StoredPages(DownloadCache.of(own_settings, own_store, IriMapper(BASE, origin)))


def key(published, url: str, fmt: str = "ttl", profile=DEFAULT_PROFILE, explicit: bool = False) -> PageKey:
    return PageKey(url, fmt, profile.token, explicit, published[0].catalog_page_size)


def memory(application):
    return application.extensions["catalog.pages"]


# -- built once, read by every process ---------------------------------------------------------------------------

def test_a_page_built_by_one_process_is_read_by_another(published):
    first = new_app(published).test_client().get("/catalog.html?page=1", base_url=PREPARED)
    assert first.status_code == 200 and "no-cache" not in first.headers["Cache-Control"]
    page_key = key(published, f"{PREPARED}catalog.html?page=1", "html")
    assert stored_pages(published, PREPARED).read(page_key) == StoredPage(first.data, first.headers["Content-Type"])

    second = new_app(published)
    assert len(memory(second)) == 0
    again = second.test_client().get("/catalog.html?page=1", base_url=PREPARED)
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]

    # What the next process serves is the file (marked here), not a page it built.
    stored_pages(published, PREPARED).write(page_key, StoredPage(b"<p>kept</p>", "text/html; charset=utf-8"))
    assert new_app(published).test_client().get("/catalog.html?page=1", base_url=PREPARED).data == b"<p>kept</p>"


def test_memory_stays_in_front_of_the_files(published):
    application = new_app(published)
    client = application.test_client()
    client.get("/catalog.nt", base_url=PREPARED)
    hits = memory(application).stats.hits
    client.get("/catalog.nt", base_url=PREPARED)
    assert memory(application).stats.hits == hits + 1


def test_an_explicit_default_profile_is_a_page_of_its_own(published):
    """Asked for by ``Accept-Profile``, the default profile's page links carry ``?profile=`` (so a harvester
    following them keeps it); a page asked for without a profile does not, and neither is served for the other."""
    client = new_app(published).test_client()
    plain = client.get("/catalog.ttl", base_url=PREPARED)
    explicit = client.get("/catalog.ttl", base_url=PREPARED, headers={"Accept-Profile": f"<{DEFAULT_PROFILE.iri}>"})
    assert b"profile=dcat-ap-3" not in plain.data
    assert b"profile=dcat-ap-3" in explicit.data


# -- only complete pages, and not every page ---------------------------------------------------------------------

def test_a_page_built_while_the_downloads_are_pending_is_never_written(published):
    origin = "http://127.0.0.1:5097/"
    application = new_app(published)
    pending = application.test_client().get("/catalog", base_url=origin, headers=TURTLE)
    assert "no-cache" in pending.headers["Cache-Control"]  # no byte sizes yet: the downloads are being written
    pages = stored_pages(published, origin)
    assert pages.read(key(published, f"{origin}catalog")) is None
    wait_for_background()

    complete = application.test_client().get("/catalog", base_url=origin, headers=TURTLE)
    assert "no-cache" not in complete.headers["Cache-Control"] and complete.data != pending.data
    assert pages.read(key(published, f"{origin}catalog")).body == complete.data


def test_pages_with_other_parameters_stay_in_memory_only(published):
    """A harvester paging with any ``modified_since`` moment must not fill the disk."""
    client = new_app(published).test_client()
    for moment in ("2000-01-01", "2000-01-02T10:00:00Z"):
        response = client.get(f"/catalog.ttl?modified_since={moment}", base_url=PREPARED)
        assert response.status_code == 200
        url = f"{PREPARED}catalog.ttl?modified_since={moment}"
        assert stored_pages(published, PREPARED).read(key(published, url)) is None
    client.get("/catalog.ttl?page=2", base_url=PREPARED)
    assert stored_pages(published, PREPARED).read(key(published, f"{PREPARED}catalog.ttl?page=2")) is not None


def test_a_data_version_keeps_a_bounded_number_of_pages(tmp_path, settings):
    tiny = OxigraphStore(tmp_path / "store")
    publish_tiny(tiny, "first", "aaaa")
    pages = StoredPages(DownloadCache(tmp_path / "downloads", tiny, IriMapper(BASE, PREPARED)))
    written = [pages.write(PageKey(f"http://host-{n}/catalog", "ttl", "dcat-ap-3", False, 100),
                           StoredPage(b"x", "text/turtle")) for n in range(MAX_PAGES_PER_VERSION + 20)]
    assert written.count(True) == MAX_PAGES_PER_VERSION and not any(written[MAX_PAGES_PER_VERSION:])
    assert len(list(pages.directory.iterdir())) == MAX_PAGES_PER_VERSION
    tiny.close()


def test_processes_writing_the_same_page_at_once_leave_one_whole_file(published):
    pages = stored_pages(published, "http://127.0.0.1:5096/")
    page_key = key(published, "http://127.0.0.1:5096/catalog")
    page = StoredPage(b"@prefix x: <http://example.org/> .\n" * 20_000, "text/turtle; charset=utf-8")
    writers = [threading.Thread(target=pages.write, args=(page_key, page)) for _ in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert pages.read(page_key) == page
    assert [p.name for p in pages.directory.iterdir() if p.name.startswith(".")] == []  # no partial file left


# -- data versions -----------------------------------------------------------------------------------------------

def test_a_new_data_version_gets_new_pages(tmp_path, settings):
    tiny = OxigraphStore(tmp_path / "store")
    own_settings = settings.replace(store_path=tmp_path / "store", backend="oxigraph")
    pstw = URIRef(f"{PREPARED}id/dataset/pstw")

    def title_served() -> Literal:
        response = create_app(own_settings, tiny).test_client().get("/catalog", base_url=PREPARED, headers=TURTLE)
        assert response.status_code == 200 and "no-cache" not in response.headers["Cache-Control"]
        return Graph().parse(data=response.data, format="turtle").value(pstw, DCTERMS.title)

    def stored_file() -> bytes:
        page = StoredPages(DownloadCache.of(own_settings, tiny, IriMapper(BASE, PREPARED))).read(
            PageKey(f"{PREPARED}catalog", "ttl", DEFAULT_PROFILE.token, False, own_settings.catalog_page_size))
        return page.body

    publish_tiny(tiny, "first", "aaaa")
    prepare(own_settings, tiny, [PREPARED])
    first_version = version_directory_name(tiny.version())
    assert title_served() == Literal("first", lang="en")
    first_page = stored_file()

    publish_tiny(tiny, "second", "bbbb")
    prepare(own_settings, tiny, [PREPARED])
    assert version_directory_name(tiny.version()) != first_version
    assert title_served() == Literal("second", lang="en")
    assert stored_file() != first_page and b"second" in stored_file()

    # The pages go with their data version's folder (the downloads keep the current version and the one before).
    first_pages = own_settings.store_path / "downloads" / first_version / FOLDER
    assert first_pages.is_dir()
    publish_tiny(tiny, "third", "cccc")
    prepare(own_settings, tiny, [PREPARED])
    assert not first_pages.exists()
    wait_for_background()
    tiny.close()


# -- written at publish time -------------------------------------------------------------------------------------

def prepared_variants() -> list[tuple[str, str, object, bool]]:
    """(path and query, format, profile, explicit): the first pages ``prepare`` writes for an origin."""
    variants = []
    for profile, explicit in [(DEFAULT_PROFILE, False), *((p, True) for p in PROFILES)]:
        token = profile.token if explicit else None
        variants += [(page_url("", "/catalog", profile=token), fmt.name, profile, explicit) for fmt in RDF_FORMATS]
        variants += [(page_url("", f"/catalog.{fmt.extension}", profile=token), fmt.name, profile, explicit)
                     for fmt in RDF_FORMATS]
    return variants


def test_prepare_writes_the_first_pages_exactly_as_the_view_builds_them(published):
    pages = stored_pages(published, PREPARED)
    for target, fmt, profile, explicit in prepared_variants():
        url = PREPARED.rstrip("/") + target
        page_key = key(published, url, fmt, profile, explicit)
        prepared = pages.read(page_key)
        assert prepared is not None, url
        (pages.directory / page_key.file_name()).unlink()  # so that the next request builds it again
        accept = next(f.media_type for f in RDF_FORMATS if f.name == fmt)
        built = new_app(published).test_client().get(target, base_url=PREPARED, headers={"Accept": accept})
        assert built.status_code == 200
        assert built.headers["Content-Type"] == prepared.content_type
        assert built.data == prepared.body, (url, fmt)
        assert pages.read(page_key) == prepared  # and the view kept what it built, for the others


def test_prepare_writes_no_page_for_an_origin_with_a_path(published):
    """The persistent base (``https://w3id.org/aiwatch/``) is never a request's origin (the web face maps IRIs to
    the request's host), so no page is built for it."""
    own_settings, own_store = published
    prepare(own_settings, own_store)
    assert stored_pages(published, BASE).read(key(published, f"{BASE}catalog")) is None


def test_gunicorn_workers_serve_the_page_prepare_wrote(published):
    """``graph-service serve`` (two worker processes): ``/catalog`` of a prepared origin is the file ``prepare``
    wrote (marked here, so that a page built again would show), whichever worker answers."""
    own_settings, own_store = published
    server = start_server(own_settings)
    try:
        origin = f"{server.url}/"
        prepare(own_settings, own_store, [origin])
        pages = stored_pages(published, origin)
        page_key = key(published, f"{server.url}/catalog")
        prepared = pages.read(page_key)
        assert prepared is not None
        marked = prepared.body + b"# kept\n"
        pages.write(page_key, StoredPage(marked, prepared.content_type))
        for _ in range(4):
            response = requests.get(f"{server.url}/catalog", headers=TURTLE, timeout=60)
            assert response.status_code == 200 and response.content == marked
    finally:
        stop_server(server)
