"""The remote backend: any SPARQL 1.1 Query/Update (+ Graph Store Protocol) engine, tuned for OpenLink Virtuoso.

Queries go through SPARQLWrapper to the public query URL, over kept-alive connections (a urllib3 pool per
process: a connection per request cost more than the engine's own answer to a cheap query); updates, uploads and
the bulk loader use the update and Graph Store URLs with the configured credentials (HTTP Digest, Virtuoso's
scheme, or Basic).

What the engine holds (``P`` = ``urn:x-graph-service:<dataset>``)::

    <P>                        the version record: digest, publish time, and every published graph
    <named graphs>             the published data, under their own names (``{base}graph/...``)
    <P/union>                  the default graph: the set union of all published graphs, written at publish
    <P/staging/<token>/<n>>    a publish in progress, never visible to queries
    <P/staging-list>           ``<P> <urn:x-graph-service:staging> <P/staging/...>``: staging graphs to drop

**Union default graph.** Engines put *every* graph in their default graph (Virtuoso adds its own system graphs,
a publish in progress adds staging graphs) and Virtuoso's union of several graphs is a bag (a triple in two
graphs matches twice). As in the embedded store, the union is materialised at publish time into one graph, and
every query carries an explicit dataset: ``default-graph-uri`` = ``<P/union>``, ``named-graph-uri`` = the
published named graphs, read from the version record (sent only with queries that have a GRAPH pattern or are
DESCRIBE: the others cannot reach named graphs). Staging graphs, the record and the engine's own graphs are never
in it, whatever a publish is doing. The version is read from the record by :meth:`version` (one small query,
reused for 50 ms: a request asks several times) and the record's graphs are reused by queries for ``refresh_s``
seconds (``remote_refresh_s``): after another process published a version
that *adds* a named graph, ``GRAPH ?g`` in this process misses it for at most that long (the union and the
existing graphs switch in the engine, at once). A query's own ``FROM``/``FROM NAMED`` clauses are sent as that
protocol dataset (SPARQL 1.1 semantics, as on the embedded store; never a graph that is not published).

**Publishing** is all or nothing. The quads go to staging graphs (Virtuoso's bulk loader ``ld_dir`` +
``rdf_loader_run`` when ``bulk_dir`` is set, else Graph Store Protocol POSTs, else SPARQL Update), their triple
counts are checked, and **one** SPARQL Update operation switches: ``DELETE`` from each live graph (and the record)
what its staging graph lacks, ``INSERT`` what it lacks, in one ``WHERE`` (so a republish of mostly unchanged data
is a small transaction). Virtuoso runs one operation as one transaction (``define sql:log-enable 1`` keeps it
logged): a crash, a deadlock or its transaction size limit (``TransactionAfterImageLimit``) roll it back and the
old version stays published. The first publish of a dataset (no record yet) loads the graphs where they are
served and switches only the record: copying all the data in one transaction would pass any usual transaction
size limit at 10M triples, and until the record names them no query reads those graphs. Its HTTP endpoint, though,
commits what a request changed even when it then reports
an error (several operations in one request are not atomic), so the outcome is read back (record + live triple
counts) instead of trusted. What readers observe: until the switch commits, the old data and the old record
(ETags derive from it); after it, the new ones. Virtuoso's isolation is READ COMMITTED without snapshots, so a
single query running at the instant of the commit may read some rows of each version; a query started after it
sees only the new version. Staging graphs are dropped after the switch, and those left by a crashed publish at
the start of the next one. Publish from one loader at a time.

**Engine differences handled here** (README "Remote backend"): SPARQL syntax is checked locally with Oxigraph's
parser (same ``SyntaxError`` messages as the embedded store); grouped SELECTs of the shapes Virtuoso 7 refuses or
miscompiles (expressions over aggregates, ORDER BY expressions over aggregate aliases) are rewritten into the
equivalent sub-query form, and ``isIRI(?v)`` into an equivalent test Virtuoso plans well (:mod:`.virtuoso_sparql`);
a query's FROM / FROM NAMED clauses become protocol parameters (resolved by Oxigraph, limited to published graphs,
each side replaced by the caller's protocol dataset: Virtuoso would add both up, and leave the side a query does
not name open to every graph it holds); only queries with a GRAPH pattern (or DESCRIBE) are sent the named graphs;
a query's own BASE is not doubled (Virtuoso refuses two); DESCRIBE is made a Concise Bounded Description on
Virtuoso (``define sql:describe-mode "CBD"``, Oxigraph's form); literals are stored and returned in the forms the
embedded store uses (Oxigraph canonicalises numbers, booleans, dates; Virtuoso answers ``"1"`` for ``true`` and
keeps ``xsd:int``); Virtuoso's ``nodeID://`` blank node labels become plain labels; solutions of queries without
ORDER BY come sorted (Virtuoso's order changes between runs of one query; the faces' ETags promise the same
bytes); its error texts lose the echoed query; the query time limit is Virtuoso's own (``timeout`` parameter: the
engine stops the work), and an answer cut short by it (``X-SQL-State`` of a 200, or a 500 whose partial answer
ends in its "S1TAT" error line) or not back in time raises :class:`~.base.QueryTimedOut` instead of passing on a
partial answer. The service's own long reads (writing downloads) get a limit of their own
(:meth:`RemoteStore.with_query_time_limit`).
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import urllib.response
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph
import urllib3
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
)
from SPARQLWrapper import GET, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from ..config import Settings
from .base import DataVersion, GraphStore, QueryResult, QueryTimedOut, StoreError
from .virtuoso_sparql import grouped_query_for_virtuoso, iri_tests_for_virtuoso

_NS = "urn:x-graph-service:"
_DIGEST = NamedNode(_NS + "digest")
_PUBLISHED = NamedNode(_NS + "published")
_GRAPH = NamedNode(_NS + "graph")
_STAGING = NamedNode(_NS + "staging")
_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_DATETIME = NamedNode(_XSD + "dateTime")
_DATASET_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
#: Queries longer than this (with their dataset parameters) are POSTed; GET is faster on Virtuoso.
_MAX_GET_BYTES = 6000
#: Rows per request when reading a graph back, and triples per Graph Store upload.
_PAGE = 100_000
_UPLOAD_BATCH = 100_000
#: Triples per SPARQL INSERT DATA (Virtuoso's SPARQL parser runs out of stack at a few thousand).
_UPDATE_BATCH = 1_000
_SELECT_JSON = "application/sparql-results+json"
_N_TRIPLES = "application/n-triples"
#: A dataset clause in a query's skeleton (IRIs blanked, their brackets kept): FROM [NAMED] <iri> or a prefixed name.
_FROM_CLAUSE = re.compile(r"(?<![\w:?$])FROM(\s+NAMED)?(?![\w:-])\s*(<[^>]*>|[^\s{<]+)", re.IGNORECASE)
#: Typed literals that may come back in another lexical form than Oxigraph's (xsd:integer and xsd:string do not).
_MAY_NEED_CANONICAL = re.compile(rb'"datatype"\s*:\s*"http://www\.w3\.org/2001/XMLSchema#(?!integer"|string")')
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PROLOGUE = re.compile(r"\s*(?:(?:BASE\s*<[^>]*>|PREFIX\s*[^\s:]*:\s*<[^>]*>)\s*)*")
_ORDER_OR_BRACE = re.compile(r"[{}]|(?<![\w:?$])ORDER(?![\w:-])", re.IGNORECASE)
#: Seconds a version read is reused (see RemoteStore.version).
_VERSION_REUSE_S = 0.05
_GRAPH_KEYWORD = re.compile(r"(?<![\w:?$])GRAPH(?![\w:-])", re.IGNORECASE)
_EMPTY_STORE = Store()  # parses queries locally; never holds data


class _IncompleteSwitch(StoreError):
    """The engine reports a switch it did not complete (never seen; checked because its errors do not roll back)."""


@dataclass(frozen=True)
class _Record:
    """The published version as the engine's record says, and when this process read it."""

    version: DataVersion | None
    graphs: tuple[str, ...]  # the published named graphs
    read_at: float


