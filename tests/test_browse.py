"""The browsing face on the real data: home page counts, index pages with paging and facets, charts.

Every number a page shows is checked against a SPARQL query of its own on the loaded store; lists are walked page
by page through their links, as a reader (or a crawler) would.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from graph_service.config import Settings
from graph_service.namespaces import PREFIXES
from graph_service.store import GraphStore, OxigraphStore
from graph_service.web import create_app
from graph_service.web.browse import PAGE_SIZE

BASE = "https://w3id.org/aiwatch/"
ORIGIN = "http://localhost/"
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
SVG = "{http://www.w3.org/2000/svg}"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
HTML = {"Accept": "text/html"}

KIND_CLASSES = {
    "case": "aiw:AIUseCase", "report": "aiw:Report", "workshop": "aiw:Workshop", "member-state": "aiw:MemberState",
    "strategy": "aiw:NationalAIStrategy", "organisation": "org:Organization", "person": "foaf:Person",
}


# ---------------------------------------------------------------------------------------------------------------
# Reading pages
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    content: list[str | Element] = field(default_factory=list)  # text and child elements, in document order

    @property
    def children(self) -> list[Element]:
        return [c for c in self.content if isinstance(c, Element)]

    @property
    def text(self) -> str:
        return " ".join(" ".join(c if isinstance(c, str) else c.text for c in self.content).split())

    def iter(self):
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | None) -> list[Element]:
        """Elements with ``tag`` whose attributes have the given values (``None``: present with any value)."""
        return [e for e in self.iter() if (tag is None or e.tag == tag) and all(
            (name.replace("_", "-") in e.attrs) if value is None else e.attrs.get(name.replace("_", "-")) == value
            for name, value in attrs.items())]

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Document(HTMLParser):
    """A small DOM of an HTML page (the standard library's parser; SVG elements included)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self._stack[-1].content.append(element)
        if tag not in _VOID:
            self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].content.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].content.append(data)


def page(client, url: str) -> Element:
    response = client.get(url, headers=HTML)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "text/html"
    return Document(response.get_data(as_text=True)).root


def local_path(href: str) -> str:
    """``/browse/case?x=y`` from an absolute link on the serving origin or a path."""
    parts = urlsplit(href)
    assert not parts.netloc or f"{parts.scheme}://{parts.netloc}/" == ORIGIN, href
    return parts.path + (f"?{parts.query}" if parts.query else "")


def number(text: str) -> int:
    return int(text.replace(",", "").strip())


def count(kg, query: str) -> int:
    return int(kg.select(SPARQL_PREFIXES + query)[0]["n"])


def counts_by(kg, query: str, key: str = "v") -> dict[str, int]:
    return {row[key]: int(row["n"]) for row in kg.select(SPARQL_PREFIXES + query)}


def doc_href(iri: str) -> str:
    assert iri.startswith(BASE + "id/"), iri
    return "/doc/" + iri[len(BASE + "id/"):]


def items_of(root: Element) -> list[tuple[str, str]]:
    """(path, title) of each item of an index page, in order."""
    return [(local_path(a.attrs["href"]), a.text) for a in root.find_all("a", **{"class": "item-title"})]


def total_of(root: Element) -> int:
    (badge,) = root.find_all("span", data_total=None)
    assert number(badge.text) == int(badge.attrs["data-total"])
    return int(badge.attrs["data-total"])


def next_link(root: Element) -> str | None:
    links = [a for a in root.find_all("a", rel="next")]
    return local_path(links[0].attrs["href"]) if links else None


def facet_values(root: Element, param: str) -> dict[str, tuple[int, str, bool]]:
    """key -> (count, link, selected) of every value of one facet (also those folded under "more")."""
    sections = root.find_all("section", data_facet=param)
    if not sections:
        return {}
    values = {}
    for a in sections[0].find_all("a", data_count=None):
        href = local_path(a.attrs["href"])
        query = dict(parse_qsl(urlsplit(href).query))
        selected = a.attrs.get("aria-current") == "true"
        key = query.get(param) if not selected else None
        if selected:  # the link of a chosen value takes it off: the key is the one missing from the link
            key = "(selected)"
        values[key] = (int(a.attrs["data-count"]), href, selected)
    return values


