"""Who may write: bearer tokens, each with a name that PROV records as the writer.

Tokens come from ``Settings.write_tokens`` (``name:token`` pairs) and ``Settings.write_tokens_file`` (one pair a
line, ``#`` comments). Without any token the service is read-only. A request without a bearer token is a 401 with
``WWW-Authenticate: Bearer``, one with an unknown token a 403; the comparison takes the same time whichever token
is presented (SHA-256 of both sides, :func:`hmac.compare_digest` against every configured token).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings

#: Names become IRIs (``{base}id/agent/{name}``), so they follow the project's key rule.
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
#: Long enough not to be guessed (``graph-service token`` mints 43 characters); what a header can carry.
TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{24,512}")
REALM = "AI Watch knowledge graph writes"


class AuthError(Exception):
    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = tuple(headers)


@dataclass(frozen=True)
class Tokens:
    """The configured writers: token digest -> name."""

    _by_digest: tuple[tuple[bytes, str], ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self._by_digest)

    @classmethod
    def parse(cls, pairs: Iterable[str]) -> Tokens:
        """Tokens from ``name:token`` pairs; raises ``ValueError`` naming the bad entry (never echoing a token)."""
        entries: dict[bytes, str] = {}
        names: set[str] = set()
        for number, pair in enumerate(pairs, start=1):
            name, colon, token = pair.strip().partition(":")
            if not colon or not NAME.fullmatch(name):
                raise ValueError(f"write token #{number}: expected name:token with a name of lower-case letters, "
                                 f"digits and '-' (got name {name!r})")
            if not TOKEN.fullmatch(token):
                raise ValueError(f"write token {name!r}: a token needs 24 to 512 characters from A-Z a-z 0-9 "
                                 "._~+/=- (make one with `graph-service token NAME`)")
            if name in names:
                raise ValueError(f"write token {name!r} is configured twice")
            digest = _digest(token)
            if digest in entries:
                raise ValueError(f"write tokens {entries[digest]!r} and {name!r} are the same token")
            names.add(name)
            entries[digest] = name
        return cls(tuple(entries.items()))

    @classmethod
    def from_settings(cls, settings: Settings) -> Tokens:
        pairs = list(settings.write_tokens)
        if settings.write_tokens_file:
            path = Path(settings.write_tokens_file)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise ValueError(f"cannot read the write tokens file {path}: {error.strerror}") from None
            pairs += [line for line in (raw.strip() for raw in text.splitlines()) if line and not line.startswith("#")]
        return cls.parse(pairs)

    def writer(self, authorization: str | None) -> str:
        """The name of the writer an ``Authorization`` header authenticates; raises :class:`AuthError` otherwise."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(401, "Writing needs a bearer token: send 'Authorization: Bearer <token>'.",
                            [("WWW-Authenticate", f'Bearer realm="{REALM}"')])
        presented = _digest(token)
        found = ""
        for digest, name in self._by_digest:  # every token is compared: the time says nothing about which matched
            if hmac.compare_digest(presented, digest):
                found = name
        if not found:
            raise AuthError(403, "This token may not write here: it is not one of the configured write tokens.")
        return found


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)
