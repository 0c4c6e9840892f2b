"""HTML rendering helpers: from a description to a page people like to read.

Everything here is plain data for the templates (``templates/resource.html``, ``ontology.html``): names instead of
IRIs (labels from the graph, then from :data:`VOCABULARY_LABELS` for the reused vocabularies the store does not
hold), properties in a reading order, dates and language tags rendered, authors in order, DOIs and authority IRIs as
outbound links, and the schema.org JSON-LD that search engines read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pyoxigraph import BlankNode, Literal, NamedNode

from ..describe import RDF_TYPE, Description, GraphView, InverseLinks, Term, preferred_literal
from ..formats import Format
from ..namespaces import (
    BIBO,
    DCAT,
    DCTERMS,
    DEFAULT_BASE,
    EU_AUTHORITY,
    FOAF,
    ORG,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SH,
    SKOS,
    VOID,
    XSD,
)
from .iris import IriMapper

ADMS = "http://www.w3.org/ns/adms#"
AIW = PREFIXES["aiw"]

#: Prefixes for compact names shown next to labels (hover titles, the ontology page).
DISPLAY_PREFIXES: dict[str, str] = {
    **PREFIXES,
    "aiwsh": DEFAULT_BASE + "shapes#", "adms": ADMS, "sh": str(SH), "vann": "http://purl.org/vocab/vann/",
    "eul": EU_AUTHORITY + "licence/", "eucb": EU_AUTHORITY + "corporate-body/",
    "eulang": EU_AUTHORITY + "language/", "eufile": EU_AUTHORITY + "file-type/",
}

#: Human names of formats, by the short name of graph_service.formats.
FORMAT_LABELS: dict[str, str] = {
    "html": "HTML", "ttl": "Turtle", "jsonld": "JSON-LD", "rdf": "RDF/XML", "nt": "N-Triples",
    "trig": "TriG", "nq": "N-Quads", "n3": "N3",
}

# Names of the terms of reused vocabularies (their vocabularies are not loaded into the store).
_V = {
    RDF.type: "type", RDFS.label: "label", RDFS.comment: "comment", RDFS.seeAlso: "see also",
    RDFS.subClassOf: "subclass of", RDFS.subPropertyOf: "subproperty of", RDFS.domain: "domain",
    RDFS.range: "range", RDFS.isDefinedBy: "defined by", OWL.sameAs: "same as", OWL.inverseOf: "inverse of",
    OWL.equivalentClass: "equivalent class", OWL.unionOf: "union of", OWL.oneOf: "one of",
    OWL.versionInfo: "version", OWL.versionIRI: "version IRI", RDF.subject: "subject", RDF.predicate: "predicate",
    RDF.object: "object", RDF.first: "first", RDF.rest: "rest",
    DCTERMS.title: "title", DCTERMS.alternative: "alternative title", DCTERMS.description: "description",
    DCTERMS.abstract: "abstract", DCTERMS.issued: "published", DCTERMS.modified: "last modified",
    DCTERMS.created: "created", DCTERMS.publisher: "publisher", DCTERMS.creator: "creator",
    DCTERMS.contributor: "contributor", DCTERMS.license: "licence", DCTERMS.rights: "rights",
    DCTERMS.rightsHolder: "rights holder", DCTERMS.language: "language", DCTERMS.identifier: "identifier",
    DCTERMS.source: "source", DCTERMS.subject: "subject", DCTERMS.spatial: "countries",
    DCTERMS.temporal: "period", DCTERMS.bibliographicCitation: "citation", DCTERMS.isPartOf: "part of",
    DCTERMS.hasPart: "has part", DCTERMS.hasFormat: "other formats", DCTERMS.format: "format",
    DCTERMS.conformsTo: "conforms to", DCTERMS.accrualPeriodicity: "update frequency",
    BIBO.authorList: "authors", BIBO.doi: "DOI", BIBO.isbn13: "ISBN", BIBO.isbn: "ISBN",
    BIBO.number: "report number", BIBO.Report: "Report",
    FOAF.name: "name", FOAF.givenName: "given name", FOAF.familyName: "family name", FOAF.page: "web page",
    FOAF.homepage: "home page", FOAF.primaryTopic: "primary topic", FOAF.Person: "Person",
    FOAF.Organization: "Organisation", FOAF.Document: "Document", FOAF.Project: "Project",
    ORG.Organization: "Organisation", ORG.OrganizationalUnit: "Organisational unit", ORG.memberOf: "member of",
    ORG.subOrganizationOf: "part of", ORG.unitOf: "unit of", ORG.hasUnit: "units",
    SKOS.prefLabel: "preferred label", SKOS.altLabel: "also called", SKOS.hiddenLabel: "spelling variants",
    SKOS.notation: "code", SKOS.definition: "definition", SKOS.scopeNote: "scope note", SKOS.note: "note",
    SKOS.editorialNote: "editorial note", SKOS.inScheme: "in scheme", SKOS.broader: "broader",
    SKOS.narrower: "narrower", SKOS.related: "related", SKOS.topConceptOf: "top concept of",
    SKOS.hasTopConcept: "top concepts", SKOS.exactMatch: "exact match", SKOS.closeMatch: "close match",
    SKOS.Concept: "Concept", SKOS.ConceptScheme: "Concept scheme",
    SCHEMA.name: "name", SCHEMA.alternateName: "also called", SCHEMA.description: "description",
    SCHEMA.startDate: "start", SCHEMA.endDate: "end", SCHEMA.location: "location", SCHEMA.organizer: "organisers",
    SCHEMA.performer: "speakers", SCHEMA.subEvent: "programme", SCHEMA.superEvent: "part of",
    SCHEMA.eventAttendanceMode: "attendance", SCHEMA.position: "position", SCHEMA.url: "web page",
    SCHEMA.jobTitle: "job title", SCHEMA.Event: "Event", SCHEMA.EventSeries: "Event series",
    SCHEMA.Country: "Country", SCHEMA.Place: "Place", SCHEMA.CreativeWork: "Creative work",
    SCHEMA.OnlineEventAttendanceMode: "online", SCHEMA.OfflineEventAttendanceMode: "in person",
    SCHEMA.MixedEventAttendanceMode: "online and in person",
    SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info", SH.IRI: "IRI", SH.Literal: "literal",
    SH.BlankNode: "blank node", SH.BlankNodeOrIRI: "blank node or IRI", SH.IRIOrLiteral: "IRI or literal",
    SH.targetClass: "target class", SH.targetNode: "target node", SH.targetSubjectsOf: "target subjects of",
    SH.targetObjectsOf: "target objects of", SH.nodeKind: "node kind", SH.message: "message",
    SH.severity: "severity", SH.datatype: "datatype", SH["class"]: "class", SH.node: "shape", SH["in"]: "one of",
    SH.pattern: "pattern", SH.languageIn: "languages", SH.uniqueLang: "one per language", SH.hasValue: "value",
    SH.sparql: "SPARQL constraint", SH.closed: "closed", SH.declare: "prefixes",
    DCAT.Dataset: "Dataset", DCAT.Distribution: "Distribution", DCAT.Catalog: "Catalogue",
    DCAT.keyword: "keywords", DCAT.theme: "themes", DCAT.distribution: "distributions",
    DCAT.landingPage: "landing page", DCAT.downloadURL: "download", DCAT.accessURL: "access",
    DCAT.mediaType: "media type", DCAT.contactPoint: "contact", DCAT.dataset: "datasets",
    PROV.Entity: "Entity", PROV.wasDerivedFrom: "derived from", PROV.wasGeneratedBy: "generated by",
    PROV.generatedAtTime: "generated", PROV.wasAttributedTo: "attributed to",
    VOID.Dataset: "Dataset", VOID.triples: "triples",
    OWL.Ontology: "Ontology", OWL.Class: "Class", OWL.ObjectProperty: "Object property",
    OWL.DatatypeProperty: "Datatype property", OWL.AnnotationProperty: "Annotation property",
    OWL.NamedIndividual: "Individual", OWL.FunctionalProperty: "Functional property", RDF.Statement: "Statement",
    RDF.List: "List", SH.NodeShape: "Node shape", SH.PropertyShape: "Property shape",
}
VOCABULARY_LABELS: dict[str, str] = {str(k): v for k, v in _V.items()} | {
    ADMS + "identifier": "other identifier", ADMS + "Identifier": "Identifier",
    "http://purl.org/vocab/vann/preferredNamespacePrefix": "preferred prefix",
    "http://purl.org/vocab/vann/preferredNamespaceUri": "namespace",
}

#: Names of the EU authority codes the data uses where no local resource names them.
AUTHORITY_LABELS: dict[str, str] = {
    EU_AUTHORITY + "licence/CC_BY_4_0": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    EU_AUTHORITY + "licence/CC0": "Creative Commons Zero (CC0)",
    EU_AUTHORITY + "licence/EUPL_1_2": "European Union Public Licence 1.2 (EUPL)",
    EU_AUTHORITY + "language/ENG": "English",
}

_P = {k: str(v) for k, v in {
    "title": DCTERMS.title, "description": DCTERMS.description, "authorList": BIBO.authorList,
    "creator": DCTERMS.creator, "doi": BIBO.doi, "sameAs": OWL.sameAs,
}.items()}

#: Reading order: what a reader looks for first. Properties not listed come after these, by label, and
#: :data:`TRAILING` (provenance, alternative names, notes for curators) close the page.
LEADING: tuple[str, ...] = tuple(str(p) for p in (
    RDF.subject, RDF.predicate, RDF.object,
    DCTERMS.alternative, SCHEMA.alternateName, DCTERMS.description, SCHEMA.description, DCTERMS.abstract,
    SKOS.definition, BIBO.authorList, DCTERMS.creator, DCTERMS.issued, DCTERMS.modified,
    SCHEMA.startDate, SCHEMA.endDate, SCHEMA.eventAttendanceMode, SCHEMA.location, SCHEMA.superEvent,
    SCHEMA.organizer, DCTERMS.publisher,
)) + tuple(AIW + p for p in (
    "memberState", "status", "responsibleOrganisation", "geographicExtent", "cofogFunction", "cofogSubfunction",
    "aiTechnology", "processType", "applicationType", "interaction", "impact", "startYear", "endYear",
    "seriesNumber", "participantCount", "memberStateCount", "topic", "reportOf", "report", "membership",
    "iso3166Alpha2", "iso3166Alpha3",
)) + tuple(str(p) for p in (
    DCTERMS.spatial, DCTERMS.license, BIBO.doi, BIBO.isbn13, BIBO.number, DCTERMS.identifier, SKOS.notation,
    SKOS.inScheme, SKOS.topConceptOf, SKOS.broader, SKOS.narrower, SKOS.hasTopConcept,
))
TRAILING: tuple[str, ...] = tuple(str(p) for p in (
    DCAT.keyword, FOAF.page, SCHEMA.url, DCTERMS.bibliographicCitation, OWL.sameAs, RDFS.seeAlso, DCTERMS.source,
    SKOS.altLabel, SKOS.hiddenLabel, RDFS.comment, SKOS.scopeNote, SKOS.note, SKOS.editorialNote,
))
#: Properties that give a page its title, most preferred first.
TITLE_PROPERTIES: tuple[str, ...] = tuple(str(p) for p in (
    DCTERMS.title, SCHEMA.name, SKOS.prefLabel, FOAF.name, RDFS.label,
))

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_URL = re.compile(r"^https?://\S+$")
_NUMBERED = re.compile(r"^(.*?)(\d+)$")
_MAX_NESTING = 6


# ---------------------------------------------------------------------------------------------------------------
# The page model
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Value:
    """One value of a property as shown: text, maybe a link, maybe nested rows or an ordered list."""

    text: str = ""
    href: str | None = None
    external: bool = False
    lang: str | None = None
    machine: str | None = None  # machine-readable form for <time datetime=...> / <data value=...>
    hint: str | None = None  # a quiet remark: the type of a linked resource, a datatype
    block: bool = False  # long text, shown as paragraphs
    rows: list[Row] | None = None  # a nested blank node
    items: list[Value] | None = None  # an ordered list (rdf:List)

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in re.split(r"\n\s*\n", self.text) if p.strip()]


@dataclass
class Row:
    """A property and its values."""

    label: str
    curie: str
    href: str
    values: list[Value]


@dataclass
class LinkGroup:
    """Resources linking to the page's resource with one property."""

    label: str
    curie: str
    href: str
    count: int
    items: list[Value]
    more_href: str | None = None


