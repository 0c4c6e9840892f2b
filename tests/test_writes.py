"""Writes through SPARQL 1.1 Update (issue 7, point 1): tokens, SHACL before commit, PROV, versions, concurrency.

Real-data tests write to a copy of the loaded project store (tests/writes_support.py); the semantics of the
default graph and concurrency are shown on small throw-away stores, where each write takes milliseconds.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF
from writes_support import (
    ALICE,
    BOB,
    EX,
    Tripwire,
    bearer,
    copy_store,
    small_store,
    writable_app,
)

from graph_service.config import Settings
from graph_service.store import OxigraphStore
from graph_service.web import create_app
from graph_service.writes import Tokens

BASE = "https://w3id.org/aiwatch/"
PUBLIC = "http://localhost/"
SH = Namespace("http://www.w3.org/ns/shacl#")
PREFIXES = "PREFIX dct: <http://purl.org/dc/terms/> PREFIX aiw: <https://w3id.org/aiwatch/def/aiwatch#> "


@pytest.fixture(scope="module")
def real_copy(store: OxigraphStore, tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    return copy_store(store, tmp_path_factory.mktemp("writable-real-store"))


@pytest.fixture(scope="module")
def real_client(settings: Settings, real_copy: OxigraphStore):
    return writable_app(settings, real_copy).test_client()


@pytest.fixture()
def small(tmp_path: Path) -> OxigraphStore:
    return small_store(tmp_path / "store")


@pytest.fixture()
def small_client(settings: Settings, small: OxigraphStore):
    return writable_app(settings, small).test_client()


def _update(client, text: str, token: str | None = ALICE, **headers):
    auth = bearer(token) if token else {}
    return client.post("/sparql", data=text.encode(), headers={"Content-Type": "application/sparql-update",
                                                               **auth, **headers})


def _ask(client, query: str) -> bool:
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.get_json()["boolean"]


def _a_case(store: OxigraphStore) -> tuple[str, str]:
    """An AI use case of the PSTW graph with its title."""
    row = store.select(PREFIXES + """SELECT ?case ?title WHERE {
        GRAPH <https://w3id.org/aiwatch/graph/data/imported/pstw-cases> { ?case a aiw:AIUseCase ; dct:title ?title }
    } ORDER BY ?case LIMIT 1""")[0]
    return row["case"].value, row["title"].value


def _union(store: OxigraphStore, subject: str) -> set[str]:
    return {r["o"].value for r in store.select(f"SELECT ?o WHERE {{ <{subject}> <{EX}p> ?o }}")}


def _graphs_holding(store: OxigraphStore, value: str) -> set[str]:
    return {q.graph_name.value for q in store.quads() if q.object == pyoxigraph.Literal(value)}


# ---------------------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------------------

def test_without_configured_tokens_the_service_stays_read_only(client, store):
    before = store.version()
    response = _update(client, f"INSERT DATA {{ <{EX}s> <{EX}p> 'x' }}")
    assert response.status_code == 400 and "SPARQL Update is not accepted" in response.text
    assert client.post("/update", data={"update": "CLEAR ALL"}).status_code == 405
    assert client.put("/rdf-graph-store?default", data=b"", content_type="text/turtle").status_code == 405
    assert store.version() == before


def test_a_missing_token_is_401_with_a_bearer_challenge_and_changes_nothing(real_client, real_copy):
    before = real_copy.version()
    for headers in ({}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}, {"Authorization": "Bearer"}):
        response = real_client.post("/sparql", data={"update": f"INSERT DATA {{ <{EX}s> <{EX}p> 'no token' }}"},
                                    headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert real_copy.version() == before
    assert not _ask(real_client, f"ASK {{ <{EX}s> <{EX}p> 'no token' }}")


def test_a_wrong_token_is_403_and_changes_nothing(real_client, real_copy):
    before = real_copy.version()
    for token in ("x" * 43, ALICE[:-1], ALICE + "x", ALICE.upper()):
        response = _update(real_client, "CLEAR ALL", token=token)
        assert response.status_code == 403, response.text
        assert ALICE not in response.text
    assert real_copy.version() == before
    assert _ask(real_client, "ASK { ?s a <https://w3id.org/aiwatch/def/aiwatch#AIUseCase> }")


def test_token_configuration_is_checked_when_the_app_starts(settings, tmp_path):
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(f"# curators\nalice:{ALICE}\n\nbob:{BOB}\n", encoding="utf-8")
    tokens = Tokens.from_settings(settings.replace(write_tokens_file=str(tokens_file)))
    assert tokens.writer(f"Bearer {BOB}") == "bob" and tokens.writer(f"bearer  {ALICE} ") == "alice"
    for bad in (["alice"], [f"Alice:{ALICE}"], ["alice:short"], [f"alice:{ALICE}", f"alice:{BOB}"],
                [f"alice:{ALICE}", f"bob:{ALICE}"]):
        with pytest.raises(ValueError) as error:
            Tokens.parse(bad)
        assert ALICE not in str(error.value)
    with pytest.raises(ValueError):
        create_app(settings.replace(write_tokens=("alice:short",)))
    with pytest.raises(ValueError):
        create_app(settings.replace(write_tokens_file=str(tmp_path / "missing")))


# ---------------------------------------------------------------------------------------------------------------
# Accepted and refused writes on the real data
# ---------------------------------------------------------------------------------------------------------------

def test_an_accepted_write_is_visible_through_sparql_and_doc_with_new_etags(real_client, real_copy):
    case, old_title = _a_case(real_copy)
    doc = "/doc/" + case.removeprefix(BASE + "id/")
    page = real_client.get(doc, headers={"Accept": "text/turtle"})
    ask = f'ASK {{ <{case}> <http://purl.org/dc/terms/title> "A curated title"@en }}'
    answer = real_client.get("/sparql", query_string={"query": ask})
    before = real_copy.version()

    public_case = case.replace(BASE, PUBLIC)  # written as the serving origin spells it, stored under the base
    response = _update(real_client, PREFIXES + f"""
        DELETE {{ <{public_case}> dct:title ?title }} INSERT {{ <{public_case}> dct:title "A curated title"@en }}
        WHERE {{ <{public_case}> dct:title ?title }}""")
    assert response.status_code == 200, response.text
    assert "Written by alice" in response.text

    after = real_copy.version()
    assert after.digest != before.digest and after.published > before.published
    new_page = real_client.get(doc, headers={"Accept": "text/turtle"})
    assert new_page.headers["ETag"] != page.headers["ETag"]
    assert "A curated title" in new_page.text and old_title not in new_page.text
    revalidated = real_client.get(doc, headers={"Accept": "text/turtle", "If-None-Match": page.headers["ETag"]})
    assert revalidated.status_code == 200
    new_answer = real_client.get("/sparql", query_string={"query": ask})
    assert new_answer.headers["ETag"] != answer.headers["ETag"] and _ask(real_client, ask)
    # The old title left its source graph; the new one, written to the default graph, is in graph/writes.
    assert real_copy.ask(f"""ASK {{ GRAPH <{BASE}graph/writes> {{ <{case}> <http://purl.org/dc/terms/title> ?t }}
                                FILTER NOT EXISTS {{ GRAPH ?g {{ <{case}> <http://purl.org/dc/terms/title> {
                                    pyoxigraph.Literal(old_title, language="en")} }} }} }}""")


def test_a_violating_write_is_422_with_the_shacl_report_and_changes_nothing(real_client, real_copy):
    case, _ = _a_case(real_copy)
    before = real_copy.version()
    text = PREFIXES + f'INSERT DATA {{ <{case}> dct:title "A second title"@en ; aiw:status "not a concept" }}'
    response = _update(real_client, text)
    assert response.status_code == 422, response.text
    assert response.content_type.startswith("text/plain")
    focus = "id:" + case.removeprefix(BASE + "id/")
    assert f"Violation: {focus} – dct:title – " in response.text
    assert f"Violation: {focus} – aiw:status – " in response.text
    assert "Nothing was changed" in response.text

    as_turtle = _update(real_client, text, Accept="text/turtle")
    assert as_turtle.status_code == 422 and as_turtle.content_type.startswith("text/turtle")
    report = Graph().parse(data=as_turtle.text, format="turtle")
    top = report.value(predicate=RDF.type, object=SH.ValidationReport)
    assert report.value(top, SH.conforms) == Literal(False)
    focus_nodes = {report.value(r, SH.focusNode) for r in report.objects(top, SH.result)}
    assert focus_nodes == {URIRef(case.replace(BASE, PUBLIC))}

    assert real_copy.version() == before
    assert not real_copy.ask(f'ASK {{ <{case}> <http://purl.org/dc/terms/title> "A second title"@en }}')
    assert not [p for p in (real_copy.path / "versions").iterdir() if p.name.endswith(".partial")]


def test_each_accepted_write_is_recorded_with_prov(real_client, real_copy):
    text = PREFIXES + f'INSERT DATA {{ GRAPH <{EX}graph/notes> {{ <{EX}note/1> dct:description "noted"@en }} }}'
    started = datetime.now(UTC)
    response = _update(real_client, text, token=BOB)
    assert response.status_code == 200, response.text
    rows = real_copy.select(f"""
        PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX spdx: <http://spdx.org/rdf/terms#>
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?activity ?agent ?start ?end ?text ?sha ?generated WHERE {{
            GRAPH <{BASE}graph/write-log> {{
                ?activity a prov:Activity ; prov:wasAssociatedWith ?agent ; prov:startedAtTime ?start ;
                    prov:endedAtTime ?end ; prov:generated ?generated ;
                    prov:used [ rdf:value ?text ; spdx:checksum [ spdx:checksumValue ?sha ] ] .
                ?agent a prov:Agent .
            }}
            FILTER (?text = {pyoxigraph.Literal(text)})
        }}""")
    assert len(rows) == 1
    row = rows[0]
    assert row["agent"].value == f"{BASE}id/agent/bob"
    assert row["sha"].value == hashlib.sha256(text.encode()).hexdigest()
    assert row["generated"].value == f"{EX}graph/notes"
    start = datetime.fromisoformat(row["start"].value.replace("Z", "+00:00"))
    end = datetime.fromisoformat(row["end"].value.replace("Z", "+00:00"))
    assert started <= start <= end <= datetime.now(UTC)


def test_a_syntax_error_is_400_and_changes_nothing(real_client, real_copy):
    before = real_copy.version()
    response = _update(real_client, "INSERT DATA { <http://example.org/s> <http://example.org/p> }")
    assert response.status_code == 400 and "not valid SPARQL 1.1 Update" in response.text
    assert real_copy.version() == before


# ---------------------------------------------------------------------------------------------------------------
# Nothing is fetched
# ---------------------------------------------------------------------------------------------------------------

def test_load_and_service_are_refused_without_any_connection(small_client, small):
    tripwire = Tripwire()
    try:
        before = small.version()
        for text in (f"LOAD <{tripwire.url}data.ttl>",
                     f"LOAD SILENT <{tripwire.url}data.ttl> INTO GRAPH <{EX}g>",
                     "LOAD <file:///etc/passwd>",
                     f"INSERT DATA {{ <{EX}s> <{EX}p> 'x' }} ; load <{tripwire.url}>",
                     f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{tripwire.url}sparql> {{ ?s ?p ?o }} }}"):
            response = _update(small_client, text)
            assert response.status_code == 403, (text, response.text)
        assert tripwire.connections() == 0
        assert small.version() == before
    finally:
        tripwire.close()


# ---------------------------------------------------------------------------------------------------------------
# The default graph is the union, for writes too
# ---------------------------------------------------------------------------------------------------------------

def test_an_insert_into_the_default_graph_lands_in_the_writes_graph(small_client, small):
    assert _update(small_client, f"INSERT DATA {{ <{EX}s> <{EX}p> 'new' }}").status_code == 200
    assert _graphs_holding(small, "new") == {f"{BASE}graph/writes"}
    assert _union(small, EX + "s") == {"shared", "only in one", "new"}


def test_a_delete_from_the_default_graph_deletes_from_every_graph(small_client, small):
    assert _update(small_client, f"DELETE DATA {{ <{EX}s> <{EX}p> 'shared' }}").status_code == 200
    assert _graphs_holding(small, "shared") == set()
    assert _union(small, EX + "s") == {"only in one"}


def test_a_delete_from_one_graph_keeps_what_another_graph_states(small_client, small):
    one = f"{EX}graph/one"
    assert _update(small_client, f"DELETE DATA {{ GRAPH <{one}> {{ <{EX}s> <{EX}p> 'shared' }} }}").status_code == 200
    assert _graphs_holding(small, "shared") == {f"{EX}graph/two"}
    assert "shared" in _union(small, EX + "s")
    assert _update(small_client, f"DROP GRAPH <{EX}graph/two>").status_code == 200
    assert _union(small, EX + "s") == {"only in one"}


def test_a_move_out_of_the_default_graph_keeps_the_triple_where_it_was_put(small_client, small):
    response = _update(small_client, f"""DELETE {{ ?s ?p 'only in one' }}
        INSERT {{ GRAPH <{EX}graph/three> {{ ?s ?p 'only in one' }} }} WHERE {{ ?s ?p 'only in one' }}""")
    assert response.status_code == 200, response.text
    assert _graphs_holding(small, "only in one") == {f"{EX}graph/three"}
    assert _union(small, EX + "s") == {"shared", "only in one"}


def test_the_update_alias_takes_forms_and_bodies_but_no_queries(small_client, small):
    form = small_client.post("/update", data={"update": f"INSERT DATA {{ <{EX}s> <{EX}p> 'form' }}"},
                             headers=bearer(ALICE))
    body = small_client.post("/update", data=f"INSERT DATA {{ <{EX}s> <{EX}p> 'body' }}",
                             headers={"Content-Type": "application/sparql-update", **bearer(ALICE)})
    assert (form.status_code, body.status_code) == (200, 200), (form.text, body.text)
    assert {"form", "body"} <= _union(small, EX + "s")
    query = small_client.post("/update", data={"query": "ASK {}"}, headers=bearer(ALICE))
    assert query.status_code == 400
    assert small_client.post("/update", data={"update": "CLEAR ALL"}).status_code == 401
    assert small_client.get("/update").status_code == 405


def test_oversized_updates_are_413(settings, small):
    client = writable_app(settings, small, max_write_bytes=1_000, max_request_bytes=1_000).test_client()
    before = small.version()
    text = f"INSERT DATA {{ <{EX}s> <{EX}p> '{'x' * 2_000}' }}"
    assert client.post("/update", data=text, headers={"Content-Type": "application/sparql-update",
                                                     **bearer(ALICE)}).status_code == 413
    assert _update(client, text).status_code == 413
    assert small.version() == before


def test_a_violation_present_before_a_write_does_not_block_it_but_a_new_one_does(settings, tmp_path):
    store = OxigraphStore(tmp_path / "store")
    case = f"{BASE}id/case/incomplete"  # an AI use case without its required title, identifier and source
    store.publish([pyoxigraph.Quad(pyoxigraph.NamedNode(case), pyoxigraph.NamedNode(str(RDF.type)),
                                   pyoxigraph.NamedNode(f"{BASE}def/aiwatch#AIUseCase"),
                                   pyoxigraph.NamedNode(f"{BASE}graph/legacy"))], "legacy")
    client = writable_app(settings, store).test_client()
    edit = _update(client, PREFIXES + f'INSERT DATA {{ <{case}> dct:description "Described."@en }}')
    assert edit.status_code == 200, edit.text
    worse = _update(client, PREFIXES + f'INSERT DATA {{ <{case}> dct:description "Not English" }}')
    assert worse.status_code == 422 and "dct:description" in worse.text and "dct:title" not in worse.text


# ---------------------------------------------------------------------------------------------------------------
# Concurrent writers
# ---------------------------------------------------------------------------------------------------------------

def test_concurrent_writer_threads_lose_nothing(settings, small):
    app = writable_app(settings, small)
    failures: list[str] = []

    def write(name: str) -> None:
        client = app.test_client()
        for number in range(4):
            response = _update(client, f"INSERT DATA {{ <{EX}{name}> <{EX}p> {number} }}")
            if response.status_code != 200:
                failures.append(response.text)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("t1", "t2", "t3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert {name: len(_union(small, EX + name)) for name in ("t1", "t2", "t3")} == {"t1": 4, "t2": 4, "t3": 4}
    assert len(small.select("SELECT ?a WHERE { ?a a <http://www.w3.org/ns/prov#Activity> }")) == 12


WRITER = """
import sys
from graph_service.store import OxigraphStore
store = OxigraphStore(sys.argv[1])
for number in range(int(sys.argv[3])):
    store.update(f"INSERT DATA {{ <http://example.org/{sys.argv[2]}> <http://example.org/p> {number} }}",
                 default_target="http://example.org/graph/writes")
"""


def test_concurrent_writer_processes_lose_nothing(small):
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(small.path), name, "5"])
               for name in ("p1", "p2", "p3")]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0]
    assert {name: len(_union(small, EX + name)) for name in ("p1", "p2", "p3")} == {"p1": 5, "p2": 5, "p3": 5}


def test_an_update_running_past_its_time_limit_is_cancelled_and_changes_nothing(settings, small):
    client = writable_app(settings, small, update_timeout_s=1.0).test_client()
    before = small.version()
    numbers = " ".join(str(n) for n in range(100))
    endless = (f"INSERT {{ <{EX}s> <{EX}p> ?v0 }} WHERE {{ "
               + " ".join(f"VALUES ?v{i} {{ {numbers} }}" for i in range(5)) + " FILTER (?v0 + ?v1 + ?v4 < 0) }")
    response = _update(client, endless)
    assert response.status_code == 503 and "cancelled" in response.text, response.text
    assert small.version() == before
    assert not [p for p in (small.path / "versions").iterdir() if p.name.endswith(".partial")]
    assert _update(client, f"INSERT DATA {{ <{EX}s> <{EX}p> 'after' }}").status_code == 200


def test_the_token_command_mints_a_usable_token():
    from click.testing import CliRunner

    from graph_service.cli import main

    result = CliRunner().invoke(main, ["token", "curator-1"])
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert Tokens.parse([line]).writer(f"Bearer {line.partition(':')[2]}") == "curator-1"
    assert CliRunner().invoke(main, ["token", "Not A Name"]).exit_code != 0


def test_the_record_graphs_keep_their_history_and_only_the_service_writes_them(small_client, small):
    log = f"{BASE}graph/write-log"
    assert _update(small_client, f"INSERT DATA {{ <{EX}s> <{EX}p> 'first' }}").status_code == 200
    assert _update(small_client, "CLEAR ALL").status_code == 200
    assert _union(small, EX + "s") == set()
    activities = small.select(f"SELECT ?a WHERE {{ GRAPH <{log}> {{ ?a a <http://www.w3.org/ns/prov#Activity> }} }}")
    assert len(activities) == 2  # the insert and the CLEAR ALL: clearing the data keeps the history
    before = small.version()
    forged = _update(small_client, f"INSERT DATA {{ GRAPH <{log}> {{ <{EX}forged> a <http://www.w3.org/ns/prov#Activity> }} }}")
    assert forged.status_code == 403
    assert small_client.delete(f"/rdf-graph-store?graph={log}", headers=bearer(ALICE)).status_code == 403
    assert small_client.put(f"/rdf-graph-store?graph={BASE}graph/load", data=b"", content_type="text/turtle",
                            headers=bearer(ALICE)).status_code == 403
    assert small.version() == before


def test_a_large_write_is_validated_in_full_against_the_data_before_it(settings, tmp_path):
    store = OxigraphStore(tmp_path / "store")
    legacy = pyoxigraph.NamedNode(f"{BASE}id/case/incomplete")  # violates the shapes before any write
    store.publish([pyoxigraph.Quad(legacy, pyoxigraph.NamedNode(str(RDF.type)),
                                   pyoxigraph.NamedNode(f"{BASE}def/aiwatch#AIUseCase"),
                                   pyoxigraph.NamedNode(f"{BASE}graph/legacy"))], "legacy")
    client = writable_app(settings, store).test_client()

    def many(start: int) -> str:  # more subjects than the focus-node validation takes
        return "".join(f"<{EX}n{n}> <{EX}p> 'x' .\n" for n in range(start, start + 450))

    headers = {"Content-Type": "text/turtle", **bearer(ALICE)}
    assert client.post(f"/rdf-graph-store?graph={EX}graph/many", data=many(0), headers=headers).status_code == 201
    bad = many(450) + f"<{BASE}id/case/other> a <{BASE}def/aiwatch#AIUseCase> .\n"
    refused = client.post(f"/rdf-graph-store?graph={EX}graph/many", data=bad, headers=headers)
    assert refused.status_code == 422 and "id:case/other" in refused.text and "id:case/incomplete" not in refused.text
    assert client.post(f"/rdf-graph-store?graph={EX}graph/many", data=many(900), headers=headers).status_code == 200
    assert len(store.select(f"SELECT ?s WHERE {{ GRAPH <{EX}graph/many> {{ ?s ?p ?o }} }}")) == 900
