"""What the web process hands a query worker and what it gets back (plain, picklable values)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueryJob:
    sparql: str
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    #: Resolves relative IRIs of the query (the endpoint's IRI under the persistent base).
    base_iri: str | None
    #: Short names (graph_service.formats) of the format for SELECT/ASK results and for CONSTRUCT/DESCRIBE graphs.
    results_format: str
    graph_format: str
    #: More solutions (or triples) than this and the query is refused (:class:`TooManyRows`).
    max_rows: int
    #: IRIs written ``<store_base...>`` in the results become ``<public_base...>`` (graph_service.web.iris).
    store_base: str = ""
    public_base: str = ""
    #: Prefixes for the serialisations that use them (Turtle, TriG, RDF/XML), already in public IRIs.
    prefixes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class QueryOutcome:
    format_name: str
    body: bytes
    #: Solutions or triples in the body; ``None`` for an ASK.
    rows: int | None


class QueryError(Exception):
    """A query that could not be answered; ``status`` and ``message`` make the plain-text HTTP answer."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class MalformedQuery(QueryError):
    """The parser rejected the query; the message is the parser's, with line and column."""

    status = 400


class TooManyRows(QueryError):
    """The results exceed the row cap: refused as a whole, never cut short silently."""

    status = 422

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The results have more than {limit:,} rows (solutions or triples), this endpoint's limit. Nothing "
            f"was returned: add LIMIT and OFFSET (with ORDER BY) to page through them, or aggregate (COUNT, "
            f"GROUP BY)."
        )
        self.args = (limit,)
        self.limit = limit


class QueryTimeout(QueryError):
    """The query ran past the time limit and its work was stopped (the process running it was killed)."""

    status = 503

    def __init__(self, seconds: float, pid: int | None = None) -> None:
        super().__init__(
            f"The query was cancelled after {seconds:g} s, this endpoint's time limit. Narrow it down (more "
            f"specific patterns, LIMIT) or run it on a downloaded dump of the data."
        )
        self.args = (seconds, pid)
        self.seconds = seconds
        self.pid = pid


class EndpointBusy(QueryError):
    """Every query worker of this web process stayed busy for a whole time limit; the query never started."""

    status = 503

    def __init__(self, seconds: float) -> None:
        super().__init__(f"The endpoint is busy: no query worker became free within {seconds:g} s. Try again later.")
        self.args = (seconds,)


class UnwritableResult(QueryError):
    """The results exist but cannot be written in the chosen format (e.g. a predicate RDF/XML cannot name)."""

    status = 406


class QueryFailed(QueryError):
    """Evaluation failed (a SERVICE call failed, the store could not be read...)."""

    status = 500
