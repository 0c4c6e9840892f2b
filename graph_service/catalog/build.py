"""DCAT-AP graphs of the catalogue: a page of it, one record of it, in the profile asked for.

The graph is built with persistent IRIs; the web face rewrites them to the serving origin. Every object node
carries its class (``tpl:rangeClass`` of catalogue.ttl), every EU authority concept its ``skos:inScheme`` (the
scheme is the authority table its IRI names), and every agent its ``foaf:name`` (from the store).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from ..namespaces import HYDRA, PREFIXES, SPDX, VCARD
from ..store import GraphStore
from .constants import KNOWLEDGE_GRAPH, Constants
from .downloads import DownloadFile, DownloadSpec
from .paging import PageInfo, add_paging
from .profiles import Profile
from .records import DatasetRecord, DistributionRecord, _english, _values_of
from .vocab import ADMS, DCATAP, authority_scheme, media_type_iri

#: The generated file of a local download (size and checksums), see :class:`.downloads.DownloadCache`; ``None``
#: while the files are being written (the distribution then states no byte size and no checksum).
FileOf = Callable[[DownloadSpec], DownloadFile | None]

OUTPUT_PREFIXES = {
    **PREFIXES, "vcard": str(VCARD), "spdx": str(SPDX), "hydra": str(HYDRA), "adms": str(ADMS),
    "dcatap": str(DCATAP), "eucb": "http://publications.europa.eu/resource/authority/corporate-body/",
    "eul": "http://publications.europa.eu/resource/authority/licence/",
    "filetype": "http://publications.europa.eu/resource/authority/file-type/",
    "theme": "http://publications.europa.eu/resource/authority/data-theme/",
}


@dataclass
class CatalogueContext:
    """What building needs besides the records: constants, the store (for names), the files, the profile."""

    constants: Constants
    store: GraphStore
    file_of: FileOf
    profile: Profile
    published: Literal | None


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in OUTPUT_PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def build_catalogue_page(
    context: CatalogueContext, records: list[DatasetRecord], all_records: list[DatasetRecord],
    page: PageInfo | None,
) -> Graph:
    """The catalogue with ``records`` (one page of them) and its data service."""
    c = context.constants
    graph = new_graph()
    graph += c.description_of(c.catalog)
    if context.published is not None:
        graph.add((c.catalog, DCTERMS.modified, context.published))
    for record in records:
        graph.add((c.catalog, DCAT.dataset, record.iri))
        add_record(graph, context, record, all_records)
    # The data service goes on the page that lists the dataset it serves: on other pages its dcat:servesDataset
    # would show harvesters a dcat:Dataset node without its description.
    if any(record.kind == KNOWLEDGE_GRAPH for record in records):
        graph.add((c.catalog, DCAT.service, c.service))
        add_service(graph, context, records)
    if page is not None:
        add_paging(graph, page)
    finish(graph, context)
    return graph


def build_record_document(context: CatalogueContext, record: DatasetRecord,
                          all_records: list[DatasetRecord]) -> Graph:
    """One record's DCAT-AP document (``/catalog/report/jrc126501``), linked to its catalogue."""
    c = context.constants
    graph = new_graph()
    add_record(graph, context, record, all_records)
    graph.add((c.catalog, DCAT.dataset, record.iri))
    graph += c.description_of(c.catalog)
    finish(graph, context)
    return graph


def build_service_document(context: CatalogueContext, all_records: list[DatasetRecord]) -> Graph:
    c = context.constants
    graph = new_graph()
    add_service(graph, context, all_records)
    graph.add((c.catalog, DCAT.service, c.service))
    graph += c.description_of(c.catalog)
    finish(graph, context)
    return graph


def add_service(graph: Graph, context: CatalogueContext, all_records: list[DatasetRecord]) -> None:
    c = context.constants
    graph += c.description_of(c.service)
    for record in all_records:
        if record.kind == KNOWLEDGE_GRAPH:
            graph.add((c.service, DCAT.servesDataset, record.iri))
    for obj in list(graph.objects(c.service, DCTERMS.conformsTo)):
        graph += c.description_of(obj)


def add_record(graph: Graph, context: CatalogueContext, record: DatasetRecord,
               all_records: list[DatasetRecord]) -> None:
    c = context.constants
    d = record.iri
    graph.add((d, RDF.type, DCAT.Dataset))
    graph.add((d, DCTERMS.title, record.title))
    graph.add((d, DCTERMS.description, record.description))
    for predicate, value in ((DCTERMS.issued, record.issued), (DCTERMS.modified, record.modified)):
        if value is not None:
            graph.add((d, predicate, value))
    for predicate, values in record.properties.items():
        for value in values:
            graph.add((d, predicate, value))
    for predicate, value in c.defaults(record.kind):
        graph.add((d, predicate, value))
    for predicate, value in c.fallbacks(record.kind):
        if (d, predicate, None) not in graph:
            graph.add((d, predicate, value))
    if record.temporal is not None:
        period = URIRef(f"{record.document}#temporal-coverage")
        graph.add((d, DCTERMS.temporal, period))
        graph.add((period, DCAT.startDate, record.temporal[0]))
        graph.add((period, DCAT.endDate, record.temporal[1]))
    rights = _rights_of_record(graph, context, record, all_records)
    for distribution in record.distributions:
        add_distribution(graph, context, record, distribution, rights)


