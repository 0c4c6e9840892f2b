"""SHACL on the data a write would publish, before it commits.

Measured on the project data (57k triples in the union, shapes/ as of issue 7): validating the whole union with
pyshacl takes 12-19 s, plus 2-3 s to copy the store into rdflib, so validating everything on every write would make
each write cost ~20 s. A write can only change the result for the nodes whose data it touches, so the whole union
is kept in an rdflib graph (per process, ~80 MB, updated by each write's change set and rebuilt only when another
process published) and pyshacl validates it restricted to the affected focus nodes (its ``focus_nodes`` option):

* every subject of a changed triple (blank nodes: the IRI nodes that reach them through blank nodes, e.g. the
  report owning an author list),
* every node that links to such a subject or that it links to (shapes read one link further: ``sh:class`` and
  ``sh:node`` on values, inverse paths and the per-dataset / per-scheme SPARQL constraints),
* every IRI object of a changed triple (inverse paths and ``sh:targetObjectsOf`` see it).

Then an edit of one AI use case validates the case, its source dataset (whose SPARQL constraints read its 1,600
cases), its concepts and Member States: 0.1-1.5 s. Measured end to end on the project data, such a write takes
about 2.5 s (the update's child process 0.2 s, finding the change ~1.2 s, SHACL ~1 s); the first write of a process
adds ~3 s to build the mirror. Beyond ``FULL_VALIDATION_FOCUS`` nodes (a large upload, CLEAR) the whole union is
validated, which is then faster than pyshacl's per-node filtering (12-19 s on the project data; the violations of
the version it produces are kept, so a following large write validates only its own result). Shapes whose
constraints read data more than two links away from their focus node would need more; none in shapes/ does, and
the loader and ``graph-service validate`` always check everything.

A write is refused when the result has a violation the data did not have before: violations present before the
write (data restored or written before a shape was tightened) do not block unrelated edits; those it introduces do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph
from pyshacl import validate as shacl_validate
from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from ..loading.validation import Finding, compact
from ..namespaces import SH
from ..store.base import ChangeSet, GraphStore

#: Above this many focus nodes the whole union is validated (pyshacl filters focus nodes by list membership).
FULL_VALIDATION_FOCUS = 400
_XSD_STRING = str(XSD.string)


class WriteRejected(Exception):
    """The write would make the data violate the shapes; nothing was changed."""

    def __init__(self, findings: list[Finding], report: Graph) -> None:
        super().__init__(f"{len(findings)} SHACL violation(s)")
        self.findings = findings
        self.report = report  # an sh:ValidationReport holding only these results

    def lines(self) -> list[str]:
        return [finding.line() for finding in self.findings]


def to_rdflib(term) -> Node:
    """One pyoxigraph term as rdflib's (blank nodes keep their label, so a later change finds them again)."""
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        # As the loader's N-Triples bridge reads them: xsd:string literals are plain in rdflib.
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"RDF-star terms are not validated: {term}")


def _triples(triples: Iterable[pyoxigraph.Triple]) -> Iterable[tuple[Node, Node, Node]]:
    for t in triples:
        yield to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)


@dataclass
class _Result:
    finding: Finding
    node: Node