# ---------------------------------------------------------------------------------------------------------------
# Home page
# ---------------------------------------------------------------------------------------------------------------

def test_home_counts_equal_sparql_counts(client, kg) -> None:
    root = page(client, "/")
    stats = {a.attrs["data-stat"]: number(a.find_all("span", **{"class": "stat-count"})[0].text)
             for a in root.find_all("a", data_stat=None)}
    expected = {
        "Cases": count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a aiw:AIUseCase }"),
        "Member states": count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a aiw:MemberState }"),
        "Reports": count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a aiw:Report }"),
        "Workshops": count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a aiw:Workshop }"),
        "National AI strategies": count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a aiw:NationalAIStrategy }"),
        "Organisations": count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a org:Organization }"),
        "Concept schemes": count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a skos:ConceptScheme }"),
        "Triples": count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"),
    }
    assert stats == expected
    assert expected["Cases"] > 1000 and expected["Member states"] >= 27  # the real data, not an empty store

    per_source = counts_by(kg, "SELECT ?v (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a aiw:AIUseCase ; "
                               "aiw:sourceDataset ?d . ?d dct:title ?v } GROUP BY ?v")
    shown = {li.attrs["data-source"]: number(li.find_all("span", **{"class": "count"})[0].text)
             for li in root.find_all("li", data_source=None)}
    assert shown == per_source
    assert sum(shown.values()) == expected["Cases"]  # every case comes from exactly one source


def test_home_leads_to_every_entry_point(client) -> None:
    root = page(client, "/")
    hrefs = {local_path(a.attrs["href"]) for a in root.find_all("a", href=None)}
    entry_points = {"/sparql", "/catalog", "/def/aiwatch", "/concept", "/shapes", "/charts",
                    *(f"/browse/{kind}" for kind in KIND_CLASSES)}
    assert entry_points <= hrefs
    for path in sorted(entry_points):
        assert client.get(path, headers=HTML).status_code == 200, path


def test_home_is_the_root_of_the_site(app) -> None:
    roots = [rule.endpoint for rule in app.url_map.iter_rules() if rule.rule == "/"]
    assert roots == ["browse.home"]


