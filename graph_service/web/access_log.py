"""Structured access logs: one JSON line per request, with the request id that ties it to the client's report.

Each request gets an id: the client's (or the proxy's) ``X-Request-ID`` when it is a sensible token (at most 128
letters, digits and ``-_.:``), else a new UUID; it is echoed in the response's ``X-Request-ID`` header, so a user
quoting it lets an operator find the exact line. The line is written when the response has been sent (its bytes
counted as they go out), so ``duration_ms`` covers the whole exchange; ``time`` is when the request arrived::

    {"time": "2025-01-31T10:00:00.123Z", "request_id": "9f2c...", "method": "GET", "path": "/sparql",
     "status": 200, "bytes": 1234, "duration_ms": 12.3, "query_ms": 10.1, "cache": "miss",
     "client": "203.0.113.7", "pid": 4242, "user_agent": "curl/8.5.0"}

- ``query_ms``: for SPARQL requests (a query or an update at ``/sparql`` or ``/update``), the time the handler took
  to answer: parsing, evaluation and serialisation, without sending. ``cache`` is the result cache's verdict
  (``X-Cache``) when there is one.
- ``client``: as the limits see it (graph_service.web.limits: the peer, or the trusted proxy's client); ``pid``: the
  worker process that answered.
- The query string is not logged (queries can be long and personal); ``path`` is the path only.

``graph-service serve`` writes the lines to ``Settings.access_log`` (``-``: standard output, else a file path;
empty: off) and turns gunicorn's own access log off, so each request is logged once. An app built otherwise (tests,
``serve --dev``) logs to the ``graph_service.access`` logger without a handler of its own.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from flask import Flask, request
from flask.typing import ResponseReturnValue

from .limits import ClientIdentity

LOGGER_NAME = "graph_service.access"
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
#: Views whose time is the SPARQL query (or update) time.
QUERY_ENDPOINTS = frozenset({"sparql.endpoint", "graph_store.update"})
_RECORD = "graph_service.access_record"
#: Response headers the line reports (lower-cased as the WSGI server passes them through ``start_response``).
_HEADERS_LOGGED = frozenset({"x-cache", "content-length"})
_JSON_LINE = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False) builds one per call

log = logging.getLogger(LOGGER_NAME)


def request_id_of(incoming: str | None) -> str:
    """The incoming id when it is a sensible token, else a new one (a random UUID, as 32 hex digits)."""
    if incoming and _VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    return _new_uuid4_hex()


#: Version 4 and the RFC 4122 variant, as ``uuid.uuid4()`` sets them.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def _new_uuid4_hex() -> str:
    """``uuid.uuid4().hex`` without building a ``UUID`` object (half the cost, on every request)."""
    return f"{(int.from_bytes(os.urandom(16), 'big') & _UUID4_CLEAR) | _UUID4_SET:032x}"


class _LoggedBody:
    """The response body, counted as the server sends it; logs the request once it is all sent (or closed)."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[int], None]) -> None:
        self._body = body
        self._finish = finish
        self._sent = 0
        self._logged = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk
        self._log()

    def _log(self) -> None:
        if not self._logged:
            self._logged = True
            self._finish(self._sent)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._log()


