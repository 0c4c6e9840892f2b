"""The browsing face: a home page with counts and entry points, index pages per kind, and charts.

* ``/`` — what the graph holds (cases, per source, member states, reports, workshops, strategies, concept schemes,
  triples), the map of cases per member state, and the ways in: index pages, SPARQL, catalogue, ontology.
* ``/browse/{kind}`` — every case, report, workshop, member state, strategy, organisation or person, 50 a page in a
  stable order (the kind's own order, then the label, then the IRI), with the total and page links. Cases (and
  organisations) have facets: each value with the number of matching items, as a link that adds it to the
  filters. Filters are query parameters (``/browse/case?member-state=esp&status=pilot``), combined with AND;
  several values of one parameter all have to hold (a case can have several member states and technologies).
* ``/charts`` — cases per member state on a map of Europe, per AI technology, per start year, and the workshops
  and reports on a timeline, drawn on the server as SVG (:mod:`.charts`); ``/charts/{name}.svg`` serves each alone.

Every item links to its ``/doc/`` page. Counts, facets and chart data are SPARQL aggregates over the
:class:`GraphStore`, computed once per published data version and kept in the process (:class:`AggregateCache`),
so pages stay fast; every answer is cacheable (ETag from the data version, 304).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState
from pyoxigraph import Literal, NamedNode

from ..describe import sparql_iri
from ..namespaces import PREFIXES
from . import charts, context
from .http import cacheable, plain_error
from .iris import mapper
from .linked_data import not_found
from .pages import format_date

blueprint = Blueprint("browse", __name__)

PAGE_SIZE = 50
MAX_PAGE = 10_000
#: Facet values shown before "more" (the rest stay one click away, in a <details> element: no JavaScript).
FACET_VALUES_SHOWN = 8
#: A key in an IRI (ontology/README.md: ``[a-z0-9-]``); facet parameters must be keys, never SPARQL.
KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")
YEAR = re.compile(r"[0-9]{4}")
#: Properties that name an item, most preferred first.
LABEL_PATH = "skos:prefLabel|dct:title|schema:name|foaf:name|rdfs:label"
_CACHE = "browse.aggregates"

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------------------------
# What can be browsed
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Facet:
    """A way to narrow a list: the items' values of one property path, each with its number of items."""

    param: str  # query parameter: /browse/case?member-state=esp
    label: str
    path: str  # SPARQL property path from an item to a value
    values_under: str | None  # where the value IRIs live, relative to the base; None: year literals
    order: str = "count"  # count | notation | tree (by count, narrower values under their broader one) | year

    def matches(self, key: str) -> bool:
        return bool((KEY if self.values_under is not None else YEAR).fullmatch(key))

    def pattern(self, key: str, base: str, variable: str) -> str:
        """The SPARQL pattern an item ``?item`` must match to have the value ``key``."""
        if self.values_under is None:
            return f'?item {self.path} ?{variable} FILTER(SUBSTR(STR(?{variable}), 1, 4) = "{key}")'
        return f"?item {self.path} {sparql_iri(base + self.values_under + key)} ."


@dataclass(frozen=True)
class Detail:
    """A fact shown under each item of a list: the values of a property path, or the number of them."""

    label: str
    path: str
    count: bool = False
    #: With ``count``: only values of this class are counted (strategies also have an aiw:memberState).
    of_class: str | None = None
    #: With ``count``: the list the number links to, as (kind, facet parameter): the items filtered by this one.
    count_links_to: tuple[str, str] | None = None


@dataclass(frozen=True)
class Kind:
    slug: str  # /browse/{slug}, and the {kind} of /id/{kind}/{key}
    class_curie: str
    title: str
    singular: str
    lead: str
    #: SPARQL binding ``?s`` (the sort key) for ``?item``; items without one come last (first when descending).
    sort: str | None = None
    descending: bool = False
    details: tuple[Detail, ...] = ()
    facets: tuple[Facet, ...] = ()


