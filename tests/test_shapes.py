"""The ontology (ontology/aiwatch.ttl) and the SHACL shapes (shapes/): they parse, they agree with each other, and
every node shape accepts a conforming example and reports a violating one with the expected focus node and path.

Examples are validated the way the loader does it: one rdflib graph, pyshacl with ``inference="none"``. Each
example lists the exact set of (severity, focus node, path) results it must produce, so a shape that reports too
much is caught as well as one that reports too little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph
import pytest
from pyshacl import validate
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "aiwatch.ttl"
SHAPES_DIR = ROOT / "shapes"
#: The shapes of the model (this test's subject); other files in shapes/ (e.g. the catalogue's) are loaded too by
#: the loader, so the parse/validity tests and one integration test use every file.
MODEL_SHAPES = SHAPES_DIR / "aiwatch-shapes.ttl"
VALID = Path(__file__).resolve().parent / "shape_examples" / "valid.ttl"

AIW = Namespace("https://w3id.org/aiwatch/def/aiwatch#")
AIWSH = Namespace("https://w3id.org/aiwatch/shapes#")
SH = Namespace("http://www.w3.org/ns/shacl#")
VANN = Namespace("http://purl.org/vocab/vann/")
ONTOLOGY_IRI = URIRef("https://w3id.org/aiwatch/def/aiwatch")
CONCEPT_BASE = "https://w3id.org/aiwatch/concept/"

#: Prefixes of the examples; also used to print results compactly ("report:jrc1", "dct:title").
NAMESPACES = {
    "aiw": str(AIW),
    "aiwsh": str(AIWSH),
    "report": "https://w3id.org/aiwatch/id/report/",
    "workshop": "https://w3id.org/aiwatch/id/workshop/",
    "series": "https://w3id.org/aiwatch/id/workshop-series/",
    "session": "https://w3id.org/aiwatch/id/session/",
    "experience": "https://w3id.org/aiwatch/id/experience/",
    "ms": "https://w3id.org/aiwatch/id/member-state/",
    "strategy": "https://w3id.org/aiwatch/id/strategy/",
    "programme": "https://w3id.org/aiwatch/id/programme/",
    "case": "https://w3id.org/aiwatch/id/case/",
    "dataset": "https://w3id.org/aiwatch/id/dataset/",
    "person": "https://w3id.org/aiwatch/id/person/",
    "organisation": "https://w3id.org/aiwatch/id/organisation/",
    "concept": CONCEPT_BASE,
    **{f"c-{s}": f"{CONCEPT_BASE}{s}/" for s in (
        "status", "cofog", "ai-technology", "process-type", "application-type", "interaction",
        "geographic-extent", "organisation-category", "impact", "collaboration-type", "funding-source",
    )},
    "bibo": "http://purl.org/ontology/bibo/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": str(DCTERMS),
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "schema": "https://schema.org/",
    "skos": str(SKOS),
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "euc": "http://publications.europa.eu/resource/authority/country/",
    "eul": "http://publications.europa.eu/resource/authority/licence/",
    "eucb": "http://publications.europa.eu/resource/authority/corporate-body/",
    "ex": "https://example.org/",
}
PREFIXES = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in NAMESPACES.items())


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


@cache
def shapes_graph() -> Graph:
    return Graph().parse(MODEL_SHAPES, format="turtle")


@cache
def all_shapes_graph() -> Graph:
    """Every shapes file, as the loader reads them."""
    graph = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


@cache
def ontology_graph() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


@cache
def valid_graph() -> Graph:
    return Graph().parse(VALID, format="turtle")


@cache
def concepts_graph(schemes: tuple[str, ...] = ()) -> Graph:
    """The concept schemes and concepts of the valid example (all, or those of ``schemes``)."""
    valid = valid_graph()
    nodes = set(valid.subjects(RDF.type, SKOS.Concept)) | set(valid.subjects(RDF.type, SKOS.ConceptScheme))
    if schemes:
        wanted = {URIRef(CONCEPT_BASE + s) for s in schemes}
        nodes = {n for n in nodes if n in wanted or set(valid.objects(n, SKOS.inScheme)) & wanted}
    graph = Graph()
    for node in nodes:
        for triple in valid.triples((node, None, None)):
            graph.add(triple)
    return graph


def compact(node) -> str:
    if node is None:
        return ""
    if isinstance(node, BNode):
        return "_:"
    text = str(node)
    for name, iri in sorted(NAMESPACES.items(), key=lambda item: -len(item[1])):
        if text.startswith(iri) and text != iri:
            return f"{name}:{text[len(iri):]}"
    return text


def path_text(results: Graph, path) -> str:
    """A result path as text: "dct:title", "^schema:subEvent"; "" for node-level results."""
    if path is None:
        return ""
    if isinstance(path, BNode):
        inverse = results.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + compact(inverse)
        return "/".join(compact(step) for step in Collection(results, path))
    return compact(path)


@dataclass(frozen=True)
class Result:
    severity: str  # "V" or "W"
    focus: str
    path: str
    message: str
    source_shape: object
    component: object

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.severity, self.focus, self.path)


def run(data: Graph, shapes: Graph | None = None) -> tuple[bool, list[Result]]:
    """Validate like the loader (no inference); ``conforms`` counts only violations, as the loader does."""
    conforms, results, _ = validate(
        data, shacl_graph=shapes or shapes_graph(), inference="none", advanced=True, allow_warnings=True
    )
    found = []
    for node in results.objects(None, SH.result):  # top-level results only, not the sh:detail of sh:node
        severity = results.value(node, SH.resultSeverity)
        found.append(
            Result(
                severity="V" if severity == SH.Violation else "W" if severity == SH.Warning else str(severity),
                focus=compact(results.value(node, SH.focusNode)),
                path=path_text(results, results.value(node, SH.resultPath)),
                message=str(results.value(node, SH.resultMessage) or ""),
                source_shape=results.value(node, SH.sourceShape),
                component=results.value(node, SH.sourceConstraintComponent),
            )
        )
    return bool(conforms), found


def node_shapes() -> list[URIRef]:
    shapes = shapes_graph()
    return sorted(s for s in shapes.subjects(RDF.type, SH.NodeShape) if str(s).startswith(str(AIWSH)))


def owner_shapes(source_shape) -> set:
    """The named node shapes a result comes from: its node shape, and the shapes it applies with sh:node."""
    shapes = shapes_graph()
    owners = {source_shape} | set(shapes.subjects(SH.property, source_shape))
    pending = list(shapes.objects(source_shape, SH.node))
    while pending:
        shape = pending.pop()
        if shape in owners:
            continue
        owners.add(shape)
        pending.extend(shapes.objects(shape, SH.node))
        for prop in shapes.objects(shape, SH.property):
            pending.extend(shapes.objects(prop, SH.node))
        for alternatives in shapes.objects(shape, SH["or"]):
            for alternative in Collection(shapes, alternatives):
                for prop in shapes.objects(alternative, SH.property):
                    pending.extend(shapes.objects(prop, SH.node))
    return {o for o in owners if isinstance(o, URIRef)}


# ----------------------------------------------------------------------------------------------------------------
# The ontology
# ----------------------------------------------------------------------------------------------------------------


def test_ontology_parses_with_rdflib_and_oxigraph() -> None:
    quads = list(pyoxigraph.parse(path=str(ONTOLOGY), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(quads) == len(ontology_graph()) > 100


def test_ontology_header_has_the_required_metadata() -> None:
    g = ontology_graph()
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in g
    for prop in (OWL.versionInfo, OWL.versionIRI, DCTERMS.title, DCTERMS.description, DCTERMS.creator,
                 DCTERMS.publisher, DCTERMS.issued, DCTERMS.modified):
        assert g.value(ONTOLOGY_IRI, prop) is not None, prop
    assert g.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef(
        "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0")
    assert g.value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix) == Literal("aiw")


CONTRACT_CLASSES = {"Report", "Workshop", "WorkshopSession", "MemberStateExperience", "MemberState",
                    "NationalAIStrategy", "Programme", "AIUseCase", "Membership"}
CONTRACT_PROPERTIES = {
    "pdf", "reportOf", "seriesNumber", "participantCount", "memberStateCount", "topic", "experience",
    "presentedProgramme", "report", "chair", "moderator", "memberState", "iso3166Alpha2", "iso3166Alpha3",
    "membership", "sourceDataset", "geographicExtent", "responsibleOrganisation", "organisationCategory",
    "cofogFunction", "cofogSubfunction", "status", "processType", "applicationType", "interaction",
    "aiTechnology", "impact", "collaborationType", "fundingSource", "crossBorder", "crossSector", "startYear",
    "endYear", "nuts",
}
CONTRACT_INDIVIDUALS = {"EUMember", "EEAMember", "AssociatedCountry", "FormerMember"}


def declared_terms(kind) -> set[str]:
    g = ontology_graph()
    return {str(s)[len(AIW):] for s in g.subjects(RDF.type, kind) if str(s).startswith(str(AIW))}


def test_ontology_declares_every_term_of_the_contract() -> None:
    assert declared_terms(OWL.Class) == CONTRACT_CLASSES
    properties = declared_terms(OWL.ObjectProperty) | declared_terms(OWL.DatatypeProperty)
    assert properties == CONTRACT_PROPERTIES
    assert {str(s)[len(AIW):] for s in ontology_graph().subjects(RDF.type, AIW.Membership)} == CONTRACT_INDIVIDUALS


def english(g: Graph, subject, prop) -> list[Literal]:
    return [o for o in g.objects(subject, prop) if isinstance(o, Literal) and o.language == "en"]


@pytest.mark.parametrize("term", sorted(CONTRACT_CLASSES | CONTRACT_PROPERTIES | CONTRACT_INDIVIDUALS))
def test_every_term_is_documented(term: str) -> None:
    g, iri = ontology_graph(), AIW[term]
    assert len(english(g, iri, RDFS.label)) == 1, "one English rdfs:label"
    assert len(english(g, iri, SKOS.definition)) == 1, "one English skos:definition"
    assert g.value(iri, RDFS.isDefinedBy) == ONTOLOGY_IRI
    if term in CONTRACT_PROPERTIES:
        assert g.value(iri, RDFS.domain) is not None and g.value(iri, RDFS.range) is not None


def test_ontology_reuses_the_standard_vocabularies() -> None:
    g = ontology_graph()
    schema, bibo = Namespace(NAMESPACES["schema"]), Namespace(NAMESPACES["bibo"])
    assert (AIW.Report, RDFS.subClassOf, bibo.Report) in g
    assert (AIW.Workshop, RDFS.subClassOf, schema.Event) in g
    assert (AIW.WorkshopSession, RDFS.subClassOf, schema.Event) in g
    assert (AIW.MemberState, RDFS.subClassOf, schema.Country) in g
    assert (AIW.NationalAIStrategy, RDFS.subClassOf, schema.CreativeWork) in g
    assert (AIW.organisationCategory, RDFS.subPropertyOf, URIRef(NAMESPACES["org"] + "classification")) in g


def coded_properties() -> dict[URIRef, str]:
    """aiw: properties whose values are SKOS concepts -> the scheme IRI named in their definition."""
    g, found = ontology_graph(), {}
    for prop in g.subjects(RDFS.range, SKOS.Concept):
        definition = str(g.value(prop, SKOS.definition))
        schemes = re.findall(re.escape(CONCEPT_BASE) + r"[a-z0-9-]+", definition)
        assert len(schemes) == 1, f"{prop}: the definition must name its concept scheme"
        found[prop] = schemes[0]
    return found


def test_coded_properties_name_their_scheme_and_the_shapes_check_the_same_scheme() -> None:
    coded = coded_properties()
    assert len(coded) == 12
    shapes = shapes_graph()
    for prop, scheme in coded.items():
        checked = set()
        for prop_shape in shapes.subjects(SH.path, prop):
            for helper in shapes.objects(prop_shape, SH.node):
                for inner in shapes.objects(helper, SH.property):
                    if shapes.value(inner, SH.path) == SKOS.inScheme:
                        checked.add(str(shapes.value(inner, SH.hasValue)))
        assert checked == {scheme}, prop


# ----------------------------------------------------------------------------------------------------------------
# The shapes as such
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SHAPES_DIR.glob("*.ttl")), ids=lambda p: p.name)
def test_shapes_parse_with_rdflib_and_oxigraph(path: Path) -> None:
    quads = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(quads) == len(Graph().parse(path, format="turtle")) > 0


def test_all_shapes_files_load_in_pyshacl() -> None:
    conforms, _, text = validate(Graph(), shacl_graph=all_shapes_graph(), inference="none", advanced=True)
    assert conforms, text


@pytest.mark.slow  # pyshacl's SHACL-for-SHACL check takes several seconds; pyshacl also checks shapes on loading
def test_model_shapes_conform_to_the_shacl_shapes_for_shacl() -> None:
    conforms, _, text = validate(Graph(), shacl_graph=shapes_graph(), meta_shacl=True, inference="none")
    assert conforms, text


def aiw_terms_in_shapes() -> set[URIRef]:
    shapes = all_shapes_graph()
    terms = {t for triple in shapes for t in triple if isinstance(t, URIRef) and str(t).startswith(str(AIW))}
    for query in shapes.objects(None, SH.select):
        terms |= {AIW[name] for name in re.findall(r"\baiw:(\w+)", str(query))}
    return terms


def test_every_aiw_term_used_in_the_shapes_is_declared_with_label_and_definition() -> None:
    g = ontology_graph()
    terms = aiw_terms_in_shapes()
    assert len(terms) > 40
    for term in terms:
        assert (term, RDF.type, None) in g, f"{term} is not declared in the ontology"
        assert english(g, term, RDFS.label) and english(g, term, SKOS.definition), term


def test_every_class_of_the_ontology_is_targeted_by_a_shape() -> None:
    targeted = set(shapes_graph().objects(None, SH.targetClass))
    classes = {c for c in ontology_graph().subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    assert classes and classes <= targeted, classes - targeted
    for other in ("skos:Concept", "skos:ConceptScheme", "foaf:Person", "org:Organization"):
        prefix, local = other.split(":")
        assert URIRef(NAMESPACES[prefix] + local) in targeted, other


def targeted_shapes() -> list[URIRef]:
    shapes = shapes_graph()
    return [s for s in node_shapes() if any(
        shapes.value(s, t) is not None for t in (SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf))]


def test_every_property_shape_of_a_targeted_shape_has_name_message_and_severity() -> None:
    shapes = shapes_graph()
    for node_shape in targeted_shapes():
        for prop in shapes.objects(node_shape, SH.property):
            where = f"{compact(node_shape)} {compact(shapes.value(prop, SH.path))}"
            assert shapes.value(prop, SH.name) is not None, where
            messages = list(shapes.objects(prop, SH.message))
            assert messages and all(m.language == "en" and len(m) > 25 for m in messages), where
            assert shapes.value(prop, SH.severity) in (SH.Violation, SH.Warning), where


# ----------------------------------------------------------------------------------------------------------------
# The complete valid example: every targeted shape has focus nodes in it and it yields no result at all
# ----------------------------------------------------------------------------------------------------------------


def test_the_valid_example_conforms_without_any_result_not_even_a_warning() -> None:
    data = valid_graph() + ontology_graph()
    conforms, results = run(data)
    assert conforms and results == [], [r.key for r in results]


def test_the_valid_example_conforms_with_every_shapes_file_too() -> None:
    """The loader applies every file of shapes/: the other files must not reject valid model data."""
    conforms, results = run(valid_graph() + ontology_graph(), all_shapes_graph())
    assert conforms and results == [], [(r.key, r.message) for r in results]


def as_read_back_from_oxigraph(data: Graph) -> Graph:
    """``data`` stored in an Oxigraph store and read back, as SHACL-gated writes see the published data."""
    store = pyoxigraph.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return Graph().parse(data=pyoxigraph.serialize(store, format=pyoxigraph.RdfFormat.N_QUADS), format="nquads")


def test_the_valid_example_as_read_back_from_the_store_conforms_too() -> None:
    stored = as_read_back_from_oxigraph(valid_graph() + ontology_graph())
    workshop = URIRef(NAMESPACES["workshop"] + "plw-3")
    # The premise: the store gives the counts back as xsd:integer, not as the subtypes valid.ttl wrote.
    xsd_integer = URIRef(NAMESPACES["xsd"] + "integer")
    for prop in (AIW.seriesNumber, AIW.participantCount, AIW.memberStateCount):
        assert stored.value(workshop, prop).datatype == xsd_integer, prop
    conforms, results = run(stored, all_shapes_graph())
    assert conforms and results == [], [(r.key, r.message) for r in results]


def focus_nodes(shape: URIRef, data: Graph) -> set:
    shapes = shapes_graph()
    nodes = set()
    for cls in shapes.objects(shape, SH.targetClass):
        nodes |= set(data.subjects(RDF.type, cls))
    for prop in shapes.objects(shape, SH.targetObjectsOf):
        nodes |= set(data.objects(None, prop))
    return nodes


@pytest.mark.parametrize("shape", node_shapes(), ids=compact)
def test_every_node_shape_is_exercised_by_the_valid_example(shape: URIRef) -> None:
    data = valid_graph() + ontology_graph()
    shapes = shapes_graph()
    if shape in targeted_shapes():
        assert focus_nodes(shape, data), f"{compact(shape)} has no focus node in valid.ttl"
        return
    # A helper shape applied with sh:node: some targeted shape with focus nodes in the example must reach it.
    reaching = [s for s in targeted_shapes() if focus_nodes(s, data) and shape in owner_shapes_of_node(s)]
    assert reaching, f"{compact(shape)} is not used by any shape that has focus nodes"
    # ... and the property it is applied to has a value in the example.
    for prop_shape in shapes.subjects(SH.node, shape):
        path = shapes.value(prop_shape, SH.path)
        if isinstance(path, URIRef) and any(data.objects(None, path)):
            return
        if not isinstance(path, URIRef):
            return  # applied on a complex path inside another helper (list cells)
    pytest.fail(f"no value in valid.ttl is checked by {compact(shape)}")


def owner_shapes_of_node(shape: URIRef) -> set:
    shapes = shapes_graph()
    reached = set()
    for prop in shapes.objects(shape, SH.property):
        reached |= owner_shapes(prop)
    return reached


# ----------------------------------------------------------------------------------------------------------------
# Small examples: one or more per node shape, conforming and violating
# ----------------------------------------------------------------------------------------------------------------

MEMBER_STATE_ESP = """
ms:esp a aiw:MemberState ; skos:prefLabel "Spain"@en ; aiw:iso3166Alpha2 "ES" ; aiw:iso3166Alpha3 "ESP" ;
    owl:sameAs euc:ESP ; aiw:membership aiw:EUMember .