class _PooledHTTPHandler(urllib.request.BaseHandler):
    """urllib's HTTP(S) transport over a urllib3 connection pool, so connections to the engine are kept alive.

    urllib's own handler opens and closes a connection per request (``Connection: close``), and SPARQLWrapper's
    ``setUseKeepAlive`` needs the ``keepalive`` package, whose last release (0.5, 2015) no longer builds
    (``use_2to3``). The pool is thread-safe and per process: a forked child never reuses its parent's sockets.
    Requests through a proxy (set by urllib's ProxyHandler, which runs first) are left to urllib's own handler.
    """

    handler_order = 400  # after ProxyHandler (100), before urllib's HTTP(S)Handler (500)

    def __init__(self, max_connections: int = 32) -> None:
        self._max_connections = max_connections
        self._manager: urllib3.PoolManager | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _pool(self) -> urllib3.PoolManager:
        pid = os.getpid()
        if self._manager is None or self._pid != pid:
            with self._lock:
                if self._manager is None or self._pid != pid:
                    # Beyond max_connections concurrent requests, extra connections open and close (block=False).
                    self._manager = urllib3.PoolManager(maxsize=self._max_connections, block=False)
                    self._pid = pid
        return self._manager

    def http_open(self, request: urllib.request.Request) -> urllib.response.addinfourl | None:
        if request.has_proxy():
            return None
        timeout = request.timeout if isinstance(request.timeout, int | float) else None
        headers = dict(request.header_items())
        for attempt in (1, 2):
            try:
                # urllib3 retries nothing: a query that timed out must not run again.
                answer = self._pool().request(request.get_method(), request.full_url, body=request.data,
                                              headers=headers, timeout=timeout, retries=False, redirect=False)
                break
            except urllib3.exceptions.TimeoutError as error:
                if not isinstance(error, urllib3.exceptions.NewConnectionError):  # "refused" is a connect timeout
                    raise urllib.error.URLError(TimeoutError("timed out")) from None
                raise urllib.error.URLError(_os_error(error)) from None
            except urllib3.exceptions.ProtocolError as error:
                # The engine closed a kept-alive connection as it was being reused (urllib3 notices those closed
                # before): once more on a new connection. Only queries go this way, and they change nothing.
                if attempt == 2:
                    raise urllib.error.URLError(_os_error(error)) from None
            except urllib3.exceptions.HTTPError as error:
                raise urllib.error.URLError(_os_error(error)) from None
        response = urllib.response.addinfourl(io.BytesIO(answer.data), answer.headers, request.full_url,
                                              answer.status)
        response.msg = answer.reason  # what urllib's error processing reads
        return response

    https_open = http_open


def _os_error(error: Exception) -> BaseException:
    """The socket error behind a urllib3 error (its text is what people can act on), else the error itself."""
    for candidate in (error.__cause__, *error.args):
        if isinstance(candidate, OSError):
            return candidate
    return error


class _SPARQLClient(SPARQLWrapper):
    """SPARQLWrapper sending its requests through ``opener`` (its own ``_query`` uses urllib's process-wide
    ``urlopen``); HTTP errors come back as :class:`urllib.error.HTTPError`, with the engine's answer readable."""

    def __init__(self, endpoint: str, opener: urllib.request.OpenerDirector) -> None:
        super().__init__(endpoint)
        self._opener = opener

    def _query(self) -> tuple[Any, str]:
        return self._opener.open(self._createRequest(), timeout=self.timeout), self.returnFormat