MEMBER_STATE = Facet("member-state", "Member state", "aiw:memberState", "id/member-state/")
STATUS = Facet("status", "Status", "aiw:status", "concept/status/")
TECHNOLOGY = Facet("technology", "AI technology", "aiw:aiTechnology/skos:broader*", "concept/ai-technology/",
                   order="tree")
COFOG = Facet("cofog", "Government function (COFOG)", "aiw:cofogFunction", "concept/cofog/", order="notation")
SOURCE = Facet("source", "Source dataset", "aiw:sourceDataset", "id/dataset/")
START_YEAR = Facet("start-year", "Start year", "aiw:startYear", None, order="year")
ORGANISATION_CATEGORY = Facet("category", "Category", "aiw:organisationCategory", "concept/organisation-category/")

KINDS: dict[str, Kind] = {kind.slug: kind for kind in (
    Kind("case", "aiw:AIUseCase", "Cases", "case",
         "Uses of AI in European public services, from the AI Watch 2021 inventory and the Public Sector Tech "
         "Watch.",
         details=(Detail("Member state", "aiw:memberState"), Detail("Organisation", "aiw:responsibleOrganisation"),
                  Detail("Status", "aiw:status"), Detail("Start", "aiw:startYear")),
         facets=(MEMBER_STATE, STATUS, TECHNOLOGY, COFOG, SOURCE, START_YEAR)),
    Kind("report", "aiw:Report", "Reports", "report", "AI Watch reports on AI in the public sector.",
         sort="?item dct:issued ?issued BIND(STR(?issued) AS ?s)", descending=True,
         details=(Detail("Published", "dct:issued"), Detail("Identifier", "dct:identifier"))),
    Kind("workshop", "aiw:Workshop", "Workshops", "workshop",
         "The Peer Learning Workshops on the use and impact of AI in public services.",
         sort="?item aiw:seriesNumber ?s",
         details=(Detail("Date", "schema:startDate"), Detail("Participants", "aiw:participantCount"),
                  Detail("Member states", "aiw:memberStateCount"))),
    Kind("member-state", "aiw:MemberState", "Member states", "member state",
         "The EU Member States and the other European countries the data covers.",
         details=(Detail("Membership", "aiw:membership"),
                  Detail("Cases", "^aiw:memberState", count=True, of_class="aiw:AIUseCase",
                         count_links_to=("case", "member-state")))),
    Kind("strategy", "aiw:NationalAIStrategy", "National AI strategies", "strategy",
         "National strategies on artificial intelligence.",
         details=(Detail("Member state", "aiw:memberState"), Detail("Published", "dct:issued"))),
    Kind("organisation", "org:Organization", "Organisations", "organisation",
         "Public administrations and other organisations responsible for cases, publishing reports or organising "
         "workshops.",
         details=(Detail("Category", "aiw:organisationCategory"),
                  Detail("Cases", "^aiw:responsibleOrganisation", count=True, of_class="aiw:AIUseCase")),
         facets=(ORGANISATION_CATEGORY,)),
    Kind("person", "foaf:Person", "People", "person", "Authors of reports and speakers at workshops.",
         details=(Detail("Member of", "org:memberOf"), Detail("Job title", "schema:jobTitle"))),
)}


# ---------------------------------------------------------------------------------------------------------------
# Aggregates, cached per data version
# ---------------------------------------------------------------------------------------------------------------

class AggregateCache:
    """Results of aggregate queries for the published data version, shared by the threads of a process.

    A new data version empties it; entries are evicted least recently used beyond ``max_entries`` (facet counts
    are kept per combination of filters, which users can vary without end).
    """

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._digest: str | None = None
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if digest != self._digest:
                self._entries.clear()
                self._digest = digest
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()  # outside the lock: two threads may compute the same value once each, never block
        with self._lock:
            if digest == self._digest:
                self._entries[key] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value


@blueprint.record_once
def _install_cache(state: BlueprintSetupState) -> None:
    state.app.extensions[_CACHE] = AggregateCache()


