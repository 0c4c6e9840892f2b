"""Costly answers are kept on disk per data version, for every server process (graph_service.sparql.shared_answers).

Each app below stands for one gunicorn worker: a new app has an empty memory cache, so an ``X-Cache: hit`` on its
first request can only come from the file another one wrote.
"""

from __future__ import annotations

import json

import pytest
from pyoxigraph import NamedNode, Quad

from graph_service.namespaces import PREFIXES
from graph_service.sparql.jobs import QueryJob, QueryOutcome
from graph_service.sparql.shared_answers import SharedAnswers
from graph_service.store import OxigraphStore
from graph_service.web import create_app

PROLOGUE = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())
CASES_PER_STATE = PROLOGUE + """SELECT ?ms (COUNT(?case) AS ?n) WHERE { ?case a aiw:AIUseCase ; aiw:memberState ?ms }
GROUP BY ?ms ORDER BY DESC(?n) ?ms"""
EXTRA_GRAPH = NamedNode("https://w3id.org/aiwatch/graph/test/extra")


@pytest.fixture()
def workers(store, settings, tmp_path):
    """``new_worker(**settings)``: another app over one private store holding the real data; ``publish(extra)``."""
    real = list(store.quads())
    private = OxigraphStore(tmp_path / "store")
    private.publish(real, "real")
    apps = []

    def new_worker(**changes):
        app = create_app(settings.replace(store_path=tmp_path / "store", **changes), private)
        apps.append(app)
        return app.test_client()

    def publish(extra: list[Quad], digest: str) -> None:
        private.publish([*real, *extra], digest)

    yield new_worker, publish, tmp_path / "store" / "answers"
    for app in apps:
        app.extensions["sparql_executor"].close()
    private.close()


def ask(client, query: str = CASES_PER_STATE, **headers):
    return client.get("/sparql", query_string={"query": query},
                      headers={"Accept": "application/sparql-results+json", **headers})


def total(response) -> int:
    return sum(int(b["n"]["value"]) for b in json.loads(response.data)["results"]["bindings"])


def test_an_answer_one_worker_computed_is_read_by_another(workers):
    new_worker, _, folder = workers
    first = ask(new_worker(shared_answer_min_s=0))
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    assert len(list(folder.glob("*/*"))) == 1
    second = ask(new_worker(shared_answer_min_s=0))
    assert second.headers["X-Cache"] == "hit"  # a new worker's memory is empty: read from the file
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    # Another format is another answer.
    as_csv = new_worker(shared_answer_min_s=0).get("/sparql", query_string={"query": CASES_PER_STATE},
                                                   headers={"Accept": "text/csv"})
    assert as_csv.headers["X-Cache"] == "miss" and as_csv.data.startswith(b"ms,n\r\n")


def test_no_cache_requests_do_not_read_the_shared_answers(workers):
    new_worker, _, _ = workers
    ask(new_worker(shared_answer_min_s=0))
    assert ask(new_worker(shared_answer_min_s=0), **{"Cache-Control": "no-cache"}).headers["X-Cache"] == "miss"


def test_cheap_answers_are_not_kept_on_disk(workers):
    new_worker, _, folder = workers
    assert ask(new_worker(shared_answer_min_s=60)).status_code == 200
    assert ask(new_worker(shared_answer_min_s=-1)).status_code == 200  # turned off
    assert not list(folder.glob("*/*"))


def test_a_new_data_version_is_never_answered_from_the_old_ones_files(workers):
    new_worker, publish, folder = workers
    before = total(ask(new_worker(shared_answer_min_s=0)))
    case = NamedNode("https://w3id.org/aiwatch/id/case/test-shared")
    publish([Quad(case, NamedNode(PREFIXES["rdf"] + "type"), NamedNode(PREFIXES["aiw"] + "AIUseCase"), EXTRA_GRAPH),
             Quad(case, NamedNode(PREFIXES["aiw"] + "memberState"),
                  NamedNode("https://w3id.org/aiwatch/id/member-state/FR"), EXTRA_GRAPH)], "plus-one")
    after = ask(new_worker(shared_answer_min_s=0))
    assert after.headers["X-Cache"] == "miss" and total(after) == before + 1
    assert len(list(folder.iterdir())) == 2  # this version's folder and the previous one's


JOB = QueryJob("SELECT * WHERE { ?s ?p ?o }", None, None, None, "json", "ttl", 10)


def outcome(body: bytes, rows: int | None = 1) -> QueryOutcome:
    return QueryOutcome("json", body, rows)


def test_an_answer_computed_while_the_data_changed_is_not_kept(tmp_path):
    shared = SharedAnswers(tmp_path, min_compute_s=0)
    assert not shared.keep("v1", JOB, outcome(b"{}"), 1.0, lambda: "v2")
    assert shared.read("v1", JOB) is None and shared.read("v2", JOB) is None
    assert shared.keep("v2", JOB, outcome(b"{}", None), 1.0, lambda: "v2")
    assert shared.read("v2", JOB) == outcome(b"{}", None) and shared.read("v1", JOB) is None


def test_the_files_are_bounded_and_old_versions_removed(tmp_path):
    shared = SharedAnswers(tmp_path, min_compute_s=0, max_bytes=100, max_entry_bytes=60)
    assert not shared.keep("v1", JOB, outcome(b"x" * 61), 1.0, lambda: "v1")  # over the size of one answer
    other = QueryJob("ASK {}", None, None, None, "json", "ttl", 10)
    assert shared.keep("v1", JOB, outcome(b"x" * 50), 1.0, lambda: "v1")
    assert not shared.keep("v1", other, outcome(b"y" * 50), 1.0, lambda: "v1")  # over the bytes of a version
    for version in ("v2", "v3"):
        assert shared.keep(version, JOB, outcome(version.encode()), 1.0, lambda v=version: v)
    assert shared.read("v1", JOB) is None  # v1's folder went when v3 was written; v2's stays a while
    assert shared.read("v2", JOB) == outcome(b"v2") and shared.read("v3", JOB) == outcome(b"v3")
