"""RDF request bodies of the Graph Store Protocol: any RDF syntax of the format table, parsed without fetching.

Parsing is pyoxigraph's: it loads no remote JSON-LD ``@context`` (refused with a parse error), resolves no XML
external entity and reads no other file. What its parsers do not guard against (RDF/XML entity expansion, deep
nesting in RDF/XML and JSON-LD) is refused before parsing by :mod:`graph_service.loading.untrusted`, as for files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph
from werkzeug.http import parse_options_header

from ..formats import FORMATS, Format
from ..loading.untrusted import UnsafeDocument, check_document

#: Formats a client may send: every RDF syntax of the format table.
ACCEPTED: tuple[Format, ...] = tuple(f for f in FORMATS if f.rdf_format is not None)


class PayloadError(Exception):
    def __init__(self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


@dataclass(frozen=True)
class Payload:
    triples: list[pyoxigraph.Triple]
    media_type: str
    #: SHA-256 of the body as received (recorded with the write).
    sha256: str


def accepted_media_types() -> str:
    return ", ".join(f.media_type for f in ACCEPTED)


def format_of(content_type: str | None) -> Format:
    """The RDF format a ``Content-Type`` names; 415 for anything else, or for a charset other than UTF-8."""
    media_type, options = parse_options_header(content_type or "")
    media_type = media_type.lower()
    fmt = next((f for f in ACCEPTED if media_type in f.media_types), None)
    if fmt is None:
        got = f"'{media_type}'" if media_type else "no Content-Type"
        raise PayloadError(415, f"Send RDF in one of: {accepted_media_types()}; this request has {got}.",
                           (("Accept-Post", accepted_media_types()), ("Accept-Put", accepted_media_types())))
    charset = options.get("charset", "utf-8").lower().replace("_", "-")
    if charset not in ("utf-8", "utf8"):
        raise PayloadError(415, f"RDF bodies must be UTF-8 encoded; this one declares charset={charset}.")
    return fmt


def parse_payload(body: bytes, content_type: str | None, base_iri: str,
                  to_store: Callable[[pyoxigraph.Triple], pyoxigraph.Triple]) -> Payload:
    """The triples of ``body`` (relative IRIs resolved against ``base_iri``), mapped to store IRIs by ``to_store``.

    Raises :class:`PayloadError`: 415 for an unknown format, 400 for a body that does not parse, names graphs
    (the protocol addresses one graph per request) or could exhaust the parser (entities, nesting).
    """
    fmt = format_of(content_type)
    try:
        check_document(body, fmt.rdf_format)
    except UnsafeDocument as error:
        raise PayloadError(400, f"The body is refused before parsing: {error}") from None
    triples = []
    try:
        for quad in pyoxigraph.parse(body, format=fmt.rdf_format, base_iri=base_iri):
            if not isinstance(quad.graph_name, pyoxigraph.DefaultGraph):
                raise PayloadError(400, f"The body puts statements in the graph {quad.graph_name}: a Graph Store "
                                        "request addresses one graph, named by ?graph= or ?default.")
            triples.append(to_store(pyoxigraph.Triple(quad.subject, quad.predicate, quad.object)))
    except SyntaxError as error:
        raise PayloadError(400, f"The body is not valid {fmt.media_type}: {error.msg}") from None
    except ValueError as error:  # e.g. an IRI the parser accepted but the data model refuses
        raise PayloadError(400, f"The body is not valid {fmt.media_type}: {error}") from None
    return Payload(triples, fmt.media_type, hashlib.sha256(body).hexdigest())


def n_triples(triples: list[pyoxigraph.Triple]) -> str:
    """``triples`` as N-Triples, which is valid inside ``INSERT DATA { ... }``."""
    return pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES).decode("utf-8") if triples else ""