def aggregate_cache(app: Flask | None = None) -> AggregateCache:
    return (app or current_app).extensions[_CACHE]


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per data version (and per ``key``)."""
    version = context.store().version()
    return aggregate_cache().get(version.digest if version else "empty", key, compute)


def _prefixes() -> str:
    base = context.settings().base_iri
    namespaces = {**PREFIXES, "aiw": base + "def/aiwatch#", "id": base + "id/", "concept": base + "concept/"}
    return "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in namespaces.items())


def select(query: str) -> list[dict[str, Any]]:
    return context.store().select(_prefixes() + query)


def _int(term: Any) -> int:
    return int(term.value) if term is not None else 0


def count_of(class_curie: str) -> int:
    return cached(("count", class_curie), lambda: _int(select(
        f"SELECT (COUNT(DISTINCT ?item) AS ?n) WHERE {{ ?item a {class_curie} }}")[0].get("n")))


def triple_count() -> int:
    """Triples of the default graph (the union of every source graph)."""
    return cached("triples", lambda: _int(select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0].get("n")))


@dataclass(frozen=True)
class Counted:
    """A value (an IRI or a year) with a number of items, as aggregated by SPARQL."""

    iri: str | None
    key: str
    label: str
    count: int
    notation: str = ""
    broader: str | None = None  # the key of the broader value (technology tree)
    extra: dict[str, str] = field(default_factory=dict)


def _label_patterns(variable: str) -> str:
    """Optional patterns binding an English (or untagged) label ``?{variable}_en`` and any label ``?{v}_any``."""
    return (f'OPTIONAL {{ ?{variable} {LABEL_PATH} ?{variable}_en '
            f'FILTER(LANG(?{variable}_en) = "" || LANGMATCHES(LANG(?{variable}_en), "en")) }} '
            f"OPTIONAL {{ ?{variable} {LABEL_PATH} ?{variable}_any }} ")


def _label_aggregate(variable: str, alias: str = "label") -> str:
    return f"(COALESCE(MIN(STR(?{variable}_en)), MIN(STR(?{variable}_any))) AS ?{alias})"


def _filters(kind: Kind, selected: Sequence[tuple[Facet, str]]) -> str:
    base = context.settings().base_iri
    return " ".join(facet.pattern(key, base, f"f{i}") for i, (facet, key) in enumerate(selected))


def facet_counts(kind: Kind, facet: Facet, selected: Sequence[tuple[Facet, str]] = ()) -> list[Counted]:
    """The values of ``facet`` among the items of ``kind`` that match ``selected``, with their numbers of items."""
    def compute() -> list[Counted]:
        base = context.settings().base_iri
        if facet.values_under is None:
            rows = select(
                f"SELECT ?v (COUNT(DISTINCT ?item) AS ?n) WHERE {{ ?item a {kind.class_curie} . "
                f"{_filters(kind, selected)} ?item {facet.path} ?year BIND(SUBSTR(STR(?year), 1, 4) AS ?v) }} "
                f"GROUP BY ?v")
            return [Counted(None, row["v"].value, row["v"].value, _int(row["n"]))
                    for row in rows if "v" in row and YEAR.fullmatch(row["v"].value)]
        # Count first, then name the (few) values: labels joined before counting would multiply the rows.
        rows = select(
            f"SELECT ?v ?n {_label_aggregate('v')} (MIN(STR(?notation)) AS ?code) (SAMPLE(?up) AS ?broader) "
            f"WHERE {{ {{ SELECT ?v (COUNT(DISTINCT ?item) AS ?n) WHERE {{ ?item a {kind.class_curie} . "
            f"{_filters(kind, selected)} ?item {facet.path} ?v }} GROUP BY ?v }} "
            f"{_label_patterns('v')} OPTIONAL {{ ?v skos:notation ?notation }} OPTIONAL {{ ?v skos:broader ?up }} "
            f"}} GROUP BY ?v ?n")
        prefix = base + facet.values_under
        counted = []
        for row in rows:
            value = row.get("v")
            if not isinstance(value, NamedNode) or not value.value.startswith(prefix):
                continue
            key = value.value[len(prefix):]
            if not KEY.fullmatch(key):
                continue
            up = row.get("broader")
            broader = up.value[len(prefix):] if isinstance(up, NamedNode) and up.value.startswith(prefix) else None
            counted.append(Counted(value.value, key, row["label"].value if "label" in row else key,
                                   _int(row.get("n")), row["code"].value if "code" in row else "", broader))
        return counted

    return cached(("facet", kind.slug, facet.param, tuple((f.param, k) for f, k in selected)), compute)


def total_of(kind: Kind, selected: Sequence[tuple[Facet, str]] = ()) -> int:
    return cached(("total", kind.slug, tuple((f.param, k) for f, k in selected)), lambda: _int(select(
        f"SELECT (COUNT(DISTINCT ?item) AS ?n) WHERE {{ ?item a {kind.class_curie} . {_filters(kind, selected)} }}"
    )[0].get("n")))


def page_of(kind: Kind, selected: Sequence[tuple[Facet, str]], number: int) -> list[tuple[NamedNode, str]]:
    """The items of one page, in the kind's stable order: its sort key, then the label, then the IRI."""
    def compute() -> list[tuple[NamedNode, str]]:
        sort = f"OPTIONAL {{ {kind.sort} }}" if kind.sort else ""
        direction = "DESC" if kind.descending else "ASC"
        rows = select(
            f"SELECT ?item {_label_aggregate('item')} (MIN(?s) AS ?sort) WHERE {{ ?item a {kind.class_curie} . "
            f"{_filters(kind, selected)} {_label_patterns('item')} {sort} }} GROUP BY ?item "
            f"ORDER BY {direction}(?sort) LCASE(?label) STR(?item) LIMIT {PAGE_SIZE} OFFSET {(number - 1) * PAGE_SIZE}")
        return [(row["item"], row["label"].value if "label" in row else "") for row in rows
                if isinstance(row.get("item"), NamedNode)]

    return cached(("page", kind.slug, tuple((f.param, k) for f, k in selected), number), compute)


