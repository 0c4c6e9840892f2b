"""Hazards of RDF files that Oxigraph's parsers do not guard against, refused before parsing.

Oxigraph's parsers fetch nothing (no remote JSON-LD ``@context``, no external XML entity, no other file), but:

- its RDF/XML parser expands the internal entities a DTD declares, without bound: ten lines of nested entities
  ("billion laughs") make a gigabyte string (measured: 9 levels, 300 MB and 0.9 GB of memory in 1 s; one more
  level exhausts the memory). Entity declarations are common in hand-written and Protégé RDF/XML
  (``<!ENTITY xsd "http://www.w3.org/2001/XMLSchema#">``), so they are allowed as long as their expansion stays
  small: at most 4 times the size of the file plus 1 MiB in total. External entities and DTDs, parameter entities
  and recursive entities are refused outright;
- its RDF/XML parser takes quadratic time in the nesting depth of elements (30,000 levels: 7 s) and its JSON-LD
  parser recurses over nested objects and arrays (10,000 levels: a stack overflow that kills the process; 3,000:
  2 s). Both are refused past :data:`MAX_NESTING` levels, far beyond what RDF serialisations nest.

Turtle, TriG, N-Triples, N-Quads and N3 parse iteratively at any nesting depth and need no check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph

MAX_NESTING = 256
#: Entity expansion allowed on top of the document's own size.
EXPANSION_ALLOWANCE = 1 << 20
EXPANSION_FACTOR = 4

_PREDEFINED_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_XML_NAME = rb"[A-Za-z_:\x80-\xff][\w.:\-\x80-\xff]*"
_DOCTYPE = re.compile(rb"<!DOCTYPE\s+" + _XML_NAME + rb"\s*")
_EXTERNAL_ID = re.compile(rb"(?:SYSTEM|PUBLIC)\b")
_DECLARATION = re.compile(
    rb"""<!--.*?-->|<\?.*?\?>
      | <!ENTITY\s+(?P<parameter>%\s+)?(?P<name>""" + _XML_NAME + rb""")\s+
        (?:"(?P<double>[^"]*)"|'(?P<single>[^']*)'|(?P<external>(?:SYSTEM|PUBLIC)\b))[^>]*>
      | <!(?:ELEMENT|ATTLIST|NOTATION)\b(?:[^>"']|"[^"]*"|'[^']*')*>
      | \s+""",
    re.VERBOSE | re.DOTALL,
)
_REFERENCE = re.compile(rb"&(" + _XML_NAME + rb");")
_XML_MARKUP = re.compile(
    rb"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE(?:[^\[>]|\[.*?\]\s*)*>
      | <(?P<close>/)?[^\s/>!?](?:[^>"']|"[^"]*"|'[^']*')*?(?P<empty>/)?>""",
    re.VERBOSE | re.DOTALL,
)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


class UnsafeDocument(ValueError):
    """A document refused before parsing; the message says why and what to do instead."""


def check_document(data: bytes, rdf_format: pyoxigraph.RdfFormat) -> None:
    """Raise :class:`UnsafeDocument` if parsing ``data`` as ``rdf_format`` could exhaust memory, time or stack."""
    if rdf_format == pyoxigraph.RdfFormat.RDF_XML:
        _check_rdf_xml(data)
    elif rdf_format == pyoxigraph.RdfFormat.JSON_LD:
        _check_json_nesting(data)


def check_file(path: Path, rdf_format: pyoxigraph.RdfFormat | None) -> None:
    """:func:`check_document` for a file (read only for the formats that need a check)."""
    if rdf_format in (pyoxigraph.RdfFormat.RDF_XML, pyoxigraph.RdfFormat.JSON_LD):
        check_document(path.read_bytes(), rdf_format)


def _check_rdf_xml(data: bytes) -> None:
    if b"\x00" in data:
        raise UnsafeDocument("RDF/XML must be UTF-8 encoded (this document has NUL bytes: UTF-16?)")
    entities: dict[bytes, bytes] = {}
    body_start = 0
    doctype = _DOCTYPE.search(data)
    if doctype is not None:
        entities, body_start = _internal_subset(data, doctype.end())
    elif b"<!ENTITY" in data:
        raise UnsafeDocument("RDF/XML: an ENTITY declaration outside a DOCTYPE")
    if b"<!ENTITY" in data[body_start:] or b"<!DOCTYPE" in data[body_start:]:
        raise UnsafeDocument("RDF/XML: a second DOCTYPE or an ENTITY declaration outside the DTD")
    if entities:
        sizes: dict[bytes, int] = {}
        expanded = sum(_expanded_size(name, entities, sizes, ()) for name in _references(data[body_start:],
                                                                                          entities))
        allowed = EXPANSION_FACTOR * len(data) + EXPANSION_ALLOWANCE
        if expanded > allowed:
            raise UnsafeDocument(
                f"RDF/XML: its entities expand to {expanded:,} bytes, more than {allowed:,} (entity expansion "
                f"attack?); write the entities out")
    _check_xml_nesting(data)


def _internal_subset(data: bytes, position: int) -> tuple[dict[bytes, bytes], int]:
    """The entities the DTD declares, and where the document continues after it."""
    if _EXTERNAL_ID.match(data, position):
        raise UnsafeDocument("RDF/XML: an external DTD (SYSTEM or PUBLIC) is not read; declare entities inline")
    if data[position:position + 1] != b"[":
        end = data.find(b">", position)
        return {}, (len(data) if end < 0 else end + 1)
    position += 1
    entities: dict[bytes, bytes] = {}
    while True:
        if data[position:position + 1] == b"]":
            end = data.find(b">", position)
            return entities, (len(data) if end < 0 else end + 1)
        match = _DECLARATION.match(data, position)
        if match is None:
            raise UnsafeDocument(f"RDF/XML: a DTD this service does not read (at byte {position}); only internal "
                                 f"ENTITY declarations are accepted")
        if match.group("name"):
            name = match.group("name")
            if match.group("parameter"):
                raise UnsafeDocument(f"RDF/XML: parameter entity %{name.decode(errors='replace')}; is not accepted")
            if match.group("external"):
                raise UnsafeDocument(f"RDF/XML: external entity &{name.decode(errors='replace')}; (SYSTEM or "
                                     f"PUBLIC) is not read")
            value = match.group("double") if match.group("double") is not None else match.group("single")
            entities.setdefault(name, value)  # XML: the first declaration binds
        position = match.end()


def _references(text: bytes, entities: dict[bytes, bytes]):
    for match in _REFERENCE.finditer(text):
        name = match.group(1)
        if name in entities:
            yield name


def _expanded_size(name: bytes, entities: dict[bytes, bytes], sizes: dict[bytes, int],
                   expanding: tuple[bytes, ...]) -> int:
    if name in sizes:
        return sizes[name]
    if name in expanding:
        raise UnsafeDocument(f"RDF/XML: entity &{name.decode(errors='replace')}; refers to itself")
    value = entities[name]
    size = len(value)
    for match in _REFERENCE.finditer(value):
        reference = match.group(1)
        if reference in entities:
            size += _expanded_size(reference, entities, sizes, (*expanding, name)) - len(match.group(0))
        elif reference not in _PREDEFINED_ENTITIES:
            raise UnsafeDocument(f"RDF/XML: entity &{name.decode(errors='replace')}; refers to an undeclared "
                                 f"entity &{reference.decode(errors='replace')};")
    sizes[name] = size
    return size


def _check_xml_nesting(data: bytes) -> None:
    depth = 0
    for match in _XML_MARKUP.finditer(data):
        if match.group(0)[1:2] in (b"!", b"?"):
            continue
        if match.group("close"):
            depth -= 1
        elif not match.group("empty"):
            depth += 1
            if depth > MAX_NESTING:
                raise UnsafeDocument(f"RDF/XML: elements nested more than {MAX_NESTING} deep")


def _check_json_nesting(data: bytes) -> None:
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', data)):
        if match.group(0) in b"[{":
            depth += 1
            if depth > MAX_NESTING:
                raise UnsafeDocument(f"JSON-LD: objects and arrays nested more than {MAX_NESTING} deep")
        else:
            depth -= 1