class RemoteStore(GraphStore):
    """A dataset in an external SPARQL 1.1 engine; see the module docstring for the layout and the guarantees."""

    def __init__(
        self,
        query_url: str,
        update_url: str = "",
        *,
        graph_store_url: str = "",
        user: str = "",
        password: str = "",
        dataset: str = "aiwatch",
        bulk_dir: str | Path = "",
        timeout_s: float = 30.0,
        refresh_s: float = 1.0,
    ) -> None:
        if not query_url:
            raise StoreError("the remote backend needs remote_query_url (and remote_update_url to publish)")
        if not _DATASET_NAME.match(dataset):
            raise StoreError(f"remote_dataset must be letters, digits, '.', '_' or '-': {dataset!r}")
        self.query_url = query_url
        self.update_url = update_url
        self.graph_store_url = graph_store_url
        self.bulk_dir = Path(bulk_dir) if bulk_dir else None
        self.timeout_s = timeout_s
        self.refresh_s = refresh_s
        self.dataset = dataset
        self._prefix = f"{_NS}{dataset}"
        self._record_graph = NamedNode(self._prefix)
        self._union_graph = f"{self._prefix}/union"
        self._empty_graph = f"{self._prefix}/empty"  # never written: names "no graph" in a protocol dataset
        self._opener = _authenticating_opener([update_url, graph_store_url], user, password)
        self._query_opener = urllib.request.build_opener(_PooledHTTPHandler())
        self._record: _Record | None = None
        self._virtuoso: bool | None = None  # learnt from the engine's Server header on first contact
        self._canonical_cache: dict[tuple[str, str], Literal] = {}
        self._lock = threading.Lock()
        self._version_seen: tuple[_Record, DataVersion | None, float] | None = None  # see version()

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore:
        return cls(
            settings.remote_query_url,
            settings.remote_update_url,
            graph_store_url=settings.remote_graph_store_url,
            user=settings.remote_user,
            password=settings.remote_password,
            dataset=settings.remote_dataset,
            bulk_dir=settings.remote_bulk_dir,
            timeout_s=settings.query_timeout_s,
            refresh_s=settings.remote_refresh_s,
        )

    def with_query_time_limit(self, seconds: float) -> RemoteStore:
        """The same engine, connections and dataset, with its own time limit for queries."""
        limited = copy.copy(self)
        limited.timeout_s = seconds
        return limited

    # -- reading ---------------------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        form = _query_form(sparql, base_iri)  # SyntaxError here is the caller's; below, the engine's answers
        record = self._current_record()
        text = sparql
        own = _query_dataset(sparql, base_iri)
        if own is not None:  # FROM / FROM NAMED become protocol parameters: filtered, and never added to others
            text, from_graphs, from_named_graphs = own
            default_graphs = from_graphs if default_graphs is None else default_graphs
            named_graphs = from_named_graphs if named_graphs is None else named_graphs
        defaults, nameds = self._protocol_dataset(record, default_graphs, named_graphs)
        if not _may_use_named_graphs(text, form):
            nameds = []  # ~20 parameters fewer for most queries: Virtuoso resolves each one, every time
        if base_iri is not None and not _declares_base(sparql):  # its own BASE wins (Virtuoso refuses two)
            text = f"BASE <{NamedNode(base_iri).value}>\n{text}"
        if self._virtuoso:
            text = iri_tests_for_virtuoso(text)
            if form is QuerySolutions:
                text = grouped_query_for_virtuoso(text)
            elif form is QueryTriples and _is_describe(sparql):
                text = f'define sql:describe-mode "CBD"\n{text}'  # Oxigraph's DESCRIBE form, not Virtuoso's default
        body, _ = self._select_or_construct(text, _N_TRIPLES if form is QueryTriples else _SELECT_JSON,
                                            defaults, nameds, time_limited=True)
        try:
            if form is QueryTriples:
                return _graph_result(body)
            return _boolean(body) if form is QueryBoolean else self._solutions(body, ordered=_orders_solutions(sparql))
        except (SyntaxError, ValueError, KeyError) as error:  # an answer that is not what SPARQL says it is
            raise StoreError(f"unreadable answer from the SPARQL engine: {error}") from None

    def version(self) -> DataVersion | None:
        """The published version, read from the engine (one small query: the list of graphs is read again only
        when the version is not the one this process knows).

        Asked again within ``_VERSION_REUSE_S`` (by any thread), the answer just read is reused: one request asks
        several times (answer cache before and after the query, ETag), and each read is a round trip. A request
        then sees the version of up to that long ago, as a request that started that much earlier would; a publish
        takes seconds, and this process's own publish starts over."""
        seen = self._version_seen  # (record it was read with, version, when)
        if seen is not None and seen[0] is self._record and time.monotonic() - seen[2] < _VERSION_REUSE_S:
            return seen[1]
        version = self._read_version()
        record = self._record
        if record is not None and record.version == version:  # else a publish or another thread got in between
            self._version_seen = (record, version, time.monotonic())
        return version

    def _read_version(self) -> DataVersion | None:
        body, _ = self._select_or_construct(
            f"SELECT ?digest ?published WHERE {{ GRAPH <{self._prefix}> {{ <{self._prefix}> "
            f"<{_DIGEST.value}> ?digest ; <{_PUBLISHED.value}> ?published }} }}",
            _SELECT_JSON,
        )
        rows = json.loads(body)["results"]["bindings"]
        known = self._record
        if known is not None and self._virtuoso is not None and _version_of(rows) == known.version:
            self._record = _Record(known.version, known.graphs, time.monotonic())
            return known.version
        return self._read_record().version

    def graph_names(self) -> list[str]:
        return list(self._current_record().graphs)

    def quads(self, graph: str | None = None) -> Iterator[Quad]:
        published = self._read_record().graphs
        wanted = published if graph is None else [g for g in published if g == graph]
        for name in wanted:
            target = NamedNode(name)
            for triple in self._graph_triples(name):
                yield Quad(triple.subject, triple.predicate, triple.object, target)

    def _protocol_dataset(
        self,
        record: _Record,
        default_graphs: Sequence[str] | None,
        named_graphs: Sequence[str] | None,
    ) -> tuple[list[str], list[str]]:
        """The ``default-graph-uri`` / ``named-graph-uri`` lists; only published graphs ever appear in them.

        Every query carries both: engines put every graph they hold (their own, other data sets', staging graphs)
        in whatever the request leaves open.
        """
        published = set(record.graphs)
        if default_graphs is None:
            defaults = [self._union_graph] if record.version is not None else []
        else:
            defaults = [g for g in default_graphs if g in published]
        named = [g for g in (record.graphs if named_graphs is None else named_graphs) if g in published]
        return defaults or [self._empty_graph], named or [self._empty_graph]

    def _graph_triples(self, graph: str) -> Iterator[pyoxigraph.Triple]:
        """A whole graph, page by page (engines cap result sizes: Virtuoso's ResultSetMaxRows)."""
        pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}"
        rows = self._select_or_construct(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}", _SELECT_JSON)[0]
        total = int(json.loads(rows)["results"]["bindings"][0]["n"]["value"])
        if total <= _PAGE:
            pages = [f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}"]
        else:
            pages = [
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT ?s ?p ?o WHERE {{ {pattern} }} ORDER BY ?s ?p ?o "
                f"LIMIT {_PAGE} OFFSET {offset} }} }}"
                for offset in range(0, total, _PAGE)
            ]
        for page in pages:
            body, _ = self._select_or_construct(page, _N_TRIPLES)
            yield from _graph_result(body)

    def _current_record(self) -> _Record:
        record = self._record
        if record is not None and time.monotonic() - record.read_at < self.refresh_s:
            return record
        return self._read_record()

    def _read_record(self) -> _Record:
        body, server = self._select_or_construct(
            f"SELECT ?digest ?published ?graph WHERE {{ GRAPH <{self._prefix}> {{ <{self._prefix}> "
            f"<{_DIGEST.value}> ?digest ; <{_PUBLISHED.value}> ?published . "
            f"OPTIONAL {{ <{self._prefix}> <{_GRAPH.value}> ?graph }} }} }}",
            _SELECT_JSON,
        )
        if self._virtuoso is None:
            self._virtuoso = server.lower().startswith("virtuoso")
        rows = json.loads(body)["results"]["bindings"]
        graphs = tuple(sorted({row["graph"]["value"] for row in rows if "graph" in row}))
        record = _Record(_version_of(rows), graphs, time.monotonic())
        self._record = record
        return record

    # -- answers -----------------------------------------------------------------------------------------------

    def _solutions(self, body: bytes, *, ordered: bool) -> QuerySolutions:
        """SPARQL JSON results as pyoxigraph objects, with terms in the embedded store's forms.

        The answer is checked here, not when the caller iterates: pyoxigraph parses lazily, and an engine's
        malformed answer (Virtuoso turns a string in a mixed ``VALUES`` into an IRI) must not surface later as
        the caller's ``SyntaxError``. Solutions of a query without ORDER BY are sorted: Virtuoso's order for
        those changes from one run of a query to the next (hash joins, DISTINCT, parallel plans), the embedded
        store's does not, and the faces serve the same bytes under the same ETag from every process.
        """
        document = json.loads(body)
        bindings = document["results"]["bindings"]
        if not ordered and len(bindings) > 1:
            names = document["head"].get("vars", [])
            bindings.sort(key=lambda row: [_sort_key(row.get(name)) for name in names])
            body = b""  # written again below
        bad = next((term["value"] for row in bindings for term in row.values()
                    if term["type"] == "uri" and not _ABSOLUTE_IRI.match(term["value"])), None)
        if bad is not None:
            raise StoreError(f"unreadable answer from the SPARQL engine: {bad!r} is given as an IRI")
        if not body or b"nodeID://" in body or _MAY_NEED_CANONICAL.search(body):
            literals = {
                (term["value"], term["datatype"])
                for row in bindings for term in row.values()
                if term.get("datatype", "").startswith(_XSD)
            }
            canonical = self._canonical_literals(literals)
            for row in bindings:
                for name, term in row.items():
                    row[name] = _json_term(term, canonical)
            body = json.dumps(document).encode()
        return pyoxigraph.parse_query_results(body, format=QueryResultsFormat.JSON)

    def _canonical_literals(self, literals: set[tuple[str, str]]) -> dict[tuple[str, str], Literal]:
        """Each typed literal as Oxigraph would store and return it (the embedded store's forms), cached."""
        cache = self._canonical_cache
        missing = [key for key in literals if key not in cache]
        if missing:
            values = " ".join(
                f"({i} {Literal(value, datatype=NamedNode(datatype))})" for i, (value, datatype) in enumerate(missing)
            )
            for solution in _EMPTY_STORE.query(f"SELECT ?i ?x WHERE {{ VALUES (?i ?x) {{ {values} }} }}"):
                if len(cache) > 100_000:
                    cache.clear()
                cache[missing[int(solution["i"].value)]] = solution["x"]
        return {key: cache[key] for key in literals}

    # -- HTTP --------------------------------------------------------------------------------------------------

    def _select_or_construct(
        self, text: str, accept: str, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
        *, time_limited: bool = False,
    ) -> tuple[bytes, str]:
        """One query request through SPARQLWrapper: the body and the engine's ``Server`` header.

        ``time_limited`` (the callers' queries): Virtuoso is asked to stop the query itself after ``timeout_s``
        (its ``timeout`` parameter, in ms: the work ends in the engine too, not only the wait here), and either way
        an answer not back in time is :class:`QueryTimedOut`.
        """
        wrapper = _SPARQLClient(self.query_url, self._query_opener)
        wrapper.setOnlyConneg(True)
        wrapper.addCustomHttpHeader("Accept", accept)
        if time_limited and self._virtuoso:
            wrapper.addParameter("timeout", str(max(1, round(self.timeout_s * 1000))))
            # Virtuoso answers within about twice its limit; the socket waits longer so its answer is the one seen.
            wrapper.setTimeout(math.ceil(self.timeout_s * 2) + 5)
        else:
            wrapper.setTimeout(math.ceil(self.timeout_s))
        # Set the text and form directly: SPARQLWrapper's keyword guess misreads e.g. comments after PREFIX lines.
        wrapper.queryString = text
        wrapper.queryType = "SELECT" if accept == _SELECT_JSON else "CONSTRUCT"
        for graph in default_graphs:
            wrapper.addDefaultGraph(graph)
        for graph in named_graphs:
            wrapper.addNamedGraph(graph)
        size = len(text) + sum(len(g) + 20 for g in (*default_graphs, *named_graphs))
        wrapper.setMethod(GET if size < _MAX_GET_BYTES else POST)
        try:
            response = wrapper.query().response
            body = response.read()
        except urllib.error.HTTPError as error:
            state, message = _engine_error(error.read())
            if error.code == 400:
                raise SyntaxError(f"the SPARQL engine refused the query: {message}") from None
            if state == _CUT_SHORT:  # a 500 once results were streaming: partial answer, then this
                raise self._cut_short(message, time_limited) from None
            raise StoreError(f"SPARQL engine at {self.query_url}: {message or f'HTTP {error.code}'}") from None
        except SPARQLWrapperException as error:
            raise StoreError(f"SPARQL engine at {self.query_url}: {error}") from None
        except (urllib.error.URLError, OSError) as error:
            if time_limited and _reason(error) == "timed out":
                raise QueryTimedOut(self.timeout_s, f"no answer from {self.query_url}") from None
            raise StoreError(f"SPARQL engine at {self.query_url} did not answer: {_reason(error)}") from None
        state = response.headers.get("X-SQL-State")
        if state:  # Virtuoso's "anytime" answer: cut short at its time limit, and says so only in headers
            raise self._cut_short(state, time_limited)
        return body, response.headers.get("Server", "")

    def _cut_short(self, detail: str, time_limited: bool) -> StoreError:
        """What an answer the engine cut short at its time limit raises: a time-out for a query with the limit,
        else an error; never the partial answer."""
        if time_limited:
            return QueryTimedOut(self.timeout_s, f"the SPARQL engine stopped it: {detail}")
        return StoreError(f"the SPARQL engine stopped the query at its time limit ({detail}); partial answers are "
                          "not passed on")

    def _post(self, url: str, body: bytes, content_type: str, params: dict[str, str] | None = None,
              accept: str = "*/*", timeout: float | None = None) -> bytes:
        """An authenticated POST (updates, uploads, bulk loader calls)."""
        target = url if not params else f"{url}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(target, data=body, method="POST",
                                         headers={"Content-Type": content_type, "Accept": accept})
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            raise StoreError(f"{url} answered HTTP {error.code}: {_engine_error(error.read())[1]}") from None
        except (urllib.error.URLError, OSError) as error:
            raise StoreError(f"{url} did not answer: {_reason(error)}") from None

    def _update(self, operations: str, *, logged_transaction: bool = False) -> None:
        prefix = ""
        if self._virtuoso:
            # 1: one logged transaction for the operation; 3: autocommit rows (drops of big staging graphs)
            prefix = "define sql:log-enable 1\n" if logged_transaction else "define sql:log-enable 3\n"
        self._post(self.update_url, urllib.parse.urlencode({"update": prefix + operations}).encode(),
                   "application/x-www-form-urlencoded")

    def _admin_select(self, text: str) -> dict[str, Any]:
        """A query on the authenticated endpoint (Virtuoso's ``sql:`` procedures need the dba role)."""
        body = self._post(self.update_url, urllib.parse.urlencode({"query": text}).encode(),
                          "application/x-www-form-urlencoded", accept=_SELECT_JSON)
        return json.loads(body)

    # -- publishing --------------------------------------------------------------------------------------------

    def publish(self, quads: Iterable[Quad], digest: str) -> DataVersion:
        if not self.update_url:
            raise StoreError("publishing needs remote_update_url (and credentials): this process only reads")
        # An in-memory Oxigraph store gives the embedded store's literal forms, merges duplicates, groups graphs and
        # builds the union (its default graph, a set); it also consumes ``quads`` before the engine is touched, so
        # a failing source changes nothing.
        data = Store()
        data.bulk_extend(_with_union(quads))
        with self._lock:
            current = self._read_record()
            token = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
            names = sorted(g.value for g in data.named_graphs() if isinstance(g, NamedNode))
            # Nothing published yet: the graphs are loaded where they will be served, and only the record is
            # switched. Copying them from staging graphs would be one transaction as large as the data, which
            # Virtuoso refuses past TransactionAfterImageLimit (10M triples pass any usual setting). No query names
            # those graphs until the record does, and a failure leaves no record: nothing served, as before.
            first = current.version is None
            if first:
                staging = {live: live for live in [*names, self._union_graph]}
            else:
                staging = {live: f"{self._prefix}/staging/{token}/{i}" for i, live in enumerate(names)}
                staging[self._union_graph] = f"{self._prefix}/staging/{token}/union"
            record_staging = f"{self._prefix}/staging/{token}/record"
            # What moves into a live graph at the switch (a first publish's graphs are in place already).
            moves = {live: source for live, source in {**staging, self._prefix: record_staging}.items()
                     if live != source}
            staged = list(moves.values())
            published_at = datetime.now(UTC)
            record = [
                Quad(self._record_graph, _DIGEST, Literal(digest), NamedNode(record_staging)),
                Quad(self._record_graph, _PUBLISHED, Literal(published_at.isoformat(), datatype=_XSD_DATETIME),
                     NamedNode(record_staging)),
                *(Quad(self._record_graph, _GRAPH, NamedNode(g), NamedNode(record_staging)) for g in names),
            ]
            try:
                self._drop_staging(self._staging_graphs())  # left over by a crashed publish
                if first:
                    self._drop_graphs(list(staging))  # what a failed first publish may have left
                self._register_staging(staged)
                expected = self._stage(data, staging, record, record_staging)
                wrong = self._count_mismatches(expected)
                if wrong:
                    hint = " (Virtuoso bulk loader: see DB.DBA.LOAD_LIST ll_error)" if self.bulk_dir else ""
                    raise StoreError(f"the engine did not store what was sent{hint}: {wrong}; the record as "
                                     f"staged: {self._graph_text(record_staging)}")
                live_counts = {live: expected[staging[live]] for live in staging}
                live_counts[self._prefix] = expected[record_staging]
                self._switch_and_check(current.graphs, moves, live_counts, names, digest)
            except _IncompleteSwitch:
                raise
            except StoreError as error:
                raise StoreError(f"publishing into {self.update_url} failed, previous data still served: "
                                 f"{error}") from error
            finally:
                try:
                    self._drop_staging(staged)
                except StoreError:
                    pass  # the next publish removes them; they are never visible to queries
            return self._read_record().version or DataVersion(digest, published_at)

    def _staging_graphs(self) -> list[str]:
        """The staging graphs registered by publishes (a crashed one leaves its own behind)."""
        rows = self._admin_select(
            f"SELECT ?g WHERE {{ GRAPH <{self._prefix}/staging-list> {{ <{self._prefix}> <{_STAGING.value}> ?g }} }}"
        )["results"]["bindings"]
        return [row["g"]["value"] for row in rows]

    def _register_staging(self, graphs: Sequence[str]) -> None:
        entries = " ".join(f"<{self._prefix}> <{_STAGING.value}> <{g}> ." for g in graphs)
        self._update(f"INSERT DATA {{ GRAPH <{self._prefix}/staging-list> {{ {entries} }} }}")

    def _drop_staging(self, graphs: Sequence[str]) -> None:
        if graphs:
            entries = " ".join(f"<{self._prefix}> <{_STAGING.value}> <{g}> ." for g in graphs)
            self._update(f"{_drops(graphs)} ;\nDELETE DATA {{ GRAPH <{self._prefix}/staging-list> {{ {entries} }} }}")

    def _drop_graphs(self, graphs: Sequence[str]) -> None:
        self._update(_drops(graphs))

    def _stage(self, data: Store, staging: dict[str, str], record: list[Quad], record_staging: str) -> dict[str, int]:
        """Copy every graph into its staging graph; returns the triple count each staging graph must have."""
        sources = {live: DefaultGraph() if live == self._union_graph else NamedNode(live) for live in staging}

        def staged_quads() -> Iterator[Quad]:
            yield from record
            for live, source in sources.items():
                target = NamedNode(staging[live])
                for quad in data.quads_for_pattern(None, None, None, source):
                    yield Quad(quad.subject, quad.predicate, quad.object, target)

        expected = {record_staging: len(record)}
        for live, source in sources.items():
            expected[staging[live]] = sum(1 for _ in data.quads_for_pattern(None, None, None, source))
        if self.bulk_dir is not None and self._virtuoso:
            self._bulk_load(staged_quads())
        else:
            self._upload(staged_quads())
        return expected

    def _bulk_load(self, quads: Iterator[Quad]) -> None:
        """Virtuoso's bulk loader (``ld_dir`` + ``rdf_loader_run`` + ``checkpoint``, called through SPARQL as ``sql:``
        procedures) over one N-Quads file in ``bulk_dir``: one file keeps blank nodes shared between graphs."""
        assert self.bulk_dir is not None
        path = self.bulk_dir / f"graph-service-{self.dataset}-{uuid.uuid4().hex}.nq"
        try:
            with path.open("wb") as out:
                pyoxigraph.serialize(quads, out, format=RdfFormat.N_QUADS)
            path.chmod(0o644)  # read by the engine's process
            directory, name = _sparql_string(str(path.parent.resolve())), _sparql_string(path.name)
            self._admin_select(f"SELECT (<sql:ld_dir>({directory}, {name}, 'urn:x-graph-service:unused') AS ?r) {{}}")
            self._admin_select("SELECT (<sql:rdf_loader_run>() AS ?r) {}")
            # The loader writes without transaction log (log_enable 2), new IRIs included: a checkpoint makes it
            # durable before the (logged) switch refers to it. Without one, a restart loses the dictionary rows.
            self._admin_select("SELECT (bif:exec('checkpoint') AS ?r) {}")
        except OSError as error:
            raise StoreError(f"cannot write the bulk load file in {self.bulk_dir}: {error}") from error
        finally:
            path.unlink(missing_ok=True)

    def _upload(self, quads: Iterator[Quad]) -> None:
        """Graph Store Protocol POSTs of N-Triples (SPARQL ``INSERT DATA`` without a Graph Store URL).

        Each request is its own blank node scope, and a blank node is in its named graph and in the union: quads
        with blank nodes go by SPARQL ``INSERT {...} WHERE {}``, each request holding whole connected groups of
        blank nodes, so a blank node stays one node in every graph.
        """
        batch_size = _UPLOAD_BATCH if self.graph_store_url else _UPDATE_BATCH
        batches: dict[str, list[pyoxigraph.Triple]] = {}
        with_blank_nodes: list[Quad] = []
        for quad in quads:
            if isinstance(quad.subject, BlankNode) or isinstance(quad.object, BlankNode):
                with_blank_nodes.append(quad)
                continue
            batch = batches.setdefault(quad.graph_name.value, [])
            batch.append(pyoxigraph.Triple(quad.subject, quad.predicate, quad.object))
            if len(batch) >= batch_size:
                self._send_triples(quad.graph_name.value, batch)
                batches[quad.graph_name.value] = []
        for graph, batch in batches.items():
            if batch:
                self._send_triples(graph, batch)
        request: list[Quad] = []
        for group in _blank_node_groups(with_blank_nodes):
            request += group
            if len(request) >= _UPDATE_BATCH:
                self._insert_across_graphs(request)
                request = []
        if request:
            self._insert_across_graphs(request)

    def _insert_across_graphs(self, quads: list[Quad]) -> None:
        by_graph: dict[str, list[pyoxigraph.Triple]] = {}
        for quad in quads:
            by_graph.setdefault(quad.graph_name.value, []).append(
                pyoxigraph.Triple(quad.subject, quad.predicate, quad.object))
        # Graph names bound with BIND: Virtuoso 7 fails on template blank nodes under GRAPH <iri> or VALUES.
        template = " ".join(
            f"GRAPH ?g{i} {{ {pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES).decode()} }}"
            for i, triples in enumerate(by_graph.values())
        )
        binds = " ".join(f"BIND(<{graph}> AS ?g{i})" for i, graph in enumerate(by_graph))
        self._update(f"INSERT {{ {template} }} WHERE {{ {binds} }}")

    def _send_triples(self, graph: str, triples: list[pyoxigraph.Triple]) -> None:
        body = pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES)
        if self.graph_store_url:
            self._post(self.graph_store_url, body, _N_TRIPLES, params={"graph": graph})
        else:
            self._update(f"INSERT DATA {{ GRAPH <{graph}> {{ {body.decode()} }} }}")

    def _graph_text(self, graph: str) -> str:
        """A small graph as N-Triples, for error messages."""
        body, _ = self._select_or_construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                                            _N_TRIPLES)
        return " ".join(body.decode(errors="replace").split())[:2000]

    def _count_mismatches(self, expected: dict[str, int]) -> str:
        """"graph: found of expected triples" for each graph whose triple count differs ("" when all match)."""
        values = " ".join(f"<{g}>" for g in expected)
        rows = self._admin_select(
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
        )["results"]["bindings"]
        found = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
        wrong = [f"{g}: {found.get(g, 0)} of {n} triples" for g, n in expected.items() if found.get(g, 0) != n]
        return "; ".join(wrong[:5])

    def _switch_and_check(self, old_graphs: Sequence[str], moves: dict[str, str], expected: dict[str, int],
                          graphs: Sequence[str], digest: str) -> None:
        """Switch, then make sure the record and the live graphs are what was staged.

        Virtuoso's HTTP endpoint commits what a request changed even when it then reports an error, so the
        outcome is read back rather than taken from the answer: an error after a complete switch is no failure.
        """
        try:
            self._switch(old_graphs, moves)
            failure = None
        except StoreError as error:
            failure = error
        record = self._read_record()
        switched = record.version is not None and record.version.digest == digest and \
            record.graphs == tuple(sorted(graphs))
        wrong = self._count_mismatches(expected)
        if switched and not wrong:
            return
        if failure is not None and not switched:
            raise failure  # the operation was rolled back: the old record and graphs stand
        raise _IncompleteSwitch(f"after the switch the engine does not hold what was staged ({wrong or 'record'}); the "
                         f"published data may be incomplete: run the load again") from failure

    def _switch(self, old_graphs: Sequence[str], staging: dict[str, str]) -> None:
        """One SPARQL Update operation that makes each live graph equal to its staging graph, changing only the
        difference (a republish of mostly unchanged data is a small transaction), and empties graphs no longer
        published. Blank nodes of staging are new nodes: their triples are replaced as a whole."""
        pairs = {**{g: self._empty_graph for g in old_graphs}, **staging}
        values = " ".join(f"(<{live}> <{source}>)" for live, source in sorted(pairs.items()))
        self._update(
            "DELETE { GRAPH ?live { ?s ?p ?o } } INSERT { GRAPH ?target { ?s2 ?p2 ?o2 } } WHERE { "
            f"{{ VALUES (?live ?source) {{ {values} }} GRAPH ?live {{ ?s ?p ?o }} "
            "FILTER NOT EXISTS { GRAPH ?source { ?s ?p ?o } } } UNION "
            f"{{ VALUES (?target ?staged) {{ {values} }} GRAPH ?staged {{ ?s2 ?p2 ?o2 }} "
            "FILTER NOT EXISTS { GRAPH ?target { ?s2 ?p2 ?o2 } } } }",
            logged_transaction=True,
        )
        self._record = None