def details_of(kind: Kind, items: Sequence[NamedNode]) -> dict[NamedNode, list[tuple[Detail, list[Any]]]]:
    """The facts shown under each item: per detail, the labels (or literals, or the count) of its values."""
    found: dict[NamedNode, list[tuple[Detail, list[Any]]]] = {item: [] for item in items}
    if not items:
        return found
    values = " ".join(sparql_iri(item.value) for item in items)
    for detail in kind.details:
        if detail.count:
            of_class = f"?v a {detail.of_class} ." if detail.of_class else ""
            rows = select(f"SELECT ?item (COUNT(DISTINCT ?v) AS ?n) WHERE {{ VALUES ?item {{ {values} }} "
                          f"?item {detail.path} ?v . {of_class} }} GROUP BY ?item")
            counts = {row["item"]: _int(row.get("n")) for row in rows}
            for item in items:
                found[item].append((detail, [counts.get(item, 0)]))
            continue
        rows = select(f"SELECT ?item ?v {_label_aggregate('v')} WHERE {{ VALUES ?item {{ {values} }} "
                      f"?item {detail.path} ?v {_label_patterns('v')} }} GROUP BY ?item ?v")
        shown: dict[NamedNode, list[Any]] = {}
        for row in rows:
            value = row["v"]
            text = row["label"].value if "label" in row else (_literal_text(value) if isinstance(value, Literal)
                                                            else None)
            if text:
                shown.setdefault(row["item"], []).append(text)
        for item in items:
            if shown.get(item):
                found[item].append((detail, sorted(shown[item], key=str.casefold)))
    return found


def _literal_text(literal: Literal) -> str:
    rendered = format_date(literal.value, literal.datatype.value) if literal.datatype else None
    return rendered[0] if rendered else literal.value


