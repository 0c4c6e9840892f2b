"""The SERVICE (federated query) policy: off by default, allowlisted endpoints only, never internal addresses.

SERVICE is the only way a SPARQL query makes Oxigraph open a connection (there is no LOAD in a query, and FROM
only names graphs of the store), so checking every SERVICE endpoint before a query runs keeps queries from reading
local files (``file:`` IRIs) or reaching the machine's network neighbourhood. The endpoint must be written as an
absolute ``http(s)`` IRI (or a prefixed name) that:

- falls under one of ``Settings.sparql_service_allowlist`` (same scheme, host and port, path prefix: compared
  parsed, so ``https://allowed.example.evil.com`` or ``https://allowed.example@evil.com`` never match
  ``https://allowed.example``), and
- is plain ASCII without the characters URL parsers disagree on (backslash, spaces...), and
- does not name an internal host: loopback, private, link-local, reserved or unspecified IP addresses (in any of
  the notations URL parsers accept, such as ``http://2130706433/``), ``localhost``, single-label names and the
  ``.local``/``.internal``/``.localhost``/``.localdomain`` zones.

Limits, documented rather than hidden: host names are not resolved (no DNS lookups per query), so the allowlist is
the trust boundary; list public endpoints you trust, whose names do not resolve inside your network.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from .query_text import service_calls

_INTERNAL_ZONES = (".local", ".internal", ".localhost", ".localdomain", ".home.arpa")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
# Characters on which URL parsers disagree (a backslash is a path separator to some, part of the host to others),
# or that no IRI may contain: refused outright rather than interpreted.
_UNSAFE_IRI_CHARACTER = re.compile(r'[^\x21-\x7e]|[\\<>"{}|^`]')


class ServiceForbidden(Exception):
    """A query calls SERVICE where the policy does not allow it; the message says which and why."""


def normalise_allowlist(allowlist: Iterable[str] | str) -> tuple[str, ...]:
    """The allowlist as a tuple; a string (from an environment variable) is split on spaces and commas."""
    if isinstance(allowlist, str):
        allowlist = re.split(r"[\s,]+", allowlist)
    return tuple(entry for entry in allowlist if entry)


def is_internal_host(host: str) -> bool:
    """Whether ``host`` (as in a URL, lower case, without brackets) names this machine or a private network."""
    host = host.rstrip(".").lower()
    if not host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        if _NUMERIC_LABEL.match(labels[-1]):
            return True  # URL parsers read "127.1", "2130706433" or "0x7f.1" as IPv4 addresses: never allow them
        return host == "localhost" or "." not in host or host.endswith(_INTERNAL_ZONES)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _parts(iri: str) -> tuple[str, str, int | None, str]:
    split = urlsplit(iri)
    return split.scheme.lower(), (split.hostname or ""), split.port, split.path or "/"


def endpoint_refusal(endpoint: str, allowlist: tuple[str, ...]) -> str | None:
    """Why ``endpoint`` may not be called (``None`` when it may)."""
    if not allowlist:
        return "SERVICE (federated query) is disabled on this endpoint"
    if _UNSAFE_IRI_CHARACTER.search(endpoint):
        return f"SERVICE <{endpoint}>: only plain ASCII IRIs can be called"
    try:
        scheme, host, port, path = _parts(endpoint)
    except ValueError as error:
        return f"SERVICE <{endpoint}>: not a valid IRI ({error})"
    if scheme not in ("http", "https"):
        return f"SERVICE <{endpoint}>: only http(s) endpoints can be called"
    if is_internal_host(host):
        return f"SERVICE <{endpoint}>: internal addresses cannot be called"
    for entry in allowlist:
        try:
            allowed_scheme, allowed_host, allowed_port, allowed_path = _parts(entry)
        except ValueError:
            continue
        if (scheme, host, port) == (allowed_scheme, allowed_host, allowed_port) and path.startswith(allowed_path):
            return None
    return f"SERVICE <{endpoint}>: not in this endpoint's allowlist of federated endpoints"


def check_services(sparql: str, allowlist: Iterable[str] | str) -> None:
    """Raise :class:`ServiceForbidden` unless every SERVICE call of ``sparql`` is allowed."""
    if "service" not in sparql.lower() and "\\u" not in sparql.lower():
        return  # the common case costs one scan
    allowed = normalise_allowlist(allowlist)
    for call in service_calls(sparql):
        if call.endpoint is None:
            reason = ("SERVICE (federated query) is disabled on this endpoint" if not allowed
                      else f"SERVICE with {call.reason}: only allowlisted IRIs can be called")
        else:
            reason = endpoint_refusal(call.endpoint, allowed)
        if reason:
            raise ServiceForbidden(reason)
