"""Lexical facts about a SPARQL text: its form, the endpoints of its SERVICE calls, IRI rewriting, and how deeply
structured it is.

pyoxigraph parses queries but does not expose the parse, so these facts come from a small lexer that knows only
what can hide a keyword: string literals, IRIs, comments and backslash escapes in prefixed names. Everything else
is left as "code", in which a keyword is a word not glued to a name character. The lexer errs on the side of
seeing a keyword: a false SERVICE refuses an odd query, a missed one would let it out (see :mod:`.federation`).
The structure count (:func:`structural_operators`, the limit of graph_service.web.limits) reads the same strings,
IRIs and comments, and tells the other tokens apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The lexical pieces that can hide a keyword or an operator, shared by both readings of a text below.
_STRING = r"""
        \"{3}(?:[^"\\]|\\.|"(?!""))*\"{3}
      | '{3}(?:[^'\\]|\\.|'(?!''))*'{3}
      | "(?:[^"\\\n\r]|\\.)*"
      | '(?:[^'\\\n\r]|\\.)*'
"""
_IRI = r"""<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"""
_COMMENT = r"""\#[^\n\r]*"""

#: What hides keywords (:func:`skeleton`): everything else is code.
_TOKENS = re.compile(
    rf"""
    (?P<string>{_STRING})
  | (?P<iri>{_IRI})
  | (?P<comment>{_COMMENT})
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


# -- structure: how deep a parser recurses over the text ----------------------------------------------------------

#: Every token (:func:`structural_operators`).
_TOKEN = re.compile(
    rf"""
    (?P<string>{_STRING})
  | (?P<comment>{_COMMENT})
  | (?P<iri>{_IRI})
  | (?P<var>[?$][\w\u00b7-\uffff]+)
  | (?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_:\u00c0-\uffff](?:[\w.\-:%\u00b7-\uffff]*[\w\-:%\u00b7-\uffff])?)
  | (?P<operator><<|>>|&&|\|\||<=|>=|!=|\^\^|\S)
  | (?P<space>\s+)
    """,
    re.VERBOSE | re.DOTALL,
)
_LESS_THAN = re.compile(r"<=?")
_COUNTED_OPERATORS = frozenset({"{", "(", "[", ".", ";", ",", "!", "/", "|", "^", "+", "-", "*", "&&", "||", "<<"})
_COUNTED_KEYWORDS = frozenset({"UNION", "OPTIONAL", "MINUS", "FILTER", "BIND", "GRAPH", "SERVICE", "EXISTS", "NOT",
                               "SELECT"})
_OPERANDS = frozenset({"string", "iri", "var", "number", "name", "close"})


def structural_operators(text: str, stop_after: int | None = None) -> int:
    """How many structural operators ``text`` holds: brackets, separators, boolean and path operators and the
    keywords that nest or chain, outside strings, IRIs, comments and VALUES data. Counting stops past ``stop_after``.

    Each of them adds at most a level or two to the trees Oxigraph's parser and planner recurse over, so the count
    bounds their depth however the query is written. A ``<`` right after an operand inside parentheses is read as
    "less than", as the parser does, never as the start of an IRI that would hide what follows from the count;
    nested quoted triples (``<<``) count even inside VALUES.
    """
    count = 0
    brackets: list[str] = []
    previous = ""  # kind of the previous token
    values_depth = -1  # while >= 0: inside VALUES, until a "}" brings the brackets back to this depth
    describing = False  # in the resource list of DESCRIBE, where each resource adds to a chain
    position, length = 0, len(text)
    while position < length:
        match = _TOKEN.match(text, position)
        kind, token = match.lastgroup, match.group(0)
        if kind == "iri" and previous in _OPERANDS and brackets and brackets[-1] == "(":
            match = _LESS_THAN.match(text, position)
            kind, token = "operator", match.group(0)
        position = match.end()
        if kind in ("space", "comment"):
            continue
        keyword = token.upper() if kind == "name" else ""
        if token in ("{", "(", "["):
            brackets.append(token)
        elif token in ("}", ")", "]") and brackets:
            brackets.pop()
        if values_depth >= 0:
            if token == "}" and len(brackets) == values_depth:
                values_depth = -1
            elif token == "<<":
                count += 1
        elif keyword == "VALUES":
            values_depth = len(brackets)
        elif kind == "operator" and token in _COUNTED_OPERATORS:
            if token == "(" and previous == "name":
                count += 2  # a function call: its frames are the heaviest (crashes from ~960 nested calls)
            elif not (token == "," and brackets and brackets[-1] == "("):  # argument lists are flat
                count += 1
        elif keyword in _COUNTED_KEYWORDS:
            count += 1
        elif describing and kind in ("iri", "name", "var") and keyword not in ("WHERE", "FROM"):
            count += 1
        if keyword == "DESCRIBE":
            describing = True
        elif describing and (token == "{" or keyword in ("WHERE", "FROM")):
            describing = False
        if stop_after is not None and count > stop_after:
            break
        previous = "close" if token in (")", "]") else kind
    return count


_BOUND_CHARACTERS = "{[.;,!/|^+-*&<"
_BOUND_KEYWORDS = tuple(keyword.lower() for keyword in _COUNTED_KEYWORDS)


def structural_operators_at_most(text: str) -> int:
    """At least :func:`structural_operators`, counted in C: every operator character and keyword anywhere."""
    lowered = text.lower()
    if "describe" in lowered:
        return len(text) + 1  # resources after DESCRIBE count without any operator: count exactly
    bound = sum(text.count(character) for character in _BOUND_CHARACTERS) + 2 * text.count("(")
    return bound + sum(lowered.count(keyword) for keyword in _BOUND_KEYWORDS)
