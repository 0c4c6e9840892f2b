"""Operations: liveness and readiness, per-client limits, structured access logs, backup and restore."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph
import pytest
import requests
from click.testing import CliRunner
from conftest import start_server
from rdflib import Graph
from rdflib.compare import isomorphic
from test_hostile_input import stop_server_and_descendants
from test_loading import BROKEN_MALTA, make_small_project

from graph_service.cli import main
from graph_service.config import PROJECT_ROOT, Settings
from graph_service.loading import load
from graph_service.loading.sources import sha256_of
from graph_service.sparql.query_text import structural_operators
from graph_service.store import GraphStore, OxigraphStore
from graph_service.web import create_app
from graph_service.web.access_log import LOGGER_NAME
from graph_service.web.limits import (
    ClientIdentity,
    ClientTable,
    Lease,
    Policy,
    Refusal,
    check_query_structure,
    limit_key,
)

ASK = {"query": "ASK { ?s ?p ?o }"}


def app_with(settings: Settings, store: GraphStore, **changes):
    app = create_app(settings.replace(**changes), store)
    app.config["TESTING"] = True
    return app


# --- health and readiness -----------------------------------------------------------------------------------------

def test_health_says_alive_and_ready_names_the_published_version(client, store):
    assert client.get("/health").json["status"] == "ok"
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json["status"] == "ready" and ready.json["data_version"] == store.version().digest


def test_an_empty_store_is_alive_but_not_ready(settings, tmp_path):
    app = app_with(settings, OxigraphStore(tmp_path / "empty"))
    client = app.test_client()
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.json["status"] == "empty" and "graph-service load" in ready.json["error"]


def test_probes_are_never_limited(settings, store):
    client = app_with(settings, store, client_rate_per_s=0.01, client_burst=1).test_client()
    assert client.get("/sparql", query_string=ASK).status_code == 200
    assert client.get("/sparql", query_string=ASK).status_code == 429
    for _ in range(5):
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 200


# --- per-client limits --------------------------------------------------------------------------------------------

def test_a_client_past_its_rate_gets_429_with_retry_after_and_others_do_not(settings, store):
    client = app_with(settings, store, client_rate_per_s=0.5, client_burst=3).test_client()
    assert [client.get("/sparql", query_string=ASK).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/sparql", query_string=ASK)
    assert refused.status_code == 429 and refused.mimetype == "text/plain"
    assert "0.5 requests per second" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    other = client.get("/sparql", query_string=ASK, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 200


def test_a_bucket_refills_at_the_configured_rate():
    table, policy = ClientTable(slots=16), Policy(rate_per_s=2.0, burst=2, max_concurrent=0, lease_s=60)
    key = limit_key("203.0.113.1")
    assert all(isinstance(table.admit(key, policy, now=100.0), Lease) for _ in range(2))
    refusal = table.admit(key, policy, now=100.0)
    assert refusal == Refusal("rate", 1)
    assert isinstance(table.admit(key, policy, now=100.5), Lease)  # one token back after 1/rate s
    assert isinstance(table.admit(key, policy, now=100.6), Refusal)


def test_requests_in_flight_are_limited_and_released():
    table, policy = ClientTable(slots=16), Policy(rate_per_s=0, burst=1, max_concurrent=2, lease_s=60)
    key = limit_key("203.0.113.2")
    first, second = table.admit(key, policy, now=10.0), table.admit(key, policy, now=10.0)
    assert isinstance(first, Lease) and isinstance(second, Lease) and table.in_flight(key) == 0  # leases of t=10
    assert table.admit(key, policy, now=11.0) == Refusal("concurrency", 1)
    table.release(first)
    assert isinstance(table.admit(key, policy, now=11.0), Lease)


def test_leases_a_killed_worker_never_released_expire():
    table, policy = ClientTable(slots=16), Policy(rate_per_s=0, burst=1, max_concurrent=1, lease_s=90)
    key = limit_key("203.0.113.3")
    assert isinstance(table.admit(key, policy, now=0.0), Lease)  # never released
    assert isinstance(table.admit(key, policy, now=45.0), Refusal)
    assert isinstance(table.admit(key, policy, now=91.0), Lease)


def test_a_new_client_takes_the_slot_of_an_idle_one_not_of_an_active_one():
    table, policy = ClientTable(slots=8), Policy(rate_per_s=1.0, burst=1, max_concurrent=0, lease_s=60)
    for n in range(7):  # the whole table: seven clients seen long ago...
        assert isinstance(table.admit(limit_key(f"198.18.0.{n}"), policy, now=0.0), Lease)
    active = limit_key("203.0.113.4")
    assert isinstance(table.admit(active, policy, now=9.9), Lease)  # ...and one that just spent its budget
    for n in range(5):
        assert isinstance(table.admit(limit_key(f"198.18.1.{n}"), policy, now=10.0), Lease)
    assert isinstance(table.admit(active, policy, now=10.0), Refusal)  # its empty bucket was kept


def _hold_the_lock_and_die(table: ClientTable, key: int) -> None:
    with table._locked(table.window(key)):
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_while_holding_the_lock_does_not_block_the_others():
    table, policy = ClientTable(slots=16), Policy(rate_per_s=10, burst=10, max_concurrent=4, lease_s=60)
    key = limit_key("203.0.113.5")
    child = multiprocessing.get_context("fork").Process(target=_hold_the_lock_and_die, args=(table, key))
    child.start()
    child.join(30)
    assert child.exitcode == -signal.SIGKILL
    outcome: list = []
    admitting = threading.Thread(target=lambda: outcome.append(table.admit(key, policy)),
                                 daemon=True)
    admitting.start()
    admitting.join(30)
    assert outcome and isinstance(outcome[0], Lease), "the lock of a dead process must be free"


def test_a_client_is_the_peer_unless_a_trusted_proxy_names_it():
    nobody = ClientIdentity(())
    assert nobody.address("203.0.113.9", "198.51.100.1") == "203.0.113.9"  # X-Forwarded-For is not believed
    proxies = ClientIdentity("10.0.0.0/8, 192.168.0.1")
    assert proxies.address("203.0.113.9", "198.51.100.1") == "203.0.113.9"  # the peer is no proxy of ours
    assert proxies.address("10.0.0.2", "198.51.100.1") == "198.51.100.1"
    # A client writing its own X-Forwarded-For is named by what our proxy appended, the nearest untrusted hop.
    assert proxies.address("10.0.0.2", "1.2.3.4, 198.51.100.1") == "198.51.100.1"
    assert proxies.address("10.0.0.2", "1.2.3.4, 198.51.100.1, 192.168.0.1") == "198.51.100.1"
    assert proxies.address("10.0.0.2", "198.51.100.1, not-an-address") == "10.0.0.2"
    assert proxies.address("10.0.0.2", "[2001:db8::5]:4711") == "2001:db8::5"
    assert proxies.address("::ffff:10.0.0.2", "198.51.100.1") == "198.51.100.1"


def test_ipv6_clients_are_counted_by_their_64_bit_prefix():
    assert limit_key("2001:db8:1:2::1") == limit_key("2001:db8:1:2:ffff::9")
    assert limit_key("2001:db8:1:2::1") != limit_key("2001:db8:1:3::1")
    assert limit_key("203.0.113.1") != limit_key("203.0.113.2")


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(settings, store):
    trusting = app_with(settings, store, client_rate_per_s=0.01, client_burst=1,
                        trusted_proxies=("127.0.0.1",)).test_client()
    assert trusting.get("/sparql", query_string=ASK, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert trusting.get("/sparql", query_string=ASK, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert trusting.get("/sparql", query_string=ASK, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200

    naive = app_with(settings, store, client_rate_per_s=0.01, client_burst=1).test_client()
    assert naive.get("/sparql", query_string=ASK, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert naive.get("/sparql", query_string=ASK, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 429


def test_limits_come_from_the_environment():
    settings = Settings.from_env(environ={"AIWATCH_TRUSTED_PROXIES": "10.0.0.0/8 192.168.0.1",
                                          "AIWATCH_CLIENT_RATE_PER_S": "2.5", "AIWATCH_CLIENT_MAX_CONCURRENT": "3",
                                          "AIWATCH_MAX_QUERY_OPERATORS": "100"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.0.1")
    assert (settings.client_rate_per_s, settings.client_max_concurrent, settings.max_query_operators) == (2.5, 3, 100)
    with pytest.raises(ValueError, match="trusted_proxies"):
        ClientIdentity(("10.0.0.0/8", "proxy.example"))


def test_the_hosts_answered_by_default_are_the_loopback_names_and_the_configured_ones():
    default = Settings.from_env(environ={"AIWATCH_DOWNLOAD_ORIGINS": "https://mirror.example.org:8443/",
                                         "AIWATCH_HOST": "0.0.0.0"})
    assert default.answered_hosts == ["localhost", "127.0.0.1", "w3id.org", "mirror.example.org"]
    assert Settings.from_env(environ={"AIWATCH_HOST": "data.example.org"}).answered_hosts[-1] == "data.example.org"
    assert Settings.from_env(environ={"AIWATCH_TRUSTED_HOSTS": ".example.org"}).answered_hosts == [".example.org"]
    assert Settings.from_env(environ={"AIWATCH_TRUSTED_HOSTS": "*"}).answered_hosts is None


@pytest.mark.parametrize(("trusted", "host", "status"), [
    ((), "localhost:5000", 200), ((), "127.0.0.1:8080", 200), ((), "w3id.org", 200),
    ((), "attacker.example", 400), ((), "localhost.attacker.example", 400),
    ((".example.org",), "data.example.org", 200), ((".example.org",), "localhost", 400), (("*",), "anything.test", 200),
])
def test_only_the_hosts_answered_for_are_served(settings, store, trusted, host, status):
    from graph_service.web import create_app

    client = create_app(settings.replace(trusted_hosts=trusted), store).test_client()
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}, headers={"Host": host})
    assert response.status_code == status
    if status == 400:
        assert response.mimetype == "text/plain" and "AIWATCH_TRUSTED_HOSTS" in response.get_data(as_text=True)


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(client, settings):
    response = client.get("/doc/report/jrc126501", data=b"x" * (settings.max_request_bytes + 1))
    assert response.status_code == 413 and response.mimetype == "text/plain"
    assert response.headers["Connection"] == "close"


@pytest.mark.parametrize("query", sorted((PROJECT_ROOT / "graph_service" / "sparql_examples").glob("*.rq")),
                         ids=lambda p: p.stem)
def test_the_example_queries_are_far_below_the_structure_limit(query, settings):
    assert structural_operators(query.read_text()) * 10 < settings.max_query_operators


def test_what_the_structure_limit_counts():
    assert structural_operators("SELECT ?s WHERE { ?s ?p ?o }") == 2  # SELECT, {
    assert structural_operators('SELECT ?s WHERE { ?s ?p "{{{{((((" }') == 2  # strings do not count
    assert structural_operators("SELECT ?s WHERE { ?s <http://a.org/b/c.d/e> ?o } # {{{{") == 2  # IRIs, comments
    assert structural_operators("SELECT ?s WHERE { ?s ?p ?o . ?o ?q ?r }") == 3  # and each "."
    assert structural_operators("SELECT ?s WHERE { FILTER(STR(?x)) }") == 7  # FILTER, and each call 2
    values = "SELECT * { VALUES ?x { " + " ".join(f"<urn:x:{n}>" for n in range(5000)) + " } }"
    assert structural_operators(values) == 3  # SELECT * { : VALUES data is flat
    in_list = "SELECT * { ?s ?p ?o FILTER(?o IN (" + ", ".join(str(n) for n in range(5000)) + ")) }"
    check_query_structure(in_list, 800)  # argument lists are flat
    hidden = "SELECT * { FILTER(1<" + "(" * 900 + "2" + ")" * 900 + ">0) }"
    assert structural_operators(hidden) > 900  # "<" after an operand is "less than", not an IRI


# --- access logs --------------------------------------------------------------------------------------------------

def access_lines(caplog) -> list[dict]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == LOGGER_NAME]


def test_each_request_is_one_json_line_with_the_request_id_it_echoes(client, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    response = client.get("/doc/report/jrc126501.ttl", headers={"X-Request-ID": "case-42.a:b",
                                                                "User-Agent": "ops-test/1.0"})
    body = response.get_data()  # the line is written once the body is sent
    assert response.headers["X-Request-ID"] == "case-42.a:b"
    [line] = access_lines(caplog)
    assert line["request_id"] == "case-42.a:b"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/doc/report/jrc126501.ttl", 200)
    assert line["bytes"] == len(body) and line["duration_ms"] >= 0
    assert line["client"] == "127.0.0.1" and line["user_agent"] == "ops-test/1.0" and line["pid"] == os.getpid()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert "query_ms" not in line


def test_sparql_requests_log_their_query_time(client, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    response = client.post("/sparql", data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    response.close()
    [line] = access_lines(caplog)
    assert response.status_code == 200 and line["path"] == "/sparql"
    assert 0 <= line["query_ms"] <= line["duration_ms"] and line["cache"] in ("hit", "miss")


def test_a_request_id_that_is_not_a_sensible_token_is_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    for incoming in ("two words", "x" * 200, "<script>", ""):
        response = client.get("/health", headers={"X-Request-ID": incoming})
        response.close()
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert len({line["request_id"] for line in access_lines(caplog)}) == 4


def test_refused_requests_are_logged_too(settings, store, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    client = app_with(settings, store, client_rate_per_s=0.01, client_burst=1).test_client()
    client.get("/sparql", query_string=ASK).close()
    client.get("/sparql", query_string=ASK).close()
    assert [line["status"] for line in access_lines(caplog)] == [200, 429]


def test_serve_logs_each_request_once_as_json(settings, store, tmp_path):
    log_file = tmp_path / "access.log"
    # (8 at once from one client: the concurrency limit raised to let them all in; logging is under test here)
    server = start_server(settings, env={"AIWATCH_ACCESS_LOG": str(log_file), "AIWATCH_CLIENT_MAX_CONCURRENT": "8"})
    try:
        sent = []
        with ThreadPoolExecutor(8) as pool:
            def fetch(n: int) -> str:
                request_id = f"serve-{n}"
                path = "/sparql" if n % 2 else "/doc/report/jrc126501"
                params = {"query": f"ASK {{ ?s ?p {n} }}"} if n % 2 else None
                assert requests.get(server.url + path, params=params, headers={"X-Request-ID": request_id},
                                    timeout=30).headers["X-Request-ID"] == request_id
                return request_id
            sent = list(pool.map(fetch, range(40)))
    finally:
        stop_server_and_descendants(server)
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]  # every line is JSON
    by_id = {}
    for line in lines:
        by_id.setdefault(line["request_id"], []).append(line)
    assert all(len(by_id[request_id]) == 1 for request_id in sent)
    sparql = [by_id[f"serve-{n}"][0] for n in range(1, 40, 2)]
    assert all("query_ms" in line and line["status"] == 200 for line in sparql)
    assert len({line["pid"] for line in lines}) >= 1


# --- the limits are shared by the worker processes of serve ------------------------------------------------------

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_the_concurrency_limit_holds_across_the_worker_processes_of_serve(settings, store, tmp_path):
    """With one request in flight allowed, a client running a long query is refused everywhere else: whichever of
    the two worker processes gets its next requests (the access log shows both answered)."""
    log_file = tmp_path / "access.log"
    server = start_server(settings, env={"AIWATCH_CLIENT_MAX_CONCURRENT": "1", "AIWATCH_CLIENT_RATE_PER_S": "0",
                                         "AIWATCH_QUERY_TIMEOUT_S": "6", "AIWATCH_ACCESS_LOG": str(log_file)})
    try:
        slow: list[requests.Response] = []
        running = threading.Thread(target=lambda: slow.append(requests.post(
            f"{server.url}/sparql", data={"query": RUNAWAY}, headers={"X-Request-ID": "slow"}, timeout=60)))
        running.start()
        time.sleep(1)  # the slow query is admitted when it arrives (a request racing it could take the slot)
        with ThreadPoolExecutor(6) as pool:
            refused = list(pool.map(lambda n: requests.get(
                f"{server.url}/sparql", params=ASK, headers={"X-Request-ID": f"refused-{n}"}, timeout=30), range(24)))
        running.join(60)
        after = requests.get(f"{server.url}/sparql", params=ASK, timeout=30)
    finally:
        stop_server_and_descendants(server)
    assert slow[0].status_code == 503  # cancelled by the time limit, holding its slot until then
    assert [r.status_code for r in refused] == [429] * 24
    assert all(r.headers["Retry-After"] == "1" for r in refused)
    assert after.status_code == 200
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    refusing = {line["pid"] for line in lines if line["request_id"].startswith("refused-")}
    assert len(refusing) == 2, "both worker processes refused: the limit is shared, not per process"


# --- backup and restore -------------------------------------------------------------------------------------------

def graphs_of(store: GraphStore) -> dict[str, list[pyoxigraph.Quad]]:
    graphs: dict[str, list[pyoxigraph.Quad]] = {}
    for quad in store.quads():
        graphs.setdefault(quad.graph_name.value, []).append(quad)
    return graphs


def same_graph(left: list[pyoxigraph.Quad], right: list[pyoxigraph.Quad]) -> bool:
    """Equal ground triples, and isomorphic blank node structures."""
    def split(quads):
        ground, blank = set(), []
        for q in quads:
            triple = pyoxigraph.Triple(q.subject, q.predicate, q.object)
            if isinstance(q.subject, pyoxigraph.BlankNode) or isinstance(q.object, pyoxigraph.BlankNode):
                blank.append(triple)
            else:
                ground.add(triple)
        graph = Graph()
        data = pyoxigraph.serialize(blank, format=pyoxigraph.RdfFormat.N_TRIPLES)
        if data:
            graph.parse(data=data, format="nt")
        return ground, graph

    left_ground, left_blank = split(left)
    right_ground, right_blank = split(right)
    return left_ground == right_ground and len(left_blank) == len(right_blank) and isomorphic(left_blank, right_blank)


@pytest.mark.slow  # the restore validates the whole data with SHACL, as a load does (~20 s)
def test_dump_then_restore_round_trips_every_graph_exactly(settings, store, tmp_path):
    runner, backup, restored_path = CliRunner(), tmp_path / "backup.nq", tmp_path / "restored"
    dumped = runner.invoke(main, ["--store", str(settings.store_path), "dump", "--format", "nq", "-o", str(backup)])
    assert dumped.exit_code == 0, dumped.output
    result = runner.invoke(main, ["--store", str(restored_path), "restore", str(backup)])
    assert result.exit_code == 0, result.output
    restored = OxigraphStore(restored_path)
    assert restored.version().digest == sha256_of(backup)[:16]
    assert f"restored version {sha256_of(backup)[:16]}" in result.stdout

    original, copy = graphs_of(store), graphs_of(restored)
    assert sorted(copy) == sorted(original) == store.graph_names()
    different = [name for name in original if not same_graph(original[name], copy[name])]
    assert different == []
    # The default graph is the union again, as after a load.
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert restored.select(count)[0]["n"].value == store.select(count)[0]["n"].value


@pytest.fixture()
def small_project(tmp_path) -> Settings:
    return make_small_project(tmp_path)


def restore_cli(project: Settings, backup: Path):
    return CliRunner().invoke(main, ["--store", str(project.store_path), "restore", str(backup)],
                              env={"AIWATCH_PROJECT_ROOT": str(project.project_root)})


def test_a_backup_that_violates_the_shapes_is_refused_and_the_previous_version_stays(small_project, tmp_path):
    store = OxigraphStore(small_project.store_path)
    before = load(small_project, store).version
    broken = tmp_path / "broken.nq"
    graph = pyoxigraph.NamedNode("https://w3id.org/aiwatch/graph/data/malta")
    quads = [pyoxigraph.Quad(t.subject, t.predicate, t.object, graph)
             for t in pyoxigraph.parse(BROKEN_MALTA.encode(), format=pyoxigraph.RdfFormat.TURTLE)]
    pyoxigraph.serialize(quads, str(broken), format=pyoxigraph.RdfFormat.N_QUADS)

    result = restore_cli(small_project, broken)

    assert result.exit_code == 1 and "SHACL violation" in result.output and "id:member-state/mlt" in result.output
    assert OxigraphStore(small_project.store_path).version() == before


@pytest.mark.parametrize(("content", "name", "message"), [
    ("<urn:a> <urn:b> <urn:c> .\n", "backup.ttl", "N-Quads"),
    ("<urn:a> <urn:b> <urn:c> .\n", "backup.nq", "outside any named graph"),
    ("<urn:a> <urn:b> .\n", "backup.nq", "could not be parsed"),
    ("", "backup.nq", "empty"),
])
def test_what_is_not_a_backup_is_refused(small_project, tmp_path, content, name, message):
    store = OxigraphStore(small_project.store_path)
    before = load(small_project, store).version
    backup = tmp_path / name
    backup.write_text(content)
    result = restore_cli(small_project, backup)
    assert result.exit_code == 1 and message in result.output
    assert OxigraphStore(small_project.store_path).version() == before