@dataclass
class Section:
    """A titled block of rows about a hash IRI described with the resource (``<thing#part>``)."""

    title: str
    anchor: str
    iri: str
    rows: list[Row]


@dataclass
class FormatLink:
    label: str
    href: str
    media_type: str
    name: str


@dataclass
class ResourcePage:
    iri: str  # public IRI of the thing
    title: str
    types: list[Value]
    rows: list[Row]
    sections: list[Section] = field(default_factory=list)
    inverse: list[LinkGroup] = field(default_factory=list)
    formats: list[FormatLink] = field(default_factory=list)
    graphs: list[Value] = field(default_factory=list)
    json_ld: str = ""
    extra: dict = field(default_factory=dict)  # kind-specific blocks (a concept scheme's hierarchy)


# ---------------------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------------------

def curie(iri: str) -> str:
    """``prefix:local`` when a known prefix fits, else the IRI."""
    best = ""
    for prefix, namespace in DISPLAY_PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(DISPLAY_PREFIXES.get(best, "")):
            local = iri[len(namespace):]
            if local and "/" not in local and "#" not in local:
                best = prefix
    return f"{best}:{iri[len(DISPLAY_PREFIXES[best]):]}" if best else iri


def humanise(iri: str) -> str:
    """A readable name from the last segment of an IRI: ``aiTechnology`` -> ``ai technology``, ``NUTS`` stays."""
    local = re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local).replace("_", " ").replace("-", " ").split()
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in words) or local


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def name_of(view: GraphView, term: Term) -> str:
    """The name a reader should see for a resource."""
    if isinstance(term, NamedNode):
        named = view.named(term) if isinstance(view, Description) else view.label(term)
        if named:
            return named
        iri = term.value
        if iri in VOCABULARY_LABELS:
            return VOCABULARY_LABELS[iri]
        if iri in AUTHORITY_LABELS:
            return AUTHORITY_LABELS[iri]
        if iri.startswith("https://doi.org/"):
            return "doi:" + iri[len("https://doi.org/"):]
        if iri.startswith(EU_AUTHORITY):  # ".../authority/country/ESP" -> "ESP (EU country table)"
            table, _, code = iri[len(EU_AUTHORITY):].partition("/")
            return f"{code} (EU {table.replace('-', ' ')} table)" if code else iri
        short = curie(iri)
        return short if short != iri else short_url(iri)
    if isinstance(term, Literal):
        return term.value
    return view.label(term) or "(unnamed)"