class AccessLog:
    """WSGI middleware writing one JSON line per request to the ``graph_service.access`` logger."""

    def __init__(self, wsgi_app: Callable, identity: ClientIdentity) -> None:
        self.wsgi_app = wsgi_app
        self.identity = identity

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started, started_at = time.perf_counter(), datetime.now(UTC)
        request_id = request_id_of(environ.get("HTTP_X_REQUEST_ID"))
        environ["HTTP_X_REQUEST_ID"] = request_id  # what the app sees is what is logged and echoed
        record: dict = {}
        environ[_RECORD] = record
        status_and_headers: dict = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info=None):  # noqa: ANN001 - WSGI
            kept = []
            for logged in _HEADERS_LOGGED:  # start_response may be called again (exc_info): its headers replace
                status_and_headers.pop(logged, None)
            for name, value in headers:
                lowered = name.lower()
                if lowered == "x-request-id":
                    continue
                if lowered in _HEADERS_LOGGED:
                    status_and_headers[lowered] = value
                kept.append((name, value))
            kept.append((REQUEST_ID_HEADER, request_id))
            status_and_headers["status"] = int(status.split(" ", 1)[0])
            return start_response(status, kept, exc_info)

        def finish(sent: int) -> None:
            self.write(environ, request_id, status_and_headers.get("status", 500), sent, (started, started_at),
                       record, status_and_headers.get("x-cache"))

        try:
            body = self.wsgi_app(environ, start)
        except BaseException:
            finish(0)
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper is not None and isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            # Keep the server's sendfile path: log now, with the length the headers announce.
            finish_length = int(status_and_headers.get("content-length", "0") or 0)
            finish(finish_length)
            return body
        return _LoggedBody(body, finish)

    def write(self, environ: dict, request_id: str, status: int, sent: int, started: tuple[float, datetime],
              record: dict, cache: str | None) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        line = {
            "time": started[1].isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "request_id": request_id,
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "status": status,
            "bytes": sent,
            "duration_ms": round((time.perf_counter() - started[0]) * 1000, 2),
        }
        if "query_ms" in record:
            line["query_ms"] = record["query_ms"]
            if cache:
                line["cache"] = cache
        line["client"] = self.identity.of_environ(environ)
        line["pid"] = os.getpid()
        user_agent = environ.get("HTTP_USER_AGENT")
        if user_agent:
            line["user_agent"] = user_agent[:200]
        text = _JSON_LINE(line)
        if not _write_directly(text):
            # A record made directly: Logger.info would also walk the stack to name the caller, which no line shows.
            log.handle(log.makeRecord(LOGGER_NAME, logging.INFO, __file__, 0, text, None, None))


#: The handler :func:`log_to` installed (one line per record, the message only), while it is installed.
_own_handler: logging.StreamHandler | None = None


def _write_directly(text: str) -> bool:
    """Write ``text`` as :func:`log_to`'s handler would, when it is the logger's only way out (as ``serve``
    configures it: no other handler, no filter), straight to its stream under its lock: building a ``LogRecord``
    and dispatching it costs more than the rest of the line (~10 µs on every request). Anything else configured on
    the logger (tests' ``caplog``, an operator's handler) gets the records as usual: ``False``."""
    handler = _own_handler
    if handler is None or log.handlers != [handler] or log.filters or handler.filters or log.propagate \
            or log.disabled or handler.level > logging.INFO or handler.stream is None:
        return False
    try:
        with handler.lock:
            handler.stream.write(text + handler.terminator)
            handler.flush()
    except Exception:  # noqa: BLE001 - a broken stream: the logging path reports it its own way, never raises
        return False
    return True


def _with_query_clock(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """``view``, recording its time as ``query_ms`` when the request carries SPARQL (whether it answers or raises).

    A wrapper rather than a pair of ``before_request``/``after_request`` hooks: hooks run on every request of every
    face, and Flask checks each of them for being a coroutine every time.
    """

    @functools.wraps(view)
    def timed(*args: object, **kwargs: object) -> ResponseReturnValue:
        record = request.environ.get(_RECORD)
        if record is None or not _carries_sparql():
            return view(*args, **kwargs)
        started = time.perf_counter()
        try:
            return view(*args, **kwargs)
        finally:
            record["query_ms"] = round((time.perf_counter() - started) * 1000, 2)

    return timed


def _carries_sparql() -> bool:
    return request.method == "POST" or "query" in request.args or "update" in request.args


def install(app: Flask) -> None:
    """Log every request of ``app``; call it last in ``create_app``, once the query views are registered (the query
    clock runs right around them)."""
    identity = ClientIdentity(app.config["SETTINGS"].trusted_proxies)
    app.wsgi_app = AccessLog(app.wsgi_app, identity)
    for endpoint in QUERY_ENDPOINTS & app.view_functions.keys():
        app.view_functions[endpoint] = _with_query_clock(app.view_functions[endpoint])


def log_to(destination: str) -> None:
    """Send the lines to standard output (``-``) or a file, one JSON object per line; ``""`` turns them off."""
    global _own_handler
    log.propagate = False
    _own_handler = None
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    if not destination:
        log.setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(sys.stdout) if destination == "-" else logging.FileHandler(destination)
    handler.setFormatter(logging.Formatter("%(message)s"))  # what _write_directly writes
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    _own_handler = handler
