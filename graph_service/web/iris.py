"""Base rewriting: persistent IRIs live under the configured base; responses speak the serving origin.

When the service runs anywhere but behind its persistent base (a laptop, CI, a mirror), every IRI under the base
is rewritten to the origin that served the request, so dereferencing a URL returns RDF whose subject is exactly
that URL (DESIGN.md "Identifiers"). The mapping is reversible for request paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyoxigraph
from flask import request
from pyoxigraph import NamedNode, Quad, Triple

from . import context


class IriMapper:
    """Maps IRIs between the persistent base and the public (serving) base."""

    def __init__(self, base_iri: str, public_base: str) -> None:
        self.base_iri = base_iri
        self.public_base = public_base
        self.identity = base_iri == public_base

    def to_public_iri(self, iri: str) -> str:
        if self.identity or not iri.startswith(self.base_iri):
            return iri
        return self.public_base + iri[len(self.base_iri):]

    def to_store_iri(self, iri: str) -> str:
        if self.identity or not iri.startswith(self.public_base):
            return iri
        return self.base_iri + iri[len(self.public_base):]

    def term(self, term):
        """A pyoxigraph term with IRIs under the base rewritten (literals and blank nodes unchanged)."""
        if self.identity:
            return term
        if isinstance(term, NamedNode):
            return NamedNode(self.to_public_iri(term.value)) if term.value.startswith(self.base_iri) else term
        if isinstance(term, Triple):
            return Triple(self.term(term.subject), self.term(term.predicate), self.term(term.object))
        return term

    def triples(self, triples: Iterable[Triple]) -> Iterator[Triple]:
        if self.identity:
            yield from triples
            return
        for t in triples:
            yield Triple(self.term(t.subject), self.term(t.predicate), self.term(t.object))

    def quads(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        for q in quads:
            graph = q.graph_name
            yield Quad(self.term(q.subject), self.term(q.predicate), self.term(q.object),
                       self.term(graph) if isinstance(graph, pyoxigraph.NamedNode) else graph)


def public_base() -> str:
    """The serving origin of the current request, ending in '/' (honours a proxy's Host header)."""
    return request.host_url


def mapper() -> IriMapper:
    """The IRI mapper for the current request."""
    return IriMapper(context.settings().base_iri, public_base())
