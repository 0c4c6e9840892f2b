"""What both importers share: the report, IRIs, prefixes, and a case builder that maps cells to RDF terms.

Every coded cell goes through :meth:`CaseBuilder.code`, which looks the value up in the concept schemes and, when
nothing matches, keeps nothing in the graph and counts the value in ``ImportReport.unmapped`` (so a curator can add
the spelling to the concept file). Values deliberately left out (placeholders, junk web addresses, "Unknown" where
the scheme has no such concept) are counted in ``ImportReport.ignored``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .concepts import ConceptIndex, normalise
from .countries import COUNTRY_NS, CountryTable
from .turtle import IRI, XSD, Literal, Triple

HERE = Path(__file__).resolve().parent
BASE = "https://w3id.org/aiwatch/"
ID = BASE + "id/"
AIW = BASE + "def/aiwatch#"
CONCEPT = BASE + "concept/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"

SCHEMES = ("status", "cofog", "ai-technology", "process-type", "application-type", "interaction",
           "geographic-extent", "organisation-category", "impact", "collaboration-type", "funding-source")

#: Prefixes of the output files (only the used ones are written).
PREFIXES: dict[str, str] = {
    "rdf": RDF, "xsd": XSD, "dct": DCT, "dcat": DCAT, "foaf": FOAF, "org": ORG, "skos": SKOS, "aiw": AIW,
    "case": ID + "case/", "dataset": ID + "dataset/", "member-state": ID + "member-state/",
    "organisation": ID + "organisation/", "euc": COUNTRY_NS,
    **{scheme: f"{CONCEPT}{scheme}/" for scheme in SCHEMES},
}

#: Cell values that mean "no value" when the target scheme has no concept for them.
NULL_TOKENS = frozenset({"", "unknown", "n/a", "na", "none", "-", "not applicable"})
_YES = frozenset({"yes", "y", "true"})
_NO = frozenset({"no", "n", "false"})
_URL_START = re.compile(r"https?://", re.IGNORECASE)
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')


@dataclass
class ImportReport:
    """What one import did: cases written, rows skipped (by reason) and cell values that did not map."""

    name: str
    source: Path
    output: Path
    cases: int
    skipped: dict[str, int] = field(default_factory=dict)
    #: (column, raw value) -> count of coded values that matched no concept (kept out of the graph).
    unmapped: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (column, raw value) -> count of values deliberately not imported (placeholders, junk web addresses).
    ignored: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Facts about the data a curator should know (source inconsistencies, merged organisations).
    notes: list[str] = field(default_factory=list)
    sha256: str = ""

    def summary_lines(self) -> list[str]:
        """Human-readable lines for the CLI: counts first, then every unmapped value (the curator's to-do list)."""
        lines = [f"{self.name}: {self.cases} cases from {self.source.name} -> {self.output}"]
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"  skipped {n} rows: {reason}")
        n_unmapped = sum(self.unmapped.values())
        lines.append(f"  unmapped values: {n_unmapped} ({len(self.unmapped)} distinct)")
        for (column, raw), n in sorted(self.unmapped.items()):
            lines.append(f"    UNMAPPED {column}: {raw!r} x{n}")
        if self.ignored:
            lines.append(f"  ignored values: {sum(self.ignored.values())} ({len(self.ignored)} distinct)")
            for (column, raw), n in sorted(self.ignored.items()):
                lines.append(f"    ignored {column}: {_short(raw)!r} x{n}")
        lines += [f"  note: {note}" for note in self.notes]
        return lines


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"




def slugify(text: str) -> str:
    """Stable IRI key of a name: ASCII-folded, lower case, ``[a-z0-9-]``; a hash when nothing Latin is left."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug or "h-" + hashlib.sha256(normalise(text).encode()).hexdigest()[:12]


def clean_text(value: object) -> str:
    """A single-line text: spaces (incl. non-breaking) and newlines collapsed."""
    return " ".join(str(value).split()) if value is not None else ""


def clean_block(value: object) -> str:
    """A multi-line text (descriptions): line ends normalised, outer whitespace removed."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def web_addresses(cell: str) -> tuple[list[str], list[str]]:
    """Split a website cell into valid http(s) IRIs and junk.

    A cell may hold several addresses separated by new lines, spaces or commas. Characters that cannot appear in an
    IRI (spaces inside a path, quotes) are percent-encoded, as browsers do; anything without ``http(s)://host`` is junk.
    """
    good: list[str] = []
    junk: list[str] = []
    for line in cell.splitlines():
        line = line.strip()
        starts = [m.start() for m in _URL_START.finditer(line)]
        before = line[: starts[0]] if starts else line
        if before.strip(" ,;()\t"):
            junk.append(before.strip())
        for i, start in enumerate(starts):
            piece = line[start: starts[i + 1] if i + 1 < len(starts) else len(line)]
            piece = re.sub(r"(\s+and)?[\s,;]*$", "", piece.strip())
            piece = piece.rstrip(")") if piece.count(")") > piece.count("(") else piece
            iri = _IRI_FORBIDDEN.sub(lambda m: f"%{ord(m.group()):02X}", piece)
            if iri.count("#") > 1:  # a second '#' (a fragment pasted twice) is data inside the fragment
                head, _, fragment = iri.partition("#")
                iri = head + "#" + fragment.replace("#", "%23")
            host = re.match(r"https?://([^/?#]+)", iri, re.IGNORECASE)
            try:
                if not host or "." not in host.group(1):
                    raise ValueError(piece)
                IRI(iri)
            except ValueError:
                junk.append(piece)
                continue
            good.append(iri)
    return good, junk


