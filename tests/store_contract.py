"""The GraphStore contract every backend keeps, run on each backend; and the fixtures that provide the backends.

A test module collects the contract with ``from store_contract import *``: each ``test_*`` here then runs once on
the embedded Oxigraph store and once on the remote backend over a real Virtuoso (``@pytest.mark.virtuoso``).
The same module is a pytest plugin for suites that should run on either backend (``pytest_plugins`` in conftest):
it adds ``--backend oxigraph|remote`` (default ``$AIWATCH_TEST_BACKEND`` or oxigraph), :func:`backend_settings`
to turn the session settings into those of the chosen backend, and :func:`settings_environment` for server
subprocesses.

Virtuoso: when ``AIWATCH_REMOTE_QUERY_URL`` is set, the engine it names is used (``.ci/run`` starts one with
``scripts/virtuoso/start.sh``); otherwise the ``virtuoso`` fixture installs (if needed) and starts a private one
on 127.0.0.1 with the same scripts, and stops it at the end of the session. If it cannot start, tests error.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
)
from rdflib import Graph
from rdflib.compare import isomorphic

from graph_service.config import PROJECT_ROOT, Settings
from graph_service.loading import load
from graph_service.store import GraphStore, OxigraphStore, open_store

SCRIPTS = PROJECT_ROOT / "scripts" / "virtuoso"
REMOTE_VARIABLES = ("AIWATCH_REMOTE_QUERY_URL", "AIWATCH_REMOTE_UPDATE_URL", "AIWATCH_REMOTE_GRAPH_STORE_URL",
                    "AIWATCH_REMOTE_USER", "AIWATCH_REMOTE_PASSWORD", "AIWATCH_REMOTE_BULK_DIR")
EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
StoreFactory = Callable[..., GraphStore]

__all__ = [
    "new_store", "remote_project_settings", "remote_store", "virtuoso", "test_a_failing_publish_leaves_the_previous_version_served",
    "test_another_reader_sees_a_publish", "test_construct_and_describe", "test_empty_store",
    "test_explicit_default_and_named_graphs", "test_graph_patterns_range_over_published_named_graphs_only",
    "test_literals_come_back_in_the_embedded_forms", "test_malformed_query_raises_syntax_error_with_position",
    "test_order_by_follows_sparql_ordering", "test_publish_replaces_everything", "test_quads_round_trip",
    "test_relative_iris_resolve_against_base_iri", "test_select_and_ask_over_the_union_default_graph",
]


# -- fixtures ---------------------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=("oxigraph", "remote"),
                     default=os.environ.get("AIWATCH_TEST_BACKEND", "oxigraph"),
                     help="store backend of the shared `store` fixture (remote: Virtuoso on 127.0.0.1)")


def _parse_exports(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            values[name] = shlex.split(value)[0] if value else ""
    return values


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``AIWATCH_REMOTE_*`` settings of a running Virtuoso on 127.0.0.1 (started here unless given)."""
    if os.environ.get("AIWATCH_REMOTE_QUERY_URL"):
        yield {name: os.environ.get(name, "") for name in REMOTE_VARIABLES}
        return
    install = subprocess.run(["bash", str(SCRIPTS / "install.sh")], capture_output=True, text=True)
    if install.returncode != 0:
        raise RuntimeError(f"installing Virtuoso failed:\n{install.stdout[-2000:]}\n{install.stderr[-2000:]}")
    directory = tmp_path_factory.mktemp("virtuoso")
    started = subprocess.run(["bash", str(SCRIPTS / "start.sh"), str(directory)], capture_output=True, text=True)
    if started.returncode != 0:
        raise RuntimeError(f"starting Virtuoso failed:\n{started.stderr[-3000:]}")
    try:
        yield {name: value for name, value in _parse_exports(started.stdout).items() if name in REMOTE_VARIABLES}
    finally:
        subprocess.run(["bash", str(SCRIPTS / "stop.sh"), str(directory)], capture_output=True, text=True)


def remote_settings(settings: Settings, engine: dict[str, str], **changes: object) -> Settings:
    """``settings`` pointed at the Virtuoso ``engine`` (see the ``virtuoso`` fixture)."""
    values = {name.removeprefix("AIWATCH_").lower(): value for name, value in engine.items()}
    return settings.replace(**{"backend": "remote", **values, **changes})


