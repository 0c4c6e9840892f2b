"""The SPARQL face: ``/sparql``, a SPARQL 1.1 Protocol query endpoint and its service description.

Read-only unless write tokens are configured; then ``POST`` of an update goes to graph_service.web.graph_store.

- ``GET /sparql?query=``, ``POST`` form or ``application/sparql-query``: results negotiated per query form
  (graph_service.sparql.negotiation), IRIs under the persistent base rewritten to the serving origin both ways
  (IRIs written in the query, dataset parameters, results), cancelled past the time limit, refused past the row cap.
- ``GET /sparql`` without a query: the service description in the negotiated RDF format, or the query UI
  (graph_service.web.query_ui) for a browser (``text/html``).
- GET answers carry ETag/Last-Modified/Cache-Control (a proxy can cache repeated portal queries) and are
  revalidated without running the query; CORS and gzip come from graph_service.web.http.
- Answers are kept per data version (graph_service.sparql.cache), and so is, per process, what each GET request
  read before became (its job: parsing, negotiation and IRI rewriting are done once per query string, ``Accept``
  and serving origin), so a dashboard's repeated query costs two dictionary lookups before its answer is sent.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass

import pyoxigraph
from flask import Blueprint, Response, current_app, make_response, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestEntityTooLarge

from ..formats import BY_NAME, Format
from ..namespaces import PREFIXES
from ..sparql.cache import VersionedCache, version_key, wants_fresh
from ..sparql.execution import ExecutorHolder, QueryExecutor, executor_for
from ..sparql.federation import ServiceForbidden, check_services, normalise_allowlist
from ..sparql.jobs import QueryError, QueryJob, QueryOutcome, TooManyRows
from ..sparql.negotiation import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    NotAcceptable,
    UnknownFormat,
    choose_format,
    choose_formats,
)
from ..sparql.protocol import DescriptionRequest, ProtocolError, QueryRequest, UpdateRequest, parse_request
from ..sparql.query_text import rewrite_iris
from ..sparql.service_description import PREFIXES as SD_PREFIXES
from ..sparql.service_description import DatasetStatistics, dataset_statistics, describe_service
from ..sparql.shared_answers import SharedAnswers
from . import context, graph_store, iris
from .http import cacheable, negotiated, plain_error
from .query_ui import render_query_ui

blueprint = Blueprint("sparql", __name__)

_EXECUTOR = "sparql_executor"
_ANSWERS = "sparql_answers"
_SHARED_ANSWERS = "sparql_shared_answers"
_PREPARED = "sparql_prepared_requests"
_STATISTICS = "sparql_statistics"
_ALLOWED = "GET, HEAD, POST, OPTIONS"


@blueprint.record_once
def _install_executor(state: BlueprintSetupState) -> None:
    app = state.app

    def create() -> QueryExecutor:
        settings = app.config["SETTINGS"]
        return executor_for(app.extensions["graph_store"], settings.query_timeout_s, settings.threads)

    app.extensions[_EXECUTOR] = ExecutorHolder(create)
    app.extensions[_ANSWERS] = VersionedCache(lambda outcome: len(outcome.body))
    settings = app.config["SETTINGS"]
    app.extensions[_SHARED_ANSWERS] = (
        SharedAnswers(settings.store_path / "answers", settings.shared_answer_min_s)
        if settings.shared_answer_min_s >= 0 else None)
    app.extensions[_PREPARED] = VersionedCache(lambda prepared: prepared.size, max_bytes=_PREPARED_MAX_BYTES)


def executor() -> QueryExecutor:
    """The query executor of this app in this process."""
    return current_app.extensions[_EXECUTOR].get()


@blueprint.route("/sparql", methods=["GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"],
                 provide_automatic_options=False)
def endpoint() -> Response:
    if request.method == "OPTIONS":  # CORS preflights are answered before this (graph_service.web.http)
        return Response(status=204, headers={"Allow": _ALLOWED})
    is_get = _is_get()
    prepared_key = _prepared_key() if is_get else None
    if prepared_key is not None:
        prepared = current_app.extensions[_PREPARED].get(_ANY_DATA, prepared_key)
        if prepared is not None:  # this very request was read before: its job is known
            return _respond(prepared, is_get)
    try:
        body = request.get_data(cache=False) if request.method == "POST" else b""
        parsed = parse_request(request.method, request.args, request.headers.get("Content-Type"), body,
                               accept_updates=graph_store.writes_enabled())
    except ProtocolError as error:
        return plain_error(error.status, error.message, error.headers)
    except RequestEntityTooLarge:
        limit = context.settings().max_request_bytes
        return plain_error(413, f"The request is larger than this endpoint's limit of {limit:,} bytes.")
    if isinstance(parsed, DescriptionRequest):
        return _describe(parsed)
    if isinstance(parsed, UpdateRequest):  # only when writes are enabled (graph_service.web.graph_store)
        return graph_store.answer_update(parsed)
    prepared_or_error = _prepare(parsed)
    if isinstance(prepared_or_error, Response):
        return prepared_or_error
    if prepared_key is not None:
        current_app.extensions[_PREPARED].put(_ANY_DATA, prepared_key, prepared_or_error)
    return _respond(prepared_or_error, is_get)


def _is_get() -> bool:
    return request.method in ("GET", "HEAD")


@dataclass(frozen=True)
class _Prepared:
    """What a query request becomes before it runs: the job to answer (the key of its cached answer) and what
    names its representation in the ETag."""

    job: QueryJob
    cache_parts: tuple[str, ...]

    @property
    def size(self) -> int:
        return 2 * len(self.job.sparql) + sum(len(part) for part in self.cache_parts)


#: Prepared GET requests kept per process (each at most a few KB: the request line is at most ~8 KB).
_PREPARED_MAX_BYTES = 4 * 1024 * 1024
#: The prepared requests depend on the request and the app's settings only, never on the data.
_ANY_DATA = ""


def _prepared_key() -> tuple[str | bytes | None, ...]:
    """Everything a GET query's :class:`_Prepared` derives from, besides the app's settings: the query string
    (query, dataset, ``format=``), ``Accept`` (the formats) and the URL it was sent to (IRI rewriting)."""
    return request.query_string, request.environ.get("HTTP_ACCEPT"), request.host_url, request.base_url


def _prepare(parsed: QueryRequest) -> _Prepared | Response:
    """The job of a query request, or the error response that refuses it (never kept)."""
    settings = context.settings()
    try:
        formats = choose_formats(request.headers.get("Accept"), parsed.format_names)
    except NotAcceptable as error:
        return negotiated(plain_error(406, error.message))
    except UnknownFormat as error:
        return plain_error(400, error.message)
    mapper = iris.mapper()
    sparql = rewrite_iris(parsed.query, mapper.public_base, mapper.base_iri)
    try:
        check_services(sparql, settings.sparql_service_allowlist)
    except ServiceForbidden as error:
        return plain_error(403, str(error))

    def to_store(graphs: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if graphs is None else tuple(mapper.to_store_iri(g) for g in graphs)

    job = QueryJob(
        sparql=sparql,
        default_graphs=to_store(parsed.default_graphs),
        named_graphs=to_store(parsed.named_graphs),
        base_iri=mapper.to_store_iri(request.base_url),
        results_format=formats.results.name,
        graph_format=formats.graph.name,
        max_rows=settings.max_result_rows,
        store_base=mapper.base_iri,
        public_base=mapper.public_base,
        prefixes=_public_prefixes(mapper.base_iri, mapper.public_base),
    )
    # The response is fully determined by the request URL, the chosen formats and the data version (in the ETag).
    cache_parts = (request.path, request.query_string.decode("latin-1"), formats.results.name, formats.graph.name)
    return _Prepared(job, cache_parts)


def _respond(prepared: _Prepared, is_get: bool) -> Response:
    job, cache_parts = prepared.job, prepared.cache_parts
    if is_get and request.if_none_match:
        revalidated = cacheable(Response(), *cache_parts)
        if revalidated.status_code == 304:
            return negotiated(revalidated)
    # (Request headers are read from the environment: a missing one costs Werkzeug an exception otherwise.)
    fresh = wants_fresh(request.environ.get("HTTP_CACHE_CONTROL"))
    shared: SharedAnswers | None = current_app.extensions[_SHARED_ANSWERS]
    from_disk = False

    def compute() -> QueryOutcome:
        nonlocal from_disk
        version = _data_version()
        if shared is not None and not fresh:
            stored = shared.read(version, job)
            if stored is not None:
                from_disk = True
                return stored
        started = time.monotonic()
        outcome = executor().run(job)
        if shared is not None:
            shared.keep(version, job, outcome, time.monotonic() - started, _data_version)
        return outcome

    try:
        # Answers are kept per data version, in this process's memory (graph_service.sparql.cache) and, when
        # costly, on disk for every process (graph_service.sparql.shared_answers): the job names all they depend on.
        outcome, hit = current_app.extensions[_ANSWERS].answer(_data_version, job, compute, fresh=fresh)
    except TooManyRows as error:
        return plain_error(error.status, error.message, [("X-SPARQL-Max-Rows", str(error.limit))])
    except QueryError as error:
        return plain_error(error.status, error.message)
    fmt = BY_NAME[outcome.format_name]
    response = negotiated(Response(outcome.body, content_type=fmt.content_type))
    response.headers["X-Cache"] = "hit" if hit or from_disk else "miss"
    return cacheable(response, *cache_parts) if is_get else response


def _data_version() -> str:
    return version_key(context.store())


@functools.lru_cache(maxsize=64)  # one per serving origin
def _public_prefixes(base_iri: str, public_base: str) -> tuple[tuple[str, str], ...]:
    """The prefixes of the serialisations, in the IRIs of the serving origin."""
    to_public = iris.IriMapper(base_iri, public_base).to_public_iri
    return tuple((prefix, to_public(iri)) for prefix, iri in PREFIXES.items())


def _statistics() -> DatasetStatistics:
    """Triple counts for the service description, computed once per published data version."""
    version = context.store().version()
    digest = version.digest if version else ""
    cached = current_app.extensions.get(_STATISTICS)
    if cached is None or cached[0] != digest:
        cached = (digest, dataset_statistics(context.store()))
        current_app.extensions[_STATISTICS] = cached
    return cached[1]


def _describe(parsed: DescriptionRequest) -> Response:
    offered: list[Format] = [*GRAPH_FORMATS, BY_NAME["html"]]
    try:
        fmt = choose_format(request.headers.get("Accept"), parsed.format_names, offered)
    except NotAcceptable as error:
        return negotiated(plain_error(406, error.message))
    except UnknownFormat as error:
        return plain_error(400, error.message)
    if fmt.name == "html":
        return negotiated(make_response(render_query_ui()))
    settings = context.settings()
    mapper = iris.mapper()
    triples = describe_service(
        request.base_url, _statistics(), [*RESULT_FORMATS, *GRAPH_FORMATS],
        federation=bool(normalise_allowlist(settings.sparql_service_allowlist)),
        timeout_s=settings.query_timeout_s, max_rows=settings.max_result_rows, public_iri=mapper.to_public_iri,
        update_endpoint=request.url_root + "update" if graph_store.writes_enabled() else None,
    )
    body = pyoxigraph.serialize(triples, format=fmt.rdf_format, prefixes=SD_PREFIXES)
    response = negotiated(Response(body, content_type=fmt.content_type))
    # The description states settings too (writes, federation, limits): its bytes name the representation.
    return cacheable(response, request.path, request.query_string.decode("latin-1"), fmt.name,
                     hashlib.sha256(body).hexdigest())