# ---------------------------------------------------------------------------------------------------------------
# The data behind the home page and the charts
# ---------------------------------------------------------------------------------------------------------------

def cases_per_member_state() -> list[Counted]:
    """Every member state (also those without cases) with its alpha-3 code and number of cases."""
    def compute() -> list[Counted]:
        rows = select(
            f"SELECT ?ms ?n {_label_aggregate('ms')} (MIN(STR(?a3)) AS ?alpha3) WHERE {{ "
            f"{{ SELECT ?ms (COUNT(DISTINCT ?case) AS ?n) WHERE {{ ?ms a aiw:MemberState "
            f"OPTIONAL {{ ?case a aiw:AIUseCase ; aiw:memberState ?ms }} }} GROUP BY ?ms }} "
            f"?ms aiw:iso3166Alpha3 ?a3 . {_label_patterns('ms')} }} GROUP BY ?ms ?n")
        prefix = context.settings().base_iri + MEMBER_STATE.values_under
        return sorted((Counted(row["ms"].value, row["ms"].value.removeprefix(prefix),
                               row["label"].value if "label" in row else row["alpha3"].value, _int(row.get("n")),
                               extra={"alpha3": row["alpha3"].value}) for row in rows),
                      key=lambda c: (-c.count, c.label))

    return cached("cases-per-member-state", compute)


def cases_per_source() -> list[Counted]:
    return sorted(facet_counts(KINDS["case"], SOURCE), key=lambda c: (-c.count, c.label))


def concept_scheme_count() -> int:
    return count_of("skos:ConceptScheme")


@dataclass(frozen=True)
class Dated:
    """A workshop or a report, for the timeline."""

    iri: str
    kind: str
    label: str
    date: str  # lexical: 2021, 2021-10-08 or 2021-06-24T09:30:00+02:00
    end: str | None = None
    code: str = ""  # a short name: the series number, the JRC number


def timeline_events() -> list[Dated]:
    def compute() -> list[Dated]:
        rows = select(
            f"SELECT ?item ?type {_label_aggregate('item')} (MIN(STR(?start)) AS ?date) (MIN(STR(?finish)) AS ?end) "
            f"(MIN(STR(?number)) AS ?code) WHERE {{ "
            f"{{ ?item a aiw:Workshop ; schema:startDate ?start BIND('workshop' AS ?type) "
            f"   OPTIONAL {{ ?item schema:endDate ?finish }} OPTIONAL {{ ?item aiw:seriesNumber ?number }} }} "
            f"UNION {{ ?item a aiw:Report ; dct:issued ?start BIND('report' AS ?type) "
            f"   OPTIONAL {{ ?item dct:identifier ?number }} }} "
            f"{_label_patterns('item')} }} GROUP BY ?item ?type ORDER BY ?date ?item")
        return [Dated(row["item"].value, row["type"].value, row["label"].value if "label" in row else "",
                      row["date"].value, row["end"].value if "end" in row else None,
                      row["code"].value if "code" in row else "") for row in rows if "date" in row]

    return cached("timeline", compute)


def undated_workshops() -> list[tuple[str, str]]:
    return cached("undated-workshops", lambda: [
        (row["item"].value, row["label"].value if "label" in row else row["item"].value) for row in select(
            f"SELECT ?item {_label_aggregate('item')} WHERE {{ ?item a aiw:Workshop "
            f"FILTER NOT EXISTS {{ ?item schema:startDate ?d }} {_label_patterns('item')} }} GROUP BY ?item "
            f"ORDER BY ?item")])


# ---------------------------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------------------------

def document_href(iri: str) -> str:
    """The page of a resource on the serving origin: ``/doc/{kind}/{key}`` for things (no 303 on the way)."""
    iri_mapper = mapper()
    things = iri_mapper.base_iri + "id/"
    if iri.startswith(things):
        return iri_mapper.public_base + "doc/" + iri[len(things):]
    return iri_mapper.to_public_iri(iri)


