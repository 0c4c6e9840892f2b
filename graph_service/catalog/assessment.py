"""``graph-service quality``: the MQA of every catalogued dataset, as a table (or DQV), from the CLI.

Against a running server (``--server http://127.0.0.1:5000``) the URLs are requested over HTTP; without one the
app is built in-process and each URL is requested through it (WSGI), with ``public_base`` as the origin.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from ..config import Settings
from ..store import GraphStore
from ..web.iris import IriMapper
from . import Catalogue, rewrite
from .quality import (
    DIMENSIONS,
    MAX_POINTS,
    DatasetQuality,
    UrlChecker,
    assess_catalogue,
    http_status_of,
    to_dqv,
    wsgi_status_of,
)


@dataclass
class QualityRun:
    results: list[DatasetQuality]
    shapes_used: list[str]
    origin: str

    @property
    def all_excellent(self) -> bool:
        return all(r.rating == "excellent" for r in self.results)

    def table(self) -> str:
        headers = ["dataset", *DIMENSIONS, "points", "rating"]
        rows = []
        for result in self.results:
            points = result.dimension_points()
            rows.append([str(result.iri), *(f"{points[d][0]}/{points[d][1]}" for d in DIMENSIONS),
                         f"{result.points}/{MAX_POINTS}", result.rating.capitalize()])
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.append(f"DCAT-AP compliance checked with: {', '.join(self.shapes_used)}")
        lines.append(f"URLs under {self.origin} were requested (HEAD); other hosts were not requested "
                     "(counted as accessible when they are absolute http(s) URLs).")
        return "\n".join(lines)

    def dqv(self, rdflib_format: str) -> bytes:
        document = URIRef(self.origin.rstrip("/") + "/catalog/quality")
        return to_dqv(self.results, document, self.shapes_used).serialize(format=rdflib_format, encoding="utf-8")


def run_quality(settings: Settings, store: GraphStore, *, server: str | None = None,
                public_base: str = "http://localhost/") -> QualityRun:
    """Assess the catalogue as served at ``server`` (requested over HTTP) or in-process at ``public_base``."""
    if server:
        origin = server.rstrip("/") + "/"
        status_of = http_status_of()
    else:
        from ..web import create_app

        origin = public_base.rstrip("/") + "/"
        status_of = wsgi_status_of(create_app(settings, store))
    mapper = IriMapper(settings.base_iri, origin)
    catalogue = Catalogue(store, settings, mapper)
    results, used = assess_catalogue(catalogue, UrlChecker(origin, status_of), settings.dcat_ap_shapes_dir,
                                     settings.shapes_dir / "catalog.ttl", lambda g: rewrite(g, mapper))
    return QualityRun(results, used, origin)
