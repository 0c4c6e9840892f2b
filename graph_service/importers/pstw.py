"""Importer for the Public Sector Tech Watch (PSTW) cases: the AI rows of the original ``pstw_dataset.xlsx``.

Reads the workbook itself (openpyxl, read-only), not the derived CSV, so types (years, dates) come from the source.
Only rows whose "Primary Technology" is Artificial Intelligence (any case/spacing) are cases of this graph; the
others are counted in ``ImportReport.skipped``. Columns are found by header name, and the impact flag columns are
the headers that are labels of the ``impact`` scheme, so a re-ordered workbook still imports correctly.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import openpyxl
from tqdm import tqdm

from ..loading.sources import sha256_of
from .common import (
    AIW,
    DCAT,
    DCT,
    ID,
    PREFIXES,
    RDF,
    XSD,
    CaseBuilder,
    ImportReport,
    OrganisationTables,
    clean_text,
    header_lines,
    iso_date,
)
from .concepts import ConceptIndex, normalise
from .countries import CountryTable
from .turtle import IRI, Literal, serialise

SOURCE = Path("pstw/pstw_dataset.xlsx")
SHEET = "PSTW DB"  # the sheet is called " PSTW DB" (leading space); matched after trimming
DATASET = ID + "dataset/pstw"
AI = "artificial intelligence"
SKIP_NOT_AI = "primary technology is not AI"
AI_SUBDOMAIN_COLUMNS = ("AI Classification Subdomain (II) (main)", "AI Classification Subdomain (II) (Other I)",
                        "AI Classification Subdomain (II) (Other II)",
                        "AI Classification Subdomain (II) (Other III)")
_KEYWORD_SEPARATORS = re.compile(r"[,;\n]")
_FLAG = "x"


class PSTWImporter:
    """``pstw``: the AI cases of ``pstw_dataset.xlsx`` → ``pstw-cases.ttl``."""

    name = "pstw"
    output_name = "pstw-cases.ttl"

    def source(self, shared_data: Path) -> Path:
        return shared_data / SOURCE

    def run(self, *, shared_data: Path, out_dir: Path, concepts: ConceptIndex, countries: CountryTable,
            progress: bool = True) -> tuple[ImportReport, str]:
        """Build the Turtle text of the import and its report (the caller writes the file)."""
        source = self.source(shared_data)
        report = ImportReport(self.name, source, out_dir / self.output_name, cases=0)
        report.sha256 = sha256_of(source)
        header, rows = read_sheet(source)
        impact_columns = [h for h in header if concepts.lookup("impact", h)]
        if len(impact_columns) != 18:
            raise ValueError(f"expected 18 impact flag columns, found {len(impact_columns)}: {impact_columns}")
        b = CaseBuilder(report, concepts, countries, OrganisationTables.load())
        other_technologies: Counter[str] = Counter()
        inconsistent = 0
        for row in tqdm(rows, desc=self.name, unit="row", disable=not progress):
            technology = clean_text(row.get("Primary Technology"))
            if normalise(technology) != AI:
                report.skipped[SKIP_NOT_AI] = report.skipped.get(SKIP_NOT_AI, 0) + 1
                other_technologies[technology or "(blank)"] += 1
                continue
            _case(b, row, impact_columns)
            inconsistent += _cofog_inconsistent(concepts, row)
            report.cases += 1
        report.notes.append("rows skipped by primary technology: "
                            + ", ".join(f"{t} {n}" for t, n in sorted(other_technologies.items())))
        if inconsistent:
            report.notes.append(f"{inconsistent} cases have a COFOG level II value outside their level I value "
                                "(both kept as given)")
        triples = b.finish()
        text = serialise(triples, PREFIXES, header_lines(
            title="Public Sector Tech Watch (PSTW): cases whose primary technology is AI, as RDF.",
            source=f"{SOURCE.as_posix()} (sheet ' PSTW DB')",
            sha256=report.sha256,
            licence="CC BY 4.0 (http://publications.europa.eu/resource/authority/licence/CC_BY_4_0); "
                    "(c) European Union, Public Sector Tech Watch",
            origin="https://interoperable-europe.ec.europa.eu/collection/public-sector-tech-watch ; copy from "
                   "GitHub Marchant01/ai_eu_project commit 7b09fae0d127bdecff96bddc8729fe323bab765e",
            importer=self.name, report=report))
        return report, text


def read_sheet(path: Path) -> tuple[list[str], list[dict[str, object]]]:
    """Header (trimmed names) and rows as dicts of the PSTW sheet; fully blank rows are dropped."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = next(ws for ws in workbook.worksheets if ws.title.strip() == SHEET)
        rows = sheet.iter_rows(values_only=True)
        header = [clean_text(h) for h in next(rows)]
        records = [dict(zip(header, values, strict=False)) for values in rows
                   if any(v is not None and clean_text(v) for v in values)]
    finally:
        workbook.close()
    return header, records