def list_href(kind: str, selected: Sequence[tuple[str, str]] = (), page: int = 1) -> str:
    """``/browse/{kind}`` with filters (in facet order, so one list has one URL) and a page number."""
    order = {facet.param: i for i, facet in enumerate(KINDS[kind].facets)} if kind in KINDS else {}
    params = sorted(dict.fromkeys(selected), key=lambda pk: (order.get(pk[0], 99), pk[1]))
    if page > 1:
        params.append(("page", str(page)))
    query = urlencode(params)
    return f"{request.script_root}/browse/{kind}" + (f"?{query}" if query else "")


def _home_href(path: str = "") -> str:
    return f"{request.script_root}/{path}"


# ---------------------------------------------------------------------------------------------------------------
# The view models of the templates
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Stat:
    label: str
    count: int
    href: str | None
    note: str = ""


@dataclass
class FacetValue:
    label: str
    count: int
    href: str
    selected: bool
    depth: int = 0
    notation: str = ""


@dataclass
class FacetView:
    param: str
    label: str
    values: list[FacetValue]

    @property
    def shown(self) -> list[FacetValue]:
        head = self.values[:FACET_VALUES_SHOWN]
        # Selected values are always visible.
        return head + [v for v in self.values[FACET_VALUES_SHOWN:] if v.selected]

    @property
    def more(self) -> list[FacetValue]:
        return [v for v in self.values[FACET_VALUES_SHOWN:] if not v.selected]


@dataclass
class Item:
    title: str
    href: str
    facts: list[tuple[str, str, str | None]]  # (label, text, href)


@dataclass
class PageLink:
    number: int | None  # None: a gap (…)
    href: str | None
    current: bool = False


@dataclass
class Pager:
    number: int
    last: int
    total: int
    first_item: int
    last_item: int
    previous: str | None
    next: str | None
    links: list[PageLink]


def _pager(kind: str, selected: Sequence[tuple[str, str]], number: int, total: int) -> Pager:
    last = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    wanted = sorted({1, last, *range(max(1, number - 2), min(last, number + 2) + 1)})
    links: list[PageLink] = []
    for page in wanted:
        if links and links[-1].number is not None and page - links[-1].number > 1:
            links.append(PageLink(None, None))
        links.append(PageLink(page, list_href(kind, selected, page), page == number))
    return Pager(number=number, last=last, total=total, first_item=min(total, (number - 1) * PAGE_SIZE + 1),
                 last_item=min(total, number * PAGE_SIZE),
                 previous=list_href(kind, selected, number - 1) if number > 1 else None,
                 next=list_href(kind, selected, number + 1) if number < last else None, links=links)


def _facet_view(kind: Kind, facet: Facet, selected: list[tuple[Facet, str]]) -> FacetView:
    selection = [(f.param, k) for f, k in selected]
    chosen = {k for f, k in selected if f is facet}
    counted = facet_counts(kind, facet, selected)

    def value(c: Counted, depth: int = 0) -> FacetValue:
        pair = (facet.param, c.key)
        href = list_href(kind.slug, [p for p in selection if p != pair] if c.key in chosen else [*selection, pair])
        notation = c.notation if facet.order == "notation" else ""  # codes people know (COFOG 01), not slugs
        return FacetValue(c.label, c.count, href, c.key in chosen, depth, notation)

    if facet.order == "notation":
        ordered = [value(c) for c in sorted(counted, key=lambda c: (c.notation or c.label, c.key))]
    elif facet.order == "year":
        ordered = [value(c) for c in sorted(counted, key=lambda c: c.key, reverse=True)]
    elif facet.order == "tree":
        present = {c.key for c in counted}
        children: dict[str | None, list[Counted]] = {}
        for c in counted:
            children.setdefault(c.broader if c.broader in present else None, []).append(c)
        ordered = []

        def walk(parent: str | None, depth: int) -> None:
            for c in sorted(children.get(parent, []), key=lambda c: (-c.count, c.label)):
                ordered.append(value(c, depth))
                walk(c.key, depth + 1)

        walk(None, 0)
    else:
        ordered = [value(c) for c in sorted(counted, key=lambda c: (-c.count, c.label))]
    # Values every remaining item has tell nothing more, unless the reader chose them (to take them off).
    total = total_of(kind, selected)
    ordered = [v for v in ordered if v.selected or (0 < v.count and (v.count < total or facet.order == "tree"))]
    return FacetView(facet.param, facet.label, ordered)


