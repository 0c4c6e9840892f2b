"""HTTP behaviour every face shares: caching validators, CORS, gzip, plain-text errors.

ETags are strong and derive from the published data version plus what distinguishes the representation (path,
query, negotiated format), so a CDN or proxy can cache any GET and revalidate with a 304.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable

from flask import Flask, Response, current_app, request

from ..store import DataVersion
from . import context

#: Seconds a shared cache may reuse a response before revalidating (the data changes rarely, revalidation is cheap).
DEFAULT_MAX_AGE = 300
_GZIP_MIN_BYTES = 1024
_COMPRESSIBLE = ("text/", "application/")


def data_etag(version: DataVersion | None, *parts: str) -> str:
    """A strong ETag value for the data ``version`` and the representation named by ``parts``."""
    digest = hashlib.sha256("\x1f".join([version.digest if version else "empty", *parts]).encode()).hexdigest()
    return digest[:32]


def cacheable(response: Response, *parts: str, max_age: int = DEFAULT_MAX_AGE) -> Response:
    """Add ETag, Last-Modified and Cache-Control, and turn the response into a 304 when the client is current.

    ``parts`` name the representation; by default the path, the query string and the Content-Type.
    """
    parts = parts or (request.path, request.query_string.decode("latin-1"), response.content_type or "")
    # gzip changes the bytes, and a strong ETag names bytes: the coding is part of the representation.
    coding = "gzip" if "gzip" in request.headers.get("Accept-Encoding", "") else "identity"
    # One read of the version: ETag and Last-Modified name the same data (and a remote store is asked once).
    version = context.store().version()
    response.set_etag(data_etag(version, *parts, coding))
    if version is not None:
        response.last_modified = version.published
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response.make_conditional(request)


def negotiated(response: Response) -> Response:
    """Mark a response whose body depends on the Accept header."""
    response.vary.add("Accept")
    return response


def plain_error(status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """An error a human and a script can both read."""
    response = Response(message.rstrip("\n") + "\n", status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers:
        response.headers[name] = value
    return response


#: Response headers a cross-origin script may read besides the CORS-safelisted ones.
_EXPOSED_HEADERS = ("ETag, Last-Modified, Content-Location, Link, Location, Vary, Retry-After, WWW-Authenticate, "
                    "X-Request-ID, X-Cache, X-SPARQL-Max-Rows")
#: Request headers allowed when a preflight names none: what the faces read (Authorization: bearer-token writes).
_DEFAULT_ALLOWED_HEADERS = "Accept, Authorization, Content-Type, If-None-Match, If-Modified-Since, Cache-Control"
#: Seconds a browser may reuse a preflight answer (browsers cap it: Chromium at 2 h, Firefox at 24 h).
PREFLIGHT_MAX_AGE = 86400


def _cors(response: Response) -> Response:
    """Any origin may read (no credentials: tokens travel in ``Authorization``, which is not an ambient
    credential); preflights are answered by :func:`_preflight`."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = _EXPOSED_HEADERS
    return response


def _route_allows() -> list[str] | None:
    """The methods the requested resource allows, as its own answer to a plain ``OPTIONS`` says (``Allow``);
    ``None`` when no route matches (the preflight then gets the route's 404 or 405)."""
    rule = request.url_rule
    if request.routing_exception is not None or rule is None:
        return None
    app = current_app
    if getattr(rule, "provide_automatic_options", False):
        answer = app.make_default_options_response()
    else:  # the view answers OPTIONS itself, e.g. /rdf-graph-store allows PUT and DELETE only when writes are on
        answer = app.make_response(app.ensure_sync(app.view_functions[rule.endpoint])(**(request.view_args or {})))
    return [method.strip().upper() for method in answer.headers.get("Allow", "").split(",") if method.strip()]


def _preflight() -> Response | None:
    """Answer a CORS preflight: echo the requested method when the resource allows it (the Graph Store Protocol's
    PUT and DELETE when writes are enabled), allow the requested headers (``Authorization`` for writes), and let
    the browser cache the answer. A view answering ``OPTIONS`` itself must do so without side effects."""
    method = request.headers.get("Access-Control-Request-Method")
    if request.method != "OPTIONS" or method is None:
        return None
    allowed = _route_allows()
    if allowed is None:
        return None
    response = Response(status=204)
    response.headers["Allow"] = ", ".join(allowed)
    # A method the resource does not allow is not echoed: the browser then refuses the request before sending it.
    response.headers["Access-Control-Allow-Methods"] = (
        method.strip() if method.strip().upper() in allowed else ", ".join(allowed))
    response.headers["Access-Control-Allow-Headers"] = (
        request.headers.get("Access-Control-Request-Headers", "").strip() or _DEFAULT_ALLOWED_HEADERS)
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    # The answer depends on what the preflight asked: a shared cache must not give one preflight's answer to another.
    response.vary.update(["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"])
    return response


def _gzip(response: Response) -> Response:
    """Compress sizeable textual bodies for clients that accept gzip (after ETag: the validator stays the same)."""
    if (
        response.direct_passthrough
        or response.status_code < 200
        or response.status_code in (204, 304)
        or "Content-Encoding" in response.headers
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or not (response.mimetype or "").startswith(_COMPRESSIBLE)
        or response.is_streamed
    ):
        return response
    body = response.get_data()
    response.vary.add("Accept-Encoding")
    if len(body) < _GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=5))
    response.headers["Content-Encoding"] = "gzip"
    return response


def install(app: Flask) -> None:
    """Install the shared HTTP behaviour on every route of ``app``."""
    app.before_request(_preflight)
    app.after_request(_cors)
    app.after_request(_gzip)
