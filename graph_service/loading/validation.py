"""SHACL validation with pyshacl, reported as "focus node – path – message" lines a curator can act on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from pyshacl import validate as shacl_validate
from rdflib import RDF, Graph
from rdflib.term import Node

from ..namespaces import PREFIXES, SH
from .sources import parse_file, rdf_files


@dataclass(frozen=True)
class Finding:
    severity: str  # "Violation", "Warning" or "Info"
    focus: str
    path: str
    message: str
    value: str = ""

    def line(self) -> str:
        value = f" (value: {self.value})" if self.value and self.value not in self.message else ""
        return f"{self.severity}: {self.focus} – {self.path} – {self.message}{value}"


@dataclass
class ValidationReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def conforms(self) -> bool:
        """Only violations block publishing; warnings are shown to the curator."""
        return not self.violations

    def lines(self) -> list[str]:
        return [f.line() for f in self.findings]


def to_rdflib(quads: Iterable[pyoxigraph.Quad | pyoxigraph.Triple]) -> Graph:
    """The union of ``quads`` as one rdflib graph (through N-Triples, the fastest bridge between the two)."""
    triples = (pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads)
    data = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES)
    graph = Graph()
    if data:
        graph.parse(data=data, format="nt")
    return graph


def load_shapes(shapes_dir: Path, base_iri: str) -> Graph:
    """Every shapes file of ``shapes_dir`` as one graph."""
    quads: list[pyoxigraph.Quad] = []
    for path in rdf_files([shapes_dir]):
        quads.extend(parse_file(path, None, base_iri))
    return to_rdflib(quads)


def compact(node: Node | None, graph: Graph | None = None) -> str:
    """A readable name: a prefixed name where a prefix fits, the IRI otherwise, a path expression for paths."""
    if node is None:
        return "(node)"
    text = str(node)
    if graph is not None and (node, None, None) in graph and not text.startswith("http"):
        return _path_text(node, graph)
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        if text.startswith(namespace) and text != namespace:
            return f"{prefix}:{text[len(namespace):]}"
    return f"<{text}>" if text.startswith(("http", "urn", "file")) else text


def _path_text(node: Node, graph: Graph) -> str:
    """A SHACL path (inverse, sequence, alternative...) as text."""
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return f"^{compact(inverse, graph)}"
    from rdflib.collection import Collection

    try:
        return "/".join(compact(item, graph) for item in Collection(graph, node))
    except Exception:  # noqa: BLE001 - unusual path forms still get a printable name
        return str(node)


def validate_graph(data: Graph, shapes: Graph) -> ValidationReport:
    """Validate ``data`` against ``shapes`` (no inference: data states its classes explicitly)."""
    _conforms, results, _text = shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
    )
    findings: set[Finding] = set()
    # Only the report's top-level results: nested sh:detail results explain them and would print as noise.
    for result in (r for report in results.subjects(RDF.type, SH.ValidationReport)
                   for r in results.objects(report, SH.result)):
        severity = results.value(result, SH.resultSeverity)
        findings.add(
            Finding(
                severity=str(severity).rpartition("#")[2] if severity else "Violation",
                focus=compact(results.value(result, SH.focusNode)),
                path=compact(results.value(result, SH.resultPath), results),
                message=str(results.value(result, SH.resultMessage) or "does not conform"),
                value=compact(results.value(result, SH.value)) if results.value(result, SH.value) else "",
            )
        )
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    return ValidationReport(sorted(findings, key=lambda f: (order.get(f.severity, 3), f.focus, f.path, f.message)))
