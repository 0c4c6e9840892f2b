"""The MQA of data.europa.eu: every catalogued dataset scores Excellent (>= 351 of 405), URLs really requested."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, RDF

from graph_service.catalog.quality import DIMENSIONS, MAX_POINTS, METRICS, UrlChecker, http_status_of
from graph_service.cli import main
from graph_service.config import PROJECT_ROOT
from graph_service.namespaces import DQV

STANDARDS = PROJECT_ROOT.parent / "shared" / "standards" / "eu-authority-tables"
PV = "https://piveau.eu/ns/voc#"


def test_metrics_and_points_are_piveaus():
    vocabulary = Graph().parse(STANDARDS / "piveau-dqv-vocabulary.ttl")
    true_score, false_score = URIRef(PV + "trueScore"), URIRef(PV + "falseScore")
    defined = {str(m)[len(PV):]: m for m in vocabulary.subjects(true_score, None)}
    assert {m.name for m in METRICS} == set(defined)
    for metric in METRICS:
        node = defined[metric.name]
        assert int(vocabulary.value(node, true_score)) == metric.points, metric.name
        assert int(vocabulary.value(node, false_score) or 0) == metric.false_points, metric.name
        dimension = str(vocabulary.value(node, DQV.inDimension))[len(PV):]
        # piveau's file spells the reusability dimension "reusablity" for two metrics
        assert dimension.replace("reusablity", "reusability") == metric.dimension, metric.name
    assert sum(m.points for m in METRICS) == MAX_POINTS == 405


def test_every_dataset_is_excellent_against_the_running_server(live_server, settings, store):
    from graph_service.catalog.assessment import run_quality

    run = run_quality(settings, store, server=live_server.url)
    catalogue = Graph().parse(data=__import__("requests").get(f"{live_server.url}/catalog.ttl", timeout=120).text,
                              format="turtle")
    assert {str(r.iri) for r in run.results} == {str(d) for d in catalogue.objects(None, DCAT.dataset)}
    for result in run.results:
        assert result.points >= 351 and result.rating == "excellent", (result.iri, result.dimension_points())
        assert set(result.dimension_points()) == set(DIMENSIONS)
        best = result.best
        access = next(m for m in best.measurements if m.metric.name == "accessUrlStatusCode")
        assert access.value is not None and 200 <= access.value < 400, "the best distribution was requested"
    assert run.all_excellent


def test_local_urls_are_requested_and_other_hosts_never(live_server):
    requested: list[str] = []

    def status_of(url: str) -> int:
        requested.append(url)
        return http_status_of()(url)

    checker = UrlChecker(live_server.url, status_of)
    assert checker.check(f"{live_server.url}/download/knowledge-graph.ttl").status == 200
    missing = checker.check(f"{live_server.url}/download/no-such-file.ttl")
    assert missing.status == 404 and not missing.accessible
    external = checker.check("https://doi.org/10.2760/162795")
    assert external.status is None and external.accessible and "not requested" in external.note
    assert not checker.check("ftp:/nowhere").accessible
    assert all(url.startswith(live_server.url) for url in requested) and len(requested) == 2


def test_quality_page_and_dqv(client):
    page = client.get("/catalog/quality")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"Excellent" in page.data
    dqv = Graph().parse(data=client.get("/catalog/quality.ttl").data, format="turtle")
    scores = {dqv.value(m, DQV.computedOn): int(dqv.value(m, DQV.value))
              for m in dqv.subjects(DQV.isMeasurementOf, URIRef(PV + "score"))}
    catalogue = Graph().parse(data=client.get("/catalog.ttl").data, format="turtle")
    assert set(scores) == set(catalogue.objects(None, DCAT.dataset))
    assert all(score >= 351 for score in scores.values())
    measurements = list(dqv.subjects(RDF.type, DQV.QualityMeasurement))
    assert len(measurements) > len(scores) * 20
    assert (None, DQV.value, Literal(200)) in dqv or any(
        int(v) == 200 for v in dqv.objects(None, DQV.value) if v.datatype and v.datatype.endswith("integer"))


def test_the_assessment_runs_once_per_data_version_origin_and_format(settings, store, monkeypatch):
    """It requests every URL of the catalogue and validates it (seconds at 10M triples): a repeat is served kept."""
    from graph_service.web import catalog as catalog_face
    from graph_service.web import create_app

    runs: list[str] = []
    assess = catalog_face.assess_catalogue

    def counted(catalogue, checker, *args):
        runs.append(checker.origin)
        return assess(catalogue, checker, *args)

    monkeypatch.setattr(catalog_face, "assess_catalogue", counted)
    client = create_app(settings, store).test_client()
    first = client.get("/catalog/quality.ttl")
    again = client.get("/catalog/quality.ttl")
    assert first.status_code == again.status_code == 200 and again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert runs == ["http://localhost/"]
    assert b"Excellent" in client.get("/catalog/quality").data  # another format: assessed for it
    elsewhere = client.get("/catalog/quality.ttl", base_url="http://127.0.0.1:5003")  # its own IRIs and URLs
    assert runs == ["http://localhost/", "http://localhost/", "http://127.0.0.1:5003/"]
    assert b"http://127.0.0.1:5003/" in elsewhere.data and b"http://localhost/" not in elsewhere.data


@pytest.mark.parametrize("args", [[], ["--format", "ttl"]])
def test_quality_command(settings, store, args):
    result = CliRunner().invoke(main, ["--store", str(settings.store_path), "quality", *args])
    assert result.exit_code == 0, result.output
    if not args:
        assert "Excellent" in result.output and "findability" in result.output and "405/405" in result.output
    else:
        assert Graph().parse(data=result.output, format="turtle")
