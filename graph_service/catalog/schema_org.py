"""schema.org ``Dataset`` / ``DataCatalog`` JSON-LD for pages (what Google Dataset Search reads).

Built from the DCAT-AP graph of the catalogue (public IRIs), so that every page that shows a dataset can embed
``<script type="application/ld+json">`` with the same facts: :func:`dataset_json_ld` for one dataset's page,
:func:`catalog_json_ld` for the catalogue page.
"""

from __future__ import annotations

import json

from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDFS, SKOS
from rdflib.term import Node


def _text(graph: Graph, node: Node, predicate: URIRef) -> str | None:
    value = graph.value(node, predicate)
    return str(value) if value is not None else None


def dataset_json_ld(graph: Graph, dataset: URIRef, *, context: bool = True) -> dict:
    """A schema.org Dataset for ``dataset`` of a DCAT-AP graph."""
    item: dict = {"@type": "Dataset", "@id": str(dataset), "url": str(dataset),
                  "name": _text(graph, dataset, DCTERMS.title),
                  "description": _text(graph, dataset, DCTERMS.description)}
    if context:
        item = {"@context": "https://schema.org/", **item}
    keywords = sorted(str(k) for k in graph.objects(dataset, DCAT.keyword))
    if keywords:
        item["keywords"] = keywords
    identifiers = sorted(str(i) for i in graph.objects(dataset, DCTERMS.identifier))
    if identifiers:
        item["identifier"] = identifiers
    for key, predicate in (("datePublished", DCTERMS.issued), ("dateModified", DCTERMS.modified)):
        value = _text(graph, dataset, predicate)
        if value:
            item[key] = value
    publisher = graph.value(dataset, DCTERMS.publisher)
    if publisher is not None:
        item["publisher"] = {"@type": "Organization", "@id": str(publisher),
                             "name": _text(graph, publisher, FOAF.name)}
        item["creator"] = item["publisher"]
    period = graph.value(dataset, DCTERMS.temporal)
    if period is not None:
        start, end = _text(graph, period, DCAT.startDate), _text(graph, period, DCAT.endDate)
        if start:
            item["temporalCoverage"] = f"{start}/{end or '..'}"
    places = [{"@type": "Place", "@id": str(p), **({"name": n} if (n := _text(graph, p, SKOS.prefLabel)) else {})}
              for p in sorted(graph.objects(dataset, DCTERMS.spatial), key=str)]
    if places:
        item["spatialCoverage"] = places
    licences = sorted({str(lic) for d in graph.objects(dataset, DCAT.distribution)
                       for lic in graph.objects(d, DCTERMS.license)})
    if licences:
        item["license"] = licences[0] if len(licences) == 1 else licences
    downloads = []
    for distribution in sorted(graph.objects(dataset, DCAT.distribution), key=str):
        url = graph.value(distribution, DCAT.downloadURL) or graph.value(distribution, DCAT.accessURL)
        media = graph.value(distribution, DCAT.mediaType)
        entry = {"@type": "DataDownload", "contentUrl": str(url),
                 "name": _text(graph, distribution, DCTERMS.title)}
        if media is not None:
            entry["encodingFormat"] = str(media).rsplit("media-types/", 1)[-1]
        size = graph.value(distribution, DCAT.byteSize)
        if size is not None:
            entry["contentSize"] = f"{size} B"
        downloads.append(entry)
    if downloads:
        item["distribution"] = downloads
    catalog = next(iter(graph.subjects(DCAT.dataset, dataset)), None)
    if catalog is not None:
        item["includedInDataCatalog"] = {"@type": "DataCatalog", "@id": str(catalog),
                                         "name": _text(graph, catalog, DCTERMS.title)}
    label = _text(graph, dataset, RDFS.label)
    if label and not item.get("name"):
        item["name"] = label
    return item


def catalog_json_ld(graph: Graph, catalog: URIRef) -> dict:
    """A schema.org DataCatalog listing its datasets."""
    return {
        "@context": "https://schema.org/", "@type": "DataCatalog", "@id": str(catalog), "url": str(catalog),
        "name": _text(graph, catalog, DCTERMS.title), "description": _text(graph, catalog, DCTERMS.description),
        "dataset": [dataset_json_ld(graph, d, context=False)
                    for d in sorted(graph.objects(catalog, DCAT.dataset), key=str)],
    }


def script_tag(data: dict) -> str:
    """The ``<script type="application/ld+json">`` element (``</`` escaped so the JSON cannot end the script)."""
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'
