"""The answer cache (graph_service.sparql.cache): bounded, keyed by the data version, invalidated exactly when the
data changes — as a unit, and end to end through /sparql and /doc/ over a copy of the real data that the tests
republish."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad

from graph_service.namespaces import DCTERMS, PREFIXES
from graph_service.sparql.cache import VersionedCache, wants_fresh
from graph_service.store import OxigraphStore
from graph_service.web import create_app

PROLOGUE = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())
CASES = PROLOGUE + "SELECT (COUNT(?case) AS ?n) WHERE { ?case a aiw:AIUseCase }"
CASE = "https://w3id.org/aiwatch/id/case/pstw-1"
EXTRA_GRAPH = NamedNode("https://w3id.org/aiwatch/graph/test/extra")


# ---------------------------------------------------------------------------------------------------------------
# The cache alone
# ---------------------------------------------------------------------------------------------------------------

def sized(max_bytes: int = 100, max_entry_bytes: int = 60) -> VersionedCache[bytes]:
    return VersionedCache(len, max_bytes=max_bytes, max_entry_bytes=max_entry_bytes)


def test_a_value_is_served_for_its_data_version_only():
    cache = sized()
    assert cache.put("v1", "q", b"old") is False  # no lookup has moved the cache to v1 yet: nothing is kept blindly
    assert cache.get("v1", "q") is None
    assert cache.put("v1", "q", b"old")
    assert cache.get("v1", "q") == b"old"
    assert cache.get("v2", "q") is None  # a new version: the old answer is never served...
    assert len(cache) == 0 and cache.bytes == 0  # ...and everything of v1 is gone
    assert cache.put("v1", "q", b"late") is False  # an answer computed from v1 after the switch is dropped
    assert cache.get("v2", "q") is None
    assert cache.stats.invalidations == 1


def test_sizes_are_bounded_least_recently_used_first():
    cache = sized(max_bytes=100, max_entry_bytes=60)
    cache.get("v", "warm-up")
    assert cache.put("v", "big", b"x" * 61) is False  # larger than one entry may be
    for key in "abcd":
        assert cache.put("v", key, b"y" * 30)
    assert cache.bytes <= 100
    assert cache.get("v", "a") is None  # evicted first
    assert cache.get("v", "d") == b"y" * 30
    cache.get("v", "b")  # b used: c is now the least recent
    cache.put("v", "e", b"z" * 30)
    assert cache.get("v", "c") is None and cache.get("v", "b") is not None


def test_an_answer_computed_across_a_publish_is_returned_but_not_kept():
    cache = sized()
    versions = iter(["v1", "v2", "v2", "v2"])
    value, hit = cache.answer(lambda: next(versions), "q", lambda: b"mixed")
    assert (value, hit) == (b"mixed", False)
    assert cache.get("v2", "q") is None  # computed while the data changed: not stored for either version
    value, hit = cache.answer(lambda: "v2", "q", lambda: b"new")
    assert (value, hit) == (b"new", False)
    assert cache.answer(lambda: "v2", "q", lambda: b"never computed") == (b"new", True)


def test_fresh_requests_bypass_the_lookup_and_refresh_the_entry():
    cache = sized()
    cache.answer(lambda: "v", "q", lambda: b"first")
    assert cache.answer(lambda: "v", "q", lambda: b"second", fresh=True) == (b"second", False)
    assert cache.answer(lambda: "v", "q", lambda: b"third") == (b"second", True)
    assert wants_fresh("no-cache") and wants_fresh("max-stale, No-Store") and wants_fresh(" no-cache , foo")
    assert not wants_fresh(None) and not wants_fresh("max-age=0") and not wants_fresh("public")


# ---------------------------------------------------------------------------------------------------------------
# End to end over a copy of the real data
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture()
def republishable(store, settings, tmp_path):
    """An app over a private store holding the real data, and a function publishing the data plus extra quads."""
    real = list(store.quads())
    private = OxigraphStore(tmp_path / "store")
    private.publish(real, "real")
    app = create_app(settings.replace(store_path=tmp_path / "store"), private)
    app.config["TESTING"] = True

    def publish(extra: list[Quad], digest: str) -> None:
        private.publish([*real, *extra], digest)

    yield app.test_client(), publish
    app.extensions["sparql_executor"].close()
    private.close()


def count(response) -> int:
    return int(json.loads(response.data)["results"]["bindings"][0]["n"]["value"])


def ask(client, query: str, **headers):
    return client.get("/sparql", query_string={"query": query},
                      headers={"Accept": "application/sparql-results+json", **headers})


def new_case(number: int) -> list[Quad]:
    case = NamedNode(f"https://w3id.org/aiwatch/id/case/test-{number}")
    return [Quad(case, NamedNode(PREFIXES["rdf"] + "type"), NamedNode(PREFIXES["aiw"] + "AIUseCase"), EXTRA_GRAPH)]


def test_repeated_queries_are_answered_from_the_cache(republishable):
    client, _ = republishable
    first = ask(client, CASES)
    second = ask(client, CASES)
    assert first.status_code == second.status_code == 200
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    assert ask(client, CASES, **{"Cache-Control": "no-cache"}).headers["X-Cache"] == "miss"
    # Another format, another origin, another query: other answers, never mixed up.
    as_csv = client.get("/sparql", query_string={"query": CASES}, headers={"Accept": "text/csv"})
    assert as_csv.headers["X-Cache"] == "miss" and as_csv.data.startswith(b"n\r\n")
    elsewhere = client.get("/sparql", query_string={"query": PROLOGUE + "SELECT ?c WHERE { ?c a aiw:AIUseCase } "
                                                     "ORDER BY ?c LIMIT 1"},
                           base_url="http://127.0.0.1:8080", headers={"Accept": "text/csv"})
    assert b"http://127.0.0.1:8080/id/case/" in elsewhere.data


def test_the_cache_is_invalidated_exactly_when_the_data_changes(republishable):
    client, publish = republishable
    before = count(ask(client, CASES))
    assert ask(client, CASES).headers["X-Cache"] == "hit"
    publish(new_case(1), "plus-one")
    after = ask(client, CASES)
    assert after.headers["X-Cache"] == "miss" and count(after) == before + 1
    assert ask(client, CASES).headers["X-Cache"] == "hit"
    # A republish under the same digest (a forced reload) with other data is a new version too.
    publish(new_case(1) + new_case(2), "plus-one")
    assert count(ask(client, CASES)) == before + 2


def test_documents_follow_the_published_data(republishable):
    client, publish = republishable
    first = client.get("/doc/case/pstw-1.ttl")
    assert first.status_code == 200 and client.get("/doc/case/pstw-1.ttl").data == first.data
    title = Literal("A title published later", language="en")
    publish([Quad(NamedNode(CASE), NamedNode(str(DCTERMS.title)), title, EXTRA_GRAPH)], "new-title")
    changed = client.get("/doc/case/pstw-1.ttl")
    assert changed.status_code == 200 and b"A title published later" in changed.data
    assert changed.headers["ETag"] != first.headers["ETag"]
    page = client.get("/doc/case/pstw-1", headers={"Accept": "text/html"})
    assert b"A title published later" in page.data
    # Conditional requests still get 304 from a cached document.
    again = client.get("/doc/case/pstw-1.ttl", headers={"If-None-Match": changed.headers["ETag"]})
    assert again.status_code == 304


def test_a_document_cached_for_one_origin_is_not_served_to_another(republishable):
    client, _ = republishable
    local = client.get("/doc/case/pstw-1.ttl")
    mirrored = client.get("/doc/case/pstw-1.ttl", base_url="http://127.0.0.1:8080")
    assert b"http://localhost/id/case/pstw-1" in local.data
    assert b"http://127.0.0.1:8080/id/case/pstw-1" in mirrored.data
    assert b"http://localhost/" not in mirrored.data


def test_store_versions_differ_for_each_publish(tmp_path):
    store = OxigraphStore(tmp_path / "s")
    quad = Quad(NamedNode("http://example.org/s"), NamedNode("http://example.org/p"), Literal("o"), DefaultGraph())
    first = store.publish([quad], "same")
    second = store.publish([quad], "same")
    # The caches key on digest *and* publish time: a forced republish is a new version even with the same digest.
    assert first.digest == second.digest and first.published < second.published <= datetime.now(UTC)