def _rights_of_record(graph: Graph, context: CatalogueContext, record: DatasetRecord,
                      all_records: list[DatasetRecord]) -> URIRef | None:
    """A rights statement naming the licences of the parts, for the whole graph (they keep their own)."""
    if record.kind != KNOWLEDGE_GRAPH:
        return None
    c = context.constants
    own = c.metadata_licence(KNOWLEDGE_GRAPH)
    parts = []
    for part in all_records:
        licences = {dist.licence for dist in part.distributions if dist.download is not None and dist.licence}
        for licence in sorted(licences - {own}):
            parts.append(f"{part.title} ({c.label(licence) or licence})")
    statement = URIRef(f"{record.document}#rights")
    text = f"The knowledge graph is published under the {c.label(own)} licence."
    if parts:
        text += " Parts of it keep the licence of their source: " + "; ".join(parts) + "."
    graph.add((statement, RDFS.label, Literal(text, lang="en")))
    return statement


def add_distribution(graph: Graph, context: CatalogueContext, record: DatasetRecord,
                     distribution: DistributionRecord, rights: URIRef | None) -> None:
    c, profile = context.constants, context.profile
    node = URIRef(f"{record.document}#{distribution.key}")
    graph.add((record.iri, DCAT.distribution, node))
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, Literal(distribution.title, lang="en")))
    graph.add((node, DCTERMS.description, Literal(distribution.description, lang="en")))
    graph.add((node, DCAT.accessURL, distribution.access_url))
    if distribution.download_url is not None:
        graph.add((node, DCAT.downloadURL, distribution.download_url))
    file_type = c.file_type(distribution.media_type)
    if file_type is not None:
        graph.add((node, DCTERMS.format, file_type))
    graph.add((node, DCAT.mediaType, media_type_iri(distribution.media_type)))
    if distribution.access_service is not None:
        graph.add((node, DCAT.accessService, distribution.access_service))
    for predicate, value in ((DCTERMS.issued, distribution.issued), (DCTERMS.modified, distribution.modified)):
        if value is not None:
            graph.add((node, predicate, value))
    if distribution.licence is not None:
        graph.add((node, DCTERMS.license, distribution.licence))
        statement = rights or c.rights_statement(distribution.licence)
        if statement is not None:
            graph.add((node, DCTERMS.rights, statement))
    spec = distribution.download
    if spec is not None:
        if spec.compressed:
            graph.add((node, DCAT.compressFormat, media_type_iri(spec.media_type)))
        file = context.file_of(spec)
        if file is None:
            return
        graph.add((node, DCAT.byteSize, Literal(str(file.size), datatype=profile.byte_size_datatype)))
        checksum = URIRef(f"{node}-checksum")
        graph.add((node, SPDX.checksum, checksum))
        graph.add((checksum, SPDX.algorithm, profile.checksum_algorithm))
        graph.add((checksum, SPDX.checksumValue, Literal(getattr(file, profile.checksum), datatype=XSD.hexBinary)))


def finish(graph: Graph, context: CatalogueContext) -> None:
    """Describe what the graph links to: constants, agent names, classes, authority schemes."""
    c = context.constants
    _describe_linked(graph, c)
    _name_agents(graph, context.store)
    _add_range_classes(graph, c.range_classes)
    _describe_linked(graph, c)  # the classes' own descriptions (e.g. the publisher type scheme)
    _label_countries(graph, context.store)
    for node in set(graph.objects()) | set(graph.subjects()):
        if isinstance(node, URIRef):
            scheme = authority_scheme(str(node))
            if scheme is not None:
                graph.add((node, SKOS.inScheme, scheme))
    _add_range_classes(graph, c.range_classes)


def _describe_linked(graph: Graph, constants: Constants) -> None:
    """Copy the constants' triples about every IRI the graph links to (labels, schemes, rights texts)."""
    seen: set[Node] = set()
    pending = [o for o in graph.objects() if isinstance(o, URIRef)]
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in constants.description_of(node):
            if triple not in graph:
                graph.add(triple)
                if isinstance(triple[2], URIRef):
                    pending.append(triple[2])


def _name_agents(graph: Graph, store: GraphStore) -> None:
    agents = sorted({str(o) for p in (DCTERMS.publisher, DCTERMS.creator) for o in graph.objects(None, p)
                     if isinstance(o, URIRef)})
    names = _values_of(store, agents, (FOAF.name, SKOS.prefLabel))
    for agent in agents:
        name = _english(names[agent][str(FOAF.name)]) or _english(names[agent][str(SKOS.prefLabel)])
        node = URIRef(agent)
        if name is not None and (node, FOAF.name, None) not in graph:
            graph.add((node, FOAF.name, name))
        graph.add((node, RDF.type, FOAF.Organization))


def _label_countries(graph: Graph, store: GraphStore) -> None:
    """English names of the countries the records cover (from the member states that are ``owl:sameAs`` them)."""
    places = sorted({str(o) for o in graph.objects(None, DCTERMS.spatial) if isinstance(o, URIRef)})
    if not places:
        return
    rows = store.select(
        f"SELECT ?place ?label WHERE {{ VALUES ?place {{ {' '.join(f'<{p}>' for p in places)} }} "
        f"?thing <{OWL.sameAs}> ?place ; <{SKOS.prefLabel}> ?label FILTER(LANGMATCHES(LANG(?label), 'en')) }}"
    )
    for row in rows:
        place = URIRef(row["place"].value)
        if (place, SKOS.prefLabel, None) not in graph:
            graph.add((place, SKOS.prefLabel, Literal(row["label"].value, lang="en")))


def _add_range_classes(graph: Graph, ranges: dict[URIRef, URIRef]) -> None:
    for predicate, cls in ranges.items():
        for obj in set(graph.objects(None, predicate)):
            if not isinstance(obj, Literal):
                graph.add((obj, RDF.type, cls))

