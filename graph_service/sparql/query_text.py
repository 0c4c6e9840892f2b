"""Lexical facts about a SPARQL text: its form, the endpoints of its SERVICE calls, and IRI rewriting.

pyoxigraph parses queries but does not expose the parse, so these facts come from a small lexer that knows only
what can hide a keyword: string literals, IRIs, comments and backslash escapes in prefixed names. Everything else
is left as "code", in which a keyword is a word not glued to a name character. The lexer errs on the side of
seeing a keyword: a false SERVICE refuses an odd query, a missed one would let it out (see :mod:`.federation`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKENS = re.compile(
    r"""
    (?P<string>
        \"{3}(?:[^"\\]|\\.|"(?!""))*\"{3}
      | '{3}(?:[^'\\]|\\.|'(?!''))*'{3}
      | "(?:[^"\\\n\r]|\\.)*"
      | '(?:[^'\\\n\r]|\\.)*'
    )
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<comment>\#[^\n\r]*)
  | (?P<escape>\\.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PLX_ESCAPE = re.compile(r"\\(.)")
_KEYWORD_BOUNDARY_BEFORE = r"(?<![\w:?$])"
_KEYWORD_BOUNDARY_AFTER = r"(?![\w:])"
_SERVICE = re.compile(_KEYWORD_BOUNDARY_BEFORE + r"SERVICE" + _KEYWORD_BOUNDARY_AFTER, re.IGNORECASE)
_SILENT = re.compile(r"\s*SILENT" + _KEYWORD_BOUNDARY_AFTER + r"\s*", re.IGNORECASE)
_PREFIX_DECLARATION = re.compile(_KEYWORD_BOUNDARY_BEFORE + r"PREFIX\s*([^\s:]*):\s*(?=<)", re.IGNORECASE)
_PROLOGUE_THEN_WORD = re.compile(
    r"\s*(?:(?:BASE\s*<[^>]*>|PREFIX\s*[^\s:]*:\s*<[^>]*>)\s*)*([A-Za-z]+)", re.IGNORECASE
)
_NAME_END = re.compile(r"[^\s{}()<>,;]*")

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_OPERATIONS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})


def unescape_codepoints(text: str) -> str:
    r"""Resolve ``\uXXXX`` / ``\UXXXXXXXX`` escapes (as inside an IRI); invalid code points stay escaped."""

    def replace(match: re.Match[str]) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except ValueError:
            return match.group(0)

    return _UCHAR.sub(replace, text)


def skeleton(text: str) -> str:
    """``text`` with the inside of strings and IRIs blanked, comments removed and escapes made name characters.

    The result has the same length as ``text``, so a position found in it addresses the original too.
    """
    parts: list[str] = []
    last = 0
    for match in _TOKENS.finditer(text):
        parts.append(text[last:match.start()])
        token = match.group(0)
        kind = match.lastgroup
        if kind in ("string", "iri"):
            parts.append(token[0] + " " * (len(token) - 2) + token[-1])
        elif kind == "comment":
            parts.append(" " * len(token))
        else:  # escape: part of a prefixed name, never a keyword boundary
            parts.append("__")
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)


def first_keyword(text: str) -> str | None:
    """The first word after the prologue (``SELECT``, ``ASK``... or an update operation), upper-cased."""
    match = _PROLOGUE_THEN_WORD.match(skeleton(text))
    return match.group(1).upper() if match else None


def is_update(text: str) -> bool:
    """Whether ``text`` reads as a SPARQL Update request rather than a query."""
    return first_keyword(text) in UPDATE_OPERATIONS


@dataclass(frozen=True)
class ServiceCall:
    """One SERVICE keyword: the endpoint IRI, or ``None`` with ``reason`` when it cannot be known before running."""

    endpoint: str | None
    reason: str = ""


def service_calls(text: str) -> list[ServiceCall]:
    """Every SERVICE call in ``text``, also as read after resolving code point escapes (belt and braces)."""
    calls = _service_calls(text)
    unescaped = unescape_codepoints(text)
    if unescaped != text:
        calls += [call for call in _service_calls(unescaped) if call not in calls]
    return calls


def _service_calls(text: str) -> list[ServiceCall]:
    code = skeleton(text)
    calls: list[ServiceCall] = []
    prefixes: dict[str, str] | None = None
    for keyword in _SERVICE.finditer(code):
        position = keyword.end()
        silent = _SILENT.match(code, position)
        position = silent.end() if silent else _skip_space(code, position)
        start = code[position:position + 1]
        if start == "<":
            end = code.find(">", position)
            if end < 0:
                calls.append(ServiceCall(None, "an unterminated IRI"))
            else:
                calls.append(ServiceCall(unescape_codepoints(text[position + 1:end])))
        elif start in ("?", "$"):
            calls.append(ServiceCall(None, "a variable endpoint cannot be checked before the query runs"))
        else:
            name = text[position:_NAME_END.match(code, position).end()]
            prefix, colon, local = name.partition(":")
            if prefixes is None:
                prefixes = _prefix_declarations(text, code)
            if not colon or prefix not in prefixes:
                calls.append(ServiceCall(None, f"cannot read the endpoint {name!r}"))
            else:
                calls.append(ServiceCall(prefixes[prefix] + _PLX_ESCAPE.sub(r"\1", local)))
    return calls


def _skip_space(code: str, position: int) -> int:
    while position < len(code) and code[position].isspace():
        position += 1
    return position


def _prefix_declarations(text: str, code: str) -> dict[str, str]:
    prefixes: dict[str, str] = {}
    for declaration in _PREFIX_DECLARATION.finditer(code):
        start = declaration.end()
        end = code.find(">", start)
        if end > start:
            prefixes[declaration.group(1)] = unescape_codepoints(text[start + 1:end])
    return prefixes


def rewrite_iris(text: str, old_base: str, new_base: str) -> str:
    """``text`` with every IRI (written ``<...>``) that starts with ``old_base`` moved under ``new_base``.

    Strings, comments and prefixed names are untouched; prefixed names follow their rewritten PREFIX declaration.
    """
    if old_base == new_base or old_base not in text:
        return text
    opening = "<" + old_base

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.lastgroup == "iri" and token.startswith(opening):
            return "<" + new_base + token[len(opening):]
        return token

    return _TOKENS.sub(replace, text)