def _drops(graphs: Sequence[str]) -> str:
    return " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs)


def _version_of(rows: list[dict[str, Any]]) -> DataVersion | None:
    """The version a record query's JSON rows name (``None``: no record, nothing published)."""
    if not rows:
        return None
    published = datetime.fromisoformat(rows[0]["published"]["value"])
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return DataVersion(digest=rows[0]["digest"]["value"], published=published.astimezone(UTC))


def _may_use_named_graphs(sparql: str, form: type) -> bool:
    """Whether the named graphs of the dataset can matter to ``sparql``: it has a GRAPH pattern, or it is a
    DESCRIBE (the engine builds those itself)."""
    if form is QueryTriples and _is_describe(sparql):
        return True
    if not re.search("graph", sparql, re.IGNORECASE):
        return False
    from ..sparql.query_text import skeleton

    return _GRAPH_KEYWORD.search(skeleton(sparql)) is not None


def _blank_node_groups(quads: list[Quad]) -> list[list[Quad]]:
    """``quads`` grouped so that quads sharing a blank node, directly or through others, are in one group."""
    parent: dict[BlankNode, BlankNode] = {}

    def root(node: BlankNode) -> BlankNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for quad in quads:
        nodes = [t for t in (quad.subject, quad.object) if isinstance(t, BlankNode)]
        for node in nodes[1:]:
            parent[root(node)] = root(nodes[0])
    groups: dict[BlankNode, list[Quad]] = {}
    for quad in quads:
        node = quad.subject if isinstance(quad.subject, BlankNode) else quad.object
        groups.setdefault(root(node), []).append(quad)
    return list(groups.values())


