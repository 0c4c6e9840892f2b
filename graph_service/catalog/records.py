"""What the catalogue lists, read from the store: one :class:`DatasetRecord` per catalogued dataset.

* the knowledge graph as a whole (described in catalogue.ttl; its dates and coverage come from the data);
* every ``dcat:Dataset`` under ``{base}id/dataset/`` (the collections of AI cases, described in
  data/curated/datasets.ttl), with the countries, years and AI technologies of its cases;
* every report (``aiw:Report``, or ``bibo:Report`` only), with its DOI landing page and PDF as distributions and
  its RDF description.

Records hold plain rdflib terms with persistent IRIs; :mod:`.build` turns them into DCAT-AP.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pyoxigraph
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, SKOS, XSD
from rdflib.term import Node

from ..describe import sparql_iri
from ..formats import by_name
from ..namespaces import AIW, BIBO, SCHEMA
from ..store import GraphStore
from .constants import CASES_COLLECTION, KNOWLEDGE_GRAPH, REPORT, Constants
from .downloads import (
    DownloadSpec,
    collection_csv_writer,
    collection_turtle_writer,
    description_turtle_writer,
    dump_writer,
)
from .vocab import DOI_RESOLVER

#: Keywords taken from the AI technologies of a collection's cases (the most frequent ones).
MAX_TECHNOLOGY_KEYWORDS = 8


@dataclass
class DistributionRecord:
    key: str  # fragment of the distribution IRI in the record's catalogue document
    title: str
    description: str
    access_url: URIRef
    media_type: str  # media type of the content (IANA)
    download_url: URIRef | None = None
    download: DownloadSpec | None = None  # a local download: byte size and checksum come from its file
    licence: URIRef | None = None
    access_service: URIRef | None = None
    issued: Literal | None = None
    modified: Literal | None = None


@dataclass
class DatasetRecord:
    iri: URIRef
    kind: URIRef  # KNOWLEDGE_GRAPH, CASES_COLLECTION or REPORT
    document: URIRef  # {base}catalog/{kind}/{key}: the record's own DCAT-AP document
    title: Literal
    description: Literal
    issued: Literal | None = None
    modified: Literal | None = None
    properties: dict[URIRef, list[Node]] = field(default_factory=lambda: defaultdict(list))
    temporal: tuple[Literal, Literal] | None = None
    distributions: list[DistributionRecord] = field(default_factory=list)

    def add(self, predicate: URIRef, values: Iterable[Node]) -> None:
        for value in values:
            if value not in self.properties[predicate]:
                self.properties[predicate].append(value)

    @property
    def sort_date(self) -> str:
        """ISO text of the last change, for ``modified_since`` and newest-first order (as ckanext-dcat sorts)."""
        moment = self.modified or self.issued
        return str(moment) if moment is not None else ""


def to_rdflib(term: pyoxigraph.NamedNode | pyoxigraph.Literal | pyoxigraph.BlankNode) -> Node:
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    return BNode(str(term.value))


def _values_of(store: GraphStore, subjects: list[str], predicates: Iterable[URIRef]) -> dict[str, dict[str, list]]:
    """``{subject: {predicate: [values]}}`` for the given subjects and predicates, in one query."""
    result: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    if not subjects:
        return result
    rows = store.select(
        f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {' '.join(sparql_iri(s) for s in subjects)} }} "
        f"VALUES ?p {{ {' '.join(sparql_iri(str(p)) for p in predicates)} }} ?s ?p ?o }} ORDER BY ?s ?p ?o"
    )
    for row in rows:
        value = to_rdflib(row["o"])
        bucket = result[row["s"].value][row["p"].value]
        if value not in bucket:
            bucket.append(value)
    return result


def _english(literals: list) -> Literal | None:
    """The English (or language-less) literal of a list, else the first one."""
    literals = [v for v in literals if isinstance(v, Literal)]
    for literal in literals:
        if literal.language in ("en", None):
            return literal
    return literals[0] if literals else None


def _date_part(literal: Literal) -> Literal:
    """An xsd:dateTime as its xsd:date (a period of time of whole days), other literals unchanged."""
    if literal.datatype == XSD.dateTime:
        return Literal(str(literal)[:10], datatype=XSD.date)
    return literal


def _timestamp(moment: datetime) -> Literal:
    return Literal(moment.isoformat(timespec="seconds").replace("+00:00", "Z"), datatype=XSD.dateTime)


def _year_bounds(literals: Iterable[Literal]) -> tuple[Literal, Literal] | None:
    """The earliest and latest of dates/years, each kept in its own datatype."""
    dated = [(str(v)[:10], v) for v in literals if isinstance(v, Literal) and str(v)[:4].isdigit()]
    if not dated:
        return None
    dated.sort(key=lambda pair: pair[0])
    return dated[0][1], dated[-1][1]


class RecordReader:
    """Reads the catalogue's records from the store (a handful of queries, no per-case query)."""

    def __init__(self, store: GraphStore, constants: Constants) -> None:
        self.store = store
        self.constants = constants
        self.base = constants.base_iri
        version = store.version()
        self.published = _timestamp(version.published) if version else None

    def document_of(self, iri: str) -> URIRef:
        """``{base}id/report/x`` -> ``{base}catalog/report/x`` (the record's DCAT-AP document)."""
        relative = iri[len(self.base):]
        if relative.startswith("id/"):
            relative = relative[len("id/"):]
        return self.constants.iri("catalog/" + relative)

    def records(self) -> list[DatasetRecord]:
        collections = self.collections()
        reports = self.reports()
        graph = self.knowledge_graph([*collections, *reports])
        return [graph, *collections, *reports]

    # -- knowledge graph -----------------------------------------------------------------------------------------

    def knowledge_graph(self, parts: list[DatasetRecord]) -> DatasetRecord:
        c = self.constants
        iri = c.knowledge_graph
        record = DatasetRecord(
            iri=iri, kind=KNOWLEDGE_GRAPH, document=self.document_of(str(iri)),
            title=c.literal(iri, DCTERMS.title), description=c.literal(iri, DCTERMS.description),
            issued=self.published, modified=self.published,
        )
        record.add(DCTERMS.publisher, c.graph.objects(iri, DCTERMS.publisher))
        record.add(DCAT.landingPage, c.graph.objects(iri, DCAT.landingPage))
        record.add(DCTERMS.identifier, [Literal(str(iri))])
        ends = [end for part in parts if part.temporal for end in part.temporal]
        record.temporal = _year_bounds(ends)
        licence = c.metadata_licence(KNOWLEDGE_GRAPH)
        names = {"nt.gz": ("nt", True), "ttl": ("ttl", False), "nq": ("nq", False), "jsonld": ("jsonld", False)}
        for suffix, (format_name, compressed) in names.items():
            fmt = by_name(format_name)
            spec = DownloadSpec(
                name=f"knowledge-graph.{suffix}",
                media_type="application/gzip" if compressed else fmt.media_type,
                content_media_type=fmt.media_type, writer=dump_writer(format_name), compressed=compressed,
            )
            keeps_graphs = " with the named graph of every statement" if fmt.rdf_format.supports_datasets else ""
            record.distributions.append(self._local(
                key=suffix.replace(".", "-"), spec=spec, licence=licence,
                title=f"Full dump of the knowledge graph ({_format_label(format_name, compressed)})",
                description=f"Every statement of the AI Watch knowledge graph{keeps_graphs}, "
                            f"generated from the published data version.",
            ))
        sparql = c.iri("sparql")
        record.distributions.append(DistributionRecord(
            key="sparql", title="SPARQL endpoint",
            description="Query the whole knowledge graph with SPARQL 1.1 (results as JSON, XML, CSV or TSV).",
            access_url=sparql, media_type="application/sparql-results+json", licence=licence,
            access_service=c.service, issued=self.published, modified=self.published,
        ))
        return record

    # -- collections of AI cases ---------------------------------------------------------------------------------

    def collections(self) -> list[DatasetRecord]:
        prefix = self.base + "id/dataset/"
        rows = self.store.select(
            f"SELECT DISTINCT ?d WHERE {{ ?d a <{DCAT.Dataset}> FILTER(STRSTARTS(STR(?d), {_string(prefix)})) }} "
            "ORDER BY ?d"
        )
        iris = [row["d"].value for row in rows if row["d"].value != str(self.constants.knowledge_graph)]
        values = _values_of(self.store, iris, (
            DCTERMS.title, DCTERMS.description, DCTERMS.issued, DCTERMS.modified, DCTERMS.publisher,
            DCTERMS.license, DCAT.landingPage, DCAT.keyword, DCTERMS.identifier, DCTERMS.language,
        ))
        records = []
        for iri in iris:
            v = values[iri]
            title, description = _english(v[str(DCTERMS.title)]), _english(v[str(DCTERMS.description)])
            if title is None or description is None:
                continue  # nothing a catalogue could show; the project's shapes require both
            stats = self._collection_stats(iri)
            modified = _latest(v[str(DCTERMS.modified)]) or stats.pop("modified", None) \
                or _latest(v[str(DCTERMS.issued)])
            record = DatasetRecord(
                iri=URIRef(iri), kind=CASES_COLLECTION, document=self.document_of(iri), title=title,
                description=description, issued=_latest(v[str(DCTERMS.issued)]), modified=modified,
            )
            record.add(DCTERMS.publisher, v[str(DCTERMS.publisher)][:1])
            record.add(DCAT.landingPage, [self.constants.iri("doc/" + iri[len(self.base) + 3:]),
                                          *v[str(DCAT.landingPage)]])
            record.add(DCAT.keyword, v[str(DCAT.keyword)])
            record.add(DCAT.keyword, stats["keywords"])
            record.add(DCTERMS.spatial, stats["countries"])
            record.add(DCTERMS.language, v[str(DCTERMS.language)])
            record.add(DCTERMS.identifier, [Literal(iri), *v[str(DCTERMS.identifier)]])
            record.temporal = stats["temporal"] or _year_bounds([*v[str(DCTERMS.issued)], *v[str(DCTERMS.modified)]])
            licence = (v[str(DCTERMS.license)] or [self.constants.metadata_licence(CASES_COLLECTION)])[0]
            key = iri.rsplit("/", 1)[1]
            record.distributions.append(self._local(
                key="csv", licence=licence,
                spec=DownloadSpec(f"dataset/{key}.csv", "text/csv", "text/csv", collection_csv_writer(iri)),
                title=f"{title} (CSV)",
                description="One row per case: identifier, title, description, countries, organisation, COFOG "
                            "function, status, process and application type, interaction, AI technology, years, "
                            "website; several values in one cell are separated by \"; \".",
            ))
            record.distributions.append(self._local(
                key="ttl", licence=licence,
                spec=DownloadSpec(f"dataset/{key}.ttl", "text/turtle", "text/turtle", collection_turtle_writer(iri)),
                title=f"{title} (RDF, Turtle)",
                description="Every statement about every case of the collection, in the AI Watch ontology.",
            ))
            records.append(record)
        return records

    def _collection_stats(self, iri: str) -> dict:
        """The countries, years, last change and most frequent AI technologies of a collection's cases.

        Each statement about the cases is read in a sub-select: Oxigraph evaluates it on its own, by one scan of
        the predicate's index, and hash-joins it with the collection's cases, where a pattern in the same group
        costs one index lookup per case. Aggregates come first (countries made distinct, cases counted per
        technology) and ordering after, on the few rows left. At a million triples (29k cases in one collection)
        the three queries take 0.5 s instead of 2.3 s; the answers are the same.
        """
        dataset = sparql_iri(iri)
        source = f"<{AIW.sourceDataset}>"

        def about_cases(predicate: str, variable: str) -> str:
            return f"{{ SELECT ?case {variable} WHERE {{ ?case <{predicate}> {variable} }} }}"

        countries = [URIRef(row["c"].value) for row in self.store.select(
            f"SELECT ?c WHERE {{ {{ SELECT DISTINCT ?c WHERE {{ ?case {source} {dataset} . "
            f"{about_cases(DCTERMS.spatial, '?c')} }} }} FILTER(isIRI(?c)) }} ORDER BY ?c")]
        years = self.store.select(
            f"SELECT (MIN(?start) AS ?first) (MAX(?end) AS ?last) (MAX(?changed) AS ?modified) WHERE {{ "
            f"?case {source} {dataset} . OPTIONAL {about_cases(AIW.startYear, '?start')} "
            f"OPTIONAL {about_cases(AIW.endYear, '?end')} OPTIONAL {about_cases(DCTERMS.modified, '?changed')} }}"
        )
        row = years[0] if years else {}
        bounds = [to_rdflib(row[k]) for k in ("first", "last", "modified") if k in row]
        technologies = self.store.select(
            f"SELECT ?label (SUM(?cases) AS ?n) WHERE {{ "
            f"{{ SELECT ?t (COUNT(?case) AS ?cases) WHERE {{ ?case {source} {dataset} . "
            f"{about_cases(AIW.aiTechnology, '?t')} }} GROUP BY ?t }} "
            f"?t <{SKOS.broader}> ?domain ; <{SKOS.prefLabel}> ?label FILTER(LANG(?label) = 'en') }} "
            f"GROUP BY ?label ORDER BY DESC(?n) ?label LIMIT {MAX_TECHNOLOGY_KEYWORDS}"
        )
        stats: dict = {
            "countries": countries,
            "temporal": _year_bounds(bounds),
            "keywords": [Literal(row["label"].value, lang="en") for row in technologies],
        }
        if "modified" in row:
            stats["modified"] = to_rdflib(row["modified"])
        return stats

    # -- reports -------------------------------------------------------------------------------------------------

    def reports(self) -> list[DatasetRecord]:
        # aiw:Report nodes, and the reports the data types only bibo:Report (no verified licence yet)
        iris = [row["r"].value for row in self.store.select(
            f"SELECT DISTINCT ?r WHERE {{ VALUES ?type {{ <{AIW.Report}> <{BIBO.Report}> }} ?r a ?type "
            f"FILTER(isIRI(?r)) }} ORDER BY ?r")]
        values = _values_of(self.store, iris, (
            DCTERMS.title, DCTERMS.description, DCTERMS.abstract, DCTERMS.issued, DCTERMS.modified,
            DCTERMS.publisher, DCTERMS.license, DCTERMS.language, DCTERMS.identifier, BIBO.doi, AIW.pdf,
            FOAF.page, DCTERMS.subject,
        ))
        workshops = self._report_workshops(iris)
        subject_labels = self._labels([s for v in values.values() for s in v[str(DCTERMS.subject)]])
        records = []
        for iri in iris:
            v = values[iri]
            title = _english(v[str(DCTERMS.title)])
            description = _english(v[str(DCTERMS.description)]) or _english(v[str(DCTERMS.abstract)]) or title
            if title is None:
                continue
            issued = _latest(v[str(DCTERMS.issued)])
            record = DatasetRecord(
                iri=URIRef(iri), kind=REPORT, document=self.document_of(iri), title=title,
                description=description, issued=issued, modified=_latest(v[str(DCTERMS.modified)]) or issued,
            )
            record.add(DCTERMS.publisher, v[str(DCTERMS.publisher)][:1])
            record.add(DCTERMS.language, v[str(DCTERMS.language)])
            record.add(DCTERMS.identifier, [Literal(iri), *v[str(DCTERMS.identifier)]])
            doc_page = self.constants.iri("doc/" + iri[len(self.base) + 3:])
            record.add(DCAT.landingPage, [doc_page, *v[str(FOAF.page)]])
            record.add(DCAT.keyword, [Literal(label, lang="en") for s in v[str(DCTERMS.subject)]
                                      if (label := subject_labels.get(str(s)))])
            workshop = workshops.get(iri, {})
            record.add(DCTERMS.spatial, workshop.get("countries", []))
            if workshop.get("date") is not None:
                day = _date_part(workshop["date"])
                record.temporal = (day, day)
            elif issued is not None:
                record.temporal = (issued, issued)
            licence = _first(v[str(DCTERMS.license)])
            for doi in v[str(BIBO.doi)]:
                record.distributions.append(DistributionRecord(
                    key="doi", title="Publisher's landing page (DOI)",
                    description=f"The report's page at its publisher, resolved from DOI {doi}.",
                    access_url=URIRef(DOI_RESOLVER + str(doi)), media_type="text/html", licence=licence,
                    issued=issued, modified=record.modified,
                ))
                break
            for pdf in v[str(AIW.pdf)]:
                record.distributions.append(DistributionRecord(
                    key="pdf", title="The report (PDF)", description="The full text of the report, as published.",
                    access_url=URIRef(str(pdf)), download_url=URIRef(str(pdf)), media_type="application/pdf",
                    licence=licence, issued=issued, modified=record.modified,
                ))
                break
            key = iri[len(self.base):].replace("id/", "", 1)
            record.distributions.append(self._local(
                key="ttl", licence=self.constants.metadata_licence(REPORT), access_url=doc_page,
                spec=DownloadSpec(f"{key}.ttl", "text/turtle", "text/turtle", description_turtle_writer(iri)),
                title="Description of the report in the knowledge graph (RDF, Turtle)",
                description="Title, authors, identifiers (DOI, ISBN, JRC number), dates, publisher, licence and "
                            "links of the report, as the knowledge graph states them.",
            ))
            records.append(record)
        return records

    def _report_workshops(self, iris: list[str]) -> dict[str, dict]:
        if not iris:
            return {}
        values = " ".join(sparql_iri(i) for i in iris)
        found: dict[str, dict] = defaultdict(lambda: {"countries": []})
        for row in self.store.select(
            f"SELECT ?r ?date WHERE {{ VALUES ?r {{ {values} }} ?r <{AIW.reportOf}> ?w . "
            f"?w <{SCHEMA.startDate}> ?date }} ORDER BY ?r ?date"
        ):
            found[row["r"].value].setdefault("date", to_rdflib(row["date"]))
        for row in self.store.select(
            f"SELECT DISTINCT ?r ?c WHERE {{ VALUES ?r {{ {values} }} ?r <{AIW.reportOf}> ?w . "
            f"?w <{AIW.experience}>/<{AIW.memberState}>/<{OWL.sameAs}> ?c FILTER(isIRI(?c)) }} ORDER BY ?r ?c"
        ):
            found[row["r"].value]["countries"].append(URIRef(row["c"].value))
        return found

    def _labels(self, iris: list[Node]) -> dict[str, str]:
        iris = [str(i) for i in iris if isinstance(i, URIRef)]
        values = _values_of(self.store, sorted(set(iris)), (SKOS.prefLabel,))
        return {iri: str(label) for iri in iris if (label := _english(values[iri][str(SKOS.prefLabel)]))}

    # -- shared --------------------------------------------------------------------------------------------------

    def _local(self, *, key: str, spec: DownloadSpec, licence: URIRef | None, title: str, description: str,
               access_url: URIRef | None = None) -> DistributionRecord:
        url = self.constants.iri(spec.url_path)
        return DistributionRecord(
            key=key, title=title, description=description, access_url=access_url or url, download_url=url,
            media_type=spec.content_media_type, download=spec, licence=licence,
            issued=self.published, modified=self.published,
        )


def _format_label(format_name: str, compressed: bool) -> str:
    labels = {"nt": "N-Triples", "ttl": "Turtle", "nq": "N-Quads", "jsonld": "JSON-LD"}
    label = labels.get(format_name, format_name)
    return f"{label}, gzip" if compressed else label


def _first(values: list) -> URIRef | None:
    return next((v for v in values if isinstance(v, URIRef)), None)


def _latest(values: list) -> Literal | None:
    dated = [v for v in values if isinstance(v, Literal)]
    return max(dated, key=lambda v: str(v)) if dated else None


def _string(text: str) -> str:
    return str(pyoxigraph.Literal(text))

