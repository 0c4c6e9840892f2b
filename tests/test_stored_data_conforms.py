"""The published data, as read back from the store, conforms to the project's shapes (issue 7).

SHACL-gated writes validate the data the store gives back, not the source files: Oxigraph canonicalises literals
(every xsd:integer subtype such as xsd:positiveInteger becomes xsd:integer), so the shapes must accept what the
store holds. These tests validate the store's union exactly as the loader validates its sources, and write to a
workshop through the real write path.
"""

from __future__ import annotations

import pytest
from writes_support import ALICE, bearer, copy_store, writable_app

from graph_service.config import Settings
from graph_service.loading.validation import load_shapes, to_rdflib, validate_graph
from graph_service.store import GraphStore, OxigraphStore

BASE = "https://w3id.org/aiwatch/"
WORKSHOP = f"{BASE}id/workshop/plw-3"
AIW = f"{BASE}def/aiwatch#"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.mark.slow  # pyshacl over the whole union (~57k triples) takes 15-30 s on 2 cores
def test_the_data_read_back_from_the_store_conforms_to_the_project_shapes(settings: Settings,
                                                                           store: GraphStore) -> None:
    union = to_rdflib(store.quads())
    assert len(union) > 50_000  # the whole project data, PROV of the load included
    report = validate_graph(union, load_shapes(settings.shapes_dir, settings.base_iri))
    assert report.conforms, "\n".join(finding.line() for finding in report.violations)


@pytest.fixture(scope="module")
def workshop_copy(store: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    if not isinstance(store, OxigraphStore):
        pytest.fail("writes to the real data are tested on the embedded store (deselect embedded_only tests)")
    return copy_store(store, tmp_path_factory.mktemp("workshop-writes"))


@pytest.fixture(scope="module")
def workshop_client(settings: Settings, workshop_copy: OxigraphStore):
    return writable_app(settings, workshop_copy).test_client()


def _set_participant_count(client, value: str):
    text = f"""PREFIX aiw: <{AIW}> PREFIX xsd: <{XSD}>
        DELETE {{ <{WORKSHOP}> aiw:participantCount ?n }} INSERT {{ <{WORKSHOP}> aiw:participantCount {value} }}
        WHERE {{ OPTIONAL {{ <{WORKSHOP}> aiw:participantCount ?n }} }}"""
    return client.post("/sparql", data=text.encode(),
                       headers={"Content-Type": "application/sparql-update", **bearer(ALICE)})


def _participant_count(store: OxigraphStore) -> tuple[str, str]:
    (row,) = store.select(f"SELECT ?n WHERE {{ <{WORKSHOP}> <{AIW}participantCount> ?n }}")
    return row["n"].value, row["n"].datatype.value


@pytest.mark.embedded_only
def test_a_write_to_a_workshop_count_is_not_refused_for_the_stored_datatype(workshop_client, workshop_copy) -> None:
    assert _participant_count(workshop_copy) == ("80", XSD + "integer")  # the premise: stored as xsd:integer
    for value in ('"81"^^xsd:nonNegativeInteger', "82"):
        response = _set_participant_count(workshop_client, value)
        assert response.status_code == 200, response.text
    assert _participant_count(workshop_copy) == ("82", XSD + "integer")


@pytest.mark.embedded_only
def test_a_write_of_a_zero_or_negative_participant_count_is_refused(workshop_client, workshop_copy) -> None:
    before = workshop_copy.version()
    for value in ('"0"^^xsd:nonNegativeInteger', "-3"):
        response = _set_participant_count(workshop_client, value)
        assert response.status_code == 422, response.text
        assert "id:workshop/plw-3 – aiw:participantCount – " in response.text
    assert workshop_copy.version() == before