def short_url(url: str, limit: int = 60) -> str:
    """A web address as people write it: no scheme, no ``www.``, long paths cut with an ellipsis."""
    text = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def property_label(view: GraphView, predicate: str) -> str:
    return capitalise(view.label(NamedNode(predicate)) or VOCABULARY_LABELS.get(predicate) or humanise(predicate))


def type_label(view: GraphView, type_: NamedNode) -> str:
    return capitalise(view.label(type_) or VOCABULARY_LABELS.get(type_.value) or humanise(type_.value))


# ---------------------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------------------

def format_date(lexical: str, datatype: str) -> tuple[str, str] | None:
    """(human text, machine value) for the XSD date types, or ``None`` when the lexical form is not valid."""
    try:
        if datatype == str(XSD.date):
            day = date.fromisoformat(lexical[:10])
            return f"{day.day} {_MONTHS[day.month - 1]} {day.year}", lexical
        if datatype == str(XSD.dateTime):
            moment = datetime.fromisoformat(lexical.replace("Z", "+00:00"))
            text = f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}"
            if moment.utcoffset() is not None:
                offset = moment.strftime("%z")
                text += " UTC" if offset == "+0000" else f" (UTC{offset[:3]}:{offset[3:]})"
            return text, lexical
        if datatype == str(XSD.gYearMonth):
            year, month = lexical[:7].split("-")
            return f"{_MONTHS[int(month) - 1]} {year}", lexical
        if datatype == str(XSD.gYear):
            return str(int(lexical[:4])), lexical
    except (ValueError, IndexError):
        return None
    return None


