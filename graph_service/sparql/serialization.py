"""Run a query into the bytes of one format, counting rows as they are written.

Solutions are first written as SPARQL TSV and triples as N-Triples by pyoxigraph itself, into a sink that counts
lines (both formats escape newlines, so a line is a row) and aborts as soon as the row cap is passed: the query's
evaluation is lazy, so aborting the write also stops the work. The IRI rewriting is then one ``bytes.replace`` of
``<store base`` (both formats write IRIs in angle brackets), and the requested format is written by pyoxigraph
from the checked TSV / N-Triples: a native parse + write, measured at 1.1x to 1.7x the time of a direct write of
large results and negligible for small ones, with no Python code per row (iterating solutions in Python is ~4x
slower). TSV and N-Triples answers need no second pass.
"""

from __future__ import annotations

import io

import pyoxigraph
from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat

from ..formats import BY_NAME
from ..store.base import GraphStore, QueryTimedOut, StoreError
from .jobs import MalformedQuery, QueryFailed, QueryJob, QueryOutcome, QueryTimeout, TooManyRows, UnwritableResult


class _OverBudget(Exception):
    pass


class _LineBudget(io.RawIOBase):
    """A write sink that keeps what it is given until more than ``max_lines`` lines arrive."""

    def __init__(self, max_lines: int) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.lines = 0
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:  # noqa: ANN001 - bytes-like from pyoxigraph
        data = bytes(chunk)
        self.lines += data.count(b"\n")
        if self.lines > self.max_lines:
            raise _OverBudget
        self._buffer += data
        return len(data)

    def value(self) -> bytes:
        return bytes(self._buffer)


def _write_capped(result: QuerySolutions | pyoxigraph.QueryTriples, fmt, max_lines: int) -> tuple[bytes, int]:
    sink = _LineBudget(max_lines)
    result.serialize(sink, format=fmt)
    return sink.value(), sink.lines


def execute(store: GraphStore, job: QueryJob) -> QueryOutcome:
    """Run ``job`` on ``store``; raises a :class:`~.jobs.QueryError` subclass for every way it can fail."""
    try:
        result = store.query(job.sparql, default_graphs=job.default_graphs, named_graphs=job.named_graphs,
                             base_iri=job.base_iri)
    except SyntaxError as error:
        raise MalformedQuery(f"Malformed query: {error}") from None
    except QueryTimedOut as error:  # a remote engine stopped it at the limit (embedded: the worker is killed)
        raise QueryTimeout(error.seconds) from None
    except StoreError as error:  # e.g. a remote engine that timed out or is unreachable
        raise QueryFailed(f"The store could not run the query: {error}") from None
    try:
        if isinstance(result, QueryBoolean):
            fmt = BY_NAME[job.results_format]
            return QueryOutcome(fmt.name, result.serialize(format=fmt.results_format), None)
        if isinstance(result, QuerySolutions):
            return _solutions(result, job)
        return _triples(result, job)
    except _OverBudget:
        raise TooManyRows(job.max_rows) from None
    except (RuntimeError, OSError, StoreError) as error:
        raise QueryFailed(f"The query failed while running: {error}") from None


def _rewrite(data: bytes, job: QueryJob) -> bytes:
    if not job.store_base or job.store_base == job.public_base:
        return data
    return data.replace(b"<" + job.store_base.encode(), b"<" + job.public_base.encode())


def _solutions(result: QuerySolutions, job: QueryJob) -> QueryOutcome:
    fmt = BY_NAME[job.results_format]
    tsv, lines = _write_capped(result, QueryResultsFormat.TSV, job.max_rows + 1)  # + the header line
    tsv = _rewrite(tsv, job)
    if fmt.results_format == QueryResultsFormat.TSV:
        return QueryOutcome(fmt.name, tsv, lines - 1)
    solutions = pyoxigraph.parse_query_results(tsv, QueryResultsFormat.TSV)
    return QueryOutcome(fmt.name, solutions.serialize(format=fmt.results_format), lines - 1)


def _triples(result: pyoxigraph.QueryTriples, job: QueryJob) -> QueryOutcome:
    fmt = BY_NAME[job.graph_format]
    ntriples, lines = _write_capped(result, RdfFormat.N_TRIPLES, job.max_rows)
    ntriples = _rewrite(ntriples, job)
    if fmt.rdf_format == RdfFormat.N_TRIPLES:
        return QueryOutcome(fmt.name, ntriples, lines)
    used = {prefix: iri for prefix, iri in job.prefixes if b"<" + iri.encode() in ntriples}  # no unused lines
    try:
        body = pyoxigraph.serialize(pyoxigraph.parse(ntriples, RdfFormat.N_TRIPLES), format=fmt.rdf_format,
                                    prefixes=used)
    except ValueError as error:
        raise UnwritableResult(f"The result cannot be written as {fmt.media_type} ({error}); ask for "
                               f"text/turtle or application/n-triples.") from None
    return QueryOutcome(fmt.name, body, lines)
