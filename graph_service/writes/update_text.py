"""What an update text may do before it runs, and the protocol's dataset written into it.

- ``LOAD`` is refused outright: Oxigraph would fetch the IRI (any host, any port but a few), and a write API that
  fetches is a server-side request forgery waiting to happen. Data comes in the request (``INSERT DATA``) or through
  the Graph Store Protocol instead.
- ``SERVICE`` follows the query policy (:mod:`graph_service.sparql.federation`): off unless allowlisted.
- The protocol's ``using-graph-uri`` / ``using-named-graph-uri`` parameters (SPARQL 1.1 Protocol §2.2.3) mean the same
  as ``USING`` / ``USING NAMED`` in every operation that has a ``WHERE``; pyoxigraph takes no dataset argument for
  updates, so the clauses are written into the text. An update that names its own dataset (``USING``, ``WITH``)
  as well is a 400, as the protocol requires.

The facts come from the lexer of :mod:`graph_service.sparql.query_text` (strings, IRIs and comments blanked), with
braces counted to tell the operations' own keywords (depth 0) from those of patterns and subqueries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyoxigraph

from ..sparql.federation import ServiceForbidden, check_services
from ..sparql.query_text import skeleton, unescape_codepoints


class UpdateRefused(Exception):
    """The update may not run here; ``status`` and ``message`` are for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _keyword(word: str) -> re.Pattern[str]:
    # Same boundaries as the query lexer: not glued to a name, a prefixed name or a variable.
    return re.compile(rf"(?<![\w:?$]){word}(?![\w:])", re.IGNORECASE)


_LOAD = _keyword("LOAD")
_WHERE = _keyword("WHERE")
_DATASET_KEYWORDS = _keyword("(?:USING|WITH)")
_DELETE_BEFORE = re.compile(r"(?<![\w:?$])DELETE\s*$", re.IGNORECASE)


def check_update(text: str, service_allowlist: Sequence[str]) -> None:
    """Raise :class:`UpdateRefused` when the update would fetch anything (LOAD, a SERVICE not allowlisted)."""
    for form in dict.fromkeys((text, unescape_codepoints(text))):
        if _LOAD.search(skeleton(form)):
            raise UpdateRefused(403, "LOAD is not allowed: this service fetches nothing. Send the data itself "
                                     "(INSERT DATA, or PUT/POST it to /rdf-graph-store).")
    try:
        check_services(text, service_allowlist)
    except ServiceForbidden as error:
        raise UpdateRefused(403, str(error)) from None


def has_patterns(text: str) -> bool:
    """Whether the update matches patterns (a WHERE), the only part whose cost is not bounded by its data."""
    return bool(_WHERE.search(skeleton(text)))


def with_dataset(text: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """``text`` with ``USING`` / ``USING NAMED`` clauses for the protocol's dataset in every operation with a WHERE."""
    if not using and not using_named:
        return text
    code = skeleton(text)
    depth = _depths(code)
    if any(depth[m.start()] == 0 for m in _DATASET_KEYWORDS.finditer(code)):
        raise UpdateRefused(400, "The update names its dataset (USING or WITH) and the request names one too "
                                 "(using-graph-uri / using-named-graph-uri): use one or the other.")
    clauses = " ".join([*(f"USING {pyoxigraph.NamedNode(g)}" for g in using),
                        *(f"USING NAMED {pyoxigraph.NamedNode(g)}" for g in using_named)])
    pieces: list[str] = []
    last = 0
    for where in (m for m in _WHERE.finditer(code) if depth[m.start()] == 0):
        if not _DELETE_BEFORE.search(code[max(0, where.start() - 64):where.start()]):
            pieces += [text[last:where.start()], f"{clauses} "]
            last = where.start()
            continue
        # DELETE WHERE { pattern } takes no USING: spell it DELETE { pattern } USING ... WHERE { pattern }.
        group = _group_after(code, where.end())
        if group is None:
            continue  # malformed: the parser will say so
        pieces += [text[last:where.start()], f"{text[group[0]:group[1]]} {clauses} WHERE"]
        last = where.end()
    pieces.append(text[last:])
    return "".join(pieces)


def _depths(code: str) -> list[int]:
    """The brace depth at each position of ``code`` (a skeleton: no braces inside strings or IRIs)."""
    depths = []
    depth = 0
    for character in code:
        if character == "}":
            depth = max(0, depth - 1)
        depths.append(depth)
        if character == "{":
            depth += 1
    return depths


def _group_after(code: str, position: int) -> tuple[int, int] | None:
    """The span of the ``{ ... }`` group starting after ``position`` (spaces allowed before it)."""
    start = position
    while start < len(code) and code[start].isspace():
        start += 1
    if start >= len(code) or code[start] != "{":
        return None
    depth = 0
    for index in range(start, len(code)):
        if code[index] == "{":
            depth += 1
        elif code[index] == "}":
            depth -= 1
            if depth == 0:
                return start, index + 1
    return None
