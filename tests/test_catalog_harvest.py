"""Harvest round trip against the real server (gunicorn on 127.0.0.1): CKAN's ckanext-dcat and piveau's paging rule.

ckanext-dcat (with CKAN 2.12) cannot share the project's virtual environment (it pins other versions of Flask's
stack), so it lives in ``.venv-ckan`` (``python3 -m venv .venv-ckan && .venv-ckan/bin/pip install
"ckan[requirements]==2.12.0" ckanext-dcat``) and ``tests/ckan_harvest.py`` runs there as a subprocess: it reads
the served pages from 127.0.0.1 with ``RDFParser`` and prints what CKAN would store, as JSON.
``AIWATCH_CKAN_PYTHON`` may name another interpreter that has ckanext-dcat.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
from conftest import start_server, stop_server
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS

from graph_service.catalog import prepare
from graph_service.config import PROJECT_ROOT
from graph_service.namespaces import HYDRA

CKAN_PYTHON = Path(os.environ.get("AIWATCH_CKAN_PYTHON", PROJECT_ROOT / ".venv-ckan" / "bin" / "python"))
HARVEST_SCRIPT = Path(__file__).with_name("ckan_harvest.py")
LICENCES_TABLE = PROJECT_ROOT.parent / "shared" / "standards" / "eu-authority-tables" / "licences-skos.rdf"
PAGE_SIZE = 4

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def paged_server(settings, store):
    """A second production server whose catalogue pages hold 4 datasets, so that harvesting follows pages; its
    origin's downloads are written first, as ``graph-service load`` writes the public origin's (so that pages
    state byte sizes and checksums from the first request on)."""
    server = start_server(settings, env={"AIWATCH_CATALOG_PAGE_SIZE": str(PAGE_SIZE)})
    prepare(settings, store, [f"{server.url}/"])
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def licence_register(tmp_path_factory) -> Path:
    """A CKAN licence list of the EU licence table (what a portal harvesting DCAT-AP sets as licenses_group_url)."""
    table = Graph().parse(LICENCES_TABLE)
    licences = []
    for concept in sorted(table.subjects(SKOS.inScheme, URIRef("http://publications.europa.eu/resource/authority/licence"))):
        label = next((str(v) for v in table.objects(concept, SKOS.prefLabel) if v.language == "en"), str(concept))
        licences.append({"id": str(concept).rsplit("/", 1)[1], "url": str(concept), "title": label})
    path = tmp_path_factory.mktemp("ckan") / "licences.json"
    path.write_text(json.dumps(licences))
    return path


def harvest(url: str, profile: str, licences: Path) -> dict:
    assert CKAN_PYTHON.exists(), (
        f"{CKAN_PYTHON} missing: python3 -m venv .venv-ckan && "
        '.venv-ckan/bin/pip install "ckan[requirements]==2.12.0" ckanext-dcat')
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    done = subprocess.run([str(CKAN_PYTHON), str(HARVEST_SCRIPT), url, profile, str(licences)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def catalogue_datasets(server_url: str) -> dict[str, str]:
    """Every dataset of the catalogue (one page of 100 holds them all) -> its title."""
    graph = Graph().parse(data=requests.get(f"{server_url}/catalog.ttl", timeout=120).text, format="turtle")
    return {str(d): str(graph.value(d, DCTERMS.title)) for d in graph.objects(None, DCAT.dataset)}


@pytest.mark.parametrize("profile,query", [("euro_dcat_ap_3", ""), ("euro_dcat_ap_2", "?profile=dcat-ap-2")])
def test_ckanext_dcat_harvests_every_dataset(live_server, paged_server, licence_register, profile, query):
    expected = {url.replace(live_server.url, paged_server.url): title
                for url, title in catalogue_datasets(live_server.url).items()}
    result = harvest(f"{paged_server.url}/catalog.ttl{query}", profile, licence_register)
    assert len(result["pages"]) == -(-len(expected) // PAGE_SIZE)
    harvested = {d["uri"]: d for d in result["datasets"]}
    assert len(result["datasets"]) == len(harvested) == len(expected)
    assert {uri: d["title"] for uri, d in harvested.items()} == expected
    for dataset in harvested.values():
        assert dataset["resources"], dataset["uri"]
        assert dataset["license_id"], dataset["uri"]  # mapped through the EU licence list
        for resource in dataset["resources"]:
            assert resource["url"] and resource["format"], resource
            if resource["url"].startswith(paged_server.url + "/download/"):
                assert resource["size"] and resource["hash"], resource
    if query:
        assert all("profile=dcat-ap-2" in page for page in result["pages"][1:])


def test_piveau_paging_rule(paged_server):
    """piveau reads the node with hydra:totalItems and follows its literal hydra:nextPage until there is none."""
    url, total, seen, pages = f"{paged_server.url}/catalog", None, set(), 0
    while url:
        response = requests.get(url, headers={"Accept": "application/rdf+xml"}, timeout=120)
        assert response.status_code == 200
        graph = Graph().parse(data=response.text, format="xml")
        nodes = list(graph.subjects(HYDRA.totalItems, None))
        assert len(nodes) == 1
        node = nodes[0]
        total = int(graph.value(node, HYDRA.totalItems))
        seen |= set(graph.subjects(RDF.type, DCAT.Dataset))
        following = graph.value(node, HYDRA.nextPage)
        assert following is None or isinstance(following, Literal)
        url = str(following) if following is not None else None
        pages += 1
    assert pages == -(-total // PAGE_SIZE)
    assert len(seen) == total
