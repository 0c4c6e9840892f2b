"""The remote backend over a real Virtuoso on 127.0.0.1 (started by scripts/virtuoso/ unless already given).

The store contract of ``store_contract`` runs here on both backends; the tests below are about what only an
external engine has: its upload paths, graphs of its own, refusals, the real project data, and several service
processes sharing it.
"""

from __future__ import annotations

import csv
import http.server
import io
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
import requests
from conftest import start_server, stop_server
from pyoxigraph import BlankNode, Literal, NamedNode, Quad
from rdflib import Graph
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT
from requests.auth import HTTPDigestAuth
from store_contract import *  # noqa: F403 - the store contract, collected here for both backends
from store_contract import (
    EX,
    XSD,
    count,
    graph,
    quad,
    rdflib_graph,
    remote_settings,
    sample,
    settings_environment,
    values,
)

from graph_service.config import Settings
from graph_service.store import GraphStore, StoreError, open_store
from graph_service.store.base import QueryTimedOut
from graph_service.store.remote import RemoteStore
from graph_service.store.virtuoso_sparql import iri_tests_for_virtuoso

pytestmark = pytest.mark.virtuoso


def new_remote(engine: dict[str, str], **changes: object) -> RemoteStore:
    dataset = f"remote-{time.monotonic_ns()}"
    store = open_store(remote_settings(Settings.from_env(environ={}), engine, remote_dataset=dataset, **changes))
    assert isinstance(store, RemoteStore)
    return store


SCRIPTS = Path(__file__).resolve().parent.parent / "scripts" / "virtuoso"


def start_private_virtuoso(directory: Path, **environment: str) -> dict[str, str]:
    """Start (or start again) a Virtuoso of its own in ``directory``, with ``VIRTUOSO_*`` settings of start.sh;
    its ``AIWATCH_REMOTE_*`` settings. Stop it with ``scripts/virtuoso/stop.sh directory``."""
    started = subprocess.run(["bash", str(SCRIPTS / "start.sh"), str(directory)], capture_output=True, text=True,
                             env={**os.environ, **environment})
    assert started.returncode == 0, started.stderr[-2000:]
    return {line.split("=", 1)[0].removeprefix("export "): line.split("=", 1)[1]
            for line in started.stdout.splitlines() if line.startswith("export AIWATCH_REMOTE_")}


def stop_private_virtuoso(directory: Path) -> None:
    subprocess.run(["bash", str(SCRIPTS / "stop.sh"), str(directory)], capture_output=True)


def engine_select(engine: dict[str, str], sparql: str) -> list[dict]:
    """A query straight to Virtuoso, bypassing the backend (sees every graph the engine has)."""
    answer = requests.post(engine["AIWATCH_REMOTE_QUERY_URL"], data={"query": sparql},
                           headers={"Accept": "application/sparql-results+json"}, timeout=30)
    answer.raise_for_status()
    return answer.json()["results"]["bindings"]


def engine_update(engine: dict[str, str], update: str) -> None:
    answer = requests.post(engine["AIWATCH_REMOTE_UPDATE_URL"], data={"update": update}, timeout=30,
                           auth=HTTPDigestAuth(engine["AIWATCH_REMOTE_USER"], engine["AIWATCH_REMOTE_PASSWORD"]))
    answer.raise_for_status()


def staging_graphs(engine: dict[str, str], store: RemoteStore) -> list[str]:
    rows = engine_select(engine, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                                 f'FILTER(STRSTARTS(STR(?g), "urn:x-graph-service:{store.dataset}/staging/")) }}')
    return [row["g"]["value"] for row in rows]


def test_the_remote_backend_is_chosen_by_the_settings(virtuoso: dict[str, str]) -> None:
    store = open_store(remote_settings(Settings.from_env(environ={}), virtuoso))
    assert isinstance(store, RemoteStore)
    with pytest.raises(StoreError, match="remote_query_url"):
        open_store(Settings.from_env(environ={}, backend="remote"))


