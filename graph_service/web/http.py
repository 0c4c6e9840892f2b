"""HTTP behaviour every face shares: caching validators, CORS, gzip, plain-text errors.

ETags are strong and derive from the published data version plus what distinguishes the representation (path,
query, negotiated format), so a CDN or proxy can cache any GET and revalidate with a 304.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import SecurityError
from werkzeug.http import http_date, quote_etag

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


#: Request headers that can make a response conditional (304, 412) or partial: without them, make_conditional
#: only adds Date and Content-Length, which :func:`cacheable` then does itself.
_CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_RANGE")


def cacheable(response: Response, *parts: str, max_age: int = DEFAULT_MAX_AGE) -> Response:
    """Add ETag, Last-Modified and Cache-Control, and turn the response into a 304 when the client is current.

    ``parts`` name the representation; by default the path, the query string and the Content-Type.
    """
    parts = parts or (request.path, request.query_string.decode("latin-1"), response.content_type or "")
    environ = request.environ  # (headers read from the environment: a missing one costs Werkzeug an exception)
    # gzip changes the bytes, and a strong ETag names bytes: the coding is part of the representation.
    coding = "gzip" if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "") else "identity"
    # One read of the version: ETag and Last-Modified name the same data (and a remote store is asked once).
    version = context.store().version()
    headers = response.headers
    headers["ETag"] = _etag_header(version, (*parts, coding))
    if version is not None:
        headers["Last-Modified"] = _http_date_of(version)
    if "Cache-Control" in headers:  # keep the directives a view set
        response.cache_control.public = True
        response.cache_control.max_age = max_age
    else:
        headers["Cache-Control"] = f"public, max-age={max_age}"
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or any(name in environ for name in _CONDITIONAL_HEADERS):
        return response.make_conditional(request)
    # What make_conditional does for an unconditional GET, without parsing back the validators just written.
    if "Date" not in headers:
        headers["Date"] = http_date()
    if response.automatically_set_content_length and "Content-Length" not in headers:
        length = response.calculate_content_length()
        if length is not None:
            headers["Content-Length"] = str(length)
    return response


@functools.lru_cache(maxsize=1024)  # the representations a process serves again and again
def _etag_header(version: DataVersion | None, parts: tuple[str, ...]) -> str:
    return quote_etag(data_etag(version, *parts))


@functools.lru_cache(maxsize=16)
def _http_date_of(version: DataVersion) -> str:
    return http_date(version.published)


def negotiated(response: Response) -> Response:
    """Mark a response whose body depends on the Accept header."""
    if "Vary" in response.headers:
        response.vary.add("Accept")
    else:
        response.headers["Vary"] = "Accept"  # (what vary.add writes, without parsing and dumping a header set)
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
    if request.method != "OPTIONS":  # first: every request passes here, and a missing header costs an exception
        return None
    method = request.headers.get("Access-Control-Request-Method")
    if method is None:
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
        "gzip" not in request.environ.get("HTTP_ACCEPT_ENCODING", "")  # first: most cheaply false
        or response.direct_passthrough
        or response.status_code < 200
        or response.status_code in (204, 304)
        or "Content-Encoding" in response.headers
        or not (response.mimetype or "").startswith(_COMPRESSIBLE)
        or response.is_streamed
    ):
        return response
    body = response.get_data()
    response.vary.add("Accept-Encoding")
    if len(body) < _GZIP_MIN_BYTES:
        return response
    response.set_data(_COMPRESSED.compress(body, cacheable="ETag" in response.headers))
    response.headers["Content-Encoding"] = "gzip"
    return response


class _CompressedBodies:
    """gzip of the bodies served last, by the bodies themselves (the compression is a pure function of them): a
    repeated document or cached SPARQL answer, the same bytes object every time, is compressed once, not on every
    request (compressing 10 KB costs about as much as the rest of a cache hit). Only bodies of cacheable responses
    (with an ETag) are kept, within ``max_bytes`` (bodies and their compressions), least recently used out first."""

    def __init__(self, max_bytes: int = 16 * 1024 * 1024, max_entry_bytes: int = 1024 * 1024) -> None:
        self.max_bytes, self.max_entry_bytes = max_bytes, max_entry_bytes
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def compress(self, body: bytes, cacheable: bool) -> bytes:
        if not cacheable or len(body) > self.max_entry_bytes:
            return gzip.compress(body, compresslevel=5)
        with self._lock:
            compressed = self._entries.get(body)
            if compressed is not None:
                self._entries.move_to_end(body)
                return compressed
        compressed = gzip.compress(body, compresslevel=5)
        with self._lock:
            if body not in self._entries:
                self._entries[body] = compressed
                self._bytes += len(body) + len(compressed)
                while self._bytes > self.max_bytes:
                    kept, kept_compressed = self._entries.popitem(last=False)
                    self._bytes -= len(kept) + len(kept_compressed)
        return compressed


_COMPRESSED = _CompressedBodies()


def _untrusted_host(_error: SecurityError) -> Response:
    hosts = current_app.config["TRUSTED_HOSTS"] or []
    return plain_error(400, f"This service does not answer for the host named in this request (Host: "
                            f"{request.environ.get('HTTP_HOST', '')!r}); it answers for {', '.join(hosts)}. An "
                            "operator adds names with AIWATCH_TRUSTED_HOSTS (README \"Configuration\").")


def install(app: Flask) -> None:
    """Install the shared HTTP behaviour on every route of ``app``."""
    # Each origin served gets IRIs, answers, pages and downloads of its own: only named hosts are answered.
    app.config["TRUSTED_HOSTS"] = app.config["SETTINGS"].answered_hosts
    app.register_error_handler(SecurityError, _untrusted_host)
    app.before_request(_preflight)
    app.after_request(_cors)
    app.after_request(_gzip)