def backend_settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The session settings on the backend chosen with ``--backend`` (remote: the ``virtuoso`` engine)."""
    if request.config.getoption("--backend", default="oxigraph") != "remote":
        return settings
    return remote_settings(settings, request.getfixturevalue("virtuoso"), remote_dataset="aiwatch-test")


def settings_environment(settings: Settings) -> dict[str, str]:
    """The ``AIWATCH_*`` variables that give a subprocess (``graph-service serve``) the same store."""
    names = ("backend", "store_path", "base_iri", "remote_query_url", "remote_update_url", "remote_graph_store_url",
             "remote_user", "remote_password", "remote_bulk_dir", "remote_dataset", "remote_refresh_s")
    return {f"AIWATCH_{name.upper()}": str(getattr(settings, name)) for name in names}


@pytest.fixture(scope="session")
def remote_project_settings(settings: Settings, virtuoso: dict[str, str]) -> Settings:
    """The session settings on the Virtuoso of this run, remote dataset ``aiwatch-test``."""
    return remote_settings(settings, virtuoso, remote_dataset="aiwatch-test")


@pytest.fixture(scope="session")
def remote_store(remote_project_settings: Settings) -> Iterator[GraphStore]:
    """The real project (ontology/ + data/) loaded into Virtuoso by the same loader."""
    graph_store = open_store(remote_project_settings)
    load(remote_project_settings, graph_store)
    yield graph_store
    graph_store.close()


@pytest.fixture(params=["oxigraph", pytest.param("remote", marks=pytest.mark.virtuoso)])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Makes empty stores of one backend; stores made by one factory share their data (like two processes)."""
    if request.param == "oxigraph":
        return lambda **_: OxigraphStore(tmp_path / "store")
    engine = request.getfixturevalue("virtuoso")
    dataset = f"contract-{uuid.uuid4().hex[:12]}"

    def make(**changes: object) -> GraphStore:
        from graph_service.store.remote import RemoteStore

        return RemoteStore.from_settings(remote_settings(Settings.from_env(environ={}), engine,
                                                         remote_dataset=dataset, **changes))

    return make


# -- helpers ----------------------------------------------------------------------------------------------------


def graph(name: str) -> str:
    """A graph IRI of this test run: remote stores of different tests share one engine and its graph names."""
    return f"{EX}graph/{name}"


def quad(subject: str, predicate: str, obj: Literal | NamedNode | BlankNode | str, graph_name: str | None = None
         ) -> Quad:
    term = Literal(obj) if isinstance(obj, str) else obj
    return Quad(NamedNode(EX + subject), NamedNode(EX + predicate), term,
                NamedNode(graph(graph_name)) if graph_name else DefaultGraph())


def values(store: GraphStore, sparql: str, **kwargs: object) -> list[str]:
    result = store.query(sparql, **kwargs)
    assert isinstance(result, QuerySolutions)
    name = result.variables[0].value
    return [solution[name].value for solution in result]


def count(store: GraphStore, **kwargs: object) -> int:
    return int(values(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **kwargs)[0])


def rdflib_graph(triples: object) -> Graph:
    data = Graph()
    for triple in triples:
        nt = f"{triple.subject} {triple.predicate} {triple.object} .\n"
        data.parse(data=nt, format="nt")
    return data


def sample() -> list[Quad]:
    """Two named graphs, a blank node with a nested one, a triple in both graphs, and a quad in the default graph
    (which only adds to the union: it is in no named graph)."""
    outer, inner = BlankNode(), BlankNode()
    return [
        quad("report", "title", Literal("A report", language="en"), "a"),
        quad("report", "pages", Literal("42", datatype=NamedNode(XSD + "integer")), "a"),
        quad("report", "author", outer, "a"),
        Quad(outer, NamedNode(EX + "name"), Literal("Ada"), NamedNode(graph("a"))),
        Quad(outer, NamedNode(EX + "address"), inner, NamedNode(graph("a"))),
        Quad(inner, NamedNode(EX + "city"), Literal("Ispra"), NamedNode(graph("a"))),
        quad("workshop", "report", NamedNode(EX + "report"), "b"),
        quad("report", "title", Literal("A report", language="en"), "b"),
        quad("loose", "note", "in the default graph"),
    ]


# -- the contract ---------------------------------------------------------------------------------------------


def test_empty_store(new_store: StoreFactory) -> None:
    store = new_store()
    assert store.version() is None
    assert store.graph_names() == []
    assert count(store) == 0
    assert not store.ask("ASK { ?s ?p ?o }")
    assert list(store.quads()) == []


def test_publish_replaces_everything(new_store: StoreFactory) -> None:
    store = new_store()
    before = datetime.now(UTC) - timedelta(seconds=1)
    version = store.publish(sample(), "v1")
    assert version.digest == "v1" and before <= version.published <= datetime.now(UTC) + timedelta(seconds=1)
    assert store.version() == version
    assert store.graph_names() == [graph("a"), graph("b")]
    store.publish([quad("other", "p", "only this", "c")], "v2")
    assert store.version().digest == "v2"
    assert store.graph_names() == [graph("c")]
    assert values(store, "SELECT ?o WHERE { ?s ?p ?o }") == ["only this"]