def _with_union(quads: Iterable[Quad]) -> Iterator[Quad]:
    """Each quad, and its triple in the default graph (default-graph quads only there: as the embedded store)."""
    default = DefaultGraph()
    for quad in quads:
        if not isinstance(quad.graph_name, DefaultGraph):
            yield quad
        yield Quad(quad.subject, quad.predicate, quad.object, default)


def _authenticating_opener(urls: Sequence[str], user: str, password: str) -> urllib.request.OpenerDirector:
    """urllib with the credentials for ``urls`` (Digest or Basic, whichever the engine asks for)."""
    if not user:
        return urllib.request.build_opener()
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    for url in urls:
        if url:
            passwords.add_password(None, url, user, password)
    return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords),
                                       urllib.request.HTTPBasicAuthHandler(passwords))


def _query_form(sparql: str, base_iri: str | None) -> type:
    """The result type of ``sparql``, parsed by Oxigraph (so malformed queries fail as on the embedded store)."""
    return type(_EMPTY_STORE.query(sparql, base_iri=base_iri))


def _declares_base(sparql: str) -> bool:
    """Whether the query's prologue has a BASE declaration."""
    if not re.search("base", sparql, re.IGNORECASE):
        return False
    from ..sparql.query_text import skeleton

    prologue = _PROLOGUE.match(skeleton(sparql))
    return prologue is not None and re.search(r"(?i)(?<![\w:?$])BASE(?![\w:])", prologue.group(0)) is not None


