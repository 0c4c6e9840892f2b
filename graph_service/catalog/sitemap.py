"""``/sitemap.xml``: every page of the service (sitemaps.org protocol), for search engines.

Pages: the home page, the catalogue and its records, the SPARQL endpoint, the ontology (``/def/aiwatch``), the
document of every thing (``{base}id/...`` -> ``/doc/...``) and every concept scheme and concept (``/concept/...``).
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from ..store import GraphStore

#: A sitemap file may list at most 50,000 URLs (sitemaps.org).
MAX_URLS = 50_000


def page_paths(store: GraphStore, base_iri: str, record_documents: list[str]) -> list[str]:
    """Paths (relative to the base) of every page, in a stable order (every described thing has a type)."""
    paths = ["", "catalog", "catalog/quality", "sparql", "def/aiwatch"]
    paths += [d[len(base_iri):] for d in record_documents if d.startswith(base_iri)]
    things = store.select(
        f"SELECT DISTINCT ?s WHERE {{ ?s a ?type FILTER(isIRI(?s) && (STRSTARTS(STR(?s), \"{base_iri}id/\") || "
        f"STRSTARTS(STR(?s), \"{base_iri}concept/\")) && !CONTAINS(STR(?s), \"#\")) }} ORDER BY ?s"
    )
    for row in things:
        relative = row["s"].value[len(base_iri):]
        paths.append("doc/" + relative[len("id/"):] if relative.startswith("id/") else relative)
    return list(dict.fromkeys(paths))[:MAX_URLS]


def sitemap_xml(urls: list[str], last_modified: datetime | None) -> str:
    lastmod = f"<lastmod>{last_modified.date().isoformat()}</lastmod>" if last_modified else ""
    entries = "".join(f"<url><loc>{escape(url)}</loc>{lastmod}</url>\n" for url in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + entries + "</urlset>\n")
