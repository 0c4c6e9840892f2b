"""Harvest a served DCAT-AP catalogue the way CKAN does: ckanext-dcat's RDFParser, following every next page.

Runs in the separate virtual environment that has CKAN and ckanext-dcat (see tests/test_catalog_harvest.py):

    .venv-ckan/bin/python tests/ckan_harvest.py URL PROFILE LICENCES_JSON

URL is the first catalogue page (on 127.0.0.1), PROFILE a ckanext-dcat profile (euro_dcat_ap_3, euro_dcat_ap_2),
LICENCES_JSON a CKAN licence list (what a portal sets as ``licenses_group_url``). Prints one JSON object:
``{"pages": [urls], "datasets": [{"uri", "title", "license_id", "resources": [{"url", "format", "license",
"size", "hash"}]}]}``.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from urllib.parse import urlsplit

MAX_PAGES = 100


def fetch(url: str) -> str:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to fetch {url}: only the local test server is harvested")
    request = urllib.request.Request(url, headers={"Accept": "text/turtle"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=60) as response:
        return response.read().decode("utf-8")


def main() -> None:
    url, profile, licences = sys.argv[1], sys.argv[2], sys.argv[3]
    from ckan.common import config

    config["licenses_group_url"] = "file://" + licences
    from ckanext.dcat.processors import RDFParser

    pages, datasets = [], []
    while url and len(pages) < MAX_PAGES:
        if url in pages:
            raise SystemExit(f"paging loops back to {url}")
        pages.append(url)
        parser = RDFParser(profiles=[profile])
        parser.parse(fetch(url), _format="turtle")
        for dataset in parser.datasets():
            extras = {e["key"]: e["value"] for e in dataset.get("extras", [])}
            datasets.append({
                "uri": extras.get("uri") or dataset.get("uri"),
                "title": dataset.get("title"),
                "license_id": dataset.get("license_id"),
                "resources": [
                    {"url": r.get("url"), "format": r.get("format"), "license": r.get("license"),
                     "size": r.get("size"), "hash": r.get("hash"), "hash_algorithm": r.get("hash_algorithm")}
                    for r in dataset.get("resources", [])
                ],
            })
        url = parser.next_page()
    json.dump({"pages": pages, "datasets": datasets}, sys.stdout)


if __name__ == "__main__":
    main()