def _orders_solutions(sparql: str) -> bool:
    """Whether the query orders its solutions: an ORDER BY outside every group (not only in a sub-query)."""
    if not re.search("order", sparql, re.IGNORECASE):
        return False
    from ..sparql.query_text import skeleton

    depth = 0
    for match in _ORDER_OR_BRACE.finditer(skeleton(sparql)):
        token = match.group(0)
        if token in "{}":
            depth += 1 if token == "{" else -1
        elif depth == 0:
            return True
    return False


def _sort_key(term: dict[str, str] | None) -> tuple[str, str, str, str]:
    """A total order on SPARQL JSON terms (unbound first), only to make unordered answers repeatable."""
    if term is None:
        return ("", "", "", "")
    return (term["type"], term["value"], term.get("datatype", ""), term.get("xml:lang", ""))


def _is_describe(sparql: str) -> bool:
    from ..sparql.query_text import first_keyword

    return first_keyword(sparql) == "DESCRIBE"


def _query_dataset(sparql: str, base_iri: str | None) -> tuple[str, list[str], list[str]] | None:
    """The query without its FROM / FROM NAMED clauses, and their graphs (resolved against its prefixes and base
    by Oxigraph itself); ``None`` when it has no such clauses.

    As in SPARQL, a query with only FROM clauses has no named graphs, one with only FROM NAMED an empty default
    graph; the caller's protocol dataset, when given, replaces the side it names.
    """
    if not re.search("from", sparql, re.IGNORECASE):
        return None
    from ..sparql.query_text import skeleton

    code = skeleton(sparql)
    clauses = list(_FROM_CLAUSE.finditer(code))
    if not clauses:
        return None
    form = re.search(r"(?i)(?<![\w:?$])(SELECT|CONSTRUCT|DESCRIBE|ASK)(?![\w:])", code)
    if form is None:
        return None
    rows = " ".join(f"({i} {sparql[c.start(2):c.end(2)]})" for i, c in enumerate(clauses))
    try:
        resolved = _EMPTY_STORE.query(f"{sparql[:form.start()]} SELECT ?i ?g WHERE {{ VALUES (?i ?g) {{ {rows} }} }}",
                                      base_iri=base_iri)
        graphs = {int(row["i"].value): row["g"].value for row in resolved}  # type: ignore[union-attr]
    except (SyntaxError, ValueError):
        return None  # not understood here: the engine gets the query as written
    text = sparql
    for clause in reversed(clauses):
        text = text[:clause.start()] + " " * (clause.end() - clause.start()) + text[clause.end():]
    defaults = [graphs[i] for i, c in enumerate(clauses) if not c.group(1) and i in graphs]
    named = [graphs[i] for i, c in enumerate(clauses) if c.group(1) and i in graphs]
    return text, defaults, named


