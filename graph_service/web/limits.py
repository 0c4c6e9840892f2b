"""Limits that keep a public endpoint serving under abuse, installed on every route by ``create_app``.

Before a request reaches its view:

1. **Request size**: a declared ``Content-Length`` above what the route accepts (``Settings.max_request_bytes``,
   ``max_write_bytes`` for the write routes) is a 413 before anything is read. A chunked body (no
   ``Content-Length``) is a 413 as soon as reading it passes the limit: Werkzeug alone would silently cut it at
   the limit and hand the view the first megabyte as if it were all (:class:`LimitedRequest`).
2. **Per-client rate** (``client_rate_per_s``, ``client_burst``): a token bucket per client; past it, 429 with a
   ``Retry-After`` saying when the next request will be accepted.
3. **Per-client concurrency** (``client_max_concurrent``): requests of one client being answered at once; past it,
   429 with ``Retry-After: 1``. The time limit of each query is :mod:`graph_service.sparql.execution`'s.
4. **Query strings** must be UTF-8 once percent-decoded (400), rather than read with replacement characters.
5. **Query structure** (``max_query_operators``): Oxigraph's SPARQL parser and planner recurse over the structure of
   a query (nested groups, chains of ``&&``, ``UNION``, ``OPTIONAL``, triple patterns...), and a deep enough query
   overflows the stack of the process running it: a crash, not an exception. So every query or update text (in
   the URL, a form or an ``application/sparql-query``/``-update`` body) is counted before it is parsed; past the
   limit it is a 400. Measured with the default 8 MiB stack, the first crashes come from ~960 nested function
   calls (counted 2 each), ~2,250 nested groups and ~2,600 resources after DESCRIBE; the default of 800 leaves a
   margin of 2.4 and is far above what people write (the example queries count 7 to 37).

``/health`` and ``/ready`` are exempt (load balancers poll them).

**Who is a client.** The peer address of the connection, or, when the peer is one of ``trusted_proxies``
(addresses or networks), the nearest address of ``X-Forwarded-For`` that is not a trusted proxy: the one your
proxy saw. Hops further left are written by the client and never believed. IPv6 clients are counted by /64 (one
subscriber gets a whole /64).

**Shared by every worker process.** The buckets and in-flight counts of up to 4,096 clients (more share slots;
the least recently seen are forgotten first) live in one memory map of an unlinked temporary file that
``graph-service serve`` creates in the gunicorn master (:func:`share_across_processes`), so the workers, forked
from it, all see the same numbers. POSIX record locks (``lockf``) on the 8 slots where a client may live guard it,
so only requests of clients whose slots overlap ever wait for each other, and the kernel releases a lock whose
worker died holding it: a killed worker can never wedge the others. A request in flight holds a lease that expires
after the longest a request may take (the query time limit + 60 s), so a killed worker's leases free themselves.
Measured cost: ~23 µs per request for the whole guard on a busy 2-core machine (docs/operations.md).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import ipaddress
import math
import mmap
import re
import struct
import tempfile
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl

from flask import Flask, Request, Response, g, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.utils import get_current_url
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

from ..config import Settings
from ..sparql.query_text import structural_operators, structural_operators_at_most
from .http import plain_error

#: Probes for load balancers: never limited.
EXEMPT_PATHS = frozenset({"/health", "/ready"})
#: Routes that accept authenticated writes, whose bodies may be as large as ``Settings.max_write_bytes``.
WRITE_ENDPOINTS = frozenset({"graph_store.update", "graph_store.graph_store"})
#: The SPARQL endpoint reads its whole body under ``max_request_bytes``, so the guard may read it first.
SPARQL_ENDPOINT = "sparql.endpoint"
_SPARQL_BODY_TYPES = ("application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded")
_SPARQL_PARAMETERS = ("query", "update")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# ---------------------------------------------------------------------------------------------------------------
# Who is the client
# ---------------------------------------------------------------------------------------------------------------

def parse_networks(entries: Iterable[str] | str) -> tuple[Network, ...]:
    """``trusted_proxies`` as networks; a string (from the environment) is split on spaces and commas."""
    if isinstance(entries, str):
        entries = re.split(r"[\s,]+", entries)
    networks = []
    for entry in entries:
        if not entry.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or network") from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An IP address as proxies write them (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``, ``::1``), or ``None``."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientIdentity:
    """Names the client of a request (see the module docstring)."""

    def __init__(self, trusted_proxies: Iterable[str] | str) -> None:
        self.trusted = parse_networks(trusted_proxies)

    def _is_trusted(self, address: Address) -> bool:
        return any(address.version == network.version and address in network for network in self.trusted)

    def address(self, remote_addr: str | None, forwarded_for: str | None) -> str:
        """The client's address: the peer's, unless the peer is a trusted proxy."""
        return self._address(remote_addr, forwarded_for if self.trusted else None)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one identity per app, for the life of the process
    def _address(self, remote_addr: str | None, forwarded_for: str | None) -> str:
        peer = parse_address(remote_addr or "")
        if peer is None:
            return remote_addr or "unknown"
        if not forwarded_for or not self.trusted or not self._is_trusted(peer):
            return str(peer)
        client = peer
        for hop in reversed(forwarded_for.split(",")):
            address = parse_address(hop)
            if address is None:
                break  # unreadable: keep the last hop a trusted proxy vouched for
            client = address
            if not self._is_trusted(address):
                break
        return str(client)

    def of_environ(self, environ: dict) -> str:
        return self.address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"))


@functools.lru_cache(maxsize=4096)
def limit_key(address: str) -> int:
    """A non-zero 64-bit key for a client address (IPv6 by /64)."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        address = str(ipaddress.IPv6Network((parsed, 64), strict=False))
    digest = hashlib.blake2b(address.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


# ---------------------------------------------------------------------------------------------------------------
# Token buckets and in-flight leases, shared by forked processes
# ---------------------------------------------------------------------------------------------------------------

SLOTS = 4096
_PROBES = 8
MAX_CONCURRENT = 64
_HEAD = struct.Struct("<Qdd")  # client key (0: free), tokens, last update (time.monotonic, system-wide on Linux)
_LEASE = struct.Struct("<d")  # expiry of one request in flight (0: free)
_SLOT_SIZE = _HEAD.size + MAX_CONCURRENT * _LEASE.size


@dataclass(frozen=True)
class Policy:
    rate_per_s: float
    burst: int
    max_concurrent: int
    lease_s: float

    @property
    def active(self) -> bool:
        return self.rate_per_s > 0 or self.max_concurrent > 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        if settings.client_max_concurrent > MAX_CONCURRENT:
            raise ValueError(f"client_max_concurrent is at most {MAX_CONCURRENT} (0 turns the limit off)")
        return cls(settings.client_rate_per_s, max(1, settings.client_burst), settings.client_max_concurrent,
                   settings.query_timeout_s + 60)


@dataclass(frozen=True)
class Lease:
    """A request admitted; ``index`` < 0 when concurrency is not limited."""

    slot: int
    index: int
    key: int
    expiry: float


@dataclass(frozen=True)
class Refusal:
    limit: str  # "rate" or "concurrency"
    retry_after_s: int


class ClientTable:
    """Per-client buckets and leases in a shared memory map (see the module docstring)."""

    def __init__(self, slots: int = SLOTS) -> None:
        self.slots = slots
        self._file = tempfile.TemporaryFile(prefix="aiwatch-limits-")
        self._file.truncate(slots * _SLOT_SIZE)
        self._map = mmap.mmap(self._file.fileno(), slots * _SLOT_SIZE)  # MAP_SHARED: forked children share it
        self._thread_lock = threading.Lock()  # lockf excludes other processes, not other threads of this one

    def window(self, key: int) -> int:
        """The first of the ``_PROBES`` slots where ``key`` may live."""
        return key % (self.slots - _PROBES + 1)

    @contextmanager
    def _locked(self, window: int):
        """This process's threads one at a time; across processes, only requests whose windows overlap wait."""
        length, start = _PROBES * _SLOT_SIZE, window * _SLOT_SIZE
        with self._thread_lock:
            fcntl.lockf(self._file.fileno(), fcntl.LOCK_EX, length, start)
            try:
                yield
            finally:
                fcntl.lockf(self._file.fileno(), fcntl.LOCK_UN, length, start)

    def _leases(self, slot: int, count: int) -> list[float]:
        return list(struct.unpack_from(f"<{count}d", self._map, slot * _SLOT_SIZE + _HEAD.size))

    def _find(self, key: int, now: float, policy: Policy) -> tuple[int, float, float]:
        """The slot of ``key`` (claiming a free, idle or the stalest one of its window): slot, tokens, updated."""
        start = self.window(key)
        claim, claim_rank = start, (3, 0.0)
        for slot in range(start, start + _PROBES):
            owner, tokens, updated = _HEAD.unpack_from(self._map, slot * _SLOT_SIZE)
            if owner == key:
                return slot, tokens, updated
            if owner == 0:
                rank = (0, 0.0)
            elif self._idle(slot, tokens, updated, now, policy):
                rank = (1, updated)
            else:
                rank = (2, updated)
            if rank < claim_rank:
                claim, claim_rank = slot, rank
        self._map[claim * _SLOT_SIZE:(claim + 1) * _SLOT_SIZE] = bytes(_SLOT_SIZE)
        _HEAD.pack_into(self._map, claim * _SLOT_SIZE, key, float(policy.burst), now)
        return claim, float(policy.burst), now

    def _idle(self, slot: int, tokens: float, updated: float, now: float, policy: Policy) -> bool:
        """Nothing in flight and the bucket full again: forgetting this client loses nothing."""
        full = policy.rate_per_s <= 0 or tokens + (now - updated) * policy.rate_per_s >= policy.burst
        return full and all(expiry <= now for expiry in self._leases(slot, MAX_CONCURRENT))

    def admit(self, key: int, policy: Policy, now: float | None = None) -> Lease | Refusal:
        now = time.monotonic() if now is None else now
        with self._locked(self.window(key)):
            slot, tokens, updated = self._find(key, now, policy)
            if policy.rate_per_s > 0:
                tokens = min(float(policy.burst), tokens + (now - updated) * policy.rate_per_s)
                if tokens < 1:
                    _HEAD.pack_into(self._map, slot * _SLOT_SIZE, key, tokens, now)
                    return Refusal("rate", max(1, math.ceil((1 - tokens) / policy.rate_per_s)))
            index, expiry = -1, 0.0
            if policy.max_concurrent > 0:
                leases = self._leases(slot, policy.max_concurrent)
                index = next((i for i, lease in enumerate(leases) if lease <= now), -1)
                if index < 0:
                    _HEAD.pack_into(self._map, slot * _SLOT_SIZE, key, tokens, now)
                    return Refusal("concurrency", 1)
                expiry = now + policy.lease_s
                _LEASE.pack_into(self._map, slot * _SLOT_SIZE + _HEAD.size + index * _LEASE.size, expiry)
            _HEAD.pack_into(self._map, slot * _SLOT_SIZE, key, tokens - 1 if policy.rate_per_s > 0 else tokens, now)
            return Lease(slot, index, key, expiry)

    def release(self, lease: Lease) -> None:
        if lease.index < 0:
            return
        offset = lease.slot * _SLOT_SIZE + _HEAD.size + lease.index * _LEASE.size
        with self._locked(self.window(lease.key)):
            (owner,) = struct.unpack_from("<Q", self._map, lease.slot * _SLOT_SIZE)
            # The slot may have been given to another client since (only after this lease expired).
            if owner == lease.key and _LEASE.unpack_from(self._map, offset)[0] == lease.expiry:
                _LEASE.pack_into(self._map, offset, 0.0)

    def in_flight(self, key: int) -> int:
        """Requests of ``key`` in flight now (for operators and tests)."""
        now = time.monotonic()
        with self._locked(self.window(key)):
            for slot in range(self.window(key), self.window(key) + _PROBES):
                if _HEAD.unpack_from(self._map, slot * _SLOT_SIZE)[0] == key:
                    return sum(1 for expiry in self._leases(slot, MAX_CONCURRENT) if expiry > now)
        return 0


_SHARED_TABLE: ClientTable | None = None


def share_across_processes() -> None:
    """Create the client table now, in the process that will fork the workers (the gunicorn master)."""
    global _SHARED_TABLE
    if _SHARED_TABLE is None:
        _SHARED_TABLE = ClientTable()


# ---------------------------------------------------------------------------------------------------------------
# Query structure
# ---------------------------------------------------------------------------------------------------------------

class QueryTooComplex(Exception):
    pass


#: Distinct request texts whose parsing is remembered (query strings, query counts): a portal repeats a few
#: hundred; a request line is at most ~8 KB (graph_service.web.server), so each memo holds at most a few MB.
_MEMO_SIZE = 256


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _structural_operators_up_to(text: str, limit: int) -> int:
    """:func:`structural_operators` of a long query, counted once: dashboards send the same queries again."""
    return structural_operators(text, stop_after=limit)


def check_query_structure(text: str, limit: int) -> None:
    """Raise :class:`QueryTooComplex` when ``text`` holds more than ``limit`` structural operators."""
    if limit <= 0 or len(text) <= limit or structural_operators_at_most(text) <= limit:
        return  # the common case, cheap: every counted operator takes a character, most queries have few
    if _structural_operators_up_to(text, limit) > limit:
        raise QueryTooComplex(
            f"The query has more than {limit:,} structural operators (brackets, '.', ';', '&&', '||', UNION, "
            f"OPTIONAL, FILTER...), this endpoint's limit: queries this deep would exhaust the parser's stack. "
            f"Split it into several queries, or use VALUES for long lists of values."
        )


# ---------------------------------------------------------------------------------------------------------------
# The guard in front of every route
# ---------------------------------------------------------------------------------------------------------------

class RequestGuard:
    """Applies the limits of one app; ``before`` and ``after`` run around every request."""

    def __init__(self, settings: Settings, table: ClientTable | None = None) -> None:
        self.settings = settings
        self.identity = ClientIdentity(settings.trusted_proxies)
        self.policy = Policy.from_settings(settings)
        self._table = table
        self._table_lock = threading.Lock()

    @property
    def table(self) -> ClientTable:
        """The shared table of ``serve``, or (test clients, ``serve --dev``) one of this process."""
        if self._table is None:
            with self._table_lock:
                if self._table is None:
                    self._table = _SHARED_TABLE or ClientTable()
        return self._table

    def client(self) -> str:
        return self.identity.of_environ(request.environ)

    def before(self) -> Response | None:
        if request.path in EXEMPT_PATHS:
            return None
        too_large = self._check_size()
        if too_large is not None:
            return too_large
        if self.policy.active:
            admitted = self.table.admit(limit_key(self.client()), self.policy)
            if isinstance(admitted, Refusal):
                return self._refuse(admitted)
            if admitted.index >= 0:  # a request in flight holds a lease until teardown
                g.limits_lease = admitted
        if request.query_string and not _is_utf8_query_string(request.query_string):
            return plain_error(400, "The query string is not valid UTF-8 once percent-decoded.")
        try:
            for text in self._sparql_texts():
                check_query_structure(text, self.settings.max_query_operators)
        except QueryTooComplex as error:
            return plain_error(400, str(error))
        return None

    def after(self, _: BaseException | None = None) -> None:
        lease = g.pop("limits_lease", None)
        if lease is not None:
            self.table.release(lease)

    def _body_limit(self) -> int:
        if request.endpoint in WRITE_ENDPOINTS:
            return max(self.settings.max_request_bytes, self.settings.max_write_bytes)
        return self.settings.max_request_bytes

    def _check_size(self) -> Response | None:
        if not request.environ.get("CONTENT_LENGTH"):
            return None  # no declared length (most GETs); an empty one reads as 0 (werkzeug.sansio.http)
        length, limit = request.content_length, self._body_limit()
        if length is not None and length > limit:
            return too_large(limit)
        return None

    def _refuse(self, refusal: Refusal) -> Response:
        if refusal.limit == "rate":
            message = (f"Too many requests: this service answers {self.policy.rate_per_s:g} requests per second "
                       f"per client (bursts of {self.policy.burst}). Retry after {refusal.retry_after_s} s.")
        else:
            message = (f"Too many requests at once: this service answers {self.policy.max_concurrent} requests of "
                       f"one client at a time. Wait for an answer before sending more.")
        return plain_error(429, message, [("Retry-After", str(refusal.retry_after_s))])

    def _sparql_texts(self) -> list[str]:
        """Query and update texts of the request, wherever the SPARQL Protocol lets them be."""
        texts: list[str] = []
        if request.query_string:
            texts += [text for name in _SPARQL_PARAMETERS for text in request.args.getlist(name)]
        if request.method != "POST":
            return texts
        media_type = parse_options_header(request.headers.get("Content-Type", ""))[0].lower()
        if media_type not in _SPARQL_BODY_TYPES:
            return texts
        # Authenticated writes may be larger than max_request_bytes: their routes read them after the token check.
        length = request.content_length
        if request.endpoint != SPARQL_ENDPOINT and (length is None or length > self.settings.max_request_bytes):
            return texts
        body = request.get_data(cache=True).decode("utf-8", errors="replace")  # the view reads it from the cache
        if media_type == "application/x-www-form-urlencoded":
            texts += [value for name, value in parse_qsl(body, keep_blank_values=True) if name in _SPARQL_PARAMETERS]
        else:
            texts.append(body)
        return texts


@functools.lru_cache(maxsize=_MEMO_SIZE)  # the same query strings come again and again (dashboards)
def _is_utf8_query_string(raw: bytes) -> bool:
    """Werkzeug decodes a bad query string leniently (U+FFFD); a query must not change meaning that way."""
    if b"%" not in raw:
        return True
    try:
        parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        return False
    return True


class _StrictMaxStream(LimitedStream):
    """A streamed body read up to its maximum: 413 when more follows, where Werkzeug would just stop there."""

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _query_arguments(raw: bytes) -> ImmutableMultiDict[str, str]:
    """Werkzeug's ``Request.args`` of a query string (the same call), parsed once: it is immutable, so every
    request with these bytes can share it."""
    return ImmutableMultiDict(parse_qsl(raw.decode(), keep_blank_values=True, errors="werkzeug.url_quote"))


_current_url = functools.lru_cache(maxsize=_MEMO_SIZE)(get_current_url)  # a pure function of its arguments


class LimitedRequest(Request):
    """Flask's request, whose streamed (chunked) body is refused past ``max_content_length`` rather than cut.

    What every request derives again from the same few inputs (its query arguments, read first by this guard and
    again by the views; its URLs, from which the faces rewrite IRIs) is taken from small memos: a repeated request
    costs a dictionary lookup there, not a parse (about a tenth of a cached SPARQL answer's time otherwise).
    """

    @cached_property
    def args(self) -> MultiDict[str, str]:
        if self.parameter_storage_class is not ImmutableMultiDict:  # only an immutable result may be shared
            return super().args
        return _query_arguments(self.query_string)

    @cached_property
    def url(self) -> str:
        return _current_url(self.scheme, self.host, self.root_path, self.path, self.query_string)

    @cached_property
    def base_url(self) -> str:
        return _current_url(self.scheme, self.host, self.root_path, self.path)

    @cached_property
    def root_url(self) -> str:
        return _current_url(self.scheme, self.host, self.root_path)

    @cached_property
    def host_url(self) -> str:
        return _current_url(self.scheme, self.host)

    @cached_property
    def stream(self):  # noqa: ANN201 - a binary stream, as Werkzeug's
        environ, limit = self.environ, self.max_content_length
        if limit is not None and self.content_length is None and environ.get("wsgi.input_terminated"):
            return _StrictMaxStream(environ["wsgi.input"], limit, is_max=True)
        return get_input_stream(environ, max_content_length=limit)


def too_large(limit: int) -> Response:
    """413, closing the connection so that the server does not read the rest of the body."""
    response = plain_error(413, f"The request is larger than this endpoint's limit of {limit:,} bytes.")
    response.headers["Connection"] = "close"
    return response


def guard() -> RequestGuard:
    from flask import current_app

    return current_app.extensions["limits"]


def install(app: Flask) -> None:
    """Apply the limits to every route of ``app`` (before any other ``before_request`` of its own)."""
    limits = RequestGuard(app.config["SETTINGS"])
    app.extensions["limits"] = limits
    app.request_class = LimitedRequest
    app.before_request_funcs.setdefault(None, []).insert(0, limits.before)
    if limits.policy.max_concurrent > 0:  # only then does a request hold a lease to give back
        app.teardown_request(limits.after)
    app.register_error_handler(RequestEntityTooLarge, lambda _: too_large(limits._body_limit()))