@pytest.mark.parametrize("path", ["bulk loader", "graph store protocol", "sparql update"])
def test_every_upload_path_publishes_the_same_dataset(virtuoso: dict[str, str], path: str) -> None:
    changes = {
        "bulk loader": {},
        "graph store protocol": {"remote_bulk_dir": ""},
        "sparql update": {"remote_bulk_dir": "", "remote_graph_store_url": ""},
    }[path]
    store = new_remote(virtuoso, **changes)
    shared = BlankNode()  # one blank node used in two graphs
    data = sample() + [
        Quad(NamedNode(EX + "dataset"), NamedNode(EX + "checksum"), shared, NamedNode(graph("a"))),
        Quad(shared, NamedNode(EX + "value"), Literal("abc"), NamedNode(graph("b"))),
        *(quad(f"bulk{i}", "n", Literal(str(i), datatype=NamedNode(XSD + "integer")), "c") for i in range(2500)),
    ]
    store.publish(data, path)
    assert count(store) == len(data) - 1
    assert values(store, f"SELECT ?v WHERE {{ <{EX}dataset> <{EX}checksum> ?c . ?c <{EX}value> ?v }}") == ["abc"]
    dumped = list(store.quads())
    for name in ("a", "b"):
        in_graph = NamedNode(graph(name))
        assert isomorphic(rdflib_graph(q.triple for q in dumped if q.graph_name == in_graph),
                          rdflib_graph(q.triple for q in data if q.graph_name == in_graph))
    assert staging_graphs(virtuoso, store) == []


def test_staging_and_engine_graphs_are_never_visible(virtuoso: dict[str, str]) -> None:
    store = new_remote(virtuoso)
    store.publish(sample(), "v1")
    # What a publish that crashed while staging leaves (layout: graph_service/store/remote.py docstring).
    prefix = f"urn:x-graph-service:{store.dataset}"
    crashed = f"{prefix}/staging/crashed/0"
    engine_update(virtuoso, f"INSERT DATA {{ GRAPH <{crashed}> {{ <{EX}ghost> <{EX}p> \"half-loaded\" }} }} ; "
                            f"INSERT DATA {{ GRAPH <{prefix}/staging-list> {{ <{prefix}> "
                            f"<urn:x-graph-service:staging> <{crashed}> }} }}")
    assert count(store) == 8, "neither the staging graph nor Virtuoso's own graphs are in the union"
    assert not store.ask(f"ASK {{ <{EX}ghost> ?p ?o }}")
    assert not store.ask(f"ASK {{ GRAPH ?g {{ <{EX}ghost> ?p ?o }} }}")
    assert store.graph_names() == [graph("a"), graph("b")]
    assert count(store, default_graphs=[crashed]) == 0, "an explicit dataset cannot name it either"
    store.publish(sample(), "v2")
    assert staging_graphs(virtuoso, store) == [], "the next publish removes what a crashed one left"


def test_a_publish_the_engine_refuses_changes_nothing(virtuoso: dict[str, str]) -> None:
    store = new_remote(virtuoso, remote_bulk_dir="", remote_graph_store_url="")  # uploads by SPARQL Update
    store.publish(sample(), "good")
    refused = [quad("new", "p", "fine", "c"),
               quad("new", "count", Literal("many", datatype=NamedNode(XSD + "integer")), "d")]
    with pytest.raises(StoreError, match="previous data still served"):
        store.publish(refused, "bad")  # Virtuoso's SPARQL compiler refuses ill-typed numbers in INSERT DATA
    assert store.version().digest == "good"
    assert count(store) == 8
    assert store.graph_names() == [graph("a"), graph("b")]
    assert staging_graphs(virtuoso, store) == []


def test_queries_the_engine_cannot_run_and_an_engine_that_is_down(virtuoso: dict[str, str]) -> None:
    store = new_remote(virtuoso)
    store.publish(sample(), "v1")
    with pytest.raises(SyntaxError, match="the SPARQL engine refused the query") as refused:
        store.query("SELECT * WHERE { ?s ?p ?o LATERAL { SELECT ?x WHERE { ?s ?q ?x } LIMIT 1 } }")
    assert "SPARQL query:" not in str(refused.value), "Virtuoso's echo of the query is cut off"
    down = RemoteStore("http://127.0.0.1:9/sparql", "http://127.0.0.1:9/sparql-auth")
    with pytest.raises(StoreError, match="did not answer"):
        down.version()
    with pytest.raises(StoreError, match="did not answer"):
        down.query("SELECT * WHERE { ?s ?p ?o }")


STREAMED_JOIN = "SELECT * WHERE { ?s ?p ?o . ?s ?q ?x } LIMIT 50000"


