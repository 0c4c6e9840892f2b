"""Namespaces the catalogue face uses beyond graph_service.namespaces, and the EU authority-table helpers."""

from __future__ import annotations

from rdflib import Namespace, URIRef

from ..namespaces import EU_AUTHORITY

ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
PV = Namespace("https://piveau.eu/ns/voc#")
PIVEAU_SCORING = Namespace("https://piveau.eu/ns/scoring#")
TPL = Namespace("urn:aiwatch:catalogue-template#")
IANA_MEDIA_TYPES = "http://www.iana.org/assignments/media-types/"
DOI_RESOLVER = "https://doi.org/"


def media_type_iri(media_type: str) -> URIRef:
    """The IANA IRI DCAT-AP expects for a media type (``text/turtle`` -> ``.../media-types/text/turtle``)."""
    return URIRef(IANA_MEDIA_TYPES + media_type)


def authority_table(iri: str) -> str | None:
    """The EU authority table (``country``, ``licence``...) an authority IRI belongs to, or ``None``."""
    if not iri.startswith(EU_AUTHORITY):
        return None
    table, slash, code = iri[len(EU_AUTHORITY):].partition("/")
    return table if slash and code and "/" not in code else None


def authority_scheme(iri: str) -> URIRef | None:
    """The concept scheme of an EU authority-table concept IRI (its table), or ``None``."""
    table = authority_table(iri)
    return URIRef(EU_AUTHORITY + table) if table else None
