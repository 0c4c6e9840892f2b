"""The write face: SPARQL 1.1 Update (``/sparql``, ``/update``) and the SPARQL 1.1 Graph Store HTTP Protocol.

``/rdf-graph-store?graph=IRI`` addresses one named graph, ``/rdf-graph-store?default`` the default graph, which is
the union of all named graphs (so ``PUT ?default`` replaces the union: what is not in the body is deleted from every
graph, what is new lands in ``{base}graph/writes``; ``DELETE ?default`` empties the dataset):

- ``GET`` / ``HEAD``: the graph in any RDF format of the format table (negotiated, Turtle first), cacheable like
  every read; 404 for a graph that does not exist. Reading needs no token.
- ``PUT`` (replace), ``POST`` (add), ``DELETE`` (drop): any RDF syntax in, as ``Content-Type`` says; 201 when the
  request created the graph, else 200 with a one-line summary; 404 to delete a graph that does not exist.

``POST /update`` takes an update like ``/sparql`` does (form ``update=`` or ``application/sparql-update``; queries
go to ``/sparql``). Every write needs ``Authorization: Bearer <token>`` (graph_service.writes.auth): 401 without
one, 403 with a wrong one; without configured tokens the service is read-only (405 here, 400 for updates at
``/sparql``, as before). A write is SHACL-validated before it commits (422 with the report: "focus node – path –
message" lines, or the ``sh:ValidationReport`` in any RDF format the ``Accept`` header names) and recorded with
PROV; it publishes a new data version, so every ETag changes. IRIs under the serving origin are read as the
persistent IRIs they stand for, in update texts, graph parameters and bodies alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph
from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_accept_header

from ..formats import FORMATS, Format, Kind, negotiate
from ..namespaces import PREFIXES
from ..sparql.protocol import ProtocolError, UpdateRequest, parse_request
from ..sparql.query_text import rewrite_iris
from ..store import StoreError
from ..store.base import WriteResult
from ..writes import (
    AuthError,
    PayloadError,
    UpdateRefused,
    WriteRejected,
    WriteRequest,
    Writes,
    parse_payload,
    write_log_graph,
)
from ..writes.payload import n_triples
from ..writes.provenance import summary
from ..writes.service import UPDATE_TYPE
from . import context, iris
from .http import cacheable, negotiated, plain_error

blueprint = Blueprint("graph_store", __name__)

_WRITES = "graph_service_writes"
_READ_METHODS = "GET, HEAD, OPTIONS"
_ALL_METHODS = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
#: What GET offers, Turtle first; TriG and N-Quads name the graph.
OFFERED: list[Format] = [f for f in FORMATS if f.rdf_format is not None and Kind.GRAPH in f.kinds]
_QUAD_FORMATS = {"trig", "nq"}
_PLAIN = "text/plain"


@blueprint.record_once
def _install(state: BlueprintSetupState) -> None:
    app = state.app
    app.extensions[_WRITES] = Writes(app.config["SETTINGS"], app.extensions["graph_store"])


def writes() -> Writes | None:
    return current_app.extensions.get(_WRITES)


def writes_enabled() -> bool:
    """Whether this app accepts writes (some bearer token is configured)."""
    configured = writes()
    return configured is not None and configured.enabled


# ---------------------------------------------------------------------------------------------------------------
# SPARQL Update
# ---------------------------------------------------------------------------------------------------------------

def answer_update(parsed: UpdateRequest) -> Response:
    """Run an update the SPARQL Protocol parser read (at ``/sparql`` or ``/update``)."""
    configured = writes()
    if configured is None or not configured.enabled:
        return plain_error(400, "This service is read-only: no write tokens are configured.")
    try:
        writer = configured.tokens.writer(request.headers.get("Authorization"))
    except AuthError as error:
        return plain_error(error.status, error.message, error.headers)
    mapper = iris.mapper()
    text = rewrite_iris(parsed.update, mapper.public_base, mapper.base_iri)
    return _write(lambda: configured.update(
        writer, text,
        using=[mapper.to_store_iri(g) for g in parsed.using_graphs],
        using_named=[mapper.to_store_iri(g) for g in parsed.using_named_graphs],
        base_iri=mapper.to_store_iri(request.base_url),
    ), writer)


@blueprint.route("/update", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def update() -> Response:
    """An alias of ``/sparql`` for updates only (Fuseki's layout); the token is checked before the body is read."""
    configured = writes()
    if request.method == "OPTIONS":  # POST only when writes are enabled (CORS preflights read this answer)
        enabled = configured is not None and configured.enabled
        return Response(status=204, headers={"Allow": "POST, OPTIONS" if enabled else "OPTIONS"})
    if configured is None or not configured.enabled:
        return plain_error(405, "This service is read-only: no write tokens are configured.",
                           [("Allow", "OPTIONS")])
    try:
        configured.tokens.writer(request.headers.get("Authorization"))
        request.max_content_length = context.settings().max_write_bytes
        body = request.get_data(cache=False)
        parsed = parse_request("POST", request.args, request.headers.get("Content-Type"), body, accept_updates=True)
    except AuthError as error:
        return plain_error(error.status, error.message, error.headers)
    except ProtocolError as error:
        return plain_error(error.status, error.message, error.headers)
    except RequestEntityTooLarge:
        return _too_large()
    if not isinstance(parsed, UpdateRequest):
        return plain_error(400, "This endpoint takes SPARQL Updates (update=... or an application/sparql-update "
                                "body); send queries to /sparql.")
    return answer_update(parsed)


# ---------------------------------------------------------------------------------------------------------------
# Graph Store Protocol
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Target:
    """The graph a request addresses: ``store_iri`` ``None`` for the default graph."""

    store_iri: str | None
    public_iri: str | None

    @property
    def label(self) -> str:
        return f"<{self.public_iri}>" if self.public_iri else "the default graph"


@blueprint.route("/rdf-graph-store", methods=["GET", "PUT", "POST", "DELETE", "OPTIONS"],
                 provide_automatic_options=False)
def graph_store() -> Response:
    configured = writes()
    enabled = configured is not None and configured.enabled
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": _ALL_METHODS if enabled else _READ_METHODS})
    try:
        target = _target()
    except ProtocolError as error:
        return plain_error(error.status, error.message)
    if request.method in ("GET", "HEAD"):
        return _read(target)
    if configured is None or not enabled:
        return plain_error(405, "This service is read-only: no write tokens are configured.",
                           [("Allow", _READ_METHODS)])
    try:
        writer = configured.tokens.writer(request.headers.get("Authorization"))
    except AuthError as error:
        return plain_error(error.status, error.message, error.headers)
    if target.store_iri in configured.records:
        return plain_error(403, f"The graph {target.label} records loads and writes; only the service writes it.")
    exists = target.store_iri is None or target.store_iri in context.store().graph_names()
    if request.method == "DELETE":
        if not exists:
            return plain_error(404, f"There is no graph {target.label} to delete.")
        sparql = "DROP DEFAULT" if target.store_iri is None else f"DROP GRAPH {pyoxigraph.NamedNode(target.store_iri)}"
        record = WriteRequest(writer, f"Graph Store DELETE of {target.label}", UPDATE_TYPE,
                              hashlib.sha256(sparql.encode()).hexdigest(), text=sparql)
        return _write(lambda: configured.apply(sparql, record), writer)
    request.max_content_length = context.settings().max_write_bytes
    try:
        body = request.get_data(cache=False)
        mapper = iris.mapper()
        to_store = iris.IriMapper(mapper.public_base, mapper.base_iri)  # the reverse mapping: public -> store
        payload = parse_payload(body, request.headers.get("Content-Type"), target.public_iri or request.base_url,
                                lambda t: pyoxigraph.Triple(to_store.term(t.subject), to_store.term(t.predicate),
                                                            to_store.term(t.object)))
    except RequestEntityTooLarge:
        return _too_large()
    except PayloadError as error:
        return plain_error(error.status, error.message, error.headers)
    sparql = _graph_update(request.method, target.store_iri, n_triples(payload.triples))
    record = WriteRequest(writer, f"Graph Store {request.method} of {target.label}", payload.media_type,
                          payload.sha256)
    return _write(lambda: configured.apply(sparql, record), writer, created=not exists)


def _target() -> _Target:
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if default == bool(graphs) or len(graphs) > 1:
        raise ProtocolError(400, "Name one graph: ?graph=<IRI> (URL-encoded) or ?default.")
    if default:
        return _Target(None, None)
    try:
        pyoxigraph.NamedNode(graphs[0])
    except ValueError as error:
        raise ProtocolError(400, f"graph must be an absolute IRI; {graphs[0]!r} is not ({error}).") from None
    mapper = iris.mapper()
    store_iri = mapper.to_store_iri(graphs[0])
    return _Target(store_iri, mapper.to_public_iri(store_iri))


def _graph_update(method: str, graph: str | None, triples: str) -> str:
    """The SPARQL Update a PUT or POST of ``triples`` (N-Triples) to ``graph`` (``None``: default) stands for."""
    if graph is None:
        data = f"INSERT DATA {{\n{triples}}}"
        return f"DROP DEFAULT ;\n{data}" if method == "PUT" else data
    name = pyoxigraph.NamedNode(graph)
    data = f"INSERT DATA {{ GRAPH {name} {{\n{triples}}} }}"
    if method == "PUT":
        return f"DROP SILENT GRAPH {name} ;\nCREATE GRAPH {name} ;\n{data}"
    return f"CREATE SILENT GRAPH {name} ;\n{data}"


def _read(target: _Target) -> Response:
    store, mapper = context.store(), iris.mapper()
    fmt = negotiate(request.headers.get("Accept"), OFFERED)
    if fmt is None:
        available = ", ".join(f.media_type for f in OFFERED)
        return negotiated(plain_error(406, f"None of the formats of a graph is acceptable. Available: {available}"))
    if target.store_iri is None:
        triples = list(store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"))
    elif target.store_iri in store.graph_names():
        triples = [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in store.quads(target.store_iri)]
    else:
        return plain_error(404, f"There is no graph {target.label} in this store.")
    public = list(mapper.triples(triples))
    prefixes = {prefix: mapper.to_public_iri(namespace) for prefix, namespace in PREFIXES.items()
                if prefix not in ("id", "concept")}  # their local names have slashes, which Turtle would escape
    if fmt.name in _QUAD_FORMATS:
        graph = pyoxigraph.NamedNode(target.public_iri) if target.public_iri else pyoxigraph.DefaultGraph()
        body = pyoxigraph.serialize([pyoxigraph.Quad(t.subject, t.predicate, t.object, graph) for t in public],
                                    format=fmt.rdf_format, prefixes=prefixes)
    else:
        body = pyoxigraph.serialize(public, format=fmt.rdf_format, prefixes=prefixes)
    response = negotiated(Response(body, content_type=fmt.content_type))
    return cacheable(response, mapper.public_base, request.path, request.query_string.decode("latin-1"), fmt.name)


# ---------------------------------------------------------------------------------------------------------------
# Running a write and answering
# ---------------------------------------------------------------------------------------------------------------

def _write(run: Callable[[], WriteResult], writer: str, *, created: bool = False) -> Response:
    try:
        result = run()
    except UpdateRefused as error:
        return plain_error(error.status, error.message)
    except SyntaxError as error:
        return plain_error(400, f"The update is not valid SPARQL 1.1 Update: {error}")
    except WriteRejected as error:
        return _rejected(error)
    except StoreError as error:
        return plain_error(503, f"The write could not be stored; nothing changed. {error}", [("Retry-After", "10")])
    version = result.version
    log = write_log_graph(context.settings().base_iri)
    message = (f"Written by {writer}: {summary(result.changes, leave_out=log)}.\n"
               f"Data version {version.digest}, published {version.published.isoformat()}.\n")
    response = Response(message, status=201 if created else 200, content_type="text/plain; charset=utf-8")
    response.cache_control.no_store = True
    return response


def _rejected(error: WriteRejected) -> Response:
    """422 with the findings as lines, or the validation report in the RDF format the client asked for by name."""
    accepted: MIMEAccept = parse_accept_header(request.headers.get("Accept"), MIMEAccept)
    offered = {f.media_type: f for f in OFFERED}
    best = accepted.best_match([_PLAIN, *offered], default=_PLAIN) if request.headers.get("Accept") else _PLAIN
    if best in offered:
        fmt = offered[best]
        # Through N-Triples into pyoxigraph, to speak the serving origin like every other answer.
        report = pyoxigraph.parse(error.report.serialize(format="nt", encoding="utf-8"),
                                  format=pyoxigraph.RdfFormat.N_TRIPLES)
        triples = [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in report]
        body = pyoxigraph.serialize(list(iris.mapper().triples(triples)), format=fmt.rdf_format,
                                    prefixes={"sh": "http://www.w3.org/ns/shacl#"})
        response = Response(body, status=422, content_type=fmt.content_type)
    else:
        lines = "\n".join(error.lines())
        response = plain_error(422, "The write was refused: the data would not conform to the shapes. Nothing was "
                                    f"changed.\n{lines}")
    return negotiated(response)


def _too_large() -> Response:
    limit = context.settings().max_write_bytes
    return plain_error(413, f"The request is larger than the write limit of {limit:,} bytes.")