def year(value: object) -> str | None:
    """A four-digit year from an int or text cell, or None."""
    text = clean_text(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    return text if re.fullmatch(r"(1[89]|20)\d\d", text) else None


def boolean(value: object) -> bool | None:
    """Yes/No cells as booleans; anything else (Unknown, blank) is None."""
    key = normalise(value) if value is not None else ""
    return True if key in _YES else False if key in _NO else None


def iso_date(value: object) -> str | None:
    """``YYYY-MM-DD`` from a datetime/date cell or an ISO / ``YYYY/MM/DD`` / ``DD/MM/YYYY`` text, else None."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = clean_text(value)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            pass
    return None


@dataclass(frozen=True)
class OrganisationTables:
    """The organisation data tables kept next to this module.

    ``labels``: chosen skos:prefLabel per slug where the sources spell one name in several ways.
    ``homonyms``: normalised names shared by different organisations of different countries ("Ministry of
    Justice"); their IRI key gets the country code of the case (``ministry-of-justice-fra``).
    """

    labels: dict[str, str]
    homonyms: frozenset[str]

    @classmethod
    def load(cls, folder: Path = HERE) -> OrganisationTables:
        with (folder / "organisation_labels.csv").open(encoding="utf-8", newline="") as f:
            labels = {row["slug"].strip(): row["label"].strip() for row in csv.DictReader(f)}
        with (folder / "organisation_homonyms.csv").open(encoding="utf-8", newline="") as f:
            homonyms = frozenset(normalise(row["name"]) for row in csv.DictReader(f))
        return cls(labels, homonyms)


class CaseBuilder:
    """Accumulates the triples of one output file and the report counters."""

    def __init__(self, report: ImportReport, concepts: ConceptIndex, countries: CountryTable,
                 organisations: OrganisationTables) -> None:
        self.report = report
        self.concepts = concepts
        self.countries = countries
        self.organisations = organisations
        self.triples: list[Triple] = []
        self._unmapped: Counter[tuple[str, str]] = Counter()
        self._ignored: Counter[tuple[str, str]] = Counter()
        self._org_names: dict[str, Counter[str]] = {}
        self._org_categories: dict[str, set[str]] = {}

    # -- low level -------------------------------------------------------------------------------------------
    def add(self, s: IRI, p: str, o: IRI | Literal) -> None:
        self.triples.append((s, IRI(p), o))

    def unmapped(self, column: str, raw: object) -> None:
        self._unmapped[(column, str(raw))] += 1

    def ignore(self, column: str, raw: object) -> None:
        self._ignored[(column, str(raw))] += 1

    # -- cells -------------------------------------------------------------------------------------------------
    def code(self, case: IRI, prop: str, scheme: str, column: str, raw: object,
             level: str | None = None) -> IRI | None:
        """Map a coded cell to its concept and add ``case prop concept``; ``level`` is "top" or "narrower"."""
        if raw is None or not clean_text(raw):
            return None
        concept = self.concepts.lookup(scheme, raw)
        if concept and level and self.concepts.is_top(concept) != (level == "top"):
            concept = None  # e.g. a COFOG division in the level II column: not what the column means
        if concept is None:
            if normalise(raw) in NULL_TOKENS:
                self.ignore(column, raw)
            else:
                self.unmapped(column, raw)
            return None
        node = IRI(concept)
        self.add(case, prop, node)
        return node

    def text(self, case: IRI, prop: str, raw: object, *, block: bool = False, lang: str | None = "en") -> None:
        value = clean_block(raw) if block else clean_text(raw)
        if value:
            self.add(case, prop, Literal(value, lang=lang))

    def boolean(self, case: IRI, prop: str, column: str, raw: object) -> None:
        value = boolean(raw)
        if value is not None:
            self.add(case, prop, Literal("true" if value else "false", datatype=XSD + "boolean"))
        elif clean_text(raw):
            self.ignore(column, raw)

    def year(self, case: IRI, prop: str, column: str, raw: object) -> None:
        value = year(raw)
        if value:
            self.add(case, prop, Literal(value, datatype=XSD + "gYear"))
        elif clean_text(raw):
            self.ignore(column, raw)

    def pages(self, case: IRI, column: str, raw: object) -> None:
        good, junk = web_addresses(str(raw) if raw is not None else "")
        for iri in good:
            self.add(case, FOAF + "page", IRI(iri))
        for piece in junk:
            self.ignore(column, piece)

    def countries_of(self, case: IRI, column: str, raw: object) -> list[str]:
        """dct:spatial for every country named, aiw:memberState for the member states; returns the codes."""
        codes = []
        for name in self.countries.split(clean_text(raw)):
            code = self.countries.resolve(name)
            if code is None:
                self.unmapped(column, name)
                continue
            codes.append(code)
            self.add(case, DCT + "spatial", IRI(COUNTRY_NS + code))
            if code in self.countries.member_states:
                self.add(case, AIW + "memberState", IRI(f"{ID}member-state/{code.lower()}"))
        return codes

    def organisation(self, case: IRI, name_raw: object, category_raw: object, *, name_column: str,
                     category_column: str, countries: list[str]) -> None:
        """The responsible organisation as ``id:organisation/{slug}``: same name, same IRI, in every dataset.

        Names listed in ``organisation_homonyms.csv`` are qualified by the case's country (when it has exactly
        one), so that e.g. the French and the Spanish "Ministry of Justice" stay two organisations.
        """
        name = clean_text(name_raw)
        if not name or normalise(name) in NULL_TOKENS:
            if name:
                self.ignore(name_column, name)
            if clean_text(category_raw):
                self.ignore(category_column + " (no organisation name)", category_raw)
            return
        slug = slugify(name)
        if normalise(name) in self.organisations.homonyms and len(set(countries)) == 1:
            slug = f"{slug}-{countries[0].lower()}"
        node = IRI(f"{ID}organisation/{slug}")
        self._org_names.setdefault(slug, Counter())[name] += 1
        self.add(case, AIW + "responsibleOrganisation", node)
        category = self.code(node, AIW + "organisationCategory", "organisation-category", category_column,
                             category_raw)
        if category:
            self._org_categories.setdefault(slug, set()).add(category.value)

    # -- end ---------------------------------------------------------------------------------------------------
    def finish(self) -> list[Triple]:
        """Organisation nodes (type, one prefLabel) and the report counters; returns all triples."""
        several = []
        for slug, names in sorted(self._org_names.items()):
            node = IRI(f"{ID}organisation/{slug}")
            label = self.organisations.labels.get(slug)
            if label is None:
                label = sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
                if len(names) > 1:
                    self.report.notes.append(
                        f"organisation {slug}: spellings {sorted(names)} -> prefLabel {label!r} "
                        "(add a row to organisation_labels.csv to choose)")
            self.add(node, RDF + "type", IRI(ORG + "Organization"))
            self.add(node, RDF + "type", IRI(FOAF + "Organization"))
            self.add(node, SKOS + "prefLabel", Literal(label, lang="en"))
            if len(self._org_categories.get(slug, ())) > 1:
                several.append(slug)
        if several:
            self.report.notes.append(
                f"{len(several)} organisations have more than one category (different rows disagree): "
                + ", ".join(several[:10]) + (" …" if len(several) > 10 else ""))
        self.report.unmapped = dict(sorted(self._unmapped.items()))
        self.report.ignored = dict(sorted(self._ignored.items()))
        return self.triples


def header_lines(*, title: str, source: str, sha256: str, licence: str, origin: str, importer: str,
                 report: ImportReport) -> list[str]:
    """The comment block naming the source, its checksum and licence (no timestamps: output must be stable)."""
    lines = [
        title,
        f"Source file: {source}",
        f"Source sha256: {sha256}",
        f"Source licence: {licence}",
        f"Origin: {origin}",
        f"Generated by graph_service.importers ({importer}); do not edit, re-run `graph-service import {importer}`.",
        f"Cases: {report.cases}" + "".join(f"; skipped {n}: {r}" for r, n in sorted(report.skipped.items())),
    ]
    return lines
