"""The command line, run as users run it (click's runner over the real store, and one real subprocess)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner
from test_loading import BROKEN_MALTA, MALTA

from graph_service.cli import main
from graph_service.config import PROJECT_ROOT, Settings
from graph_service.store import GraphStore, OxigraphStore

COUNT_CASES = "SELECT (COUNT(?c) AS ?n) WHERE { ?c a <https://w3id.org/aiwatch/def/aiwatch#AIUseCase> }"


@pytest.fixture()
def cli(settings: Settings, store: GraphStore):
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, ["--store", str(settings.store_path), *args], input=input)

    return run


def test_query_prints_a_readable_table(cli, kg) -> None:
    result = cli("query", COUNT_CASES)
    assert result.exit_code == 0, result.output
    header, rule, value = result.stdout.splitlines()[:3]
    assert header.strip() == "n" and set(rule.strip()) == {"-"}
    assert int(value) == int(kg.select(COUNT_CASES)[0]["n"]) > 1000


@pytest.mark.parametrize("fmt", ["json", "tsv", "xml"])
def test_query_gives_standard_result_formats(cli, fmt: str) -> None:
    result = cli("query", "--format", fmt, COUNT_CASES)
    assert result.exit_code == 0, result.output
    parsed = pyoxigraph.parse_query_results(result.stdout_bytes, format=getattr(pyoxigraph.QueryResultsFormat,
                                                                               fmt.upper()))
    assert int(next(iter(parsed))["n"].value) > 1000


def test_query_gives_csv(cli) -> None:
    result = cli("query", "--format", "csv", COUNT_CASES)
    header, value = list(csv.reader(io.StringIO(result.stdout)))
    assert header == ["n"] and int(value[0]) > 1000


def test_query_json_is_sparql_results_json(cli) -> None:
    result = cli("query", "--format", "json", "ASK { ?s ?p ?o }")
    assert json.loads(result.stdout) == {"head": {}, "boolean": True}


def test_graph_queries_come_as_turtle(cli) -> None:
    result = cli("query", "CONSTRUCT WHERE { <https://w3id.org/aiwatch/id/report/jrc126501> ?p ?o }")
    assert result.exit_code == 0, result.output
    triples = list(pyoxigraph.parse(result.stdout_bytes, format=pyoxigraph.RdfFormat.TURTLE))
    assert any(t.object.value == "10.2760/162795" for t in triples)


def test_malformed_query_exits_non_zero_with_the_parser_message(cli) -> None:
    result = cli("query", "SELECT * WHERE { ?s ?p }")
    assert result.exit_code != 0
    assert "malformed query" in result.output and "1:" in result.output


def test_dump_and_restore_round_trip_every_graph(cli, store: GraphStore, tmp_path: Path) -> None:
    dump = tmp_path / "backup.nq"
    assert cli("dump", "--format", "nq", "-o", str(dump)).exit_code == 0
    restored = OxigraphStore(tmp_path / "restored")
    restored.publish(pyoxigraph.parse(path=str(dump), format=pyoxigraph.RdfFormat.N_QUADS), "restored")
    assert _blank_free(restored) == _blank_free(store)
    assert restored.graph_names() == store.graph_names()
    assert _counts(restored) == _counts(store)


def _blank_free(store: GraphStore) -> set:
    """Quads without blank nodes (blank node labels are not preserved across a dump, their structure is)."""
    return {q for q in store.quads() if not isinstance(q.subject, pyoxigraph.BlankNode)
            and not isinstance(q.object, pyoxigraph.BlankNode)}


def _counts(store: GraphStore) -> dict[str, int]:
    rows = store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"].value: int(row["n"].value) for row in rows}


def test_dump_of_the_union_as_turtle(cli) -> None:
    result = cli("dump", "--format", "ttl", "--graph", "https://w3id.org/aiwatch/graph/data/curated/reports")
    assert result.exit_code == 0
    graph = list(pyoxigraph.parse(result.stdout_bytes, format=pyoxigraph.RdfFormat.TURTLE))
    assert any(t.subject.value == "https://w3id.org/aiwatch/id/report/jrc126501" for t in graph)


def test_validate_accepts_conforming_files(cli, tmp_path: Path) -> None:
    good = tmp_path / "malta.ttl"
    good.write_text(MALTA)
    result = cli("validate", str(good))
    assert result.exit_code == 0, result.output


def test_validate_reports_violations_as_focus_path_message_lines(cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text(BROKEN_MALTA)
    result = cli("validate", str(bad))
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("Violation: ")]
    assert len(lines) >= 3
    assert all(line.count(" – ") >= 2 for line in lines)
    assert any("id:member-state/mlt – aiw:iso3166Alpha3 – " in line for line in lines)


def test_validate_refuses_unparsable_input(cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.nt"
    bad.write_text("<http://e/s> <http://e/p> .\n")
    result = cli("validate", str(bad))
    assert result.exit_code == 1
    assert "broken.nt" in result.output


def test_validate_takes_folders_and_any_rdf_syntax(cli, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    graph = pyoxigraph.parse(MALTA, format=pyoxigraph.RdfFormat.TURTLE)
    pyoxigraph.serialize(graph, str(folder / "malta.rdf"), format=pyoxigraph.RdfFormat.RDF_XML)
    (folder / "notes.txt").write_text("not RDF, passed over")
    result = cli("validate", str(folder))
    assert result.exit_code == 0, result.output


def test_the_console_script_runs_as_a_real_process(settings: Settings, store: GraphStore) -> None:
    script = Path(sys.executable).with_name("graph-service")
    query = "SELECT ?doi WHERE { <https://w3id.org/aiwatch/id/report/jrc126501> bibo:doi ?doi }"
    query = "PREFIX bibo: <http://purl.org/ontology/bibo/> " + query
    completed = subprocess.run(
        [str(script), "--store", str(settings.store_path), "query", "--format", "csv", query],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
    )
    assert list(csv.reader(io.StringIO(completed.stdout))) == [["doi"], ["10.2760/162795"]]


def test_load_writes_the_downloads_of_the_version_so_that_no_request_has_to(cli, settings: Settings,
                                                                             store: GraphStore) -> None:
    from graph_service.catalog import Catalogue
    from graph_service.web.iris import IriMapper

    result = cli("load")  # the sources are unchanged: nothing is published, the downloads are still checked
    assert result.exit_code == 0, result.output
    assert f"downloads for {settings.base_iri}" in result.stderr
    assert Catalogue(store, settings, IriMapper(settings.base_iri, settings.base_iri)).downloads.ready()