def literal_value(literal: Literal, predicate: str | None = None) -> Value:
    text, datatype = literal.value, literal.datatype.value
    if predicate == _P["doi"]:
        return Value(text=text, href=f"https://doi.org/{text}", external=True)
    dated = format_date(text, datatype)
    if dated:
        return Value(text=dated[0], machine=dated[1])
    if datatype == str(XSD.boolean):
        return Value(text="yes" if text in ("true", "1") else "no", machine=text)
    if datatype == str(XSD.anyURI) or (not literal.language and _URL.match(text)):
        return Value(text=short_url(text), href=text, external=True)
    return Value(text=text, lang=literal.language or None, block=len(text) > 280 or "\n\n" in text)


@dataclass
class Renderer:
    """Renders the terms of one view for one serving origin."""

    view: GraphView
    mapper: IriMapper

    def href(self, iri: str) -> str:
        return self.mapper.to_public_iri(iri)

    def is_local(self, iri: str) -> bool:
        return iri.startswith(self.mapper.base_iri)

    def value(self, term: Term, predicate: str | None = None, depth: int = 0) -> Value:
        if isinstance(term, Literal):
            return literal_value(term, predicate)
        if isinstance(term, BlankNode):
            items = self.view.list_items(term)
            if items is not None:
                return Value(items=[self.value(item, None, depth + 1) for item in items])
            if depth >= _MAX_NESTING:
                return Value(text="…")
            return Value(rows=self.rows(term, depth=depth + 1), hint=", ".join(
                type_label(self.view, t) for t in self.view.types(term)) or None)
        iri, href = term.value, self.href(term.value)
        text = name_of(self.view, term)
        if self.is_local(iri) and text == short_url(iri):  # unnamed: show the address it is served at
            text = short_url(href)
        return Value(text=text, href=href, external=not self.is_local(iri))

    def sorted_values(self, values: Sequence[Term], predicate: str, depth: int) -> list[Value]:
        rendered = [(term, self.value(term, predicate, depth)) for term in values]
        if _minted_sequence(values):  # sessions plw-3-1 ... plw-3-5: keep the agenda order of their keys
            return [v for _, v in sorted(rendered, key=lambda tv: _natural_key(tv[0].value))]
        return [v for _, v in sorted(rendered, key=lambda tv: _natural_key(tv[1].text))]

    def row(self, predicate: str, values: Sequence[Term], depth: int = 0) -> Row:
        return Row(label=property_label(self.view, predicate), curie=curie(predicate), href=self.href(predicate),
                   values=self.sorted_values(values, predicate, depth))

    def rows(self, subject: Term, *, depth: int = 0, hide: Iterable[str] = ()) -> list[Row]:
        hidden = {RDF_TYPE, *hide}
        predicates = [p for p in self.view.predicates(subject) if p not in hidden]
        return [self.row(p, self.view.values(subject, p), depth)
                for p in sorted(predicates, key=lambda p: reading_order(p, property_label(self.view, p)))]


def reading_order(predicate: str, label: str) -> tuple[int, int, str]:
    if predicate in LEADING:
        return (0, LEADING.index(predicate), "")
    if predicate in TRAILING:
        return (2, TRAILING.index(predicate), "")
    return (1, 0, label.lower())


