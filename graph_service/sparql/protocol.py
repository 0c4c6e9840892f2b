"""SPARQL 1.1 Protocol requests: an HTTP request -> one :class:`QueryRequest`, or a plain-text 4xx reason.

The three query operations of the protocol are accepted: ``GET ?query=``, ``POST`` of an URL-encoded form and
``POST`` of ``application/sparql-query``. ``default-graph-uri`` / ``named-graph-uri`` may be repeated, and may come in
the URL for any of them (the W3C tests send them there for POSTs too); when either is present, they are the whole
dataset and override the query's FROM / FROM NAMED. Updates (``POST`` of ``update=`` or of
``application/sparql-update``, with ``using-graph-uri`` / ``using-named-graph-uri``) become an :class:`UpdateRequest`
only when the caller accepts them (writes are enabled: graph_service.writes); otherwise any update is a 400 that says
the endpoint is read-only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

import pyoxigraph
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header

from .query_text import is_update

FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
ACCEPTED_POST_TYPES = (QUERY_TYPE, FORM_TYPE)
#: Parameters naming a response format: ``format`` (ours, Virtuoso), ``output`` (Fuseki, Joseki), ``results``
#: (Rasqal); SPARQLWrapper sends all three.
FORMAT_PARAMETERS = ("format", "output", "results")
DEFAULT_GRAPH = "default-graph-uri"
NAMED_GRAPH = "named-graph-uri"
USING_GRAPH = "using-graph-uri"
USING_NAMED_GRAPH = "using-named-graph-uri"

READ_ONLY = "This endpoint answers SPARQL queries only: SPARQL Update is not accepted here."


class ProtocolError(Exception):
    """A request the protocol does not allow; ``message`` is a plain-text reason for the client."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(status, message, headers)
        self.status = status
        self.message = message
        self.headers = tuple(headers)


@dataclass(frozen=True)
class QueryRequest:
    """What a protocol request asks for, independent of how it was sent."""

    query: str
    #: ``None`` when the request names no dataset: the query's FROM clauses, else the union of all graphs.
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    #: ``format=`` / ``output=`` / ``results=`` values in request order (they override ``Accept``).
    format_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateRequest:
    """A SPARQL 1.1 Update with the protocol's dataset (applies to every operation with a WHERE)."""

    update: str
    using_graphs: tuple[str, ...] = ()
    using_named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class DescriptionRequest:
    """No query and no update: the client asks for the service description (or, in a browser, the query UI)."""

    format_names: tuple[str, ...] = ()


def parse_request(
    method: str, args: MultiDict[str, str], content_type: str | None, body: bytes, *, accept_updates: bool = False
) -> QueryRequest | DescriptionRequest | UpdateRequest:
    """Read a protocol request; raises :class:`ProtocolError` with the status and reason when it is not one."""
    if method in ("GET", "HEAD"):
        params = args
    elif method == "POST":
        params = _post_parameters(args, content_type, body, accept_updates)
    else:
        raise ProtocolError(405, f"{method} is not a SPARQL Protocol operation: use GET or POST.",
                            [("Allow", "GET, HEAD, POST, OPTIONS")])
    queries = params.getlist("query")
    updates = params.getlist("update")
    if queries and updates:
        raise ProtocolError(400, "A request carries either a query or an update, not both.")
    if updates:
        if not accept_updates:
            raise ProtocolError(400, READ_ONLY)
        return _update_request(method, params, updates)
    format_names = tuple(value for name in FORMAT_PARAMETERS for value in params.getlist(name) if value.strip())
    if not queries:
        if method == "POST":
            raise ProtocolError(400, "No query: send the query in a 'query' parameter or as an "
                                     f"{QUERY_TYPE} body.")
        return DescriptionRequest(format_names)
    if len(queries) > 1:
        raise ProtocolError(400, f"Exactly one 'query' parameter is allowed; this request has {len(queries)}.")
    query = queries[0]
    if not query.strip():
        raise ProtocolError(400, "The query is empty.")
    if _reads_as_update(query):
        raise ProtocolError(400, READ_ONLY)
    default_graphs = _graph_iris(params, DEFAULT_GRAPH)
    named_graphs = _graph_iris(params, NAMED_GRAPH)
    if default_graphs is not None or named_graphs is not None:
        default_graphs, named_graphs = default_graphs or (), named_graphs or ()
    return QueryRequest(query, default_graphs, named_graphs, format_names)


@functools.lru_cache(maxsize=256)  # a dashboard sends the same few queries again and again
def _reads_as_update(query: str) -> bool:
    """:func:`~.query_text.is_update`, remembered per query text (it scans the whole text)."""
    return is_update(query)


def _update_request(method: str, params: MultiDict[str, str], updates: list[str]) -> UpdateRequest:
    if method != "POST":
        raise ProtocolError(400, "An update must be sent with POST (update=... as a form, or an "
                                 f"{UPDATE_TYPE} body), never in the URL.")
    if len(updates) > 1:
        raise ProtocolError(400, f"Exactly one 'update' parameter is allowed; this request has {len(updates)}.")
    if not updates[0].strip():
        raise ProtocolError(400, "The update is empty.")
    return UpdateRequest(updates[0], _graph_iris(params, USING_GRAPH) or (),
                         _graph_iris(params, USING_NAMED_GRAPH) or ())


def _post_parameters(
    args: MultiDict[str, str], content_type: str | None, body: bytes, accept_updates: bool = False
) -> MultiDict[str, str]:
    media_type, options = parse_options_header(content_type or "")
    media_type = media_type.lower()
    charset = options.get("charset", "utf-8").lower().replace("_", "-")
    if media_type == UPDATE_TYPE and not accept_updates:
        raise ProtocolError(400, READ_ONLY)
    accepted = (*ACCEPTED_POST_TYPES, UPDATE_TYPE) if accept_updates else ACCEPTED_POST_TYPES
    if media_type not in accepted:
        got = f"'{media_type}'" if media_type else "no Content-Type"
        raise ProtocolError(
            415, f"POST a query as {FORM_TYPE} (query=...) or as {QUERY_TYPE}; this request has {got}.",
            [("Accept-Post", ", ".join(accepted))],
        )
    if charset not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"Requests must be UTF-8 encoded; this one declares charset={charset}.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(400, f"The request body is not valid UTF-8 ({error}).") from None
    if media_type == UPDATE_TYPE:
        if "update" in args or "query" in args:
            raise ProtocolError(400, f"An {UPDATE_TYPE} request carries its update in the body, and nothing else.")
        params = MultiDict(args)
        params.add("update", text)
        return params
    if media_type == QUERY_TYPE:
        if "query" in args:
            raise ProtocolError(400, f"A {QUERY_TYPE} request carries its query in the body, not also in the URL.")
        if "update" in args:
            raise ProtocolError(400, "A request carries either a query or an update, not both.")
        params = MultiDict(args)
        params.add("query", text)
        return params
    try:
        form = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(400, f"The form is not valid URL-encoded UTF-8 ({error}).") from None
    params = MultiDict(args)
    for name, value in form:
        params.add(name, value)
    return params


def _graph_iris(params: MultiDict[str, str], name: str) -> tuple[str, ...] | None:
    values = params.getlist(name)
    if not values:
        return None
    for value in values:
        try:
            pyoxigraph.NamedNode(value)
        except ValueError as error:
            raise ProtocolError(400, f"{name} must be an absolute IRI; {value!r} is not ({error}).") from None
    return tuple(values)
