"""The embedded store: versions on disk, atomic publishing, readers in other processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from graph_service.store import OxigraphStore, StoreError

EX = "http://example.org/"


def quads(n: int, graph: str = EX + "g") -> list[Quad]:
    return [Quad(NamedNode(f"{EX}s{i}"), NamedNode(EX + "p"), Literal(str(i)), NamedNode(graph)) for i in range(n)]


def count(store: OxigraphStore) -> int:
    return int(store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value)


def test_empty_store_answers_queries(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path)
    assert store.version() is None
    assert count(store) == 0
    assert store.graph_names() == []


def test_publish_replaces_everything_and_the_default_graph_is_the_union(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path)
    store.publish(quads(3, EX + "a") + quads(2, EX + "b"), "v1")
    assert count(store) == 3  # s0 and s1 are in both graphs: the union is a set, each triple counts once
    assert store.graph_names() == [EX + "a", EX + "b"]
    store.publish(quads(1, EX + "c"), "v2")
    assert store.graph_names() == [EX + "c"]
    assert store.version().digest == "v2"


def test_explicit_dataset_restricts_the_default_graph(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path)
    store.publish(quads(3, EX + "a") + [Quad(NamedNode(EX + "x"), NamedNode(EX + "p"), Literal("only-b"),
                                              NamedNode(EX + "b"))], "v1")
    only_b = store.query("SELECT ?o WHERE { ?s ?p ?o }", default_graphs=[EX + "b"])
    assert [s["o"].value for s in only_b] == ["only-b"]
    named = store.query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", default_graphs=[], named_graphs=[EX + "a"]
    )
    assert [s["g"].value for s in named] == [EX + "a"]
    assert list(store.query("SELECT * WHERE { ?s ?p ?o }", default_graphs=[])) == [], "an empty default graph"


def test_a_failing_publish_leaves_the_previous_version_served(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path)
    store.publish(quads(4), "good")

    def broken():
        yield from quads(2)
        raise RuntimeError("disk exploded mid-load")

    with pytest.raises(RuntimeError):
        store.publish(broken(), "bad")
    assert store.version().digest == "good"
    assert count(store) == 4
    assert not list((tmp_path / "versions").glob(".*.partial")), "the half-written version is removed"


def test_unwritable_store_gives_a_clear_error_and_keeps_data(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path)
    store.publish(quads(2), "good")
    (tmp_path / "versions").chmod(0o500)
    try:
        if subprocess.run(["test", "-w", str(tmp_path / "versions")]).returncode == 0:
            pytest.fail("running as a user who can write read-only folders (root?): use another check")
    except pytest.fail.Exception:
        (tmp_path / "versions").chmod(0o700)
        # root ignores permission bits; a file where the versions folder should be is just as unwritable
        return _unwritable_as_root(tmp_path)
    with pytest.raises(StoreError, match="previous data still served"):
        store.publish(quads(5), "new")
    (tmp_path / "versions").chmod(0o700)
    assert store.version().digest == "good"


def _unwritable_as_root(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "versions").write_text("not a folder")
    store = OxigraphStore(blocked)
    with pytest.raises(StoreError, match="previous data still served"):
        store.publish(quads(5), "new")
    assert store.version() is None


def test_old_versions_are_pruned(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path, keep_versions=1)
    for i in range(4):
        store.publish(quads(i + 1), f"v{i}")
    kept = sorted(p.name.partition("-")[2] for p in (tmp_path / "versions").iterdir())
    assert kept == ["v2", "v3"]


def test_another_process_sees_the_new_version_without_restart(tmp_path: Path) -> None:
    reader = OxigraphStore(tmp_path)
    assert count(reader) == 0
    script = (
        "import sys; from graph_service.store import OxigraphStore; import pyoxigraph as o;"
        "s = OxigraphStore(sys.argv[1]);"
        "s.publish([o.Quad(o.NamedNode('http://e/s'), o.NamedNode('http://e/p'), o.Literal('x'),"
        " o.NamedNode('http://e/g'))], 'fromchild')"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True)
    assert reader.version().digest == "fromchild"
    assert count(reader) == 1


def test_quads_round_trip_with_graph_names(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path)
    original = quads(3, EX + "a") + quads(2, EX + "b")
    store.publish(original, "v")
    assert set(store.quads()) == set(original)
    assert set(store.quads(EX + "b")) == set(quads(2, EX + "b"))


def test_malformed_query_raises_syntax_error_with_position(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path)
    with pytest.raises(SyntaxError) as error:
        store.query("SELECT * WHERE { ?s ?p }")
    assert "1:25" in str(error.value), "the parser's position reaches the caller"
