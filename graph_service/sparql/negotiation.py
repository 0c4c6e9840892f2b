"""Response formats for a query, chosen before it runs, for both families of results.

The form of a query (SELECT/ASK give results, CONSTRUCT/DESCRIBE give a graph) is only certain once the query
is parsed, so a format is chosen for each family and the query uses the one that fits it. When the client's
``Accept`` fits only one family, the other family gets its default format instead of a 406: real clients
(rdflib's SPARQLStore, SPARQLWrapper with some settings) send one ``Accept`` for every query. 406 remains for
an ``Accept`` that fits neither family. ``format=`` (or ``output=`` / ``results=``) overrides ``Accept``; a name of
the other family is read as its media types (``format=json`` for a CONSTRUCT is JSON-LD, ``format=xml`` RDF/XML).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from ..formats import FORMATS, Format, Kind, by_name, formats_of, negotiate

RESULT_FORMATS: list[Format] = formats_of(Kind.RESULTS)  # SPARQL JSON first: the default
GRAPH_FORMATS: list[Format] = formats_of(Kind.GRAPH)  # Turtle first: the default


class NotAcceptable(Exception):
    """Nothing offered fits the ``Accept`` header; ``offered`` lists the media types that would."""

    def __init__(self, accept: str, offered: Sequence[Format]) -> None:
        super().__init__(accept, offered)
        self.accept = accept
        self.offered = tuple(offered)

    @property
    def message(self) -> str:
        types = "\n".join(f"  {fmt.media_type}" for fmt in self.offered)
        return f"None of the formats this endpoint offers matches 'Accept: {self.accept}'. Offered:\n{types}"


class UnknownFormat(Exception):
    """No ``format=`` value names a format; the message lists the names that do."""

    def __init__(self, names: Sequence[str], offered: Sequence[Format]) -> None:
        super().__init__(names, offered)
        self.names = tuple(names)
        self.offered = tuple(offered)

    @property
    def message(self) -> str:
        known = ", ".join(fmt.name for fmt in self.offered)
        return f"Unknown format {', '.join(repr(n) for n in self.names)}; use one of: {known} (or a media type)."


@dataclass(frozen=True)
class ResponseFormats:
    results: Format  # for SELECT and ASK
    graph: Format  # for CONSTRUCT and DESCRIBE

    def for_results(self, is_graph: bool) -> Format:
        return self.graph if is_graph else self.results


def format_named(name: str) -> Format | None:
    """The format a ``format=`` value names: a short name, a media type, or a client's name for it (``turtle``)."""
    name = name.strip()
    found = by_name(name)
    if found is None:
        found = next((fmt for fmt in FORMATS if fmt.rdflib_name and fmt.rdflib_name == name.lower()), None)
    return found


def _requested(format_names: Sequence[str], offered: Sequence[Format]) -> Format:
    for name in format_names:
        found = format_named(name)
        if found is not None:
            return found
    raise UnknownFormat(format_names, offered)


def _in_family(requested: Format, family: list[Format]) -> Format | None:
    if requested in family:
        return requested
    return negotiate(", ".join(requested.media_types), family)


def choose_formats(accept: str | None, format_names: Sequence[str] = ()) -> ResponseFormats:
    """The formats to answer a query with; raises :class:`NotAcceptable` or :class:`UnknownFormat`."""
    if accept is not None and len(accept) > _MAX_CACHED_ACCEPT:
        return _choose_formats(accept, tuple(format_names))
    return _choose_formats_cached(accept, tuple(format_names))


#: Clients send a handful of distinct ``Accept`` headers and format names: each choice is made once per process.
_MAX_CACHED_ACCEPT = 512


def _choose_formats(accept: str | None, format_names: tuple[str, ...]) -> ResponseFormats:
    if format_names:
        requested = _requested(format_names, RESULT_FORMATS + GRAPH_FORMATS)
        results, graph = _in_family(requested, RESULT_FORMATS), _in_family(requested, GRAPH_FORMATS)
    else:
        results, graph = negotiate(accept, RESULT_FORMATS), negotiate(accept, GRAPH_FORMATS)
        if results is None and graph is None:
            raise NotAcceptable(accept or "", RESULT_FORMATS + GRAPH_FORMATS)
    return ResponseFormats(results or RESULT_FORMATS[0], graph or GRAPH_FORMATS[0])


_choose_formats_cached = functools.lru_cache(maxsize=256)(_choose_formats)  # errors are raised, never cached


def choose_format(accept: str | None, format_names: Sequence[str], offered: list[Format]) -> Format:
    """One format among ``offered`` (a document such as the service description); the first is the default."""
    if format_names:
        requested = _requested(format_names, offered)
        return _in_family(requested, offered) or offered[0]
    chosen = negotiate(accept, offered)
    if chosen is None:
        raise NotAcceptable(accept or "", offered)
    return chosen