def test_select_and_ask_over_the_union_default_graph(new_store: StoreFactory) -> None:
    store = new_store()
    store.publish(sample(), "v1")
    assert count(store) == 8, "the union is a set: the title in both graphs counts once; default graph included"
    assert values(store, f"SELECT ?w WHERE {{ ?w <{EX}report> ?r . ?r <{EX}pages> ?n }}") == [EX + "workshop"]
    assert store.ask(f"ASK {{ <{EX}loose> ?p ?o }}")
    assert not store.ask(f"ASK {{ <{EX}nothing> ?p ?o }}")
    result = store.query(f"ASK {{ <{EX}nothing> ?p ?o }}")
    assert isinstance(result, QueryBoolean) and not bool(result)
    rows = store.select(f"SELECT ?name ?city WHERE {{ ?r <{EX}author> ?a . ?a <{EX}name> ?name . "
                        f"OPTIONAL {{ ?a <{EX}address>/<{EX}city> ?city }} OPTIONAL {{ ?a <{EX}none> ?none }} }}")
    assert [{k: v.value for k, v in row.items()} for row in rows] == [{"name": "Ada", "city": "Ispra"}]


def test_graph_patterns_range_over_published_named_graphs_only(new_store: StoreFactory) -> None:
    store = new_store()
    store.publish(sample(), "v1")
    graphs = values(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g")
    assert graphs == [graph("a"), graph("b")], "no default graph, no engine or staging graphs"
    assert not store.ask(f"ASK {{ GRAPH ?g {{ <{EX}loose> ?p ?o }} }}")


def test_explicit_default_and_named_graphs(new_store: StoreFactory) -> None:
    store = new_store()
    store.publish(sample(), "v1")
    only_b = values(store, "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s", default_graphs=[graph("b")])
    assert only_b == [EX + "report", EX + "workshop"]
    assert values(store, "SELECT ?o WHERE { ?s ?p ?o }", default_graphs=[]) == [], "[]: an empty default graph"
    named = values(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", default_graphs=[],
                   named_graphs=[graph("a")])
    assert named == [graph("a")]
    assert count(store, default_graphs=[graph("not-published")]) == 0
    from_named = values(store, f"SELECT ?g FROM NAMED <{graph('b')}> WHERE {{ GRAPH ?g {{ ?s <{EX}report> ?o }} }}")
    assert from_named == [graph("b")], "a query's FROM NAMED applies"


def test_construct_and_describe(new_store: StoreFactory) -> None:
    store = new_store()
    store.publish(sample(), "v1")
    constructed = store.query(f"CONSTRUCT {{ ?s <{EX}says> ?o }} WHERE {{ ?s <{EX}title> ?o }}")
    assert isinstance(constructed, QueryTriples)
    assert [str(t) for t in constructed] == [f'<{EX}report> <{EX}says> "A report"@en']
    described = store.query(f"DESCRIBE <{EX}report>")
    assert isinstance(described, QueryTriples)
    expected = rdflib_graph(q.triple for q in sample() if q.graph_name == NamedNode(graph("a")))
    assert isomorphic(rdflib_graph(described), expected), "a Concise Bounded Description: blank nodes followed"
    turtle = store.query(f"DESCRIBE <{EX}report>").serialize(format=RdfFormat.TURTLE)
    assert b"Ispra" in turtle


def test_literals_come_back_in_the_embedded_forms(new_store: StoreFactory) -> None:
    """Numbers, booleans and dates as Oxigraph canonicalises them (derived integer types become xsd:integer)."""
    given = {
        "integer": ("01", "integer"), "int": ("7", "int"), "positive": ("3", "positiveInteger"),
        "decimal": ("1.50", "decimal"), "double": ("1.0E3", "double"), "true": ("true", "boolean"),
        "false": ("0", "boolean"), "date": ("2021-03-01", "date"), "gyear": ("2020", "gYear"),
        "datetime": ("2021-03-04T10:00:00+01:00", "dateTime"), "string": ("text", "string"),
    }
    expected = {
        "integer": ("1", "integer"), "int": ("7", "integer"), "positive": ("3", "integer"),
        "decimal": ("1.5", "decimal"), "double": ("1000", "double"), "true": ("true", "boolean"),
        "false": ("false", "boolean"), "date": ("2021-03-01", "date"), "gyear": ("2020", "gYear"),
        "datetime": ("2021-03-04T10:00:00+01:00", "dateTime"), "string": ("text", "string"),
    }
    store = new_store()
    store.publish([quad(name, "value", Literal(value, datatype=NamedNode(XSD + datatype)), "a")
                   for name, (value, datatype) in given.items()]
                  + [quad("lang", "value", Literal("Colour", language="en-GB"), "a")], "v1")
    found = {row["s"].value.removeprefix(EX): row["o"] for row in store.select("SELECT ?s ?o WHERE { ?s ?p ?o }")}
    assert found.pop("lang") == Literal("Colour", language="en-gb")
    assert {name: (term.value, term.datatype.value.removeprefix(XSD)) for name, term in found.items()} == expected
    assert store.ask(f"ASK {{ <{EX}positive> ?p 3 }}"), "values match whatever datatype spelled them"
    dumped = {q.subject.value.removeprefix(EX): q.object for q in store.quads() if q.subject.value != EX + "lang"}
    assert {n: (t.value, t.datatype.value.removeprefix(XSD)) for n, t in dumped.items()} == expected


def test_order_by_follows_sparql_ordering(new_store: StoreFactory) -> None:
    store = new_store()
    words = ["beta", "Alpha", "alpha", "Zeta", "Ölfeld", "éclair", "10", "9"]
    numbers = [("10", "integer"), ("9", "integer"), ("2.5", "decimal"), ("-1", "integer"), ("1e1", "double")]
    store.publish([quad(f"w{i}", "word", w, "a") for i, w in enumerate(words)]
                  + [quad(f"n{i}", "number", Literal(v, datatype=NamedNode(XSD + t)), "a")
                     for i, (v, t) in enumerate(numbers)], "v1")
    assert values(store, f"SELECT ?w WHERE {{ ?s <{EX}word> ?w }} ORDER BY ?w") == sorted(words)
    assert values(store, f"SELECT ?w WHERE {{ ?s <{EX}word> ?w }} ORDER BY DESC(?w) LIMIT 3") == \
        sorted(words, reverse=True)[:3]
    ordered = values(store, f"SELECT ?n WHERE {{ ?s <{EX}number> ?n }} ORDER BY ?n ?s")
    assert [float(n) for n in ordered] == [-1, 2.5, 9, 10, 10], "numeric order, not lexical"


def test_relative_iris_resolve_against_base_iri(new_store: StoreFactory) -> None:
    store = new_store()
    store.publish(sample(), "v1")
    assert bool(store.query("ASK { <report> <title> ?o }", base_iri=EX))
    assert not bool(store.query("ASK { <report> <title> ?o }", base_iri=EX + "elsewhere/"))


def test_malformed_query_raises_syntax_error_with_position(new_store: StoreFactory) -> None:
    store = new_store()
    store.publish(sample(), "v1")
    with pytest.raises(SyntaxError) as error:
        store.query("SELECT * WHERE { ?s ?p }")
    assert "1:25" in str(error.value), "the parser's position reaches the caller"


def test_a_failing_publish_leaves_the_previous_version_served(new_store: StoreFactory) -> None:
    store = new_store()
    store.publish(sample(), "good")

    def broken() -> Iterator[Quad]:
        yield from [quad("new", "p", "half", "z")] * 3
        raise RuntimeError("source exploded mid-load")

    with pytest.raises(RuntimeError):
        store.publish(broken(), "bad")
    assert store.version().digest == "good"
    assert count(store) == 8
    assert store.graph_names() == [graph("a"), graph("b")]


def test_quads_round_trip(new_store: StoreFactory) -> None:
    store = new_store()
    original = sample()
    store.publish(original, "v1")
    dumped = list(store.quads())
    named = [q for q in original if not isinstance(q.graph_name, DefaultGraph)]
    assert len(dumped) == len(named), "the named graphs, each quad once (the union is derived from them)"
    in_a = NamedNode(graph("a"))
    assert isomorphic(rdflib_graph(q.triple for q in dumped if q.graph_name == in_a),
                      rdflib_graph(q.triple for q in named if q.graph_name == in_a))
    plain = {q for q in named if not isinstance(q.object, BlankNode) and not isinstance(q.subject, BlankNode)}
    assert plain <= set(dumped)
    assert set(store.quads(graph("b"))) == {q for q in original if q.graph_name == NamedNode(graph("b"))}
    assert list(store.quads(graph("not-published"))) == []


def test_another_reader_sees_a_publish(new_store: StoreFactory) -> None:
    writer, reader = new_store(), new_store(remote_refresh_s=0.0)
    assert reader.version() is None
    writer.publish(sample(), "from-writer")
    assert reader.version().digest == "from-writer"
    assert count(reader) == 8
    assert reader.graph_names() == [graph("a"), graph("b")]
    writer.publish([quad("x", "p", "new", "c")], "second")
    assert reader.version().digest == "second"
    assert values(reader, "SELECT ?o WHERE { ?s ?p ?o }") == ["new"]

