"""Importer for the AI Watch list of 143 AI cases in the public sector (AI-Watch/AI-watch-T6-X, June 2021).

Reads the CSV with the csv module (row order = case number, ``id:case/aiwatch-2021-001`` …) and takes the case
identifiers ("90001" …) from the repository's normalised ``data/services.json``, checking that both list the same
case in the same place.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tqdm import tqdm

from ..loading.sources import sha256_of
from .common import (
    AIW,
    DCT,
    ID,
    PREFIXES,
    RDF,
    CaseBuilder,
    ImportReport,
    OrganisationTables,
    clean_text,
    header_lines,
)
from .concepts import ConceptIndex
from .countries import CountryTable
from .turtle import IRI, Literal, Triple, serialise

SOURCE = Path("ai-watch-cases-2021/src/9-services-ai-watch-t6-jrc120399.csv")
SERVICES_JSON = Path("ai-watch-cases-2021/data/services.json")
DATASET = ID + "dataset/aiwatch-cases-2021"
#: ``start_date`` is 2021/01/01 on every row of this version (and of the older 100-row one): the date the case
#: entered the list, not when the case started, so it is not published as aiw:startYear.
PLACEHOLDER_START_DATES = frozenset({"2021/01/01"})


class AIWatch2021Importer:
    """``aiwatch-2021``: the 143-row CSV → ``aiwatch-cases-2021.ttl``."""

    name = "aiwatch-2021"
    output_name = "aiwatch-cases-2021.ttl"

    def source(self, shared_data: Path) -> Path:
        return shared_data / SOURCE

    def run(self, *, shared_data: Path, out_dir: Path, concepts: ConceptIndex, countries: CountryTable,
            progress: bool = True) -> tuple[ImportReport, str]:
        """Build the Turtle text of the import and its report (the caller writes the file)."""
        source = self.source(shared_data)
        report = ImportReport(self.name, source, out_dir / self.output_name, cases=0)
        report.sha256 = sha256_of(source)
        with source.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        identifiers = _identifiers(shared_data / SERVICES_JSON, rows)
        b = CaseBuilder(report, concepts, countries, OrganisationTables.load())
        inconsistent = 0
        for number, row in enumerate(tqdm(rows, desc=self.name, unit="row", disable=not progress), start=1):
            case = IRI(f"{ID}case/aiwatch-2021-{number:03}")
            _case(b, case, row, identifiers[number - 1])
            inconsistent += _cofog_inconsistent(concepts, row)
            report.cases += 1
        if inconsistent:
            report.notes.append(f"{inconsistent} rows have a COFOG level II value outside their level I value "
                                "(both kept as given)")
        triples: list[Triple] = b.finish()
        header = header_lines(
            title="AI Watch: selected AI cases in the public sector (143 cases, June 2021), as RDF.",
            source=f"{SOURCE.as_posix()} (AI-Watch/AI-watch-T6-X, commit 61f6fd44be84c232cc4c707d54122961ed55105f)",
            sha256=report.sha256,
            licence="EUPL-1.2 (http://publications.europa.eu/resource/authority/licence/EUPL_1_2)",
            origin="https://github.com/AI-Watch/AI-watch-T6-X ; case identifiers from data/services.json",
            importer=self.name, report=report)
        return report, serialise(triples, PREFIXES, header)


def _identifiers(services_json: Path, rows: list[dict[str, str]]) -> list[str]:
    """services.json ids in CSV row order; a name mismatch at the same position is an error, not a guess."""
    services = json.loads(services_json.read_text(encoding="utf-8"))
    if len(services) != len(rows):
        raise ValueError(f"{services_json}: {len(services)} services but {len(rows)} CSV rows")
    ids = []
    for number, (row, service) in enumerate(zip(rows, services, strict=True), start=1):
        if clean_text(row["name"]) != clean_text(service["name"]):
            raise ValueError(f"row {number}: CSV name {row['name']!r} != services.json {service['name']!r}")
        ids.append(str(service["id"]))
    return ids


def _case(b: CaseBuilder, case: IRI, row: dict[str, str], identifier: str) -> None:
    b.add(case, RDF + "type", IRI(AIW + "AIUseCase"))
    b.add(case, DCT + "identifier", Literal(identifier))
    b.add(case, AIW + "sourceDataset", IRI(DATASET))
    b.text(case, DCT + "title", row["name"])
    b.text(case, DCT + "description", row["description"], block=True)
    b.pages(case, "url", row["url"])
    b.code(case, AIW + "geographicExtent", "geographic-extent", "geoextent", row["geoextent"])
    codes = b.countries_of(case, "geocoverage", row["geocoverage"])
    b.organisation(case, row["lead_organisation_name"], row["lead_organisation_category"],
                   name_column="lead_organisation_name", category_column="lead_organisation_category",
                   countries=codes)
    b.code(case, AIW + "cofogFunction", "cofog", "primary_sector", row["primary_sector"], level="top")
    b.code(case, AIW + "cofogSubfunction", "cofog", "secondary_sector", row["secondary_sector"], level="narrower")
    b.code(case, AIW + "aiTechnology", "ai-technology", "technology", row["technology"])
    b.code(case, AIW + "status", "status", "status", row["status"])
    b.code(case, AIW + "processType", "process-type", "uptake", row["uptake"])
    b.boolean(case, AIW + "crossSector", "cross_sector", row["cross_sector"])
    b.boolean(case, AIW + "crossBorder", "cross_border", row["cross_border"])
    start = clean_text(row["start_date"])
    if start in PLACEHOLDER_START_DATES:
        b.ignore("start_date (placeholder)", start)
    else:
        b.year(case, AIW + "startYear", "start_date", start[:4] if start else "")
    end = clean_text(row["end_date"])
    b.year(case, AIW + "endYear", "end_date", end[:4] if end else "")


def _cofog_inconsistent(concepts: ConceptIndex, row: dict[str, str]) -> int:
    division = concepts.lookup("cofog", row["primary_sector"])
    group = concepts.lookup("cofog", row["secondary_sector"])
    return int(bool(division and group and concepts.broader.get(group) != division))
