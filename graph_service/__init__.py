"""AI Watch knowledge graph service: one RDF model published as SPARQL, Linked Data and a DCAT-AP catalogue."""

__version__ = "0.1.0"