# ---------------------------------------------------------------------------------------------------------------
# Index pages and paging
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KIND_CLASSES))
def test_index_lists_every_item_once_across_pages(client, kg, kind: str) -> None:
    expected = {doc_href(row["s"]) for row in kg.select(
        SPARQL_PREFIXES + f"SELECT DISTINCT ?s WHERE {{ ?s a {KIND_CLASSES[kind]} FILTER(isIRI(?s)) }}")}
    url: str | None = f"/browse/{kind}"
    seen: list[str] = []
    pages = 0
    while url:
        root = page(client, url)
        assert total_of(root) == len(expected)
        items = items_of(root)
        assert 0 < len(items) <= PAGE_SIZE
        assert all(title for _, title in items)
        seen += [path for path, _ in items]
        pages += 1
        url = next_link(root)
    assert len(seen) == len(set(seen)), "an item is listed on two pages"
    assert set(seen) == expected
    assert pages == -(-len(expected) // PAGE_SIZE)


def test_paging_is_stable_and_links_every_page(client, kg) -> None:
    total = count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a aiw:AIUseCase }")
    last = -(-total // PAGE_SIZE)
    first = page(client, "/browse/case?page=2")
    again = page(client, "/browse/case?page=2")
    assert items_of(first) == items_of(again) and len(items_of(first)) == PAGE_SIZE
    numbers = [local_path(a.attrs["href"]) for nav in first.find_all("nav", **{"class": "pager pages"})
               for a in nav.find_all("a") if a.text.isdigit()]
    assert "/browse/case" in numbers and f"/browse/case?page={last}" in numbers  # first and last page linked
    last_page = page(client, f"/browse/case?page={last}")
    assert len(items_of(last_page)) == total - (last - 1) * PAGE_SIZE
    assert next_link(last_page) is None


def test_items_link_to_their_documents(client, kg) -> None:
    for kind in KIND_CLASSES:
        path, title = items_of(page(client, f"/browse/{kind}"))[0]
        assert path.startswith(f"/doc/{kind}/")
        document = page(client, path)
        assert document.find_all("h1")[0].text == title


def test_reports_newest_first(client, kg) -> None:
    issued = {doc_href(row["r"]): row["d"] for row in kg.select(
        SPARQL_PREFIXES + "SELECT ?r (STR(?i) AS ?d) WHERE { ?r a aiw:Report ; dct:issued ?i }")}
    listed = [path for path, _ in items_of(page(client, "/browse/report"))]
    dates = [issued[path] for path in listed if path in issued]
    assert len(dates) == len(issued) > 1
    assert dates == sorted(dates, reverse=True)  # lexical order of ISO dates and years is chronological


# ---------------------------------------------------------------------------------------------------------------
# Facets
# ---------------------------------------------------------------------------------------------------------------

FACET_QUERIES = {
    "member-state": ("aiw:memberState", "id/member-state/"),
    "status": ("aiw:status", "concept/status/"),
    "technology": ("aiw:aiTechnology/skos:broader*", "concept/ai-technology/"),
    "cofog": ("aiw:cofogFunction", "concept/cofog/"),
    "source": ("aiw:sourceDataset", "id/dataset/"),
}


def sparql_facet(kg, param: str, where: str = "") -> dict[str, int]:
    path, under = FACET_QUERIES[param]
    counted = counts_by(kg, f"SELECT ?v (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a aiw:AIUseCase . {where} "
                            f"?c {path} ?v }} GROUP BY ?v")
    return {iri[len(BASE + under):]: n for iri, n in counted.items() if iri.startswith(BASE + under)}


@pytest.mark.parametrize("param", list(FACET_QUERIES))
def test_case_facet_counts_equal_sparql_counts(client, kg, param: str) -> None:
    shown = facet_values(page(client, "/browse/case"), param)
    expected = sparql_facet(kg, param)
    total = count(kg, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a aiw:AIUseCase }")
    assert {key: c for key, (c, _, _) in shown.items()} == {
        key: n for key, n in expected.items() if n < total or param == "technology"}
    # Following the value with the fewest cases gives that many cases.
    key = min(shown, key=lambda k: (shown[k][0], k))
    filtered = page(client, shown[key][1])
    assert total_of(filtered) == expected[key]
    assert len(items_of(filtered)) == min(PAGE_SIZE, expected[key])


def test_start_year_facet(client, kg) -> None:
    shown = facet_values(page(client, "/browse/case"), "start-year")
    expected = counts_by(kg, "SELECT ?v (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a aiw:AIUseCase ; aiw:startYear ?y "
                             "BIND(SUBSTR(STR(?y), 1, 4) AS ?v) } GROUP BY ?v")
    assert {key: c for key, (c, _, _) in shown.items()} == expected


def test_facets_combine(client, kg) -> None:
    spain = page(client, "/browse/case?member-state=esp")
    assert total_of(spain) == sparql_facet(kg, "member-state")["esp"]

    statuses = facet_values(spain, "status")
    assert {key: c for key, (c, _, _) in statuses.items()} == sparql_facet(
        kg, "status", f"?c aiw:memberState <{BASE}id/member-state/esp> .")
    both = page(client, statuses["pilot"][1])
    assert dict(parse_qsl(urlsplit(statuses["pilot"][1]).query)) == {"member-state": "esp", "status": "pilot"}
    where = f"?c aiw:memberState <{BASE}id/member-state/esp> ; aiw:status <{BASE}concept/status/pilot> ."
    assert total_of(both) == count(kg, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a aiw:AIUseCase . {where} }}")

    technologies = facet_values(both, "technology")
    assert {key: c for key, (c, _, _) in technologies.items()} == sparql_facet(kg, "technology", where)
    three = page(client, technologies["learning"][1])
    assert total_of(three) == sparql_facet(kg, "technology", where)["learning"]
    assert all(path.startswith("/doc/case/") for path, _ in items_of(three))

    # Each active filter can be taken off on its own.
    chips = {a.text: local_path(a.attrs["href"]) for a in three.find_all("a", **{"class": "chip"})}
    assert len(chips) == 3
    without_status = next(href for text, href in chips.items() if text.startswith("Status"))
    assert dict(parse_qsl(urlsplit(without_status).query)) == {"member-state": "esp", "technology": "learning"}
    assert facet_values(three, "member-state")["(selected)"][2]