def _case(b: CaseBuilder, row: dict[str, object], impact_columns: list[str]) -> None:
    identifier = clean_text(row["PSTW ID"])
    match = re.fullmatch(r"PSTW-(\d+)", identifier, re.IGNORECASE)
    if not match:
        raise ValueError(f"unexpected PSTW ID {identifier!r}")
    case = IRI(f"{ID}case/pstw-{int(match.group(1))}")
    b.add(case, RDF + "type", IRI(AIW + "AIUseCase"))
    b.add(case, DCT + "identifier", Literal(f"PSTW-{int(match.group(1))}"))
    b.add(case, AIW + "sourceDataset", IRI(DATASET))
    b.text(case, DCT + "title", row.get("Name"))
    b.text(case, DCT + "description", row.get("Description"), block=True)
    b.pages(case, "Website", row.get("Website"))
    b.code(case, AIW + "geographicExtent", "geographic-extent", "Geographical extent", row.get("Geographical extent"))
    codes = b.countries_of(case, "Geographical coverage (country)", row.get("Geographical coverage (country)"))
    for nuts in re.split(r"[,;/\s]+", clean_text(row.get("NUTS 2021"))):
        if nuts:
            b.add(case, AIW + "nuts", Literal(nuts))
    b.organisation(case, row.get("Responsible organisation"), row.get("Responsible organisation category"),
                   name_column="Responsible organisation", category_column="Responsible organisation category",
                   countries=codes)
    b.code(case, AIW + "cofogFunction", "cofog", "Functions of Government (COFOG level I)",
           row.get("Functions of Government (COFOG level I)"), level="top")
    b.code(case, AIW + "cofogSubfunction", "cofog", "Functions of Government (COFOG level II)",
           row.get("Functions of Government (COFOG level II)"), level="narrower")
    b.code(case, AIW + "status", "status", "Status", row.get("Status"))
    b.year(case, AIW + "startYear", "Start Year", row.get("Start Year"))
    b.year(case, AIW + "endYear", "End Year", row.get("End Year"))
    b.code(case, AIW + "processType", "process-type", "Process type", row.get("Process type"))
    b.code(case, AIW + "applicationType", "application-type", "Application type", row.get("Application type"))
    b.boolean(case, AIW + "crossBorder", "Cross Border", row.get("Cross Border"))
    b.boolean(case, AIW + "crossSector", "Cross Sector", row.get("Cross Sector"))
    b.code(case, AIW + "interaction", "interaction", "Interaction", row.get("Interaction"))
    for column in impact_columns:
        flag = clean_text(row.get(column)).casefold()
        if flag == _FLAG:
            b.code(case, AIW + "impact", "impact", column, column)
        elif flag:
            b.ignore(f"{column} (flag)", row.get(column))
    b.text(case, DCT + "source", row.get("Source"), block=True, lang=None)
    b.code(case, AIW + "aiTechnology", "ai-technology", "AI Classification (I)", row.get("AI Classification (I)"),
           level="top")
    for column in AI_SUBDOMAIN_COLUMNS:
        b.code(case, AIW + "aiTechnology", "ai-technology", column, row.get(column))
    keywords = {}
    for keyword in _KEYWORD_SEPARATORS.split(str(row.get("AI Keywords") or "")):
        keyword = clean_text(keyword)
        if keyword:
            keywords.setdefault(keyword.casefold(), keyword)
    for keyword in keywords.values():
        b.add(case, DCAT + "keyword", Literal(keyword, lang="en"))
    b.code(case, AIW + "collaborationType", "collaboration-type", "Collaboration type", row.get("Collaboration type"))
    b.code(case, AIW + "fundingSource", "funding-source", "Funding source", row.get("Funding source"))
    updated = row.get("Date updated")
    if updated is not None and clean_text(updated):
        date = iso_date(updated)
        if date:
            b.add(case, DCT + "modified", Literal(date, datatype=XSD + "date"))
        else:
            b.ignore("Date updated", updated)


def _cofog_inconsistent(concepts: ConceptIndex, row: dict[str, object]) -> int:
    division = concepts.lookup("cofog", row.get("Functions of Government (COFOG level I)") or "")
    group = concepts.lookup("cofog", row.get("Functions of Government (COFOG level II)") or "")
    return int(bool(division and group and concepts.broader.get(group) != division))