def _selected_filters(kind: Kind) -> list[tuple[Facet, str]] | Response:
    """The facet values chosen in the query string, or a 400 answer naming the malformed one."""
    by_param = {facet.param: facet for facet in kind.facets}
    selected: list[tuple[Facet, str]] = []
    for param in by_param:
        for key in dict.fromkeys(request.args.getlist(param)):
            facet = by_param[param]
            if not facet.matches(key):
                return plain_error(400, f"{param} must be a key such as "
                                        f"{'esp' if facet.values_under is not None else '2021'}, not {key!r}")
            selected.append((facet, key))
    return selected


def _html(body: str, status: int = 200) -> Response:
    return cacheable(Response(body, status=status, content_type="text/html; charset=utf-8"))


# ---------------------------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/")
def home() -> Response:
    kinds = KINDS
    stats = [
        Stat("Cases", count_of(kinds["case"].class_curie), list_href("case"), "AI in public services"),
        Stat("Member states", count_of(kinds["member-state"].class_curie), list_href("member-state"),
             "EU-27 and other European countries"),
        Stat("Reports", count_of(kinds["report"].class_curie), list_href("report"), "AI Watch publications"),
        Stat("Workshops", count_of(kinds["workshop"].class_curie), list_href("workshop"), "Peer Learning Workshops"),
        Stat("National AI strategies", count_of(kinds["strategy"].class_curie), list_href("strategy"), ""),
        Stat("Organisations", count_of(kinds["organisation"].class_curie), list_href("organisation"), ""),
        Stat("Concept schemes", concept_scheme_count(), _home_href("concept"), "coded values, in SKOS"),
        Stat("Triples", triple_count(), _home_href("sparql"), "in the union of all graphs"),
    ]
    sources = [Stat(c.label, c.count, list_href("case", [("source", c.key)])) for c in cases_per_source()]
    europe = charts.choropleth(_member_state_areas(), compact=True)
    return _html(render_template("home.html", stats=stats, sources=sources, europe=europe,
                                 kinds=[(kind, count_of(kind.class_curie), list_href(kind.slug))
                                        for kind in kinds.values()]))


