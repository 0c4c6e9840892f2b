"""A reload from the files keeps what the API wrote, or refuses to overwrite it (graph_service.loading.carry_over)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_loading import PREFIXES, make_small_project

from graph_service.cli import main
from graph_service.config import Settings
from graph_service.loading import LoadError, load
from graph_service.namespaces import write_log_graph
from graph_service.store import OxigraphStore
from graph_service.writes import Writes

BASE = "https://w3id.org/aiwatch/"
MALTA_GRAPH = f"{BASE}graph/data/malta"
EXTRA_GRAPH = f"{BASE}graph/curated-by-api"
CYPRUS = PREFIXES + """
ms:cyp a aiw:MemberState ; skos:prefLabel "Cyprus"@en ; aiw:iso3166Alpha2 "CY" ; aiw:iso3166Alpha3 "CYP" ;
    owl:sameAs <http://publications.europa.eu/resource/authority/country/CYP> ; aiw:membership aiw:EUMember .
"""
SKOS = "http://www.w3.org/2004/02/skos/core#"


@pytest.fixture()
def project(tmp_path: Path) -> Settings:
    """The small project of the loading tests (real ontology and shapes, one data file), published once."""
    settings = make_small_project(tmp_path)
    load(settings, OxigraphStore(settings.store_path))
    return settings


def write(settings: Settings, store: OxigraphStore, text: str) -> None:
    Writes(settings, store).update("alice", text)


def alt_labels(store: OxigraphStore) -> dict[str, set[str]]:
    """Graph -> the skos:altLabel values of Malta it holds."""
    found: dict[str, set[str]] = {}
    for row in store.select(f"SELECT ?g ?label WHERE {{ GRAPH ?g {{ <{BASE}id/member-state/mlt> <{SKOS}altLabel> "
                            "?label } }"):
        found.setdefault(row["g"].value, set()).add(row["label"].value)
    return found


def logged_writes(store: OxigraphStore) -> int:
    rows = store.select(f"SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE {{ GRAPH <{write_log_graph(BASE)}> {{ "
                        "?w a <http://www.w3.org/ns/prov#Activity> } }")
    return int(rows[0]["n"].value)


def test_graphs_written_only_through_the_api_survive_a_reload(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    write(project, store, f'INSERT DATA {{ GRAPH <{EXTRA_GRAPH}> {{ <{BASE}id/member-state/mlt> '
                          f'<{SKOS}altLabel> "Malte"@fr }} }}')
    write(project, store, f'INSERT DATA {{ <{BASE}id/member-state/mlt> <{SKOS}altLabel> "Malta (MT)"@en }}')
    (project.project_root / "data" / "cyprus.ttl").write_text(CYPRUS)  # and the curators changed the files

    result = load(project, store)

    assert result.changed
    assert alt_labels(store) == {EXTRA_GRAPH: {"Malte"}, f"{BASE}graph/writes": {"Malta (MT)"}}
    assert f"{BASE}graph/data/cyprus" in store.graph_names()  # the file change is published too
    assert logged_writes(store) == 2  # the write log is history: kept
    assert not load(project, store).changed  # nothing changed since: a no-op again


def test_a_source_graph_changed_through_the_api_is_a_conflict_and_nothing_is_published(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    write(project, store, f'INSERT DATA {{ GRAPH <{MALTA_GRAPH}> {{ <{BASE}id/member-state/mlt> '
                          f'<{SKOS}altLabel> "Repubblika ta\' Malta"@mt }} }}')
    written = store.version()

    with pytest.raises(LoadError) as refused:
        load(project, store, force=True)

    assert "changed through the API" in str(refused.value) and "--discard-writes" in str(refused.value)
    [line] = refused.value.problems
    assert f"<{MALTA_GRAPH}> (from data/malta.ttl) was changed through the API by <{BASE}id/write/" in line
    assert store.version() == written  # the edit is still served
    assert alt_labels(store) == {MALTA_GRAPH: {"Repubblika ta' Malta"}}


def test_discard_writes_makes_the_data_exactly_the_files_and_keeps_the_log(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    write(project, store, f'DELETE WHERE {{ GRAPH <{MALTA_GRAPH}> {{ ?s <{SKOS}prefLabel> ?label }} }} ; '
                          f'INSERT DATA {{ GRAPH <{MALTA_GRAPH}> {{ <{BASE}id/member-state/mlt> '
                          f'<{SKOS}prefLabel> "Malta!"@en }} }}')
    write(project, store, f'INSERT DATA {{ GRAPH <{EXTRA_GRAPH}> {{ <{BASE}id/member-state/mlt> '
                          f'<{SKOS}altLabel> "Malte"@fr }} }}')

    load(project, store, discard_writes=True)

    labels = store.select(f"SELECT ?label WHERE {{ ?s <{SKOS}prefLabel> ?label ; a ?type "
                          f"FILTER(?type = <{BASE}def/aiwatch#MemberState>) }}")
    assert [row["label"].value for row in labels] == ["Malta"]
    assert alt_labels(store) == {}
    assert logged_writes(store) == 2
    assert not load(project, store).changed  # the writes are before this load now: no conflict, no change


def test_a_graph_the_api_dropped_is_a_conflict_too(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    write(project, store, f"DROP GRAPH <{MALTA_GRAPH}>")

    with pytest.raises(LoadError) as refused:
        load(project, store, force=True)
    assert refused.value.problems[0].startswith(f"<{MALTA_GRAPH}> (from data/malta.ttl)")


def test_the_graph_of_a_deleted_source_file_goes_with_it(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    (project.project_root / "data" / "cyprus.ttl").write_text(CYPRUS)
    load(project, store)
    (project.project_root / "data" / "cyprus.ttl").unlink()

    load(project, store)

    assert f"{BASE}graph/data/cyprus" not in store.graph_names()


def test_the_load_command_explains_the_conflict_and_exits_1(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    write(project, store, f'INSERT DATA {{ GRAPH <{MALTA_GRAPH}> {{ <{BASE}id/member-state/mlt> '
                          f'<{SKOS}altLabel> "Malte"@fr }} }}')
    env = {"AIWATCH_PROJECT_ROOT": str(project.project_root), "AIWATCH_STORE_PATH": str(project.store_path)}

    refused = CliRunner().invoke(main, ["load"], env=env)
    assert refused.exit_code == 1
    assert "data/malta.ttl" in refused.output and "--discard-writes" in refused.output

    accepted = CliRunner().invoke(main, ["load", "--discard-writes"], env=env)
    assert accepted.exit_code == 0, accepted.output
    assert alt_labels(OxigraphStore(project.store_path)) == {}
