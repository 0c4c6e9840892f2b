"""Loading: SHACL-gated, all-or-nothing publishing; bad input is refused with a readable report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graph_service.config import PROJECT_ROOT, Settings
from graph_service.loading import LoadError, load
from graph_service.loading.sources import sha256_of
from graph_service.store import OxigraphStore

PREFIXES = """
@prefix aiw: <https://w3id.org/aiwatch/def/aiwatch#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix ms: <https://w3id.org/aiwatch/id/member-state/> .
"""

MALTA = PREFIXES + """
ms:mlt a aiw:MemberState ; skos:prefLabel "Malta"@en ; aiw:iso3166Alpha2 "MT" ; aiw:iso3166Alpha3 "MLT" ;
    owl:sameAs <http://publications.europa.eu/resource/authority/country/MLT> ; aiw:membership aiw:EUMember .
"""

#: No alpha-3 code, a lower-case alpha-2 code, and an owl:sameAs outside the EU country table.
BROKEN_MALTA = PREFIXES + """
ms:mlt a aiw:MemberState ; skos:prefLabel "Malta"@en ; aiw:iso3166Alpha2 "mt" ;
    owl:sameAs <http://example.org/malta> ; aiw:membership aiw:EUMember .
"""


def make_small_project(tmp_path: Path) -> Settings:
    """A small project: the real ontology, concept schemes and shapes, and one data file."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "ontology", root / "ontology")
    shutil.copytree(PROJECT_ROOT / "shapes", root / "shapes")
    (root / "data").mkdir()
    (root / "data" / "malta.ttl").write_text(MALTA)
    return Settings.from_env(environ={}, project_root=root, store_path=tmp_path / "store")


@pytest.fixture()
def project(tmp_path: Path) -> Settings:
    return make_small_project(tmp_path)


def labels(store: OxigraphStore) -> list[str]:
    rows = store.select(
        "SELECT ?label WHERE { ?ms a <https://w3id.org/aiwatch/def/aiwatch#MemberState> ;"
        " <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }"
    )
    return sorted(row["label"].value for row in rows)


def test_a_valid_project_is_published_with_one_graph_per_source(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    result = load(project, store)
    assert result.changed
    assert labels(store) == ["Malta"]
    graphs = store.graph_names()
    assert "https://w3id.org/aiwatch/graph/data/malta" in graphs
    assert "https://w3id.org/aiwatch/graph/ontology/aiwatch" in graphs
    assert "https://w3id.org/aiwatch/graph/load" in graphs


def test_reloading_unchanged_sources_is_a_no_op(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    first = load(project, store)
    again = load(project, store)
    assert not again.changed
    assert store.version() == first.version
    assert len(list((project.store_path / "versions").iterdir())) == 1


def test_a_violating_file_is_refused_with_a_readable_report_and_old_data_stays(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    published = load(project, store).version
    (project.project_root / "data" / "malta.ttl").write_text(BROKEN_MALTA)
    with pytest.raises(LoadError) as refused:
        load(project, store)
    report = "\n".join(refused.value.problems)
    assert "nothing was published" in str(refused.value)
    focus = "id:member-state/mlt"
    assert f"{focus} – aiw:iso3166Alpha3 – " in report
    assert f"{focus} – aiw:iso3166Alpha2 – " in report
    assert f"{focus} – owl:sameAs – " in report
    assert store.version() == published
    assert labels(store) == ["Malta"], "the previously published data is still served"


def test_an_unparsable_file_is_refused_with_file_and_position(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    load(project, store)
    (project.project_root / "data" / "typo.ttl").write_text(PREFIXES + 'ms:x skos:prefLabel "unterminated .\n')
    with pytest.raises(LoadError) as refused:
        load(project, store)
    (problem,) = refused.value.problems
    assert "typo.ttl" in problem and "line 6" in problem
    assert labels(store) == ["Malta"]


def test_provenance_records_each_source_file_and_checksum(project: Settings) -> None:
    store = OxigraphStore(project.store_path)
    load(project, store)
    rows = store.select("""
        PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX spdx: <http://spdx.org/rdf/terms#>
        PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?graph ?file ?sha WHERE { GRAPH <https://w3id.org/aiwatch/graph/load> {
          ?graph prov:wasDerivedFrom [ dct:identifier ?file ; spdx:checksum/spdx:checksumValue ?sha ] ;
                 prov:wasGeneratedBy [ a prov:Activity ] } }""")
    by_file = {row["file"].value: (row["graph"].value, row["sha"].value) for row in rows}
    data_file = project.project_root / "data" / "malta.ttl"
    assert by_file["data/malta.ttl"] == ("https://w3id.org/aiwatch/graph/data/malta", sha256_of(data_file))
    assert len(by_file) == len(list((project.project_root / "ontology").rglob("*.ttl"))) + 1


def test_untrusted_files_cannot_pull_in_other_files_or_remote_contexts(project: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = project.project_root / "data"
    (data / "xxe.rdf").write_text(
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/a"><ex:p>&x;</ex:p></rdf:Description></rdf:RDF>'
    )
    (data / "remote.jsonld").write_text(
        '{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://example.org/b", "name": "x"}'
    )
    store = OxigraphStore(project.store_path)
    with pytest.raises(LoadError) as refused:
        load(project, store)
    problems = "\n".join(refused.value.problems)
    assert "xxe.rdf" in problems and "remote.jsonld" in problems
    assert "TOP-SECRET" not in problems
    assert store.version() is None


def test_the_real_project_loads_into_one_graph_per_source(store: OxigraphStore, settings: Settings) -> None:
    expected = {
        f"https://w3id.org/aiwatch/graph/{p.relative_to(PROJECT_ROOT).with_suffix('').as_posix()}"
        for folder in ("ontology", "data") for p in (PROJECT_ROOT / folder).rglob("*.ttl")
    }
    assert set(store.graph_names()) == expected | {"https://w3id.org/aiwatch/graph/load"}
    assert not load(settings, store).changed, "reloading the unchanged project is a no-op"