@blueprint.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon where browsers look for it unasked (an SVG: every current browser draws one)."""
    icon = Path(current_app.static_folder or "") / "favicon.svg"
    return cacheable(Response(icon.read_bytes(), content_type="image/svg+xml"), "favicon", max_age=86400)


@blueprint.get("/browse")
def kinds_index() -> Response:
    return _html(render_template("browse.html", kind=None, kinds=[
        (kind, count_of(kind.class_curie), list_href(kind.slug)) for kind in KINDS.values()]))


@blueprint.get("/browse/<slug>")
def index(slug: str) -> Response:
    kind = KINDS.get(slug)
    if kind is None:
        return not_found(f"There is no index of {slug!r}; the kinds are {', '.join(KINDS)}")
    selected = _selected_filters(kind)
    if isinstance(selected, Response):
        return selected
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        return plain_error(400, "page must be a whole number from 1")
    number = int(page)
    total = total_of(kind, selected)
    selection = [(f.param, k) for f, k in selected]
    pager = _pager(kind.slug, selection, number, total)
    if number > pager.last:
        return not_found(f"{kind.title} have {pager.last} page(s) here, not {number}")
    rows = page_of(kind, selected, number)
    facts = cached(("details", kind.slug, tuple(iri.value for iri, _ in rows)),
                   lambda: details_of(kind, [iri for iri, _ in rows]))
    items = [Item(label or iri.value, document_href(iri.value), _facts(kind, iri, facts[iri])) for iri, label in rows]
    facets = [_facet_view(kind, facet, selected) for facet in kind.facets]
    active = [(f.label, _value_label(kind, f, k, selected),
               list_href(kind.slug, [p for p in selection if p != (f.param, k)])) for f, k in selected]
    return _html(render_template("browse.html", kind=kind, items=items, pager=pager, facets=facets, active=active,
                                 clear_href=list_href(kind.slug) if selected else None))


def _facts(kind: Kind, item: NamedNode, found: list[tuple[Detail, list[Any]]]) -> list[tuple[str, str, str | None]]:
    facts = []
    key = item.value.rpartition("/")[2]
    for detail, values in found:
        if detail.count:
            count = values[0]
            if not count:
                continue
            href = list_href(detail.count_links_to[0], [(detail.count_links_to[1], key)]) \
                if detail.count_links_to else None
            facts.append((detail.label, f"{count:,}", href))
        else:
            facts.append((detail.label, ", ".join(values), None))
    return facts


def _value_label(kind: Kind, facet: Facet, key: str, selected: list[tuple[Facet, str]]) -> str:
    for counted in facet_counts(kind, facet, selected):
        if counted.key == key:
            return counted.label
    return key


@blueprint.get("/charts")
def charts_page() -> Response:
    areas = _member_state_areas()
    return _html(render_template(
        "charts.html", europe=charts.choropleth(areas), member_states=areas,
        technology=_technology_chart(), years=_year_chart(), timeline=_timeline(),
        undated=[(label, document_href(iri)) for iri, label in undated_workshops()]))


#: The charts that can be fetched alone, as SVG files.
SVG_CHARTS: dict[str, Callable[[], Any]] = {}


@blueprint.get("/charts/<name>.svg")
def chart_file(name: str) -> Response:
    build = SVG_CHARTS.get(name)
    if build is None:
        return not_found(f"There is no chart named {name!r}; the charts are {', '.join(SVG_CHARTS)}")
    body = render_template("chart.svg", chart=build())
    return cacheable(Response(body, content_type="image/svg+xml; charset=utf-8"))


def _member_state_areas() -> list[charts.CountryValue]:
    return [charts.CountryValue(c.extra["alpha3"], c.label, c.count, list_href("case", [("member-state", c.key)]),
                                document_href(c.iri or "")) for c in cases_per_member_state()]


def _technology_chart() -> charts.BarChart:
    kind = KINDS["case"]
    bars = [charts.Bar(v.label, v.count, v.href, depth=v.depth)
            for v in _facet_view_unfiltered(kind, TECHNOLOGY).values]
    return charts.bar_chart(bars, title="Cases per AI technology",
                            description="Number of cases per domain of the AI Watch taxonomy, and per subdomain "
                                        "(indented); a case can use several technologies.")


def _facet_view_unfiltered(kind: Kind, facet: Facet) -> FacetView:
    return _facet_view(kind, facet, [])


def _year_chart() -> charts.ColumnChart:
    counted = {int(c.key): c for c in facet_counts(KINDS["case"], START_YEAR)}
    columns = []
    if counted:
        for year in range(min(counted), max(counted) + 1):
            c = counted.get(year)
            columns.append(charts.Bar(str(year), c.count if c else 0,
                                      list_href("case", [("start-year", str(year))]) if c else None))
    return charts.column_chart(columns, title="Cases per start year",
                               description="Number of cases by the year they started, where the source says.")


def _timeline() -> charts.Timeline:
    events = [charts.Event(e.label, e.kind, e.date, e.end, document_href(e.iri), e.code) for e in timeline_events()]
    return charts.timeline(events, title="Workshops and reports",
                           description="The Peer Learning Workshops and the AI Watch reports over time.")


SVG_CHARTS.update({
    "member-states": lambda: charts.choropleth(_member_state_areas()),
    "ai-technology": _technology_chart,
    "start-year": _year_chart,
    "timeline": _timeline,
})
