"""The one table of formats: media type <-> short name <-> file extension <-> pyoxigraph / rdflib format.

Every face (SPARQL, Linked Data, catalogue, CLI) looks formats up here; nothing else names a media type.
Negotiation uses Werkzeug's Accept parsing (q-values, wildcards, specificity).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum

import pyoxigraph
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header


class Kind(Enum):
    GRAPH = "graph"  # triples (CONSTRUCT / DESCRIBE / a resource description)
    DATASET = "dataset"  # quads: graph names preserved
    RESULTS = "results"  # SELECT / ASK results
    PAGE = "page"  # HTML for people


@dataclass(frozen=True)
class Format:
    name: str  # short name: format= parameter, CLI --format
    media_type: str
    extension: str
    kinds: frozenset[Kind]
    aliases: tuple[str, ...] = ()  # other media types clients send for the same thing
    rdf_format: pyoxigraph.RdfFormat | None = None
    results_format: pyoxigraph.QueryResultsFormat | None = None
    rdflib_name: str | None = None
    textual: bool = True

    def __hash__(self) -> int:
        # Formats key the negotiation memo on every request; equal formats share a name, so it is hash enough.
        return hash(self.name)

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.textual else self.media_type

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


_G, _D, _R = Kind.GRAPH, Kind.DATASET, Kind.RESULTS
RDFF, QRF = pyoxigraph.RdfFormat, pyoxigraph.QueryResultsFormat

FORMATS: tuple[Format, ...] = (
    Format("ttl", "text/turtle", "ttl", frozenset({_G}), ("application/x-turtle",), RDFF.TURTLE, None, "turtle"),
    Format("nt", "application/n-triples", "nt", frozenset({_G}), ("text/plain",), RDFF.N_TRIPLES, None, "nt"),
    Format("rdf", "application/rdf+xml", "rdf", frozenset({_G}), ("application/xml", "text/xml"),
           RDFF.RDF_XML, None, "xml"),
    Format("jsonld", "application/ld+json", "jsonld", frozenset({_G, _D}), ("application/json",),
           RDFF.JSON_LD, None, "json-ld"),
    Format("trig", "application/trig", "trig", frozenset({_D, _G}), (), RDFF.TRIG, None, "trig"),
    Format("nq", "application/n-quads", "nq", frozenset({_D, _G}), ("text/x-nquads",), RDFF.N_QUADS, None, "nquads"),
    Format("n3", "text/n3", "n3", frozenset({_G}), ("text/rdf+n3",), RDFF.N3, None, "n3"),
    Format("json", "application/sparql-results+json", "srj", frozenset({_R}), ("application/json",),
           None, QRF.JSON),
    Format("xml", "application/sparql-results+xml", "srx", frozenset({_R}), ("application/xml", "text/xml"),
           None, QRF.XML),
    Format("csv", "text/csv", "csv", frozenset({_R}), (), None, QRF.CSV),
    Format("tsv", "text/tab-separated-values", "tsv", frozenset({_R}), (), None, QRF.TSV),
    Format("html", "text/html", "html", frozenset({Kind.PAGE}), ("application/xhtml+xml",)),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
BY_EXTENSION: dict[str, Format] = {f.extension: f for f in FORMATS} | {"json": BY_NAME["jsonld"]}


def formats_of(kind: Kind) -> list[Format]:
    return [f for f in FORMATS if kind in f.kinds]


def by_name(name: str, kind: Kind | None = None) -> Format | None:
    """A format by its short name (``ttl``, ``json``...), optionally only one usable for ``kind``."""
    fmt = BY_NAME.get(name.lower().lstrip("."))
    if fmt is None:
        fmt = next((f for f in FORMATS if name.lower() in f.media_types), None)
    if fmt is not None and kind is not None and kind not in fmt.kinds:
        return None
    return fmt


def by_extension(path: str) -> Format | None:
    """The format a file name's extension stands for (``report.ttl`` -> Turtle)."""
    _, _, ext = path.rpartition(".")
    return BY_EXTENSION.get(ext.lower()) if ext and ext != path else None


def negotiate(accept: str | None, offered: list[Format]) -> Format | None:
    """The offered format the ``Accept`` header prefers (q-values, wildcards, specificity).

    No or empty ``Accept`` means the first offered format. ``None`` when nothing offered is acceptable.
    Ties keep the order of ``offered``, so callers list their preferred default first.
    """
    # Clients send a handful of distinct Accept headers; parsing one costs more than a cached answer (a cheap
    # request spends ~15 % of its time here otherwise).
    if accept is not None and len(accept) > _MAX_CACHED_ACCEPT:
        return _negotiate(accept, tuple(offered))
    return _negotiate_cached(accept, tuple(offered))


_MAX_CACHED_ACCEPT = 512


def _negotiate(accept: str | None, offered: tuple[Format, ...]) -> Format | None:
    if not offered:
        return None
    if not accept or not accept.strip():
        return offered[0]
    accepted: MIMEAccept = parse_accept_header(accept, MIMEAccept)
    named: dict[str, float] = {}
    for value, quality in accepted:
        named.setdefault(value.lower(), quality)
    best: Format | None = None
    best_quality = 0.0
    for fmt in offered:
        # Wildcards match a format's own media type only: aliases (application/json for JSON-LD, text/xml for
        # SPARQL XML) count when named, or `text/*` would pick SPARQL XML through text/xml.
        quality = max([accepted.quality(fmt.media_type), *(named[a] for a in fmt.aliases if a in named)])
        if quality <= 0:
            continue
        # A media type named exactly ranks above one matched by a wildcard with the same q-value.
        exact = any(mt in named for mt in fmt.media_types)
        score = quality + (0.0001 if exact else 0.0)
        if score > best_quality:
            best, best_quality = fmt, score
    return best


_negotiate_cached = functools.lru_cache(maxsize=512)(_negotiate)


def guess_rdf_format(filename: str) -> pyoxigraph.RdfFormat | None:
    """The pyoxigraph RDF parser for a source file name, or ``None`` if it is not an RDF file."""
    fmt = by_extension(filename)
    if fmt is None or fmt.rdf_format is None:
        return None
    return fmt.rdf_format
