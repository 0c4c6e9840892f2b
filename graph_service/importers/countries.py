"""Country names → ISO alpha-3, from data: the EU country authority table plus a small alias table.

The authority table (``countries-skos.rdf``, Publications Office) gives English prefLabels and altLabels
(e.g. "Czech Republic", "UK"); ``country_aliases.csv`` next to this module adds names it lacks (e.g. "Türkiye").
``member_states.csv`` lists the countries that are ``aiw:MemberState`` (EU-27 + NOR ISL LIE CHE GBR).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from .concepts import SKOS, normalise

HERE = Path(__file__).resolve().parent
COUNTRY_NS = "http://publications.europa.eu/resource/authority/country/"
_DEPRECATED = "http://publications.europa.eu/ontology/authority/deprecated"
#: Separators between country names in one cell.
_SEPARATORS = re.compile(r"\s*[,;/|\n]\s*")


@dataclass
class CountryTable:
    """Normalised country name → alpha-3 code (upper case), and the member-state codes."""

    names: dict[str, str] = field(default_factory=dict)
    member_states: frozenset[str] = frozenset()
    known_codes: frozenset[str] = frozenset()

    @classmethod
    def load(cls, authority_rdf: Path, aliases_csv: Path = HERE / "country_aliases.csv",
             member_states_csv: Path = HERE / "member_states.csv") -> CountryTable:
        """Read the authority table (current entries win over deprecated ones) and the two CSV tables."""
        current: dict[str, str] = {}
        deprecated: dict[str, str] = {}
        labels: list[tuple[str, str]] = []
        flags: dict[str, str] = {}
        for t in pyoxigraph.parse(path=str(authority_rdf), format=pyoxigraph.RdfFormat.RDF_XML):
            s = t.subject
            if not isinstance(s, pyoxigraph.NamedNode) or not s.value.startswith(COUNTRY_NS):
                continue
            p, o = t.predicate.value, t.object
            if p in (SKOS + "prefLabel", SKOS + "altLabel") and getattr(o, "language", None) == "en":
                labels.append((s.value.removeprefix(COUNTRY_NS), o.value))
            elif p == _DEPRECATED:
                flags[s.value.removeprefix(COUNTRY_NS)] = o.value
        for code, label in labels:
            target = deprecated if flags.get(code) == "true" else current
            target.setdefault(normalise(label), code)
        names = {**deprecated, **current}
        with aliases_csv.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                names[normalise(row["name"])] = row["alpha3"].strip().upper()
        with member_states_csv.open(encoding="utf-8", newline="") as f:
            members = frozenset(row["alpha3"].strip().upper() for row in csv.DictReader(f))
        codes = frozenset(code for code, _ in labels)
        return cls(names=names, member_states=members, known_codes=codes)

    def resolve(self, name: str) -> str | None:
        """Alpha-3 code of one country name, or None."""
        return self.names.get(normalise(name))

    def split(self, cell: str) -> list[str]:
        """The country names in a cell: the whole cell if it is one name, else the parts between separators."""
        text = " ".join(cell.split())
        if not text:
            return []
        if self.resolve(text):
            return [text]
        return [part for part in _SEPARATORS.split(text) if part.strip()]
