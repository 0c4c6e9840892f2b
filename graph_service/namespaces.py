"""Namespaces of the model (ontology/README.md) and the IRI rules derived from the configured base."""

from __future__ import annotations

from pathlib import PurePosixPath

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

DEFAULT_BASE = "https://w3id.org/aiwatch/"

AIW = Namespace(DEFAULT_BASE + "def/aiwatch#")
SCHEMA = Namespace("https://schema.org/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
SH = Namespace("http://www.w3.org/ns/shacl#")
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_COUNTRY = Namespace(EU_AUTHORITY + "country/")
EU_LICENCE = Namespace(EU_AUTHORITY + "licence/")

#: Prefixes declared in serialisations, SPARQL examples and the query UI.
PREFIXES: dict[str, str] = {
    "aiw": str(AIW),
    "id": DEFAULT_BASE + "id/",
    "concept": DEFAULT_BASE + "concept/",
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dct": str(DCTERMS),
    "dcat": str(DCAT),
    "foaf": str(FOAF),
    "org": str(ORG),
    "prov": str(PROV),
    "void": str(VOID),
    "schema": str(SCHEMA),
    "bibo": str(BIBO),
    "euc": str(EU_COUNTRY),
}


def graph_iri(base_iri: str, relative_path: PurePosixPath | str) -> str:
    """The named graph of a source file: ``{base}graph/{path without extension}`` (one graph per source)."""
    path = PurePosixPath(relative_path)
    return f"{base_iri}graph/{path.with_suffix('').as_posix()}"


def load_record_graph(base_iri: str) -> str:
    """The graph holding PROV about each load (which file, checksum, when, which shapes)."""
    return f"{base_iri}graph/load"


def write_log_graph(base_iri: str) -> str:
    """The graph holding PROV about each write through the API (who, when, what, which graphs changed)."""
    return f"{base_iri}graph/write-log"
