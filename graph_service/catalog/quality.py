"""The Metadata Quality Assessment (MQA) of data.europa.eu, computed for every dataset of the catalogue.

Indicators, points and rating bands are piveau's (``piveau-dqv-vocabulary.ttl``: 405 points in five dimensions;
``piveau-scoring-skos.rdf``: Excellent above 350). As in piveau's scoring, a dataset's points are those of its
dataset-level indicators plus those of its single best distribution; ``dct:issued``/``dct:modified`` count on the
distribution or, failing that, on the dataset; a URL is accessible when it answers 200-399.

Accessibility is measured by really requesting each ``dcat:accessURL``/``dcat:downloadURL`` of the local service
(a HEAD request, over HTTP to a running server or through the WSGI app in-process). URLs of other hosts (doi.org,
publishers' PDFs) are never requested: they are counted by what can be checked offline (an absolute http(s) URL
with a host) and reported as "not requested". Format, media type and licence alignment are checked against the
EU authority-table and IANA namespaces; non-proprietary and machine-interpretable formats per ``mqa.ttl``.
DCAT-AP compliance is SHACL validation of the DCAT-AP 2.1.1 view (what data.europa.eu converts to) with the
official shapes when ``settings.dcat_ap_shapes_dir`` holds them, else with the project's ``shapes/catalog.ttl``.

The results are DQV: one ``dqv:QualityMeasurement`` per indicator and dataset or distribution, plus the score.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from ..namespaces import DQV, SH
from .build import new_graph
from .profiles import DCAT_AP_2
from .vocab import IANA_MEDIA_TYPES, PIVEAU_SCORING, PV, TPL, authority_table

OA = Namespace("http://www.w3.org/ns/oa#")

#: Rating bands (piveau-scoring-skos.rdf): lower bound of points -> rating.
RATINGS: tuple[tuple[int, str], ...] = ((351, "excellent"), (221, "good"), (120, "enough"), (0, "bad"))
MAX_POINTS = 405
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


@dataclass(frozen=True)
class Metric:
    name: str  # pv: local name
    dimension: str  # pv: dimension local name
    points: int
    level: str  # "dataset" or "distribution"
    false_points: int = 0


#: piveau's metrics and points (tests/test_quality.py checks them against piveau-dqv-vocabulary.ttl).
METRICS: tuple[Metric, ...] = (
    Metric("keywordAvailability", "findability", 30, "dataset"),
    Metric("categoryAvailability", "findability", 30, "dataset"),
    Metric("spatialAvailability", "findability", 20, "dataset"),
    Metric("temporalAvailability", "findability", 20, "dataset"),
    Metric("accessUrlStatusCode", "accessibility", 50, "distribution"),
    Metric("downloadUrlAvailability", "accessibility", 20, "distribution"),
    Metric("downloadUrlStatusCode", "accessibility", 30, "distribution"),
    Metric("formatAvailability", "interoperability", 20, "distribution", -5),
    Metric("mediaTypeAvailability", "interoperability", 10, "distribution", -5),
    Metric("formatMediaTypeVocabularyAlignment", "interoperability", 10, "distribution"),
    Metric("formatMediaTypeNonProprietary", "interoperability", 20, "distribution"),
    Metric("formatMediaTypeMachineInterpretable", "interoperability", 20, "distribution"),
    Metric("dcatApCompliance", "interoperability", 30, "dataset"),
    Metric("licenceAvailability", "reusability", 20, "distribution"),
    Metric("knownLicence", "reusability", 10, "distribution"),
    Metric("accessRightsAvailability", "reusability", 10, "dataset"),
    Metric("accessRightsVocabularyAlignment", "reusability", 5, "dataset"),
    Metric("contactPointAvailability", "reusability", 20, "dataset"),
    Metric("publisherAvailability", "reusability", 10, "dataset"),
    Metric("rightsAvailability", "contextuality", 5, "distribution"),
    Metric("byteSizeAvailability", "contextuality", 5, "distribution"),
    Metric("dateIssuedAvailability", "contextuality", 5, "distribution"),
    Metric("dateModifiedAvailability", "contextuality", 5, "distribution"),
)
DIMENSIONS = ("findability", "accessibility", "interoperability", "reusability", "contextuality")
_BY_NAME = {m.name: m for m in METRICS}


# ---------------------------------------------------------------------------------------------------------------
# Requesting URLs
# ---------------------------------------------------------------------------------------------------------------

#: Answers the HTTP status of a HEAD request to a URL of the local service.
StatusOf = Callable[[str], int]


@dataclass(frozen=True)
class UrlCheck:
    url: str
    accessible: bool
    status: int | None  # None: not requested (another host)
    note: str


class UrlChecker:
    """Requests URLs of the local service (``origin``) only; other hosts are judged offline, never requested."""

    def __init__(self, origin: str, status_of: StatusOf) -> None:
        self.origin = origin.rstrip("/") + "/"
        self._status_of = status_of
        self._seen: dict[str, UrlCheck] = {}

    def check(self, url: str) -> UrlCheck:
        if url not in self._seen:
            self._seen[url] = self._check(url)
        return self._seen[url]

    def _check(self, url: str) -> UrlCheck:
        if url.startswith(self.origin):
            try:
                status = self._status_of(url)
            except Exception as error:  # noqa: BLE001 - an unreachable URL is a measurement, not a failure
                return UrlCheck(url, False, None, f"request failed: {error}")
            return UrlCheck(url, 200 <= status < 400, status, f"HEAD answered {status}")
        parts = urlsplit(url)
        well_formed = parts.scheme in ("http", "https") and bool(parts.netloc)
        note = ("not requested (another host): counted as accessible by the offline rule "
                "'absolute http(s) URL with a host'") if well_formed else "not an absolute http(s) URL"
        return UrlCheck(url, well_formed, None, note)


def http_status_of(timeout: float = 30.0) -> StatusOf:
    """HEAD over HTTP (for a running server); redirects are not followed (a 3xx already counts as accessible, and
    following one could lead to another host), and no proxy is used."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - urllib's signature
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())

    def status(url: str) -> int:
        try:
            with opener.open(urllib.request.Request(url, method="HEAD"), timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    return status


def wsgi_status_of(app) -> StatusOf:
    """HEAD through the WSGI app in-process (the whole request handling, without a socket)."""

    def status(url: str) -> int:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        with app.test_client() as client:
            response = client.head(parts.path, query_string=parts.query, base_url=base)
            return response.status_code

    return status


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Measurement:
    metric: Metric
    value: bool | int | None
    points: int
    note: str = ""


@dataclass
class DistributionQuality:
    iri: URIRef
    title: str
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(m.points for m in self.measurements)


@dataclass
class DatasetQuality:
    iri: URIRef
    title: str
    measurements: list[Measurement] = field(default_factory=list)
    distributions: list[DistributionQuality] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    @property
    def best(self) -> DistributionQuality | None:
        """piveau's single best distribution (the highest sum of distribution points; the first on a tie)."""
        best = None
        for distribution in self.distributions:
            if best is None or distribution.points > best.points:
                best = distribution
        return best

    @property
    def scored(self) -> list[Measurement]:
        return [*self.measurements, *(self.best.measurements if self.best else [])]

    @property
    def points(self) -> int:
        return sum(m.points for m in self.scored)

    def dimension_points(self) -> dict[str, tuple[int, int]]:
        """``{dimension: (points, maximum)}``."""
        result = {d: [0, 0] for d in DIMENSIONS}
        for metric in METRICS:
            result[metric.dimension][1] += metric.points
        for measurement in self.scored:
            result[measurement.metric.dimension][0] += measurement.points
        return {d: (p, m) for d, (p, m) in result.items()}

    @property
    def rating(self) -> str:
        return next(name for bound, name in RATINGS if self.points >= bound)


# ---------------------------------------------------------------------------------------------------------------
# Assessment
# ---------------------------------------------------------------------------------------------------------------

@cache
def _format_classes() -> Graph:
    graph = Graph()
    graph.parse(data=resources.files(__package__).joinpath("mqa.ttl").read_text(encoding="utf-8"), format="turtle")
    return graph


def _flag(file_type: Node | None, flag: URIRef) -> bool:
    return file_type is not None and _format_classes().value(file_type, flag) == Literal(True)


def _measure(name: str, value: bool | int | None, passed: bool, note: str = "") -> Measurement:
    metric = _BY_NAME[name]
    return Measurement(metric, value, metric.points if passed else metric.false_points, note)


def assess(graph: Graph, checker: UrlChecker, violations: dict[Node, list[str]]) -> list[DatasetQuality]:
    """The MQA of every dataset of a catalogue graph (public IRIs, so that URLs can be requested)."""
    results = []
    for dataset in sorted(graph.subjects(RDF.type, DCAT.Dataset), key=str):
        title = str(graph.value(dataset, DCTERMS.title) or dataset)
        quality = DatasetQuality(URIRef(dataset), title, violations=violations.get(dataset, []))
        def has(predicate: URIRef, subject: Node = dataset) -> bool:
            return graph.value(subject, predicate) is not None

        access_rights = graph.value(dataset, DCTERMS.accessRights)
        quality.measurements += [
            _measure("keywordAvailability", has(DCAT.keyword), has(DCAT.keyword)),
            _measure("categoryAvailability", has(DCAT.theme), has(DCAT.theme)),
            _measure("spatialAvailability", has(DCTERMS.spatial), has(DCTERMS.spatial)),
            _measure("temporalAvailability", has(DCTERMS.temporal), has(DCTERMS.temporal)),
            _measure("dcatApCompliance", not quality.violations, not quality.violations,
                     "; ".join(quality.violations[:5])),
            _measure("accessRightsAvailability", access_rights is not None, access_rights is not None),
            _measure("accessRightsVocabularyAlignment", _in_table(access_rights, "access-right"),
                     _in_table(access_rights, "access-right")),
            _measure("contactPointAvailability", has(DCAT.contactPoint), has(DCAT.contactPoint)),
            _measure("publisherAvailability", has(DCTERMS.publisher), has(DCTERMS.publisher)),
        ]
        for distribution in sorted(graph.objects(dataset, DCAT.distribution), key=str):
            quality.distributions.append(_assess_distribution(graph, dataset, distribution, checker))
        results.append(quality)
    return results


def _in_table(value: Node | None, table: str) -> bool:
    return isinstance(value, URIRef) and authority_table(str(value)) == table


def _assess_distribution(graph: Graph, dataset: Node, node: Node, checker: UrlChecker) -> DistributionQuality:
    result = DistributionQuality(URIRef(node), str(graph.value(node, DCTERMS.title) or node))
    access = [checker.check(str(u)) for u in graph.objects(node, DCAT.accessURL)]
    downloads = [checker.check(str(u)) for u in graph.objects(node, DCAT.downloadURL)]
    file_type = graph.value(node, DCTERMS.format)
    media_type = graph.value(node, DCAT.mediaType)
    licence = graph.value(node, DCTERMS.license)
    aligned = _in_table(file_type, "file-type") and isinstance(media_type, URIRef) \
        and str(media_type).startswith(IANA_MEDIA_TYPES) \
        and bool(_MEDIA_TYPE.match(str(media_type)[len(IANA_MEDIA_TYPES):]))
    open_format = _flag(file_type, TPL.nonProprietary)
    readable = _flag(file_type, TPL.machineInterpretable)
    issued = graph.value(node, DCTERMS.issued) or graph.value(dataset, DCTERMS.issued)
    modified = graph.value(node, DCTERMS.modified) or graph.value(dataset, DCTERMS.modified)
    access_ok = bool(access) and all(c.accessible for c in access)
    download_ok = bool(downloads) and all(c.accessible for c in downloads)
    result.measurements += [
        _measure("accessUrlStatusCode", _status(access), access_ok, "; ".join(c.note for c in access)),
        _measure("downloadUrlAvailability", bool(downloads), bool(downloads)),
        _measure("downloadUrlStatusCode", _status(downloads), download_ok, "; ".join(c.note for c in downloads)),
        _measure("formatAvailability", file_type is not None, file_type is not None),
        _measure("mediaTypeAvailability", media_type is not None, media_type is not None),
        _measure("formatMediaTypeVocabularyAlignment", aligned, aligned),
        _measure("formatMediaTypeNonProprietary", open_format, open_format),
        _measure("formatMediaTypeMachineInterpretable", readable, readable),
        _measure("licenceAvailability", licence is not None, licence is not None),
        _measure("knownLicence", _in_table(licence, "licence"), _in_table(licence, "licence")),
        _measure("rightsAvailability", graph.value(node, DCTERMS.rights) is not None,
                 graph.value(node, DCTERMS.rights) is not None),
        _measure("byteSizeAvailability", graph.value(node, DCAT.byteSize) is not None,
                 graph.value(node, DCAT.byteSize) is not None),
        _measure("dateIssuedAvailability", issued is not None, issued is not None),
        _measure("dateModifiedAvailability", modified is not None, modified is not None),
    ]
    return result


def _status(checks: list[UrlCheck]) -> int | None:
    statuses = [c.status for c in checks if c.status is not None]
    return max(statuses) if statuses else None


# ---------------------------------------------------------------------------------------------------------------
# DCAT-AP compliance
# ---------------------------------------------------------------------------------------------------------------

def compliance_shapes(dcat_ap_shapes_dir: Path | None, project_shapes: Path) -> tuple[Graph, list[str]]:
    """The shapes DCAT-AP compliance is checked with, and their names (for the report)."""
    names = ["dcat-ap_2.1.1_shacl_shapes.ttl", "dcat-ap_2.1.1_shacl_range.ttl",
             "dcat-ap_2.1.1_shacl_mdr-vocabularies.shape.ttl"]
    graph = Graph()
    if dcat_ap_shapes_dir is not None and all((dcat_ap_shapes_dir / "2.1.1" / n).is_file() for n in names):
        for name in names:
            graph.parse(dcat_ap_shapes_dir / "2.1.1" / name)
        return graph, [f"DCAT-AP 2.1.1 {name}" for name in names]
    graph.parse(project_shapes)
    return graph, [f"project shapes {project_shapes.name}"]


def violations_by_dataset(graph: Graph, shapes: Graph) -> dict[Node, list[str]]:
    """SHACL violations of the catalogue graph, attributed to the dataset whose description holds the focus node."""
    from pyshacl import validate

    _conforms, report, _text = validate(graph, shacl_graph=shapes, inference="none", advanced=True,
                                        allow_warnings=True)
    owner: dict[Node, Node] = {}
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        owner[dataset] = dataset
        for distribution in graph.objects(dataset, DCAT.distribution):
            owner[distribution] = dataset
            for checksum in graph.objects(distribution, URIRef("http://spdx.org/rdf/terms#checksum")):
                owner[checksum] = dataset
        for period in graph.objects(dataset, DCTERMS.temporal):
            owner[period] = dataset
    found: dict[Node, list[str]] = {}
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        dataset = owner.get(focus)
        targets = [dataset] if dataset is not None else list(graph.subjects(RDF.type, DCAT.Dataset))
        for target in targets:  # a violation outside every dataset (catalogue, agent...) counts for all
            found.setdefault(target, []).append(f"{focus} {path}: {message}")
    return found


# ---------------------------------------------------------------------------------------------------------------
# DQV
# ---------------------------------------------------------------------------------------------------------------

def to_dqv(results: list[DatasetQuality], document: URIRef, shapes_used: list[str]) -> Graph:
    """The assessment as DQV: a measurement per indicator (dataset and distribution level) and the score."""
    graph = new_graph()
    graph.bind("dqv", DQV)
    graph.bind("pv", PV)
    graph.bind("oa", OA)
    graph.add((document, RDF.type, DQV.QualityMetadata))
    graph.add((document, RDFS.label, Literal("Metadata quality assessment (data.europa.eu MQA indicators)", lang="en")))
    for name in shapes_used:
        graph.add((document, PROV.used, Literal(name)))
    for number, quality in enumerate(results, start=1):
        prefix = f"{document}#d{number}"
        graph.add((quality.iri, DQV.hasQualityMetadata, document))
        for measurement in quality.measurements:
            _add_measurement(graph, URIRef(f"{prefix}-{measurement.metric.name}"), quality.iri, measurement)
        for d_number, distribution in enumerate(quality.distributions, start=1):
            for measurement in distribution.measurements:
                node = URIRef(f"{prefix}-r{d_number}-{measurement.metric.name}")
                _add_measurement(graph, node, distribution.iri, measurement)
        score = URIRef(f"{prefix}-score")
        graph.add((quality.iri, DQV.hasQualityMeasurement, score))
        graph.add((score, RDF.type, DQV.QualityMeasurement))
        graph.add((score, DQV.computedOn, quality.iri))
        graph.add((score, DQV.isMeasurementOf, PV.score))
        graph.add((score, DQV.value, Literal(quality.points, datatype=XSD.integer)))
        rating = URIRef(f"{prefix}-rating")
        graph.add((quality.iri, DQV.hasQualityAnnotation, rating))
        graph.add((rating, RDF.type, DQV.QualityAnnotation))
        graph.add((rating, OA.hasTarget, quality.iri))
        graph.add((rating, OA.hasBody, PIVEAU_SCORING[quality.rating]))
        graph.add((rating, OA.motivatedBy, DQV.qualityAssessment))
        graph.add((PIVEAU_SCORING[quality.rating], SKOS.prefLabel, Literal(quality.rating.capitalize(), lang="en")))
    return graph


def _add_measurement(graph: Graph, node: URIRef, target: URIRef, measurement: Measurement) -> None:
    graph.add((target, DQV.hasQualityMeasurement, node))
    graph.add((node, RDF.type, DQV.QualityMeasurement))
    graph.add((node, DQV.computedOn, target))
    graph.add((node, DQV.isMeasurementOf, PV[measurement.metric.name]))
    if measurement.value is not None:
        datatype = XSD.boolean if isinstance(measurement.value, bool) else XSD.integer
        graph.add((node, DQV.value, Literal(measurement.value, datatype=datatype)))
    if measurement.note:
        graph.add((node, RDFS.comment, Literal(measurement.note, lang="en")))


def assess_catalogue(
    catalogue, checker: UrlChecker, dcat_ap_shapes_dir: Path | None, project_shapes: Path,
    rewrite_graph: Callable[[Graph], Graph],
) -> tuple[list[DatasetQuality], list[str]]:
    """Assess every record of ``catalogue`` (a :class:`graph_service.catalog.Catalogue`) in the DCAT-AP 2.1.1 view."""
    graph = rewrite_graph(catalogue.whole(DCAT_AP_2))
    shapes, used = compliance_shapes(dcat_ap_shapes_dir, project_shapes)
    return assess(graph, checker, violations_by_dataset(graph, shapes)), used