def _natural_key(text: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _minted_sequence(values: Sequence[Term]) -> bool:
    """Whether the values are IRIs numbered in one sequence (``.../plw-3-1``, ``.../plw-3-2``...)."""
    if len(values) < 2 or not all(isinstance(v, NamedNode) for v in values):
        return False
    stems = {m.group(1) if (m := _NUMBERED.match(v.value)) else None for v in values}
    return len(stems) == 1 and None not in stems


# ---------------------------------------------------------------------------------------------------------------
# Resource pages
# ---------------------------------------------------------------------------------------------------------------

def title_of(view: GraphView, subject: Term) -> tuple[str, str | None]:
    """The page title and the property it came from (``None`` when made up from the IRI)."""
    for predicate in TITLE_PROPERTIES:
        literals = [v for v in view.values(subject, predicate) if isinstance(v, Literal)]
        if literals:
            return preferred_literal(literals).value, predicate
    return (humanise(subject.value) if isinstance(subject, NamedNode) else "(unnamed)"), None


def resource_page(description: Description, mapper: IriMapper, *, formats: list[FormatLink],
                  inverse_href: Callable[[InverseLinks], str | None], page_url: str | None = None) -> ResourcePage:
    view, resource = description, description.resource
    render = Renderer(view, mapper)
    title, title_predicate = title_of(view, resource)
    hide = set()
    if title_predicate and len(view.values(resource, title_predicate)) == 1:
        hide.add(title_predicate)
    authors = _authors(view, resource)
    if authors is not None and set(view.values(resource, _P["creator"])) <= set(authors):
        hide.add(_P["creator"])  # the ordered author list says it all
    rows = render.rows(resource, hide=hide)
    types = _type_values(render, view.types(resource))
    sections = []
    for part in description.hash_resources:
        fragment = part.value.partition("#")[2]
        sections.append(Section(title=view.label(part) or capitalise(humanise(fragment)), anchor=fragment,
                                iri=mapper.to_public_iri(part.value),
                                rows=[*_type_rows(render, part), *render.rows(part)]))
    # A link both ways (a workshop's aiw:report, the report's aiw:reportOf) is already in the rows: shown once.
    linked_forward = {o for p in view.predicates(resource) for o in view.values(resource, p)}
    inverse = [
        LinkGroup(label=inverse_label(view, group.predicate.value), curie=curie(group.predicate.value),
                  href=render.href(group.predicate.value), count=group.count,
                  items=_without_common_hint([_linked_item(render, s) for s in group.subjects]),
                  more_href=inverse_href(group) if group.truncated else None)
        for group in description.inverse
        if group.truncated or not set(group.subjects) <= linked_forward
    ]
    graphs = [Value(text=_graph_name(g, mapper.base_iri), href=None, machine=mapper.to_public_iri(g))
              for g in description.source_graphs]
    return ResourcePage(iri=mapper.to_public_iri(resource.value), title=title, types=types, rows=rows,
                        sections=sections, inverse=inverse, formats=formats, graphs=graphs,
                        json_ld=embeddable_json(schema_org(description, mapper, page_url)))


def _authors(view: GraphView, resource: Term) -> list[Term] | None:
    head = view.value(resource, _P["authorList"])
    return view.list_items(head) if head is not None else None


def _type_values(render: Renderer, types: Sequence[NamedNode]) -> list[Value]:
    """Type badges, most specific vocabulary first (aiw: before the reused ones), one per name."""
    ordered = sorted(types, key=lambda t: (not t.value.startswith(AIW), type_label(render.view, t)))
    seen: set[str] = set()
    badges = []
    for type_ in ordered:
        label = type_label(render.view, type_)
        if label.lower() not in seen:
            seen.add(label.lower())
            badges.append(Value(text=label, href=render.href(type_.value), external=not render.is_local(type_.value)))
    return badges


def _type_rows(render: Renderer, subject: Term) -> list[Row]:
    types = render.view.types(subject)
    return [render.row(RDF_TYPE, types)] if types else []


def _linked_item(render: Renderer, subject: NamedNode) -> Value:
    value = render.value(subject)
    value.hint = ", ".join(badge.text for badge in _type_values(render, render.view.types(subject))) or None
    return value


#: How the resources linking with a property relate to the page's resource, where "is X of" reads badly.
INVERSE_LABELS: dict[str, str] = {str(k): v for k, v in {
    RDF.type: "Instances", SKOS.inScheme: "Concepts", SKOS.broader: "Narrower concepts",
    SKOS.narrower: "Broader concepts", SKOS.topConceptOf: "Top concepts", SKOS.hasTopConcept: "Top concept of",
    SCHEMA.superEvent: "Parts", SCHEMA.subEvent: "Part of", DCTERMS.isPartOf: "Parts", DCTERMS.hasPart: "Part of",
    ORG.subOrganizationOf: "Sub-organisations", ORG.unitOf: "Units", ORG.memberOf: "Members",
    DCTERMS.creator: "Works created", DCTERMS.publisher: "Published", OWL.sameAs: "Same as",
    RDFS.subClassOf: "Subclasses", RDFS.subPropertyOf: "Subproperties", RDFS.domain: "Properties",
    RDFS.range: "Value of", RDFS.isDefinedBy: "Defines",
}.items()}


def inverse_label(view: GraphView, predicate: str) -> str:
    """A heading for the resources that link to this one with ``predicate``."""
    if predicate in INVERSE_LABELS:
        return INVERSE_LABELS[predicate]
    label = property_label(view, predicate).lower()
    return f"Linked as “{label}”" if label.endswith(" of") else f"Is {label} of"


def _graph_name(graph: str, base_iri: str) -> str:
    prefix = base_iri + "graph/"
    return graph[len(prefix):] if graph.startswith(prefix) else graph


def linked_items(view: GraphView, mapper: IriMapper, subjects: Iterable[NamedNode]) -> list[Value]:
    """Rendered links (name, type) for a listing page."""
    render = Renderer(view, mapper)
    return _without_common_hint([_linked_item(render, s) for s in subjects])


def _without_common_hint(items: list[Value]) -> list[Value]:
    """Type hints only where they tell items apart (a list of 20 "AI use case" hints is noise)."""
    if len(items) > 1 and len({item.hint for item in items}) == 1:
        for item in items:
            item.hint = None
    return items


# ---------------------------------------------------------------------------------------------------------------
# schema.org JSON-LD
# ---------------------------------------------------------------------------------------------------------------

SCHEMA_TYPES: dict[str, str] = {
    AIW + "Report": "Report", str(BIBO.Report): "Report", AIW + "Workshop": "Event",
    AIW + "WorkshopSession": "Event", str(SCHEMA.Event): "Event", str(SCHEMA.EventSeries): "EventSeries",
    AIW + "MemberState": "Country", str(SCHEMA.Country): "Country", str(DCAT.Dataset): "Dataset",
    AIW + "AIUseCase": "CreativeWork", AIW + "NationalAIStrategy": "CreativeWork",
    AIW + "MemberStateExperience": "CreativeWork", AIW + "Programme": "Project",
    str(FOAF.Person): "Person", str(ORG.Organization): "Organization", str(FOAF.Organization): "Organization",
    str(ORG.OrganizationalUnit): "Organization", str(SKOS.Concept): "DefinedTerm",
    str(SKOS.ConceptScheme): "DefinedTermSet", str(SCHEMA.Place): "Place", str(OWL.Class): "DefinedTerm",
    str(OWL.ObjectProperty): "DefinedTerm", str(OWL.DatatypeProperty): "DefinedTerm",
}
SCHEMA_PROPERTIES: dict[str, str] = {
    str(DCTERMS.title): "name", str(SKOS.prefLabel): "name", str(FOAF.name): "name", str(RDFS.label): "name",
    str(DCTERMS.alternative): "alternateName", str(SKOS.altLabel): "alternateName",
    str(DCTERMS.description): "description", str(SKOS.definition): "description", str(DCTERMS.abstract): "abstract",
    str(DCTERMS.issued): "datePublished", str(DCTERMS.modified): "dateModified",
    str(DCTERMS.creator): "author", str(DCTERMS.publisher): "publisher", str(DCTERMS.license): "license",
    str(BIBO.isbn13): "isbn", str(BIBO.number): "reportNumber", str(DCTERMS.identifier): "identifier",
    str(DCAT.keyword): "keywords", str(OWL.sameAs): "sameAs", str(FOAF.page): "sameAs",
    str(DCTERMS.subject): "about", AIW + "reportOf": "about", AIW + "report": "subjectOf",
    AIW + "memberState": "spatialCoverage", str(DCTERMS.spatial): "spatialCoverage",
    AIW + "responsibleOrganisation": "producer", str(SKOS.notation): "termCode",
    str(SKOS.inScheme): "inDefinedTermSet", str(FOAF.givenName): "givenName", str(FOAF.familyName): "familyName",
    str(ORG.memberOf): "memberOf", str(ORG.subOrganizationOf): "parentOrganization",
    str(DCTERMS.source): "isBasedOn", AIW + "topic": "keywords",
}
#: schema.org properties whose values are plain URLs rather than things.
_SCHEMA_URL_PROPERTIES = {"sameAs", "license", "isBasedOn", "url"}
_SCHEMA_NUMERIC = {str(XSD.integer), str(XSD.int), str(XSD.decimal), str(XSD.double), str(XSD.nonNegativeInteger),
                   str(XSD.positiveInteger)}


def schema_org(description: Description, mapper: IriMapper, page_url: str | None = None) -> dict:
    """The resource in schema.org terms (where they exist), for search engines."""
    view = description
    node = _schema_node(view, description.resource, mapper, depth=0)
    node["@context"] = "https://schema.org"
    if page_url:
        node["url"] = page_url
    authors = _authors(view, description.resource)
    if authors:
        node["author"] = [_schema_ref(view, a, mapper) for a in authors]
    doi = view.value(description.resource, _P["doi"])
    if isinstance(doi, Literal):
        node["identifier"] = {"@type": "PropertyValue", "propertyID": "DOI", "value": doi.value}
        node.setdefault("sameAs", [])
        doi_url = f"https://doi.org/{doi.value}"
        if doi_url not in node["sameAs"]:
            node["sameAs"].append(doi_url)
    leading = ("@context", "@id", "@type", "name", "url")
    return {**{k: node[k] for k in leading if k in node}, **{k: v for k, v in node.items() if k not in leading}}


def _schema_type(view: GraphView, subject: Term) -> str:
    for type_ in view.types(subject):
        if type_.value in SCHEMA_TYPES:
            return SCHEMA_TYPES[type_.value]
        if type_.value.startswith(str(SCHEMA)):
            return type_.value[len(str(SCHEMA)):]
    return "Thing"


def _schema_ref(view: GraphView, term: Term, mapper: IriMapper) -> dict:
    ref: dict = {"@type": _schema_type(view, term)}
    if isinstance(term, NamedNode):
        ref["@id"] = mapper.to_public_iri(term.value)
    name = view.label(term)
    if name:
        ref["name"] = name
    return ref


def _schema_node(view: GraphView, subject: Term, mapper: IriMapper, depth: int) -> dict:
    node: dict = {}
    if isinstance(subject, NamedNode):
        node["@id"] = mapper.to_public_iri(subject.value)
    node["@type"] = _schema_type(view, subject)
    for predicate in view.predicates(subject):
        key = SCHEMA_PROPERTIES.get(predicate)
        if key is None and predicate.startswith(str(SCHEMA)):
            key = predicate[len(str(SCHEMA)):]
        if key is None:
            continue
        values = []
        for term in view.values(subject, predicate):
            if isinstance(term, Literal):
                values.append(_schema_literal(term))
            elif isinstance(term, BlankNode):
                if depth < 3 and view.list_items(term) is None:
                    values.append(_schema_node(view, term, mapper, depth + 1))
            elif key in _SCHEMA_URL_PROPERTIES or not (term.value.startswith(mapper.base_iri) or view.label(term)):
                values.append(mapper.to_public_iri(term.value))
            else:
                values.append(_schema_ref(view, term, mapper))
        if not values:
            continue
        existing = node.get(key)
        merged = ([] if existing is None else existing if isinstance(existing, list) else [existing]) + values
        if key == "name":
            node[key] = merged[0]  # one name: the title; alternatives are alternateName
        else:
            node[key] = merged[0] if len(merged) == 1 and key not in ("sameAs", "author") else merged
    return node


def _schema_literal(literal: Literal):
    datatype = literal.datatype.value
    if datatype in _SCHEMA_NUMERIC:
        try:
            return int(literal.value)
        except ValueError:
            return literal.value
    if datatype == str(XSD.boolean):
        return literal.value in ("true", "1")
    return literal.value


def embeddable_json(data: dict) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>`` and ``&`` escaped, so ``</script>`` cannot end the element."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def format_links(url_of: Callable[[Format], str], formats: Iterable[Format]) -> list[FormatLink]:
    return [FormatLink(label=FORMAT_LABELS.get(f.name, f.name), href=url_of(f), media_type=f.media_type, name=f.name)
            for f in formats]


# ---------------------------------------------------------------------------------------------------------------
# Vocabulary documents: the ontology and the shapes
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Table:
    headers: list[str]
    rows: list[list[list[Value]]]  # cells hold values


@dataclass
class TermDoc:
    """One term of a vocabulary document, with its anchor (``#Report``)."""

    anchor: str
    iri: str
    curie: str
    label: str
    kinds: list[str]
    definition: str | None
    rows: list[Row]
    table: Table | None = None


@dataclass
class TermSection:
    title: str
    anchor: str
    terms: list[TermDoc]


@dataclass
class VocabularyPage:
    iri: str
    title: str
    description: str | None
    rows: list[Row]
    sections: list[TermSection]
    formats: list[FormatLink]
    json_ld: str
    lead: str = ""  # one sentence under the title saying what the page is


_TERM_SECTIONS: tuple[tuple[str, str, str], ...] = (
    (str(OWL.Class), "Classes", "classes"),
    (str(OWL.ObjectProperty), "Object properties", "object-properties"),
    (str(OWL.DatatypeProperty), "Datatype properties", "datatype-properties"),
    (str(OWL.AnnotationProperty), "Annotation properties", "annotation-properties"),
    (str(OWL.NamedIndividual), "Individuals", "individuals"),
)
_DOCUMENTED = {str(RDFS.label), str(SKOS.definition), str(RDFS.isDefinedBy), str(SKOS.prefLabel)}


def ontology_page(view: GraphView, ontology: NamedNode, mapper: IriMapper, formats: list[FormatLink]) -> VocabularyPage:
    """HTML documentation of every class, property and individual of the ontology, one anchor per term."""
    render = Renderer(view, mapper)
    namespace = ontology.value + "#"
    terms = [s for s in view.subjects() if isinstance(s, NamedNode) and s.value.startswith(namespace)]
    domains, ranges, subclasses = _class_usage(view, terms)
    sections: list[TermSection] = []
    placed: set[NamedNode] = set()
    for type_iri, title, anchor in (*_TERM_SECTIONS, ("", "Other terms", "other-terms")):
        members = [t for t in terms if t not in placed and (not type_iri or NamedNode(type_iri) in view.types(t))]
        placed |= set(members)
        docs = []
        for term in sorted(members, key=lambda t: (view.label(t) or t.value).lower()):
            rows = render.rows(term, hide=_DOCUMENTED | {str(RDFS.comment)})
            usage = (("Subclasses", subclasses.get(term)), ("Properties of its instances", domains.get(term)),
                     ("Value of", ranges.get(term)))
            for label, linked in usage:
                if linked:
                    rows.append(Row(label=label, curie="", href="", values=render.sorted_values(linked, "", 0)))
            comment = view.value(term, str(RDFS.comment))
            if isinstance(comment, Literal):
                rows.append(render.row(str(RDFS.comment), [comment]))
            definition = view.value(term, str(SKOS.definition))
            docs.append(TermDoc(
                anchor=term.value[len(namespace):], iri=mapper.to_public_iri(term.value), curie=curie(term.value),
                label=capitalise(view.label(term) or humanise(term.value)),
                kinds=[b.text for b in _type_values(render, view.types(term))],
                definition=definition.value if isinstance(definition, Literal) else None, rows=rows))
        if docs:
            sections.append(TermSection(title=title, anchor=anchor, terms=docs))
    title, title_predicate = title_of(view, ontology)
    description = view.value(ontology, str(DCTERMS.description))
    rows = render.rows(ontology, hide={p for p in (title_predicate, str(DCTERMS.description), str(RDFS.label)) if p})
    json_ld = {
        "@context": "https://schema.org", "@type": "DefinedTermSet", "@id": mapper.to_public_iri(ontology.value),
        "name": title, "description": description.value if isinstance(description, Literal) else None,
        "hasDefinedTerm": [{"@type": "DefinedTerm", "@id": d.iri, "name": d.label, "description": d.definition}
                           for s in sections for d in s.terms],
    }
    return VocabularyPage(iri=mapper.to_public_iri(ontology.value), title=title,
                          description=description.value if isinstance(description, Literal) else None,
                          rows=rows, sections=sections, formats=formats, json_ld=embeddable_json(json_ld))


def _class_usage(view: GraphView, terms: Sequence[NamedNode]):
    """Per class of the ontology: its properties (by rdfs:domain), the properties it is the range of, its subclasses.

    Domains and ranges may be ``owl:unionOf`` lists; each member counts.
    """
    domains: dict[Term, list[Term]] = {}
    ranges: dict[Term, list[Term]] = {}
    subclasses: dict[Term, list[Term]] = {}

    def members(term: Term) -> list[Term]:
        union = view.value(term, str(OWL.unionOf)) if isinstance(term, BlankNode) else None
        return (view.list_items(union) or []) if union is not None else [term]

    for term in terms:
        for domain in view.values(term, str(RDFS.domain)):
            for cls in members(domain):
                domains.setdefault(cls, []).append(term)
        for range_ in view.values(term, str(RDFS.range)):
            for cls in members(range_):
                ranges.setdefault(cls, []).append(term)
        for parent in view.values(term, str(RDFS.subClassOf)):
            subclasses.setdefault(parent, []).append(term)
    return domains, ranges, subclasses


def _short_name(term: Term, mapper: IriMapper) -> str:
    if not isinstance(term, NamedNode):
        return ""
    short = curie(term.value)
    return short if short != term.value else mapper.to_public_iri(term.value)


_SEVERITY_ORDER = {str(SH.Violation): 0, str(SH.Warning): 1, str(SH.Info): 2}
_CONSTRAINTS = tuple(str(p) for p in (
    SH.datatype, SH["class"], SH.node, SH.nodeKind, SH["in"], SH.hasValue, SH.pattern, SH.languageIn,
    SH.uniqueLang, SH.minInclusive, SH.maxInclusive, SH.minLength, SH.maxLength, SH.sparql,
))


def shapes_page(view: GraphView, document: NamedNode, mapper: IriMapper, formats: list[FormatLink]) -> VocabularyPage:
    """The SHACL shapes as a readable list: each node shape, its targets and a table of its property constraints."""
    render = Renderer(view, mapper)
    shapes = [s for s in view.subjects() if NamedNode(str(SH.NodeShape)) in view.types(s)]
    docs = []
    for shape in sorted(shapes, key=lambda s: (view.label(s) or s.value).lower()):
        anchor = shape.value.partition("#")[2] if isinstance(shape, NamedNode) else ""
        rows = render.rows(shape, hide={str(RDFS.label), str(SH.property), str(RDFS.comment), str(SKOS.definition)})
        comment = view.value(shape, str(RDFS.comment))
        table_rows = []
        properties = view.values(shape, str(SH.property))
        for ps in sorted(properties, key=lambda p: (
                _SEVERITY_ORDER.get(getattr(view.value(p, str(SH.severity)), "value", ""), 0),
                name_of(view, view.value(p, str(SH.path)) or p).lower())):
            path = view.value(ps, str(SH.path))
            minimum, maximum = view.value(ps, str(SH.minCount)), view.value(ps, str(SH.maxCount))
            cardinality = f"{minimum.value if minimum else 0}..{maximum.value if maximum else 'n'}"
            constraint_rows = [render.row(predicate, view.values(ps, predicate)) for predicate in _CONSTRAINTS
                               if view.values(ps, predicate)]
            constraints = [Value(rows=constraint_rows)] if constraint_rows else []
            severity = view.value(ps, str(SH.severity))
            name, message = view.value(ps, str(SH.name)), view.value(ps, str(SH.message))
            path_value = render.value(path) if path is not None else Value(text="")
            if isinstance(name, Literal) and name.value.lower() != path_value.text.lower():
                path_value.hint = name.value
            table_rows.append([
                [path_value],
                [Value(text=cardinality)],
                constraints,
                [Value(text=capitalise(humanise(severity.value)) if severity is not None else "Violation")],
                [Value(text=message.value)] if isinstance(message, Literal) else [],
            ])
        docs.append(TermDoc(
            anchor=anchor, iri=mapper.to_public_iri(shape.value) if isinstance(shape, NamedNode) else "",
            curie=_short_name(shape, mapper), label=capitalise(view.label(shape) or anchor),
            kinds=["Node shape"], definition=comment.value if isinstance(comment, Literal) else None, rows=rows,
            table=Table(headers=["Property", "Count", "Values", "Severity", "Message"], rows=table_rows)
            if table_rows else None))
    title, title_predicate = title_of(view, document)
    description = view.value(document, str(DCTERMS.description))
    rows = render.rows(document, hide={p for p in (title_predicate, str(DCTERMS.description), str(RDFS.label),
                                                  str(SH.declare)) if p})
    json_ld = {"@context": "https://schema.org", "@type": "CreativeWork", "@id": mapper.to_public_iri(document.value),
               "name": title, "description": description.value if isinstance(description, Literal) else None}
    return VocabularyPage(iri=mapper.to_public_iri(document.value), title=title,
                          description=description.value if isinstance(description, Literal) else None, rows=rows,
                          sections=[TermSection(title="Node shapes", anchor="node-shapes", terms=docs)] if docs else [],
                          formats=formats, json_ld=embeddable_json(json_ld),
                          lead="The SHACL shapes every load is validated with.")