def _graph_result(body: bytes) -> QueryTriples:
    """N-Triples as pyoxigraph's CONSTRUCT result; going through a store gives Oxigraph's literal forms."""
    graph = Store()
    graph.bulk_extend(pyoxigraph.parse(io.BytesIO(body), format=RdfFormat.N_TRIPLES))
    return graph.query("CONSTRUCT WHERE { ?s ?p ?o }")


def _boolean(body: bytes) -> QueryBoolean:
    """An ASK answer; Virtuoso 7 answers ASK with a one-column table (a row when true) instead of ``boolean``."""
    document = json.loads(body)
    answer = document.get("boolean")
    if answer is None:
        rows = document.get("results", {}).get("bindings", [])
        answer = bool(rows) and all(term.get("value") not in ("0", "false") for term in rows[0].values())
    return pyoxigraph.parse_query_results(json.dumps({"head": {}, "boolean": bool(answer)}).encode(),
                                          format=QueryResultsFormat.JSON)


def _json_term(term: dict[str, str], canonical: dict[tuple[str, str], Literal]) -> dict[str, str]:
    kind = term["type"]
    if kind == "bnode":
        return {"type": "bnode", "value": term["value"].removeprefix("nodeID://")}
    datatype = term.get("datatype", "")
    if kind in ("literal", "typed-literal") and datatype.startswith(_XSD):
        literal = canonical[(term["value"], datatype)]
        return {"type": "literal", "value": literal.value, "datatype": literal.datatype.value}
    return term


#: Virtuoso's error line: ``Virtuoso <SQL state> Error <code>: <text>``.
_VIRTUOSO_ERROR = re.compile(r"Virtuoso (\w+) Error [^:\s]*:\s*")
#: The SQL state of an answer Virtuoso cut short at its time limit (an "anytime" query): in ``X-SQL-State`` of a
#: 200, or, once results were streaming, in the error line a 500 writes after them.
_CUT_SHORT = "S1TAT"


def _engine_error(body: bytes) -> tuple[str, str]:
    """The SQL state of Virtuoso's error line ("" if none) and the engine's error text, without the query Virtuoso
    echoes after it nor a partial answer written before it."""
    text = body.decode("utf-8", errors="replace").split("\n\nSPARQL query:", 1)[0]
    errors = list(_VIRTUOSO_ERROR.finditer(text))
    state = ""
    if errors:  # (the last one: a partial answer before it may hold any text)
        state, text = errors[-1].group(1), text[errors[-1].end():]
    return state, " ".join(text.split())[:1000]


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    return "timed out" if isinstance(reason, TimeoutError) else str(reason)


def _sparql_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid SPARQL string literal
