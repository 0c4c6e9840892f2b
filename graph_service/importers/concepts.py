"""Coded values: the SKOS concept schemes of ``ontology/concepts/*.ttl`` as a label index.

The spelling variants found in the sources are data (skos:altLabel / skos:hiddenLabel on the concepts), so mapping a
cell is one normalise-and-look-up; adding a variant never needs a code change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

SKOS = "http://www.w3.org/2004/02/skos/core#"
CONCEPT_BASE = "https://w3id.org/aiwatch/concept/"
_LABELS = (SKOS + "prefLabel", SKOS + "altLabel", SKOS + "hiddenLabel")


def normalise(value: object) -> str:
    """Matching key of a label or cell: trimmed, spaces collapsed, case-folded, trailing full stop removed."""
    text = " ".join(str(value).split()).casefold()
    if text.endswith("."):
        text = text[:-1].rstrip()
    return text


@dataclass
class ConceptIndex:
    """Label → concept lookup per scheme (scheme key = last path segment of the scheme IRI, e.g. ``cofog``)."""

    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    broader: dict[str, str] = field(default_factory=dict)
    concepts: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, concepts_dir: Path) -> ConceptIndex:
        """Read every ``*.ttl`` in ``concepts_dir``; fail if one normalised label names two concepts of a scheme."""
        index = cls()
        in_scheme: dict[str, set[str]] = defaultdict(set)
        labels: list[tuple[str, str]] = []
        for path in sorted(concepts_dir.glob("*.ttl")):
            for t in pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE):
                s, p, o = t.subject.value, t.predicate.value, t.object
                if p == SKOS + "inScheme":
                    in_scheme[s].add(o.value)
                elif p == SKOS + "broader":
                    index.broader[s] = o.value
                elif p in _LABELS and isinstance(o, pyoxigraph.Literal) and (o.language or "en") == "en":
                    labels.append((s, o.value))
        index.concepts = set(in_scheme)
        for concept, label in labels:
            for scheme in in_scheme.get(concept, ()):
                key = scheme.removeprefix(CONCEPT_BASE)
                bucket = index.labels.setdefault(key, {})
                norm = normalise(label)
                if bucket.setdefault(norm, concept) != concept:
                    raise ValueError(f"label {label!r} names two concepts of {key}: {bucket[norm]}, {concept}")
        return index

    def lookup(self, scheme: str, raw: object) -> str | None:
        """The concept IRI whose label matches ``raw`` after normalisation, or None."""
        return self.labels.get(scheme, {}).get(normalise(raw))

    def is_top(self, concept: str) -> bool:
        """True for a concept without skos:broader (a COFOG division, an AI domain)."""
        return concept not in self.broader