def test_malformed_requests(client) -> None:
    assert client.get("/browse/case?status=Not%20a%20key").status_code == 400
    assert client.get("/browse/case?page=0").status_code == 400
    assert client.get("/browse/case?page=abc").status_code == 400
    assert client.get("/browse/case?page=9999", headers=HTML).status_code == 404
    assert client.get("/browse/unicorns", headers=HTML).status_code == 404
    assert client.get("/charts/unicorns.svg").status_code == 404
    # A well-formed value nothing has: an empty list, not an error.
    empty = page(client, "/browse/case?status=no-such-status")
    assert total_of(empty) == 0 and items_of(empty) == []


# ---------------------------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------------------------

def svg(client, name: str) -> ET.Element:
    response = client.get(f"/charts/{name}.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    return ET.fromstring(response.get_data())


def test_map_has_a_country_per_member_state_with_its_count(client, kg) -> None:
    rows = kg.select(SPARQL_PREFIXES + "SELECT ?a3 ?name (COUNT(DISTINCT ?c) AS ?n) WHERE { ?ms a aiw:MemberState ; "
                                       "aiw:iso3166Alpha3 ?a3 ; skos:prefLabel ?name . ?c a aiw:AIUseCase ; "
                                       "aiw:memberState ?ms } GROUP BY ?a3 ?name")
    assert len(rows) >= 27
    root = svg(client, "member-states")
    links = {a.get("data-code"): a for a in root.iter(f"{SVG}a")}
    for row in rows:
        link = links[row["a3"]]
        assert link.find(f"{SVG}path").get("d").startswith("M")
        cases = int(row["n"])
        assert link.find(f"{SVG}title").text == f"{row['name']}: {cases:,} case{'' if cases == 1 else 's'}"
        href = link.get("href")
        filtered = page(client, local_path(href))
        assert total_of(filtered) == cases


def test_map_is_bundled_and_licensed() -> None:
    maps = Path(__file__).resolve().parent.parent / "graph_service" / "web" / "static" / "maps"
    assert "Permission to use, copy, modify" in (maps / "LICENSE-world-atlas").read_text()
    from graph_service.web.charts import europe_map

    shapes = europe_map().shapes
    eu_27 = ("AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU SVK SVN "
             "ESP SWE").split()
    assert set(eu_27) <= set(shapes)


def test_technology_bars_equal_sparql_counts(client, kg) -> None:
    expected = counts_by(kg, "SELECT ?v (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a aiw:AIUseCase ; "
                             "aiw:aiTechnology/skos:broader* ?t . ?t skos:prefLabel ?v } GROUP BY ?v")
    bars = {a.get("data-label"): int(a.get("data-count")) for a in svg(client, "ai-technology").iter(f"{SVG}a")}
    assert bars == expected
    titles = {a.find(f"{SVG}title").text for a in svg(client, "ai-technology").iter(f"{SVG}a")}
    assert f"Machine learning: {expected['Machine learning']:,}" in titles


def test_start_year_columns_equal_sparql_counts(client, kg) -> None:
    expected = counts_by(kg, "SELECT ?v (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a aiw:AIUseCase ; aiw:startYear ?y "
                             "BIND(SUBSTR(STR(?y), 1, 4) AS ?v) } GROUP BY ?v")
    columns = {a.get("data-label"): int(a.get("data-count")) for a in svg(client, "start-year").iter(f"{SVG}a")}
    assert {year: n for year, n in columns.items() if n} == expected
    years = sorted(int(y) for y in columns)
    assert years == list(range(min(years), max(years) + 1))  # years without cases are shown, as zero


def test_timeline_shows_dated_workshops_and_reports(client, kg) -> None:
    dated = kg.select(SPARQL_PREFIXES + "SELECT DISTINCT ?s WHERE { { ?s a aiw:Workshop ; schema:startDate ?d } "
                                        "UNION { ?s a aiw:Report ; dct:issued ?d } }")
    marks = {local_path(a.get("href")): a for a in svg(client, "timeline").iter(f"{SVG}a")}
    assert set(marks) == {doc_href(row["s"]) for row in dated}
    assert {a.get("data-lane") for a in marks.values()} == {"workshop", "report"}
    assert "2021" in marks["/doc/report/jrc126501"].find(f"{SVG}title").text


def test_charts_page_embeds_every_chart(client) -> None:
    root = page(client, "/charts")
    assert {s.attrs["data-chart"] for s in root.find_all("svg")} == {"map", "bars", "columns", "timeline"}
    assert len(root.find_all("tr", data_alpha3=None)) == len(svg(client, "member-states").findall(f".//{SVG}a"))


# ---------------------------------------------------------------------------------------------------------------
# Self-contained, cacheable, fast
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/browse", "/browse/case?member-state=deu&status=pilot", "/browse/report",
                                 "/charts"])