"""
PERSON = """
person:colin-van-noordt a foaf:Person ; foaf:name "Colin van Noordt" ; foaf:familyName "van Noordt" .
"""
PSTW = """
dataset:pstw a dcat:Dataset ; dct:title "Public Sector Tech Watch"@en ; dct:license eul:CC_BY_4_0 ;
    dct:publisher eucb:DIGIT ; dct:source <https://interoperable-europe.ec.europa.eu/> .
"""


@dataclass
class Example:
    name: str
    shapes: tuple[str, ...]  # the node shapes this example is about (aiwsh: local names)
    turtle: str
    expected: set[tuple[str, str, str]] = field(default_factory=set)  # (severity, focus, path); exact
    concepts: bool | tuple[str, ...] = False  # add the concept schemes of valid.ttl (all, or these)
    messages: dict[str, str] = field(default_factory=dict)  # path -> text the message must contain

    @property
    def conforms(self) -> bool:
        return not any(severity == "V" for severity, _, _ in self.expected)


def V(focus: str, path: str = "") -> tuple[str, str, str]:  # noqa: N802 - reads like the severity
    return ("V", focus, path)


def W(focus: str, path: str = "") -> tuple[str, str, str]:  # noqa: N802
    return ("W", focus, path)


EXAMPLES = [
    # --- aiw:Report ------------------------------------------------------------------------------------------
    Example("report-minimal", ("ReportShape",), """
        report:jrc1 a aiw:Report ; dct:title "A report"@en ; dct:issued "2021-10-05"^^xsd:date ;
            dct:publisher eucb:JRC ; dct:license eul:CC_BY_4_0 .""",
        {W("report:jrc1", "bibo:doi"), W("report:jrc1", "bibo:authorList")}),
    Example("report-complete", ("ReportShape", "PersonListShape", "ListCellShape", "PersonShape"), PERSON + """
        report:jrc126501 a aiw:Report ; dct:title "AI Watch report"@en ; dct:issued "2021-10-05"^^xsd:date ;
            dct:publisher eucb:JRC ; dct:license eul:CC_BY_4_0 ; dct:identifier "JRC126501" ;
            bibo:doi "10.2760/162795" ; bibo:isbn13 "978-92-76-41530-5" ; bibo:isbn13 "978-92-76-19540-5" ;
            owl:sameAs <https://doi.org/10.2760/162795> ; bibo:number "EUR 30255 EN" ;
            bibo:authorList ( person:colin-van-noordt ) ; dct:creator person:colin-van-noordt .""", set()),
    Example("report-missing-everything", ("ReportShape",), "report:jrc1 a aiw:Report .", {
        V("report:jrc1", "dct:title"), V("report:jrc1", "dct:issued"), V("report:jrc1", "dct:publisher"),
        W("report:jrc1", "dct:license"), W("report:jrc1", "bibo:doi"), W("report:jrc1", "bibo:authorList")}),
    Example("report-bad-literals", ("ReportShape",), """
        report:jrc1 a aiw:Report ; dct:title "No language tag" ; dct:issued "2021-10-05" ;
            dct:publisher "Joint Research Centre" ; dct:license <https://creativecommons.org/licenses/by/4.0/> ;
            bibo:doi "https://doi.org/10.2760/162795" ; dct:identifier "jrc126501" ;
            owl:sameAs <http://dx.doi.org/10.2760/162795> ; dct:modified "2021"^^xsd:gYear ;
            dct:abstract "An abstract"@fr ; bibo:authorList () .""", {
        V("report:jrc1", "dct:title"), V("report:jrc1", "dct:issued"), V("report:jrc1", "dct:publisher"),
        V("report:jrc1", "dct:license"), V("report:jrc1", "bibo:doi"), V("report:jrc1", "dct:identifier"),
        V("report:jrc1", "owl:sameAs"), V("report:jrc1", "dct:modified"), V("report:jrc1", "dct:abstract"),
        V("report:jrc1", "bibo:authorList")},
        messages={"dct:title": "exactly one English dct:title", "bibo:doi": "bare DOI"}),
    Example("report-isbn", ("ReportShape",), """
        report:jrc1 a aiw:Report ; dct:title "A report"@en ; dct:issued "2021-10-05"^^xsd:date ;
            dct:publisher eucb:JRC ; dct:license eul:CC_BY_4_0 ; bibo:doi "10.2760/162795" ;
            bibo:authorList ( ex:p ) . ex:p a foaf:Person ; foaf:name "P" ; foaf:familyName "P" .
        report:jrc2 a aiw:Report ; dct:title "A report"@en ; dct:issued "2021-10-05"^^xsd:date ;
            dct:publisher eucb:JRC ; dct:license eul:CC_BY_4_0 ; bibo:doi "10.2760/162795" ;
            bibo:authorList ( ex:p ) .
        report:jrc1 bibo:isbn13 "978-92-76-41530-4" .
        report:jrc2 bibo:isbn13 "9789276415305" .""",
        {V("report:jrc1", "bibo:isbn13"), V("report:jrc2", "bibo:isbn13")},
        messages={"bibo:isbn13": "check digit"}),
    Example("report-links", ("ReportShape", "PersonListShape"), """
        report:jrc1 a aiw:Report ; dct:title "A report"@en ; dct:issued "2021-10-05"^^xsd:date ;
            dct:publisher eucb:JRC ; dct:license eul:CC_BY_4_0 ; bibo:doi "10.2760/162795" ;
            bibo:authorList ( person:untyped ) ; dct:creator "Colin van Noordt" ;
            aiw:reportOf workshop:plw-3 ; dct:subject ex:not-a-concept ; aiw:pdf "report.pdf" ;
            foaf:page "https://example.org" .""", {
        V("report:jrc1", "bibo:authorList"), V("report:jrc1", "dct:creator"), V("report:jrc1", "aiw:reportOf"),
        V("report:jrc1", "dct:subject"), V("report:jrc1", "aiw:pdf"), V("report:jrc1", "foaf:page")}),
    Example("report-malformed-author-list", ("PersonListShape", "ListCellShape"), PERSON + """
        report:jrc1 a aiw:Report ; dct:title "A report"@en ; dct:issued "2021-10-05"^^xsd:date ;
            dct:publisher eucb:JRC ; dct:license eul:CC_BY_4_0 ; bibo:doi "10.2760/162795" ;
            bibo:authorList _:cell .
        _:cell rdf:first person:colin-van-noordt, person:colin-van-noordt-2 ; rdf:rest rdf:nil .
        person:colin-van-noordt-2 a foaf:Person ; foaf:name "C. van Noordt" ; foaf:familyName "van Noordt" .""",
        {V("report:jrc1", "bibo:authorList")}),
    # --- aiw:Workshop, schema:EventSeries ----------------------------------------------------------------------
    Example("workshop-minimal", ("WorkshopShape", "EventSeriesShape"), """
        workshop:plw-2 a aiw:Workshop ; schema:name "2nd Peer Learning Workshop"@en ;
            aiw:seriesNumber "2"^^xsd:positiveInteger ; schema:superEvent series:plw .
        series:plw a schema:EventSeries ; schema:name "Peer Learning Workshops"@en .""",
        {W("workshop:plw-2", "schema:startDate")}),
    Example("workshop-missing", ("WorkshopShape",), """
        workshop:plw-3 a aiw:Workshop .""", {
        V("workshop:plw-3", "schema:name"), V("workshop:plw-3", "aiw:seriesNumber"),
        W("workshop:plw-3", "schema:startDate"), W("workshop:plw-3", "schema:superEvent")}),
    # Stores canonicalise integer subtypes to xsd:integer (Oxigraph does): whole numbers as read back conform.
    Example("workshop-counts-as-xsd-integer", ("WorkshopShape",), """
        workshop:plw-3 a aiw:Workshop ; schema:name "3rd"@en ; aiw:seriesNumber 3 ; aiw:participantCount 80 ;
            aiw:memberStateCount 0 ; schema:startDate "2021-06-24"^^xsd:date ; schema:superEvent series:plw .
        workshop:plw-4 a aiw:Workshop ; schema:name "4th"@en ; aiw:seriesNumber "4"^^xsd:nonNegativeInteger ;
            aiw:participantCount "86"^^xsd:positiveInteger ; aiw:memberStateCount "24"^^xsd:integer ;
            schema:startDate "2022-06-24"^^xsd:date ; schema:superEvent series:plw .
        series:plw a schema:EventSeries ; schema:name "Peer Learning Workshops"@en .""", set()),
    Example("workshop-counts-out-of-range", ("WorkshopShape",), """
        workshop:plw-5 a aiw:Workshop ; schema:name "5th"@en ; aiw:seriesNumber 0 ; aiw:participantCount 0 ;
            aiw:memberStateCount 20 ; schema:startDate "2022-06-24"^^xsd:date ; schema:superEvent series:plw .
        workshop:plw-6 a aiw:Workshop ; schema:name "6th"@en ; aiw:seriesNumber "6"^^xsd:positiveInteger ;
            aiw:participantCount "0"^^xsd:nonNegativeInteger ; aiw:memberStateCount -1 ;
            schema:startDate "2022-06-24"^^xsd:date ; schema:superEvent series:plw .
        workshop:plw-7 a aiw:Workshop ; schema:name "7th"@en ; aiw:seriesNumber "-7"^^xsd:positiveInteger ;
            aiw:participantCount -40 ; aiw:memberStateCount "20"^^xsd:decimal ;
            schema:startDate "2022-06-24"^^xsd:date ; schema:superEvent series:plw .
        workshop:plw-8 a aiw:Workshop ; schema:name "8th"@en ; aiw:seriesNumber 8.0 ; aiw:participantCount "80" ;
            schema:startDate "2022-06-24"^^xsd:date ; schema:superEvent series:plw .
        series:plw a schema:EventSeries ; schema:name "Peer Learning Workshops"@en .""", {
        V("workshop:plw-5", "aiw:seriesNumber"), V("workshop:plw-5", "aiw:participantCount"),
        V("workshop:plw-6", "aiw:participantCount"), V("workshop:plw-6", "aiw:memberStateCount"),
        V("workshop:plw-7", "aiw:seriesNumber"), V("workshop:plw-7", "aiw:participantCount"),
        V("workshop:plw-7", "aiw:memberStateCount"),
        V("workshop:plw-8", "aiw:seriesNumber"), V("workshop:plw-8", "aiw:participantCount")},
        messages={"aiw:participantCount": "whole number from 1", "aiw:seriesNumber": "whole number from 1"}),
    Example("workshop-bad-values", ("WorkshopShape",), """
        workshop:plw-3 a aiw:Workshop ; schema:name "3rd workshop"@en ; aiw:seriesNumber "3"^^xsd:positiveInteger ;
            schema:startDate "24 June 2021" ; schema:endDate "2021-06-24"^^xsd:date, "2021-06-25"^^xsd:date ;
            schema:eventAttendanceMode "online" ; aiw:participantCount "almost 80" ; aiw:memberStateCount -1 ;
            schema:organizer organisation:untyped ; schema:subEvent session:untyped ; aiw:topic "no tag" ;
            aiw:experience experience:untyped ; aiw:presentedProgramme programme:untyped ;
            aiw:report report:untyped ; schema:superEvent series:untyped .""", {
        V("workshop:plw-3", "schema:startDate"), V("workshop:plw-3", "schema:endDate"),
        V("workshop:plw-3", "schema:eventAttendanceMode"), V("workshop:plw-3", "aiw:participantCount"),
        V("workshop:plw-3", "aiw:memberStateCount"), V("workshop:plw-3", "schema:organizer"),
        V("workshop:plw-3", "schema:subEvent"), V("workshop:plw-3", "aiw:topic"),
        V("workshop:plw-3", "aiw:experience"), V("workshop:plw-3", "aiw:presentedProgramme"),
        V("workshop:plw-3", "aiw:report"), V("workshop:plw-3", "schema:superEvent")}),
    Example("event-series-without-name", ("EventSeriesShape",), """
        series:plw a schema:EventSeries ; schema:name "Peer Learning Workshops" .""",
        {V("series:plw", "schema:name")}),
    # --- aiw:WorkshopSession -----------------------------------------------------------------------------------
    Example("session-valid", ("WorkshopSessionShape",), PERSON + """
        workshop:plw-3 a aiw:Workshop ; schema:name "3rd"@en ; aiw:seriesNumber "3"^^xsd:positiveInteger ;
            schema:startDate "2021-06-24"^^xsd:date ; schema:superEvent series:plw ; schema:subEvent session:plw-3-1 .
        series:plw a schema:EventSeries ; schema:name "Peer Learning Workshops"@en .
        session:plw-3-1 a aiw:WorkshopSession ; schema:name "Share & Validate"@en ;
            schema:startDate "2021-06-24T10:25:00+02:00"^^xsd:dateTime ; schema:position 1 ;
            aiw:chair person:colin-van-noordt .""", set()),
    Example("session-bad", ("WorkshopSessionShape",), """
        session:plw-3-1 a aiw:WorkshopSession ; schema:name "Share & Validate"@en ;
            schema:startDate "2021-06-24T10:25:00"^^xsd:dateTime ; schema:position "1" ;
            aiw:chair "Gudrun Stock" ; aiw:moderator person:untyped ; schema:performer person:untyped ;
            schema:description "no tag" .
        session:plw-3-2 a aiw:WorkshopSession .""", {
        V("session:plw-3-1", "schema:startDate"), V("session:plw-3-1", "schema:position"),
        V("session:plw-3-1", "aiw:chair"), V("session:plw-3-1", "aiw:moderator"),
        V("session:plw-3-1", "schema:performer"), V("session:plw-3-1", "schema:description"),
        W("session:plw-3-1", "^schema:subEvent"),
        V("session:plw-3-2", "schema:name"), V("session:plw-3-2", "schema:startDate"),
        W("session:plw-3-2", "^schema:subEvent")},
        messages={"schema:startDate": "time-zone offset"}),
    # --- aiw:MemberStateExperience -----------------------------------------------------------------------------
    Example("experience-valid", ("MemberStateExperienceShape",), MEMBER_STATE_ESP + """
        experience:plw-3-esp a aiw:MemberStateExperience ; aiw:memberState ms:esp ;
            dct:description "Spain shared its use of AI in the employment service."@en .""",
        {W("experience:plw-3-esp", "^aiw:experience")}),
    Example("experience-bad", ("MemberStateExperienceShape",), """
        experience:plw-3-esp a aiw:MemberStateExperience ; aiw:memberState euc:ESP ;
            dct:description "Spain"@en, "España"@es .""", {
        V("experience:plw-3-esp", "aiw:memberState"), V("experience:plw-3-esp", "dct:description"),
        W("experience:plw-3-esp", "^aiw:experience")}),
    # --- aiw:MemberState, aiw:Membership -----------------------------------------------------------------------
    Example("member-state-valid", ("MemberStateShape",), MEMBER_STATE_ESP + """
        ms:che a aiw:MemberState ; skos:prefLabel "Switzerland"@en ; aiw:iso3166Alpha2 "CH" ;
            aiw:iso3166Alpha3 "CHE" ; owl:sameAs euc:CHE ; aiw:membership aiw:AssociatedCountry .""", set()),
    Example("member-state-bad-codes", ("MemberStateShape",), """
        ms:esp a aiw:MemberState ; skos:prefLabel "Spain" ; aiw:iso3166Alpha2 "es" ; aiw:iso3166Alpha3 "ESPA" ;
            owl:sameAs <http://www.wikidata.org/entity/Q29> ; aiw:membership aiw:Member .
        ms:nor a aiw:MemberState ; skos:prefLabel "Norway"@en .""", {
        V("ms:esp", "skos:prefLabel"), V("ms:esp", "aiw:iso3166Alpha2"), V("ms:esp", "aiw:iso3166Alpha3"),
        W("ms:esp", "aiw:iso3166Alpha3"), V("ms:esp", "owl:sameAs"), V("ms:esp", "aiw:membership"),
        V("ms:nor", "aiw:iso3166Alpha2"), V("ms:nor", "aiw:iso3166Alpha3"), V("ms:nor", "owl:sameAs"),
        V("ms:nor", "aiw:membership")},
        messages={"owl:sameAs": "EU country authority IRI"}),
    Example("member-state-inconsistent", ("MemberStateShape",), """
        ms:spain a aiw:MemberState ; skos:prefLabel "Spain"@en ; aiw:iso3166Alpha2 "ES" ;
            aiw:iso3166Alpha3 "ESP" ; owl:sameAs euc:PRT ; aiw:membership aiw:EUMember .""", {
        V("ms:spain", "owl:sameAs"), W("ms:spain", "aiw:iso3166Alpha3")},
        messages={"owl:sameAs": "is not the EU country authority IRI of aiw:iso3166Alpha3 ESP",
                  "aiw:iso3166Alpha3": "id:member-state/{alpha-3 in lower case}"}),
    Example("membership-valid", ("MembershipShape",), """
        aiw:EUMember a aiw:Membership ; rdfs:label "EU Member State"@en ; skos:definition "A member."@en .""",
        set()),
    Example("membership-bad", ("MembershipShape",), """
        aiw:Candidate a aiw:Membership ; rdfs:label "candidate" .""", {
        V("aiw:Candidate"), V("aiw:Candidate", "rdfs:label"), W("aiw:Candidate", "skos:definition")}),
    # --- aiw:NationalAIStrategy --------------------------------------------------------------------------------
    Example("strategy-valid", ("NationalAIStrategyShape",), MEMBER_STATE_ESP + """
        strategy:swe-2019 a aiw:NationalAIStrategy ; dct:title "Nationell inriktning för artificiell intelligens"@sv ;
            aiw:memberState ms:esp ; dct:issued "2019"^^xsd:gYear ; dct:source <https://www.unive.it/pag/37736/> .
        strategy:esp-2020 a aiw:NationalAIStrategy ; dct:title "Estrategia"@es ; aiw:memberState ms:esp ;
            dct:issued "2020-12-02"^^xsd:date ; dct:source <https://example.org/esp> ;
            dct:publisher organisation:es-government .""", set()),
    Example("strategy-bad", ("NationalAIStrategyShape",), """
        strategy:esp-2020 a aiw:NationalAIStrategy ; dct:title "Estrategia" ; dct:issued "2020" ;
            dct:publisher "Government of Spain" ; dct:source "a web page" .
        strategy:esp-2021 a aiw:NationalAIStrategy ; dct:title "A"@en, "B"@es ; aiw:memberState ms:esp, ms:prt .""",
        {V("strategy:esp-2020", "dct:title"), V("strategy:esp-2020", "aiw:memberState"),
         V("strategy:esp-2020", "dct:issued"), V("strategy:esp-2020", "dct:publisher"),
         V("strategy:esp-2020", "dct:source"),
         V("strategy:esp-2021", "dct:title"), V("strategy:esp-2021", "aiw:memberState"),
         W("strategy:esp-2021", "dct:source")}),
    # --- aiw:Programme -----------------------------------------------------------------------------------------
    Example("programme-valid", ("ProgrammeShape",), """
        programme:adopt-ai a aiw:Programme ; skos:prefLabel "Adopt AI programme"@en ;
            dct:description "Reinforces the uptake of AI in the public sector."@en .""", set()),
    Example("programme-bad", ("ProgrammeShape",), """
        programme:adopt-ai a aiw:Programme ; dct:title "Adopt AI"@de .
        [] a aiw:Programme ; skos:prefLabel "A programme without IRI"@en ; dct:description "Described."@en .""", {
        V("programme:adopt-ai", "skos:prefLabel"), V("programme:adopt-ai", "dct:title"),
        W("programme:adopt-ai", "dct:description"), V("_:")},
        messages={"": "must be named by an IRI"}),
    # --- aiw:AIUseCase and its coded values --------------------------------------------------------------------
    Example("case-minimal", ("AIUseCaseShape", "SourceDatasetShape"), PSTW + """
        case:pstw-1 a aiw:AIUseCase ; dct:title "A chatbot"@en ; dct:identifier "PSTW-1" ;
            aiw:sourceDataset dataset:pstw .""", {W("case:pstw-1", "dct:description")}),
    Example("case-complete", ("AIUseCaseShape", "SourceDatasetShape") + tuple(
        f"ConceptOf{s}" for s in ("Status", "CofogLevel1", "CofogLevel2", "GeographicExtent", "ProcessType",
                                  "ApplicationType", "Interaction", "AITechnology", "Impact",
                                  "CollaborationType", "FundingSource")), PSTW + MEMBER_STATE_ESP + """
        case:pstw-1 a aiw:AIUseCase ; dct:title "A chatbot"@en ; dct:identifier "PSTW-1" ;
            aiw:sourceDataset dataset:pstw ; dct:description "A chatbot."@en ; aiw:memberState ms:esp ;
            dct:spatial euc:ESP, euc:UKR ; aiw:status c-status:pilot ; aiw:cofogFunction c-cofog:04 ;
            aiw:cofogSubfunction c-cofog:04-1 ; aiw:geographicExtent c-geographic-extent:national ;
            aiw:processType c-process-type:public-services-and-engagement ;
            aiw:applicationType c-application-type:service-personalisation ; aiw:interaction c-interaction:g2c ;
            aiw:aiTechnology c-ai-technology:natural-language-processing, c-ai-technology:machine-learning ;
            aiw:impact c-impact:improved-quality ; aiw:collaborationType c-collaboration-type:private-corporation ;
            aiw:fundingSource c-funding-source:national-funded-project ; aiw:crossBorder true ;
            aiw:crossSector false ; aiw:startYear "2019"^^xsd:gYear ; aiw:endYear "2020"^^xsd:gYear ;
            foaf:page <https://example.org/chatbot> ; dcat:keyword "chatbot"@en ;
            dct:modified "2024-03-01"^^xsd:date ; dct:source "Survey 2023", <https://example.org/source> ;
            aiw:nuts "ES30" .""", set(), concepts=True),
    Example("case-coded-values", ("AIUseCaseShape",) + tuple(
        f"ConceptOf{s}" for s in ("Status", "CofogLevel1", "CofogLevel2", "GeographicExtent", "ProcessType",
                                  "ApplicationType", "Interaction", "AITechnology", "Impact",
                                  "CollaborationType", "FundingSource")), PSTW + """
        case:pstw-1 a aiw:AIUseCase ; dct:title "A chatbot"@en ; dct:identifier "PSTW-1" ;
            aiw:sourceDataset dataset:pstw ; dct:description "A chatbot."@en ;
            aiw:status c-interaction:g2c ; aiw:cofogFunction c-cofog:04-1 ; aiw:cofogSubfunction c-cofog:04 ;
            aiw:geographicExtent c-status:pilot ; aiw:processType c-status:pilot ;
            aiw:applicationType c-status:pilot ; aiw:interaction c-status:pilot ;
            aiw:aiTechnology c-ai-technology:machine-learning, c-status:pilot ; aiw:impact c-status:pilot ;
            aiw:collaborationType c-status:pilot ; aiw:fundingSource c-status:pilot .
        case:pstw-2 a aiw:AIUseCase ; dct:title "Another"@en ; dct:identifier "PSTW-2" ;
            aiw:sourceDataset dataset:pstw ; dct:description "Another."@en ;
            aiw:status c-status:pilot, c-status:unknown ; aiw:interaction "G2C" .""", {
        V("case:pstw-1", "aiw:status"), V("case:pstw-1", "aiw:cofogFunction"),
        V("case:pstw-1", "aiw:cofogSubfunction"), V("case:pstw-1", "aiw:geographicExtent"),
        V("case:pstw-1", "aiw:processType"), V("case:pstw-1", "aiw:applicationType"),
        V("case:pstw-1", "aiw:interaction"), V("case:pstw-1", "aiw:aiTechnology"), V("case:pstw-1", "aiw:impact"),
        V("case:pstw-1", "aiw:collaborationType"), V("case:pstw-1", "aiw:fundingSource"),
        V("case:pstw-2", "aiw:status"), V("case:pstw-2", "aiw:interaction"),
        W("dataset:pstw", "^aiw:sourceDataset")},
        concepts=True,
        messages={"aiw:status": "https://w3id.org/aiwatch/concept/status", "aiw:cofogFunction": "level I"}),
    Example("case-bad-values", ("AIUseCaseShape",), """
        case:aiwatch-2021-001 a aiw:AIUseCase ; dct:title "A"@en, "B"@en ; dct:identifier 90017 ;
            aiw:sourceDataset dataset:untyped ; dct:description "no tag" ; aiw:memberState euc:ESP ;
            dct:spatial "Spain", <https://www.geonames.org/2510769> ;
            aiw:responsibleOrganisation organisation:untyped ; aiw:crossBorder "Yes" ; aiw:crossSector 1 ;
            aiw:startYear 2019 ; aiw:endYear "2021-01-01"^^xsd:date ; foaf:page "www.example.org" ;
            dcat:keyword "chatbot" ; dct:modified "2024"^^xsd:gYear ; aiw:nuts "DE, IT" ;
            dct:source _:blank .
        case:aiwatch-2021-002 a aiw:AIUseCase .""", {
        V("case:aiwatch-2021-001", "dct:title"), V("case:aiwatch-2021-001", "dct:identifier"),
        V("case:aiwatch-2021-001", "aiw:sourceDataset"), V("case:aiwatch-2021-001", "dct:description"),
        V("case:aiwatch-2021-001", "aiw:memberState"), V("case:aiwatch-2021-001", "dct:spatial"),
        V("case:aiwatch-2021-001", "aiw:responsibleOrganisation"), V("case:aiwatch-2021-001", "aiw:crossBorder"),
        V("case:aiwatch-2021-001", "aiw:crossSector"), V("case:aiwatch-2021-001", "aiw:startYear"),
        V("case:aiwatch-2021-001", "aiw:endYear"), V("case:aiwatch-2021-001", "foaf:page"),
        V("case:aiwatch-2021-001", "dcat:keyword"), V("case:aiwatch-2021-001", "dct:modified"),
        W("case:aiwatch-2021-001", "aiw:nuts"), V("case:aiwatch-2021-001", "dct:source"),
        V("case:aiwatch-2021-002", "dct:title"), V("case:aiwatch-2021-002", "dct:identifier"),
        V("case:aiwatch-2021-002", "aiw:sourceDataset"), W("case:aiwatch-2021-002", "dct:description"),
        V("dataset:untyped", "dct:title"), V("dataset:untyped", "dct:license"),
        V("dataset:untyped", "dct:publisher"), W("dataset:untyped", "dct:source")}),
    # --- source datasets ---------------------------------------------------------------------------------------
    Example("dataset-checks-across-cases", ("SourceDatasetShape",), PSTW + """
        case:pstw-1 a aiw:AIUseCase ; dct:title "A"@en ; dct:identifier "PSTW-1" ; aiw:sourceDataset dataset:pstw ;
            dct:description "A."@en ; aiw:startYear "2021"^^xsd:gYear ; aiw:endYear "2019"^^xsd:gYear ;
            aiw:cofogFunction c-cofog:04 ; aiw:cofogSubfunction c-cofog:07-4 .
        c-cofog:07 a skos:Concept ; skos:inScheme concept:cofog ; skos:topConceptOf concept:cofog ;
            skos:prefLabel "Health"@en ; skos:notation "07" .
        c-cofog:07-4 a skos:Concept ; skos:inScheme concept:cofog ; skos:broader c-cofog:07 ;
            skos:prefLabel "Public health services"@en ; skos:notation "07.4" .
        case:pstw-2 a aiw:AIUseCase ; dct:title "B"@en ; dct:identifier "PSTW-2" ; aiw:sourceDataset dataset:pstw ;
            dct:description "B."@en ; aiw:startYear "2019"^^xsd:gYear ; aiw:endYear "2019"^^xsd:gYear ;
            aiw:cofogFunction c-cofog:04 ; aiw:cofogSubfunction c-cofog:04-1 .""", {
        W("dataset:pstw", "^aiw:sourceDataset")},
        concepts=("cofog",),
        messages={"^aiw:sourceDataset": "case/pstw-1"}),
    Example("dataset-bad", ("SourceDatasetShape",), """
        dataset:pstw a dcat:Dataset ; dct:title "PSTW"@fr, "PSTW 2"@fr ; dct:license "CC-BY-4.0" .
        case:pstw-1 a aiw:AIUseCase ; dct:title "A"@en ; dct:identifier "PSTW-1" ; aiw:sourceDataset dataset:pstw ;
            dct:description "A."@en .""", {
        V("dataset:pstw", "dct:title"), V("dataset:pstw", "dct:license"), V("dataset:pstw", "dct:publisher"),
        W("dataset:pstw", "dct:source")}),
    # --- skos:ConceptScheme, skos:Concept ----------------------------------------------------------------------
    Example("concepts-valid", ("ConceptSchemeShape", "ConceptShape"), "", set(), concepts=True),
    Example("scheme-bad", ("ConceptSchemeShape",), """
        concept:status a skos:ConceptScheme ; skos:prefLabel "Status" ; skos:hasTopConcept ex:untyped .
        c-status:pilot a skos:Concept ; skos:inScheme concept:status ; skos:prefLabel "Pilot"@en ;
            skos:altLabel "pilot project "@en ; skos:notation "pilot" .
        c-status:pilot-project a skos:Concept ; skos:inScheme concept:status ; skos:prefLabel "Pilot project."@en ;
            skos:notation "pilot-project" .
        concept:status-in-development a skos:Concept ; skos:inScheme concept:status ;
            skos:prefLabel "In development"@en ; skos:notation "in-development" ; skos:broader c-cofog:04 .
        c-cofog:04 a skos:Concept ; skos:inScheme concept:cofog ; skos:prefLabel "Economic affairs"@en ;
            skos:notation "04" .
        concept:cofog a skos:ConceptScheme ; skos:prefLabel "COFOG"@en ; dct:title "COFOG"@en ;
            dct:source "UN" .""", {
        V("concept:status", "skos:prefLabel"), V("concept:status", "dct:title"), V("concept:status", "dct:source"),
        V("concept:status", "skos:hasTopConcept"), W("concept:status", "^skos:inScheme"),
        V("concept:status", "^skos:inScheme")},
        messages={"^skos:inScheme": "status-in-development"}),
    Example("concept-bad", ("ConceptShape",), """
        concept:status a skos:ConceptScheme ; skos:prefLabel "Status"@en ; dct:title "Status"@en ;
            dct:source "PSTW" .
        c-status:pilot a skos:Concept ; skos:inScheme concept:status ; skos:prefLabel "Pilote"@fr ;
            skos:notation 1 ; skos:altLabel "pilot" ; skos:hiddenLabel "PILOT" ; skos:topConceptOf ex:untyped .
        c-status:planned a skos:Concept ; skos:prefLabel "Planned"@en, "Foreseen"@en ; skos:broader ex:untyped .
        """, {
        V("c-status:pilot", "skos:prefLabel"), V("c-status:pilot", "skos:notation"),
        V("c-status:pilot", "skos:altLabel"), V("c-status:pilot", "skos:hiddenLabel"),
        V("c-status:pilot", "skos:topConceptOf"),
        V("c-status:planned", "skos:prefLabel"), V("c-status:planned", "skos:notation"),
        V("c-status:planned", "skos:inScheme"), V("c-status:planned", "skos:broader")}),
    # --- foaf:Person, org:Organization -------------------------------------------------------------------------
    Example("person-valid", ("PersonShape", "OrganizationShape"), """
        person:gudrun-stock a foaf:Person ; foaf:name "Gudrun Stock" ; foaf:givenName "Gudrun" ;
            foaf:familyName "Stock" ; schema:jobTitle "Deputy Head of Unit"@en ; org:memberOf organisation:cnect .
        organisation:cnect a org:Organization ; skos:prefLabel "DG CONNECT"@en ; owl:sameAs eucb:CNECT .""",
        set()),
    Example("person-bad", ("PersonShape",), """
        person:x a foaf:Person ; foaf:givenName "A", "B" ; schema:jobTitle "Head" ; org:memberOf eucb:CNECT .""", {
        V("person:x", "foaf:name"), V("person:x", "foaf:givenName"), V("person:x", "schema:jobTitle"),
        V("person:x", "org:memberOf"), W("person:x", "foaf:familyName")}),
    Example("organisation-valid", ("OrganizationShape", "ConceptOfOrganisationCategory"), """
        organisation:ministry a org:Organization, foaf:Organization ; skos:prefLabel "Ministry"@en, "Ministerio"@es ;
            aiw:organisationCategory c-organisation-category:central-government .""", set(),
        concepts=("organisation-category",)),
    Example("organisation-bad", ("OrganizationShape", "ConceptOfOrganisationCategory"), """
        organisation:ministry a org:Organization ; skos:prefLabel "Ministry"@en, "Ministry of X"@en ;
            aiw:organisationCategory c-status:pilot ; owl:sameAs "JRC" .
        organisation:nameless a org:Organization ; foaf:name "Nameless" .""", {
        V("organisation:ministry", "skos:prefLabel"), V("organisation:ministry", "aiw:organisationCategory"),
        V("organisation:ministry", "owl:sameAs"), V("organisation:nameless", "skos:prefLabel")},
        concepts=("organisation-category", "status")),
]


def example_graph(example: Example) -> Graph:
    data = Graph().parse(data=PREFIXES + example.turtle, format="turtle")
    if example.concepts:
        data += concepts_graph(() if example.concepts is True else example.concepts)
    return data


def message_templates(shape) -> list[str]:
    """The sh:message texts of a shape and of its SPARQL constraints, as regular expressions ({?x} = any text)."""
    shapes = shapes_graph()
    messages = list(shapes.objects(shape, SH.message))
    for constraint in shapes.objects(shape, SH.sparql):
        messages += list(shapes.objects(constraint, SH.message))
    return [re.sub(r"\\\{\\\?\w+\\\}", ".*", re.escape(str(m))) for m in messages]


@cache
def results_of(name: str) -> tuple[bool, list[Result]]:
    (example,) = (e for e in EXAMPLES if e.name == name)
    return run(example_graph(example))


def test_example_names_are_unique() -> None:
    assert len({e.name for e in EXAMPLES}) == len(EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example(example: Example) -> None:
    conforms, results = results_of(example.name)
    found = {r.key for r in results}
    assert found == example.expected, (
        f"missing: {sorted(example.expected - found)}\nunexpected: {sorted(found - example.expected)}")
    assert conforms == example.conforms
    for result in results:
        assert result.message and "{?" not in result.message and "{$" not in result.message, result
        assert any(re.fullmatch(template, result.message) for template in message_templates(result.source_shape)), (
            f"{result.key}: not one of the curated messages of its shape: {result.message}")
    for path, text in example.messages.items():
        messages = [r.message for r in results if r.path == path]
        assert any(text in m for m in messages), (path, messages)
    # the results come from the shapes the example is about
    if results:
        exercised = set().union(*(owner_shapes(r.source_shape) for r in results))
        named = {compact(s).removeprefix("aiwsh:") for s in exercised}
        assert named & set(example.shapes), (example.shapes, named)


@pytest.mark.parametrize("shape", node_shapes(), ids=compact)
def test_every_node_shape_has_a_conforming_and_a_violating_example(shape: URIRef) -> None:
    name = compact(shape).removeprefix("aiwsh:")
    about = [e for e in EXAMPLES if name in e.shapes]
    assert any(not e.conforms for e in about), f"no violating example for {name}"
    assert any(e.conforms for e in about), f"no conforming example for {name}"


@pytest.mark.parametrize("shape", node_shapes(), ids=compact)
def test_every_node_shape_is_the_source_of_a_reported_violation(shape: URIRef) -> None:
    name = compact(shape).removeprefix("aiwsh:")
    for example in (e for e in EXAMPLES if name in e.shapes and not e.conforms):
        _, results = results_of(example.name)
        if any(shape in owner_shapes(r.source_shape) for r in results if r.severity == "V"):
            return
    pytest.fail(f"no example makes {name} report a violation")