def test_an_answer_the_engine_cut_short_at_the_time_limit_is_a_timeout(remote_store: GraphStore) -> None:
    """Virtuoso stops a query at the time limit we send it and returns what it has: with a 200 and ``X-SQL-State``,
    or, once results were streaming, with a 500 whose body is the partial answer then its error line ("S1TAT ...
    query interrupted by result timeout": a CSV download at 10M triples met it). Neither is passed on."""
    hurried = remote_store.with_query_time_limit(0.001)  # Virtuoso's least: 1 ms
    assert remote_store.timeout_s >= 1
    with pytest.raises(QueryTimedOut, match="the SPARQL engine stopped it") as stopped:
        hurried.query(STREAMED_JOIN)  # results streaming for more than 1 ms: the 500 kind, as a rule
    assert '"bindings"' not in str(stopped.value), "Virtuoso's text, not the partial answer written before it"
    assert len(remote_store.select(STREAMED_JOIN)) == 50_000  # within the store's own limit


def test_a_query_with_its_own_from_clause_gets_exactly_that_dataset(virtuoso: dict[str, str]) -> None:
    store = new_remote(virtuoso)
    store.publish(sample(), "v1")
    assert values(store, f"SELECT DISTINCT ?s FROM <{graph('b')}> WHERE {{ ?s ?p ?o }} ORDER BY ?s") == \
        [EX + "report", EX + "workshop"]
    assert values(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://example.org/from> ?o }") == ["0"], \
        "FROM inside an IRI is no dataset clause"


def test_the_project_data_loads_with_the_same_counts(store: GraphStore, remote_store: GraphStore) -> None:
    assert remote_store.version().digest == store.version().digest
    assert remote_store.graph_names() == store.graph_names()
    per_graph = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    assert remote_store.select(per_graph) == store.select(per_graph)
    assert count(remote_store) == count(store)
    per_class = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c"
    assert remote_store.select(per_class) == store.select(per_class)
    labels = "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?l } ORDER BY ?s ?l"
    assert remote_store.select(labels) == store.select(labels)
    typed = ("SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o) && DATATYPE(?o) != "
             "<http://www.w3.org/2001/XMLSchema#string> && !LANGMATCHES(LANG(?o), '*') "
             "&& !STRSTARTS(STR(?p), 'http://www.w3.org/ns/prov#')) } ORDER BY ?s ?p ?o")  # not the load times
    assert remote_store.select(typed) == store.select(typed), "numbers, dates, booleans in the same forms"
    load_record = NamedNode("https://w3id.org/aiwatch/graph/load")  # PROV of each load: its own times

    def comparable(quads: Iterable[Quad]) -> set[Quad]:
        return {q for q in quads if q.graph_name != load_record and not isinstance(q.subject, BlankNode)
                and not isinstance(q.object, BlankNode)}

    assert comparable(remote_store.quads()) == comparable(store.quads())

    def blank(quads: Iterable[Quad]) -> int:
        return sum(1 for q in quads if isinstance(q.subject, BlankNode) or isinstance(q.object, BlankNode))

    assert blank(remote_store.quads()) == blank(store.quads())


def test_iri_tests_answer_as_on_the_embedded_store(store: GraphStore, remote_store: GraphStore) -> None:
    """isIRI / isURI go to Virtuoso in another form (graph_service.store.virtuoso_sparql): the same answers."""
    esp = "https://w3id.org/aiwatch/id/member-state/esp"
    for sparql in (
        # the Linked Data face's questions for hash IRIs and inverse links
        f"SELECT DISTINCT ?h WHERE {{ {{ <{esp}> ?p ?h }} UNION {{ ?h ?p <{esp}> }} "
        f"FILTER(isIRI(?h) && STRSTARTS(STR(?h), \"{esp}\")) }} ORDER BY ?h",
        f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p <{esp}> FILTER(isIRI(?s) && "
        f"!STRSTARTS(STR(?s), \"{esp}#\")) }} GROUP BY ?p ORDER BY DESC(?n) ?p",
        # blank nodes (RDF lists) are no IRIs, and an unbound value is none either
        "SELECT ?s ?o WHERE { ?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> ?o "
        "FILTER(isIRI(?s) || STRSTARTS(STR(?s), 'x')) }",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> ?o "
        "FILTER(!isIRI(?s) || STR(?s) = 'x') }",
        "SELECT ?x WHERE { VALUES ?x { 1 } OPTIONAL { ?x <http://example.org/none> ?y } "
        "FILTER(isIRI(?y) || STR(?x) = 'isIRI(?y)') }",
    ):
        assert remote_store.select(sparql) == store.select(sparql), sparql


def test_only_iri_tests_next_to_str_are_rewritten_for_virtuoso() -> None:
    sparql = ("PREFIX ex: <http://example.org/isIRI(?x)> SELECT * WHERE { ?s ex:isIRI ?o ; ex:p ?q # isIRI(?o)\n"
              "FILTER(isIRI(?s) && !ISURI( $o ) && isIRI(?q) && STRSTARTS(STR(?s), 'isIRI(?o)') && STR($o) != '') }")
    assert iri_tests_for_virtuoso(sparql) == (
        "PREFIX ex: <http://example.org/isIRI(?x)> SELECT * WHERE { ?s ex:isIRI ?o ; ex:p ?q # isIRI(?o)\n"
        "FILTER((BOUND(?s) && !isLiteral(?s) && !isBlank(?s)) && !(BOUND($o) && !isLiteral($o) && !isBlank($o)) "
        "&& isIRI(?q) && STRSTARTS(STR(?s), 'isIRI(?o)') && STR($o) != '') }")


def engine_connections(engine: dict[str, str]) -> set[int]:
    """Local ports of this process's open connections to the engine's HTTP port."""
    port = urlsplit(engine["AIWATCH_REMOTE_QUERY_URL"]).port
    return {c.laddr.port for c in psutil.Process().net_connections(kind="tcp")
            if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED}


def test_queries_reuse_their_connection_to_the_engine(virtuoso: dict[str, str]) -> None:
    writer = new_remote(virtuoso)
    writer.publish(sample(), "v1")
    before = engine_connections(virtuoso)
    reader = RemoteStore.from_settings(remote_settings(Settings.from_env(environ={}), virtuoso,
                                                       remote_dataset=writer.dataset))
    assert count(reader) == 8
    opened = engine_connections(virtuoso) - before
    assert len(opened) == 1, "the reader's connection stays open"
    for _ in range(20):
        assert count(reader) == 8
        time.sleep(0.06)  # past the reuse of a version read: each version() below asks the engine
        assert reader.version().digest == "v1"
    assert engine_connections(virtuoso) - before == opened, "every later request went over that same connection"


class _ClosesItsFirstConnection(http.server.BaseHTTPRequestHandler):
    """A SPARQL endpoint that, like Virtuoso closing an idle kept-alive connection, drops the first connection
    when its second request arrives; every other request gets an empty SELECT answer."""

    protocol_version = "HTTP/1.1"  # keep-alive
    connections: list[int] = []  # requests received on each connection, in order

    def setup(self) -> None:
        super().setup()
        self.index = len(self.connections)
        self.connections.append(0)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.connections[self.index] += 1
        if self.index == 0 and self.connections[0] == 2:
            self.close_connection = True
            return  # closed without an answer
        body = b'{"head": {"vars": []}, "results": {"bindings": []}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_kept_alive_connection_the_engine_closed_is_replaced() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ClosesItsFirstConnection)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = RemoteStore(f"http://127.0.0.1:{server.server_address[1]}/sparql")
        assert store.version() is None  # two requests: the second is dropped on connection 0, sent again on 1
        assert store.select("SELECT ?s WHERE { ?s ?p ?o }") == []
        assert _ClosesItsFirstConnection.connections == [2, 2], "connection 1 replaced connection 0, and stayed"
    finally:
        server.shutdown()
        server.server_close()


def _query_in_child(store: RemoteStore, answers: multiprocessing.Queue) -> None:
    answers.put(count(store))


def test_a_forked_process_opens_connections_of_its_own(virtuoso: dict[str, str]) -> None:
    """A worker forked from a process that already queried (gunicorn with a preloaded app) must not write into the
    parent's kept-alive socket: two processes reading one connection would mix up their answers."""
    store = new_remote(virtuoso)
    store.publish(sample(), "v1")
    assert count(store) == 8  # the parent now holds a kept-alive connection
    answers: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
    children = [multiprocessing.get_context("fork").Process(target=_query_in_child, args=(store, answers))
                for _ in range(3)]
    for child in children:
        child.start()
    for _ in range(20):
        assert count(store) == 8
    results = [answers.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
    assert results == [8, 8, 8]
    assert [child.exitcode for child in children] == [0, 0, 0]


def test_the_catalogue_and_a_csv_download_over_the_remote_backend(
        remote_project_settings: Settings, remote_store: GraphStore, client, tmp_path: Path) -> None:
    """The catalogue face over Virtuoso: /catalog lists the CSV downloads, and one served over the remote backend
    has the very bytes the shared ``client`` serves (the embedded store, unless the run is --backend remote)."""
    from graph_service.web import create_app

    app = create_app(remote_project_settings.replace(store_path=tmp_path), remote_store)  # its own downloads
    remote_client = app.test_client()
    page = remote_client.get("/catalog", headers={"Accept": "text/turtle"})
    assert page.status_code == 200, page.text[:2000]
    catalogue = Graph().parse(data=page.text, format="turtle")
    csv_urls = sorted(str(url) for url in catalogue.objects(None, DCAT.downloadURL) if str(url).endswith(".csv"))
    assert csv_urls, "the catalogue lists the cases collections as CSV"
    path = urlsplit(csv_urls[0]).path
    download = remote_client.get(path)
    assert download.status_code == 200, download.text[:2000]
    assert download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows and rows[0]["case"].startswith("http://localhost/id/case/")
    assert all(row["title"] for row in rows)
    assert download.data == client.get(path).data, "the same CSV from either backend"


@pytest.mark.slow
def test_downloads_over_the_remote_backend_have_a_time_limit_of_their_own(
        remote_project_settings: Settings, remote_store: GraphStore, tmp_path: Path) -> None:
    """Writing a download sends the engine queries far longer than a client's (a CSV column at 10M triples: ~50 s
    from Virtuoso, which cut it at the clients' 30 s: the 10M benchmark's downloads over Virtuoso failed): they
    are read within ``download_query_timeout_s``. (At the project's size they end before Virtuoso checks even a
    1 ms limit, so the limit they are read with is checked too.)"""
    from graph_service.catalog.downloads import DownloadCache
    from graph_service.web import create_app
    from graph_service.web.iris import IriMapper

    settings = remote_project_settings.replace(store_path=tmp_path, query_timeout_s=0.001)
    hurried = remote_store.with_query_time_limit(settings.query_timeout_s)  # the clients' queries: 1 ms
    with pytest.raises(QueryTimedOut):
        hurried.query(STREAMED_JOIN)
    cache = DownloadCache.of(settings, hurried, IriMapper(settings.base_iri, "http://localhost/"))
    assert cache.store.timeout_s == settings.download_query_timeout_s == 1800
    download = create_app(settings, hurried).test_client().get("/download/dataset/pstw.csv")
    assert download.status_code == 200, download.text[:2000]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    cases = ("SELECT (COUNT(*) AS ?n) WHERE { ?c <https://w3id.org/aiwatch/def/aiwatch#sourceDataset> "
             "<https://w3id.org/aiwatch/id/dataset/pstw> }")
    assert len(rows) == int(remote_store.select(cases)[0]["n"].value) > 1000
    assert all(row["title"] for row in rows)


def test_two_service_processes_share_one_engine(remote_project_settings: Settings, remote_store: GraphStore) -> None:
    """Two `graph-service serve` processes (as on two hosts) over one Virtuoso; `graph-service load` on a third."""
    environment = {**settings_environment(remote_project_settings), "AIWATCH_REMOTE_REFRESH_S": "0.2"}
    first = start_server(remote_project_settings, env=environment)
    second = start_server(remote_project_settings, env=environment)
    try:
        published = remote_store.version()
        for server in (first, second):
            ready = requests.get(f"{server.url}/ready", timeout=10).json()
            assert ready["backend"] == "remote"
            assert (ready["data_version"], ready["published"]) == (published.digest, published.published.isoformat())
        loaded = subprocess.run([sys.executable, "-m", "graph_service.cli", "load", "--force"],
                                env={**os.environ, **environment}, capture_output=True, text=True, timeout=300)
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        republished = remote_store.version()
        assert republished.published > published.published
        for server in (first, second):
            ready = requests.get(f"{server.url}/ready", timeout=10).json()
            assert (ready["data_version"], ready["published"]) == \
                (republished.digest, republished.published.isoformat()), "both serve the new version"
    finally:
        stop_server(first)
        stop_server(second)


@pytest.mark.slow
def test_a_bulk_loaded_publish_survives_an_engine_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Virtuoso's bulk loader writes without transaction log; the publish must still be durable."""
    directory = tmp_path_factory.mktemp("virtuoso-restart")
    try:
        engine = start_private_virtuoso(directory)
        store = new_remote(engine)
        assert store.bulk_dir is not None
        store.publish(sample(), "before-restart")
        subprocess.run(["bash", str(SCRIPTS / "stop.sh"), str(directory)], check=True, capture_output=True)
        after = start_private_virtuoso(directory)
        assert after["AIWATCH_REMOTE_QUERY_URL"] == engine["AIWATCH_REMOTE_QUERY_URL"], "same ports again"
        reopened = RemoteStore.from_settings(remote_settings(Settings.from_env(environ={}), after,
                                                             remote_dataset=store.dataset))
        assert reopened.version().digest == "before-restart"
        assert count(reopened) == 8
        assert values(reopened, f"SELECT ?city WHERE {{ <{EX}report> <{EX}author>/<{EX}address>/<{EX}city> ?city }}"
                      ) == ["Ispra"]
    finally:
        stop_private_virtuoso(directory)


@pytest.mark.slow
def test_the_engines_transaction_limit_bounds_a_republish_not_the_first_publish(tmp_path_factory) -> None:
    """A Virtuoso whose transactions may log only 200 kB (as its default 50 MB does for ~400,000 quads): the first
    publish of a dataset loads its graphs directly and commits only the record, so any size goes in; a republish
    changing more than the limit allows is rolled back whole, and the first version stays served."""
    directory = tmp_path_factory.mktemp("virtuoso-small-transactions")
    engine = start_private_virtuoso(directory, VIRTUOSO_AFTER_IMAGE_LIMIT="200000")

    def statements(tag: str) -> list[Quad]:
        return [Quad(NamedNode(f"{EX}{tag}/{i}"), NamedNode(f"{EX}label"), Literal(f"{tag} number {i}"),
                     NamedNode(f"{EX}graph/{tag}")) for i in range(5_000)]

    try:
        store = new_remote(engine)
        first = store.publish(statements("first"), "first")
        assert store.version() == first and count(store) == 5_000
        with pytest.raises(StoreError, match="previous data still served"):
            store.publish(statements("second"), "second")  # 10,000 quads to delete and insert, twice (union)
        assert store.version() == first and count(store) == 5_000
        assert values(store, f"SELECT ?l WHERE {{ <{EX}first/7> <{EX}label> ?l }}") == ["first number 7"]
    finally:
        stop_private_virtuoso(directory)


@pytest.mark.slow
def test_downloads_read_from_an_engine_that_caps_answers_are_complete(tmp_path_factory) -> None:
    """A Virtuoso cutting every answer at 500 rows (its ResultSetMaxRows): a graph's dump is read in pages (one
    predicate, then ranges of subjects) and holds every triple, as read from the embedded store."""
    from graph_service.catalog.downloads import Canonical, named_graphs_producer
    from graph_service.store import OxigraphStore

    directory = tmp_path_factory.mktemp("virtuoso-capped")
    engine = start_private_virtuoso(directory, VIRTUOSO_RESULT_SET_MAX_ROWS="500")
    graph, label = NamedNode(f"{EX}graph/big"), NamedNode(f"{EX}label")
    quads = [Quad(NamedNode(f"{EX}hub"), label, Literal(f"part {i}"), graph) for i in range(300)]
    quads += [Quad(NamedNode(f"{EX}leaf/{i}"), label, Literal(f"leaf \"{i}\""), graph) for i in range(1_500)]
    quads += [Quad(NamedNode(f"{EX}odd/é{i}"), label, Literal("odd"), graph) for i in range(50)]
    embedded = OxigraphStore(tmp_path_factory.mktemp("embedded") / "store")
    try:
        store = new_remote(engine)
        store.publish(quads, "capped")
        embedded.publish(quads, "capped")
        capped = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EX}graph/big> {{ ?s ?p ?o }} }}")
        assert len(list(capped)) < len(quads)  # the engine cuts the answer (at 500 or 501 rows): the dump pages
        work = tmp_path_factory.mktemp("canonical")
        paged = Canonical(work / "remote", store, store.version()).path("g.nq", named_graphs_producer)
        whole = Canonical(work / "embedded", embedded, embedded.version()).path("g.nq", named_graphs_producer)
        assert sorted(paged.read_bytes().splitlines()) == sorted(whole.read_bytes().splitlines())
    finally:
        embedded.close()
        stop_private_virtuoso(directory)