def test_pages_load_nothing_from_elsewhere(client, url: str) -> None:
    root = page(client, url)
    for element in root.iter():
        for name in ("href", "src", "action", "srcset", "poster", "data"):
            value = element.attrs.get(name)
            if value is None:
                continue
            parts = urlsplit(value)
            assert not parts.scheme or value.startswith(ORIGIN), f"{url}: <{element.tag} {name}={value!r}>"
    assert not root.find_all("script", src=None)


@pytest.mark.parametrize("url", ["/", "/browse/case?page=2", "/charts", "/charts/member-states.svg"])
def test_pages_are_cacheable(client, url: str) -> None:
    first = client.get(url, headers=HTML)
    assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(url, headers={**HTML, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    head = client.head(url, headers=HTML)
    assert head.status_code == 200 and head.headers["ETag"] == first.headers["ETag"]


class CountingStore(GraphStore):
    """A real Oxigraph store that also counts the aggregate (GROUP BY) queries it answers."""

    def __init__(self, inner: OxigraphStore) -> None:
        self.inner = inner
        self.aggregates = 0

    def query(self, sparql, **kwargs):
        if "GROUP BY" in sparql or "COUNT(" in sparql:
            self.aggregates += 1
        return self.inner.query(sparql, **kwargs)

    def version(self):
        return self.inner.version()

    def publish(self, quads, digest):
        return self.inner.publish(quads, digest)

    def quads(self, graph=None):
        return self.inner.quads(graph)

    def graph_names(self):
        return self.inner.graph_names()


def _cases(n: int, status: str) -> list[Quad]:
    graph = NamedNode(BASE + "graph/test")
    aiw = PREFIXES["aiw"]
    quads = []
    for i in range(n):
        case = NamedNode(f"{BASE}id/case/test-{i}")
        quads += [
            Quad(case, NamedNode(RDF_TYPE), NamedNode(aiw + "AIUseCase"), graph),
            Quad(case, NamedNode("http://purl.org/dc/terms/title"), Literal(f"Case {i}", language="en"), graph),
            Quad(case, NamedNode(aiw + "status"), NamedNode(f"{BASE}concept/status/{status}"), graph),
        ]
    return quads


def test_aggregates_are_computed_once_per_data_version(tmp_path) -> None:
    """Counts and facets come from the process cache until the data changes, then from the new data."""
    store = CountingStore(OxigraphStore(tmp_path / "store"))
    store.publish(_cases(2, "pilot"), "version-1")
    application = create_app(Settings.from_env(environ={}, store_path=tmp_path / "store"), store)
    browser = application.test_client()

    root = Document(browser.get("/browse/case").get_data(as_text=True)).root
    assert total_of(root) == 2
    before = store.aggregates
    assert before > 0
    root = Document(browser.get("/browse/case").get_data(as_text=True)).root
    assert total_of(root) == 2 and store.aggregates == before  # served from the cache
    stats = Document(browser.get("/").get_data(as_text=True)).root
    assert re.sub(r"\D", "", stats.find_all("a", data_stat="Cases")[0].text) == "2"

    store.publish(_cases(3, "implemented"), "version-2")
    root = Document(browser.get("/browse/case").get_data(as_text=True)).root
    assert total_of(root) == 3 and store.aggregates > before
    stats = Document(browser.get("/").get_data(as_text=True)).root
    assert re.sub(r"\D", "", stats.find_all("a", data_stat="Cases")[0].text) == "3"
