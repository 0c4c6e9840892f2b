"""A tiny deterministic Turtle writer.

Why not rdflib's or pyoxigraph's serialiser: the imported files are committed, so re-running an import must give
byte-identical output. rdflib does not promise a stable order and pyoxigraph writes prefixes in hash order, so the
importers hand their triples to :func:`serialise`, which sorts subjects (natural order: ``pstw-2`` before
``pstw-10``), puts ``rdf:type`` first, sorts the rest, and writes prefixed names where the local part is safe.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"

_SAFE_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


@dataclass(frozen=True, order=True)
class IRI:
    """An IRI, checked with pyoxigraph on creation so that nothing invalid reaches a file."""

    value: str

    def __post_init__(self) -> None:
        pyoxigraph.NamedNode(self.value)  # raises ValueError on an invalid IRI


@dataclass(frozen=True, order=True)
class Literal:
    """A literal: plain string, language-tagged (``lang``) or typed (``datatype`` full IRI)."""

    value: str
    lang: str | None = None
    datatype: str | None = None


Term = IRI | Literal
Triple = tuple[IRI, IRI, Term]


def _natural_key(text: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def _escape(text: str) -> str:
    return _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04X}"), text)


class _Namer:
    def __init__(self, prefixes: dict[str, str]) -> None:
        # longest namespace first, so that id:case/ beats id:
        self._ns = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))

    def iri(self, value: str) -> str:
        if value == RDF_TYPE:
            return "a"
        for prefix, ns in self._ns:
            if value.startswith(ns) and _SAFE_LOCAL.fullmatch(value[len(ns):]):
                return f"{prefix}:{value[len(ns):]}"
        return f"<{value}>"

    def term(self, term: Term) -> str:
        if isinstance(term, IRI):
            return self.iri(term.value)
        if term.datatype == XSD + "boolean" and term.value in ("true", "false"):
            return term.value
        text = f'"{_escape(term.value)}"'
        if term.lang:
            return f"{text}@{term.lang}"
        if term.datatype and term.datatype != XSD + "string":
            return f"{text}^^{self.iri(term.datatype)}"
        return text


def _object_key(term: Term) -> tuple:
    if isinstance(term, IRI):
        return (0, _natural_key(term.value), "", "")
    return (1, term.value, term.lang or "", term.datatype or "")


def serialise(triples: Iterable[Triple], prefixes: dict[str, str], header: Iterable[str] = ()) -> str:
    """Turtle text for ``triples`` (duplicates dropped), in a stable order; ``header`` lines become comments.

    Only prefixes that are used are declared, in the order given.
    """
    by_subject: dict[IRI, dict[IRI, set[Term]]] = defaultdict(lambda: defaultdict(set))
    for s, p, o in triples:
        by_subject[s][p].add(o)
    namer = _Namer(prefixes)
    blocks = []
    for subject in sorted(by_subject, key=lambda s: _natural_key(s.value)):
        preds = by_subject[subject]
        order = sorted(preds, key=lambda p: (p.value != RDF_TYPE, namer.iri(p.value)))
        lines = []
        for pred in order:
            objects = " , ".join(namer.term(o) for o in sorted(preds[pred], key=_object_key))
            lines.append(f"{namer.iri(pred.value)} {objects}")
        blocks.append(namer.iri(subject.value) + " " + " ;\n    ".join(lines) + " .\n")
    body = "\n".join(blocks)
    used = [(p, ns) for p, ns in prefixes.items() if re.search(rf"(?<![\w<:/.-]){re.escape(p)}:", body)]
    out = [f"# {line}".rstrip() for line in header]
    if out:
        out.append("")
    out += [f"@prefix {p}: <{ns}> ." for p, ns in used]
    out.append("")
    return "\n".join(out) + "\n" + body