class WriteValidator:
    """Checks writes against ``shapes``; one per store (it mirrors that store's union)."""

    def __init__(self, store: GraphStore, shapes: Graph) -> None:
        self.store = store
        self.shapes = shapes
        self._lock = threading.Lock()
        self._mirror: Graph | None = None
        self._mirror_digest: str | None = None  # the data version the mirror holds; None: unknown
        self._pending: ChangeSet | None = None  # the checked change the mirror holds, until it is committed
        # The violations of a whole data version (digest -> findings), from the last full validation: a large write
        # then validates everything once, not twice (before and after).
        self._full: tuple[str, frozenset[Finding]] | None = None
        self._pending_full: frozenset[Finding] | None = None

    def check(self, changes: ChangeSet) -> None:
        """Raise :class:`WriteRejected` if ``changes`` introduce violations; on success the mirror holds the result.

        Call :meth:`committed` with the change and the new version once the store published it.
        """
        with self._lock:
            mirror = self._mirror_of(changes)
            before_digest = changes.before.digest if changes.before else ""
            self._mirror_digest, self._pending, self._pending_full = None, changes, None  # ahead until committed()
            removed, added = list(_triples(changes.union_removed)), list(_triples(changes.union_added))
            _apply(mirror, removed, added)
            focus = self._focus(mirror, changes)
            if focus == []:
                return
            after = _violations(mirror, self.shapes, focus)
            if focus is None:
                self._pending_full = frozenset(result.finding for result in after[0])
            if not after[0]:
                return
            if focus is None and self._full is not None and self._full[0] == before_digest:
                before = self._full[1]
            else:
                _apply(mirror, added, removed)  # back to the data before the write, to tell new violations from old
                before = frozenset(result.finding for result in _violations(mirror, self.shapes, focus)[0])
                _apply(mirror, removed, added)
                if focus is None:
                    self._full = (before_digest, before)
            new = [result for result in after[0] if result.finding not in before]
            if new:
                _apply(mirror, added, removed)
                self._mirror_digest, self._pending = before_digest, None
                raise WriteRejected([r.finding for r in new], _report_of(after[1], [r.node for r in new]))

    def committed(self, changes: ChangeSet, digest: str) -> None:
        """``changes`` (checked last) were published as version ``digest``: the mirror holds that version."""
        with self._lock:
            if self._mirror is not None and self._pending is changes:
                self._mirror_digest, self._pending = digest, None
                if self._pending_full is not None:
                    self._full = (digest, self._pending_full)

    def _mirror_of(self, changes: ChangeSet) -> Graph:
        """The union as it was before the write: the kept mirror, or a fresh copy of the published data."""
        digest = changes.before.digest if changes.before else ""
        if self._mirror is None or self._mirror_digest != digest:
            self._mirror = None  # free the old one before building the next
            mirror = Graph()
            if changes.before is not None:
                result = self.store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
                mirror.addN((s, p, o, mirror) for s, p, o in _triples(result))
            self._mirror, self._mirror_digest = mirror, digest
        return self._mirror

    def _focus(self, mirror: Graph, changes: ChangeSet) -> list[URIRef] | None:
        """The IRI nodes whose validation the change can affect; ``None``: validate every node.

        Every node is validated when there are too many, or when a changed blank node still has statements but no
        IRI reaches it (pyshacl's focus option takes IRIs only, and such a node may be a target itself).
        """
        changed = [*changes.union_added, *changes.union_removed]
        subjects = {to_rdflib(t.subject) for t in changed}
        objects = {to_rdflib(t.object) for t in changed if not isinstance(t.object, pyoxigraph.Literal)}
        owners, orphans = _owners(mirror, subjects)
        if orphans:
            return None
        focus = set(owners)
        for node in owners:
            focus.update(_owners(mirror, mirror.objects(node, None))[0])
            focus.update(_owners(mirror, mirror.subjects(None, node))[0])
            if len(focus) > FULL_VALIDATION_FOCUS:
                return None
        focus.update(_owners(mirror, objects)[0])
        return sorted(focus) if len(focus) <= FULL_VALIDATION_FOCUS else None


def _apply(graph: Graph, removed: list, added: list) -> None:
    for triple in removed:
        graph.remove(triple)
    graph.addN((s, p, o, graph) for s, p, o in added)


def _owners(graph: Graph, nodes: Iterable[Node]) -> tuple[set[URIRef], bool]:
    """The IRIs among ``nodes`` and, for blank nodes, the IRIs that reach them through blank nodes; and whether
    some blank node with statements of its own is reached by no IRI."""
    found: set[URIRef] = set()
    orphans = False
    for start in nodes:
        if isinstance(start, URIRef):
            found.add(start)
            continue
        if not isinstance(start, BNode):
            continue
        reached = False
        pending, seen = [start], set()
        while pending:
            node = pending.pop()
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, URIRef):
                found.add(node)
                reached = True
            else:
                pending.extend(graph.subjects(None, node))
        if not reached and (start, None, None) in graph:
            orphans = True
    return found, orphans


def _violations(data: Graph, shapes: Graph, focus: list[URIRef] | None) -> tuple[list[_Result], Graph]:
    """The violations (not warnings) for ``focus`` (``None``: every node), and pyshacl's report graph."""
    _conforms, report, _text = shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True, inplace=True,
        focus_nodes=focus,
    )
    results: dict[Finding, _Result] = {}
    # Only the report's top-level results: nested sh:detail results explain them (as in the loader's report).
    for node in (r for top in report.subjects(RDF.type, SH.ValidationReport) for r in report.objects(top, SH.result)):
        severity = report.value(node, SH.resultSeverity)
        if severity is not None and severity != SH.Violation:
            continue
        value = report.value(node, SH.value)
        finding = Finding(
            severity="Violation",
            focus=compact(report.value(node, SH.focusNode)),
            path=compact(report.value(node, SH.resultPath), report),
            message=str(report.value(node, SH.resultMessage) or "does not conform"),
            value=compact(value) if value is not None else "",
        )
        results.setdefault(finding, _Result(finding, node))
    ordered = sorted(results.values(), key=lambda r: (r.finding.focus, r.finding.path, r.finding.message))
    return ordered, report


def _report_of(report: Graph, results: list[Node]) -> Graph:
    """An sh:ValidationReport with only ``results`` (each with the blank nodes it describes)."""
    graph = Graph()
    graph.bind("sh", SH)
    top = BNode()
    graph.add((top, RDF.type, SH.ValidationReport))
    graph.add((top, SH.conforms, Literal(False)))
    for result in results:
        graph.add((top, SH.result, result))
        pending, seen = [result], set()
        while pending:
            node = pending.pop()
            if node in seen:
                continue
            seen.add(node)
            for p, o in report.predicate_objects(node):
                graph.add((node, p, o))
                if isinstance(o, BNode):
                    pending.append(o)
    return graph
