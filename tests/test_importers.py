"""Importers: reproducible output, complete coverage of the sources, and every coded value a real concept.

The expected numbers are computed here from the source files themselves (csv / openpyxl), independently of the
importer code, and compared with SPARQL counts over the generated Turtle.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pyoxigraph as ox
import pytest

from graph_service.importers import IMPORTERS, ConceptIndex, ImportReport, normalise, run_import
from graph_service.importers.common import web_addresses
from graph_service.importers.countries import CountryTable

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
CONCEPTS = ROOT / "ontology" / "concepts"
IMPORTED = ROOT / "data" / "imported"
AUTHORITY = ROOT.parent / "shared" / "standards" / "eu-authority-tables" / "countries-skos.rdf"
AIWATCH_CSV = SHARED / "ai-watch-cases-2021" / "src" / "9-services-ai-watch-t6-jrc120399.csv"
PSTW_XLSX = SHARED / "pstw" / "pstw_dataset.xlsx"
OUTPUTS = {"aiwatch-2021": "aiwatch-cases-2021.ttl", "pstw": "pstw-cases.ttl"}
DATASETS = {"aiwatch-2021": "https://w3id.org/aiwatch/id/dataset/aiwatch-cases-2021",
            "pstw": "https://w3id.org/aiwatch/id/dataset/pstw"}

AIW = "https://w3id.org/aiwatch/def/aiwatch#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
EUC = "http://publications.europa.eu/resource/authority/country/"
CONCEPT = "https://w3id.org/aiwatch/concept/"
PREFIXES = f"PREFIX aiw: <{AIW}> PREFIX skos: <{SKOS}> PREFIX dct: <{DCT}> "
#: property -> scheme of its values (ontology/README.md)
PROPERTY_SCHEME = {
    "geographicExtent": "geographic-extent", "organisationCategory": "organisation-category",
    "cofogFunction": "cofog", "cofogSubfunction": "cofog", "status": "status", "processType": "process-type",
    "applicationType": "application-type", "interaction": "interaction", "aiTechnology": "ai-technology",
    "impact": "impact", "collaborationType": "collaboration-type", "fundingSource": "funding-source",
}
#: Names of the sources that the 2018 authority table spells differently (kept here, independent of the importer).
TEST_ALIASES = {"türkiye": "TUR", "north macedonia": "MKD"}
MEMBER_STATES = set(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU SVK SVN ESP SWE "
    "NOR ISL LIE CHE GBR".split())
PSTW_SINGLE_CODED = {  # column -> (property, scheme)
    "Geographical extent": ("geographicExtent", "geographic-extent"),
    "Functions of Government (COFOG level I)": ("cofogFunction", "cofog"),
    "Functions of Government (COFOG level II)": ("cofogSubfunction", "cofog"),
    "Status": ("status", "status"),
    "Process type": ("processType", "process-type"),
    "Application type": ("applicationType", "application-type"),
    "Interaction": ("interaction", "interaction"),
    "Collaboration type": ("collaborationType", "collaboration-type"),
    "Funding source": ("fundingSource", "funding-source"),
}


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, ImportReport]]:
    """Both importers run again on the real sources into a temporary folder."""
    out = tmp_path_factory.mktemp("imported")
    reports = run_import(None, shared_data=SHARED, out_dir=out, concepts_dir=CONCEPTS, progress=False)
    return out, {r.name: r for r in reports}


@pytest.fixture(scope="module")
def imported() -> ox.Store:
    """The committed output files plus the concept schemes, in one in-memory store."""
    s = ox.Store()
    for path in [*(IMPORTED / f for f in OUTPUTS.values()), *sorted(CONCEPTS.glob("*.ttl"))]:
        s.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
    return s


@pytest.fixture(scope="module")
def concepts() -> ConceptIndex:
    return ConceptIndex.load(CONCEPTS)


@pytest.fixture(scope="module")
def aiwatch_rows() -> list[dict[str, str]]:
    with AIWATCH_CSV.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def pstw_ai_rows() -> list[dict[str, object]]:
    """The AI rows of the xlsx, selected here with openpyxl (not with the importer's reader)."""
    wb = openpyxl.load_workbook(PSTW_XLSX, read_only=True)
    try:
        rows = wb[" PSTW DB"].iter_rows(values_only=True)
        header = [str(h).strip() for h in next(rows)]
        records = [dict(zip(header, r, strict=False)) for r in rows if r[0] is not None]
    finally:
        wb.close()
    return [r for r in records if " ".join(str(r["Primary Technology"] or "").split()).lower()
            == "artificial intelligence"]


@pytest.fixture(scope="module")
def country_codes() -> dict[str, str]:
    """English name -> alpha-3 from the authority table, read here independently of the importer."""
    names: dict[str, str] = {}
    for t in ox.parse(path=str(AUTHORITY), format=ox.RdfFormat.RDF_XML):
        if (t.predicate.value == SKOS + "prefLabel" and getattr(t.object, "language", None) == "en"
                and t.subject.value.startswith(EUC)):
            names.setdefault(t.object.value.casefold(), t.subject.value.removeprefix(EUC))
    return {**names, **TEST_ALIASES}


def _values(store, query: str) -> list[tuple]:
    return [tuple(term.value if term is not None else None for term in row) for row in store.query(PREFIXES + query)]


# ------------------------------------------------------------------------------------------------ reproducible
@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_reimport_is_byte_identical(fresh: tuple[Path, dict[str, ImportReport]], name: str) -> None:
    out, _ = fresh
    assert (out / OUTPUTS[name]).read_bytes() == (IMPORTED / OUTPUTS[name]).read_bytes(), (
        f"data/imported/{OUTPUTS[name]} is stale or the importer is not deterministic: re-run the import")


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_output_parses_with_pyoxigraph(name: str) -> None:
    triples = list(ox.parse(path=str(IMPORTED / OUTPUTS[name]), format=ox.RdfFormat.TURTLE))
    assert len(triples) > 1000


def test_header_names_source_checksum_and_licence(fresh: tuple[Path, dict[str, ImportReport]]) -> None:
    _, reports = fresh
    for name, licence in (("aiwatch-2021", "EUPL_1_2"), ("pstw", "CC_BY_4_0")):
        head = (IMPORTED / OUTPUTS[name]).read_text(encoding="utf-8")[:2000]
        assert reports[name].sha256 and reports[name].sha256 in head
        assert licence in head and reports[name].source.name in head


# ------------------------------------------------------------------------------------------------ coverage
def test_zero_unmapped_values(fresh: tuple[Path, dict[str, ImportReport]]) -> None:
    _, reports = fresh
    for report in reports.values():
        assert report.unmapped == {}, "\n".join(report.summary_lines())


def test_case_counts_match_sources(imported: ox.Store, fresh: tuple[Path, dict[str, ImportReport]],
                                   aiwatch_rows: list[dict[str, str]], pstw_ai_rows: list[dict]) -> None:
    _, reports = fresh
    expected = {"aiwatch-2021": len(aiwatch_rows), "pstw": len(pstw_ai_rows)}
    assert expected["aiwatch-2021"] == 143
    counted = dict(_values(imported, "SELECT ?d (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a aiw:AIUseCase ; "
                                  "aiw:sourceDataset ?d } GROUP BY ?d"))
    for name, n in expected.items():
        assert int(counted[DATASETS[name]]) == n
        assert reports[name].cases == n
    wb = openpyxl.load_workbook(PSTW_XLSX, read_only=True)
    total = sum(1 for r in wb[" PSTW DB"].iter_rows(min_row=2, values_only=True) if r[0] is not None)
    wb.close()
    assert reports["pstw"].skipped == {"primary technology is not AI": total - len(pstw_ai_rows)}
    assert reports["aiwatch-2021"].skipped == {}


def test_required_properties_once_per_case(imported: ox.Store) -> None:
    for prop in ("dct:title", "dct:identifier", "aiw:sourceDataset"):
        bad = _values(imported, f"SELECT ?c WHERE {{ ?c a aiw:AIUseCase OPTIONAL {{ ?c {prop} ?v }} }} "
                             f"GROUP BY ?c HAVING (COUNT(?v) != 1)")
        assert bad == [], prop


def test_aiwatch_identifiers_follow_services_json(imported: ox.Store) -> None:
    rows = dict(_values(imported, "SELECT ?c ?id WHERE { ?c aiw:sourceDataset "
                               f"<{DATASETS['aiwatch-2021']}> ; dct:identifier ?id }}"))
    base = "https://w3id.org/aiwatch/id/case/aiwatch-2021-"
    assert rows[base + "001"] == "90001" and rows[base + "143"] == "90143"
    assert all(int(rows[c]) == 90000 + int(c.removeprefix(base)) for c in rows)


def test_pstw_case_iris_and_identifiers(imported: ox.Store, pstw_ai_rows: list[dict]) -> None:
    rows = dict(_values(imported, f"SELECT ?c ?id WHERE {{ ?c aiw:sourceDataset <{DATASETS['pstw']}> ; "
                               "dct:identifier ?id }"))
    expected = {f"https://w3id.org/aiwatch/id/case/pstw-{str(r['PSTW ID']).strip()[5:]}":
                str(r["PSTW ID"]).strip() for r in pstw_ai_rows}
    assert rows == expected


# ------------------------------------------------------------------------------------------------ countries
def _spatial_counts(imported: ox.Store, dataset: str) -> Counter[str]:
    rows = _values(imported, f"SELECT ?s (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c aiw:sourceDataset <{dataset}> ; "
                          "dct:spatial ?s } GROUP BY ?s")
    return Counter({s.removeprefix(EUC): int(n) for s, n in rows})


def _member_state_counts(imported: ox.Store, dataset: str) -> Counter[str]:
    rows = _values(imported, f"SELECT ?m (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c aiw:sourceDataset <{dataset}> ; "
                          "aiw:memberState ?m } GROUP BY ?m")
    return Counter({m.rsplit("/", 1)[1].upper(): int(n) for m, n in rows})


def _source_counts(cells: list[object], codes: dict[str, str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for cell in cells:
        names = {n.strip() for n in re.split(r"[,;/]", str(cell or "")) if n.strip()}
        for name in names:
            counts[codes[name.casefold()]] += 1
    return counts


@pytest.fixture(params=["imported files", "loaded store"])
def cases(request: pytest.FixtureRequest):
    """The cases as imported (the files) and as published (the real store built by the loader)."""
    return request.getfixturevalue("imported") if request.param == "imported files" else \
        request.getfixturevalue("kg").store


def test_cases_per_source(cases, pstw_ai_rows: list[dict]) -> None:
    counted = dict(_values(cases, "SELECT ?d (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a aiw:AIUseCase ; "
                                  "aiw:sourceDataset ?d } GROUP BY ?d"))
    assert counted == {DATASETS["aiwatch-2021"]: "143", DATASETS["pstw"]: str(len(pstw_ai_rows))}


def test_cases_per_country_aiwatch(cases, aiwatch_rows: list[dict[str, str]],
                                   country_codes: dict[str, str]) -> None:
    expected = _source_counts([r["geocoverage"] for r in aiwatch_rows], country_codes)
    assert expected["EST"] == 12 and expected["CHE"] == 6
    assert _spatial_counts(cases, DATASETS["aiwatch-2021"]) == expected
    assert _member_state_counts(cases, DATASETS["aiwatch-2021"]) == Counter(
        {c: n for c, n in expected.items() if c in MEMBER_STATES})


def test_cases_per_country_pstw(cases, pstw_ai_rows: list[dict], country_codes: dict[str, str]) -> None:
    expected = _source_counts([r["Geographical coverage (country)"] for r in pstw_ai_rows], country_codes)
    assert "UKR" in expected and "EUR" in expected  # non-members and the EU itself get dct:spatial too
    assert _spatial_counts(cases, DATASETS["pstw"]) == expected
    assert _member_state_counts(cases, DATASETS["pstw"]) == Counter(
        {c: n for c, n in expected.items() if c in MEMBER_STATES})


def test_country_cells_are_split(tmp_path: Path) -> None:
    table = CountryTable.load(AUTHORITY)
    codes = [table.resolve(n) for n in table.split("Belgium, Netherlands;Czech Republic / UK")]
    assert codes == ["BEL", "NLD", "CZE", "GBR"]
    assert [table.resolve(n) for n in table.split("Bosnia and Herzegovina")] == ["BIH"]
    assert table.resolve("European Union") == "EUR" and table.resolve("Türkiye") == "TUR"


# ------------------------------------------------------------------------------------------------ concepts
def test_every_coded_value_is_a_concept_of_the_right_scheme(imported: ox.Store) -> None:
    rows = _values(imported, "SELECT DISTINCT ?p ?o ?scheme WHERE { ?s ?p ?o . "
                          f"FILTER(STRSTARTS(STR(?p), '{AIW}') && isIRI(?o) && STRSTARTS(STR(?o), '{CONCEPT}')) "
                          "OPTIONAL { ?o a skos:Concept ; skos:inScheme ?scheme } }")
    assert rows
    for p, o, scheme in rows:
        expected = CONCEPT + PROPERTY_SCHEME[p.removeprefix(AIW)]
        assert scheme == expected, f"{o} (via {p}) is not a concept of {expected}"


def test_cofog_levels(imported: ox.Store) -> None:
    wrong = _values(imported, "SELECT ?c ?f WHERE { ?c aiw:cofogFunction ?f . ?f skos:broader ?x }")
    wrong += _values(imported, "SELECT ?c ?f WHERE { ?c aiw:cofogSubfunction ?f . FILTER NOT EXISTS "
                            "{ ?f skos:broader ?x } }")
    assert wrong == []


def test_concept_schemes_are_well_formed(imported: ox.Store) -> None:
    schemes = {s for (s,) in _values(imported, "SELECT ?s WHERE { ?s a skos:ConceptScheme }")}
    assert {s.removeprefix(CONCEPT) for s in schemes} == set(PROPERTY_SCHEME.values())
    for path in CONCEPTS.glob("*.ttl"):
        assert CONCEPT + path.stem in schemes
    for scheme in schemes:
        for prop in ("skos:prefLabel", "dct:title", "dct:source", "skos:hasTopConcept"):
            assert _values(imported, f"SELECT ?v WHERE {{ <{scheme}> {prop} ?v }}"), (scheme, prop)
    concepts = _values(imported, "SELECT ?c ?scheme WHERE { ?c a skos:Concept ; skos:inScheme ?scheme }")
    assert len(concepts) > 150
    for concept, scheme in concepts:
        key = concept.removeprefix(scheme + "/")
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key), concept
        labels = _values(imported, f"SELECT ?l WHERE {{ <{concept}> skos:prefLabel ?l FILTER(lang(?l) = 'en') }}")
        assert len(labels) == 1, concept
        assert len(_values(imported, f"SELECT ?n WHERE {{ <{concept}> skos:notation ?n }}")) == 1, concept
        placed = _values(imported, f"SELECT ?x WHERE {{ {{ <{concept}> skos:topConceptOf ?x }} UNION "
                                f"{{ <{concept}> skos:broader ?x }} }}")
        assert placed, f"{concept} has neither skos:topConceptOf nor skos:broader"


def test_scheme_sizes(concepts: ConceptIndex) -> None:
    by_scheme = Counter(c.removeprefix(CONCEPT).split("/")[0] for c in concepts.concepts)
    assert by_scheme["impact"] == 18
    assert by_scheme["cofog"] == 10 + 69
    assert by_scheme["geographic-extent"] == 4 and by_scheme["interaction"] == 3
    assert concepts.lookup("cofog", "General public services") == CONCEPT + "cofog/01"
    assert concepts.lookup("cofog", "Police Services") == CONCEPT + "cofog/03-1"


@pytest.mark.parametrize(("scheme", "variants"), [
    ("geographic-extent", ["National", "National ", "national"]),
    ("geographic-extent", ["Across Countries", "Across countries"]),
    ("organisation-category", ["Central-Government", "Central-government", "Central Government",
                               "National Government"]),
    ("organisation-category", ["State-owned entreprise", "State-owned enterprise"]),
    ("cofog", ["Economic affairs n.e.c", "Economic affairs n.e.c.", "economic affairs  N.E.C."]),
    ("cofog", ["General economic, commercial and labour affair",
               "General economic, commercial and labour affairs"]),
    ("cofog", ["Secondary Education.", "Secondary education."]),
    ("cofog", ["Recreation, culture and religion", "recreation, culture and religion"]),
    ("status", ["Pilot", "Pilot phase"]),
    ("application-type", ["Internal primary processes", "internal primary processes"]),
    ("application-type", ["Taking decisions on benefits  ", "Taking decisions on benefits"]),
    ("ai-technology", ["AI Services", "AI services"]),
    ("ai-technology", ["Natural Language Processing", "Natural language processing", "Natural Language processing"]),
    ("ai-technology", ["Automated reasoning", "Automated reasoning and Automated Decision Making (ADM)"]),
    ("ai-technology", ["Multiple AI techniques", "Multi AI techniques"]),
    ("ai-technology", ["Connected and Automated vehicles", "Connected and automated vehicles"]),
])
def test_variant_spellings_map_to_one_concept(concepts: ConceptIndex, scheme: str, variants: list[str]) -> None:
    found = {concepts.lookup(scheme, v) for v in variants}
    assert len(found) == 1 and None not in found, found


def test_every_source_spelling_has_a_label(concepts: ConceptIndex, pstw_ai_rows: list[dict],
                                           aiwatch_rows: list[dict[str, str]]) -> None:
    """Each distinct raw value of every coded column is a label (after normalisation) of some concept."""
    missing = set()
    for column, (_, scheme) in PSTW_SINGLE_CODED.items():
        for row in pstw_ai_rows:
            raw = row.get(column) if column != "Status" else row.get("Status", row.get(" Status"))
            if raw is not None and str(raw).strip() and concepts.lookup(scheme, raw) is None:
                missing.add((column, raw))
    for column, scheme in (("geoextent", "geographic-extent"), ("primary_sector", "cofog"),
                           ("secondary_sector", "cofog"), ("technology", "ai-technology"),
                           ("lead_organisation_category", "organisation-category"), ("status", "status")):
        for row in aiwatch_rows:
            if concepts.lookup(scheme, row[column]) is None:
                missing.add((column, row[column]))
    assert missing == set()


def test_pstw_cells_map_to_the_concept_of_their_label(imported: ox.Store, concepts: ConceptIndex,
                                                      pstw_ai_rows: list[dict]) -> None:
    """End to end: each case carries exactly the concept that its (variant) cell spelling names."""
    for column, (prop, scheme) in PSTW_SINGLE_CODED.items():
        got: dict[str, set[str]] = {}
        for case, value in _values(imported, f"SELECT ?c ?v WHERE {{ ?c aiw:sourceDataset <{DATASETS['pstw']}> ; "
                                          f"aiw:{prop} ?v }}"):
            got.setdefault(case, set()).add(value)
        for row in pstw_ai_rows:
            case = f"https://w3id.org/aiwatch/id/case/pstw-{str(row['PSTW ID']).strip()[5:]}"
            raw = row.get(column)
            expected = {concepts.lookup(scheme, raw)} if raw is not None and str(raw).strip() else set()
            assert got.get(case, set()) == expected, (case, column, raw)


def test_pstw_impacts_match_flags(imported: ox.Store, concepts: ConceptIndex, pstw_ai_rows: list[dict]) -> None:
    got: Counter[str] = Counter(dict(_values(imported, "SELECT ?i (COUNT(?c) AS ?n) WHERE { ?c aiw:impact ?i } "
                                                    "GROUP BY ?i")))
    got = Counter({k: int(v) for k, v in got.items()})
    impact_columns = [c for c in pstw_ai_rows[0] if concepts.lookup("impact", c)]
    assert len(impact_columns) == 18
    expected = Counter({concepts.lookup("impact", c): sum(1 for r in pstw_ai_rows
                                                           if str(r[c] or "").strip().lower() == "x")
                        for c in impact_columns})
    assert got == +expected


# ------------------------------------------------------------------------------------------------ organisations
def test_one_preflabel_per_organisation_across_datasets(imported: ox.Store) -> None:
    bad = _values(imported, "SELECT ?o WHERE { ?c aiw:responsibleOrganisation ?o . ?o skos:prefLabel ?l } "
                         "GROUP BY ?o HAVING (COUNT(DISTINCT ?l) != 1)")
    assert bad == []


def test_same_name_same_organisation_across_datasets(imported: ox.Store) -> None:
    shared = _values(imported, f"SELECT DISTINCT ?o WHERE {{ ?a aiw:sourceDataset <{DATASETS['aiwatch-2021']}> ; "
                            f"aiw:responsibleOrganisation ?o . ?b aiw:sourceDataset <{DATASETS['pstw']}> ; "
                            "aiw:responsibleOrganisation ?o }")
    assert ("https://w3id.org/aiwatch/id/organisation/unternehmensservice-portal-austria",) in shared


# ------------------------------------------------------------------------------------------------ helpers
def test_normalise() -> None:
    assert normalise("  Health n.e.c.\u00a0") == "health n.e.c"
    assert normalise("Police\n Services") == "police services"


def test_web_addresses() -> None:
    good, junk = web_addresses("https://a.example/x y, https://b.example/#a#b\n/collection/relative")
    assert good == ["https://a.example/x%20y", "https://b.example/#a%23b"]
    assert junk == ["/collection/relative"]
    assert web_addresses("/collection/public-sector-tech-watch/submit-your-case") == (
        [], ["/collection/public-sector-tech-watch/submit-your-case"])


def test_importer_registry() -> None:
    assert set(IMPORTERS) == {"aiwatch-2021", "pstw"}
    with pytest.raises(KeyError):
        run_import(["nope"], shared_data=SHARED, out_dir=Path("/nonexistent"), concepts_dir=CONCEPTS)
