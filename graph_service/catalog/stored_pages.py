"""Catalogue pages built once per data version for every server process, and kept on disk beside its downloads.

A page of ``/catalog`` is built from aggregates over every case (about half a second of CPU at a million triples,
see :meth:`.records.RecordReader._collection_stats`), once per data version. Each process keeps the pages it
served in memory (a :class:`~graph_service.sparql.cache.VersionedCache`, the fastest answer); behind it, this
module keeps each complete page as a file under the data version's folder (:mod:`.version_files`), so that the
first request to each of several gunicorn workers after a publish reads the page another worker (or
``graph-service load``) built, in milliseconds, instead of building it again.

**Key.** What determines a page's bytes: the request URL (origin, path with its format suffix, query: ``page``,
``profile``, ``modified_since``), the format negotiated, the profile, whether the profile was asked for (the
page's paging links then carry it), the page size, and the code (:func:`code_fingerprint`: a new release does not
serve pages an older one built). The file is ``catalog-pages/<sha256 of the key>``: the content type on the
first line, then the body.

**Only complete pages.** A page built while the origin's downloads are being written (no byte sizes, no
checksums) is never written here; the view keeps it in memory only, under its own key.

**Bounded.** Only pages whose query has no parameter but ``page`` and ``profile`` are kept (a harvester paging
with arbitrary ``?modified_since=`` moments must not fill the disk; such pages stay in each process's bounded
memory), and at most :data:`MAX_PAGES_PER_VERSION` files per data version (the Host header and the page number
are the client's to choose). The folder goes with its data version, as the downloads do.

**At publish time** (:func:`prepare_first_pages`, called by :func:`graph_service.catalog.prepare`), the first
page of ``/catalog`` in every RDF format, as ``/catalog`` (negotiated) and ``/catalog.{ext}``, in the default
profile and with each ``?profile=``, is built for each prepared origin: the first harvester request after
``graph-service load`` is a file read.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

import rdflib
from rdflib import Graph

from ..formats import Format, by_name
from ..sparql.cache import VersionedCache, version_key
from ..store import GraphStore
from .downloads import DownloadCache
from .profiles import DEFAULT_PROFILE, PROFILES, Profile
from .version_files import keep, read_stored

if TYPE_CHECKING:
    from . import Catalogue

#: The RDF formats the catalogue is served in (first: the default of negotiation).
RDF_FORMATS: list[Format] = [by_name(n) for n in ("ttl", "jsonld", "rdf", "nt")]
#: The only query parameters a page kept on disk may have.
KEPT_PARAMETERS = frozenset({"page", "profile"})
#: Page files kept per data version at most (those :func:`prepare_first_pages` writes are 24 per origin).
MAX_PAGES_PER_VERSION = 256
#: The folder of the pages, in the data version's folder of downloads.
FOLDER = "catalog-pages"


class PageKey(NamedTuple):
    """What a page's bytes depend on, besides the data version and the code (:func:`code_fingerprint`)."""

    url: str  # the request URL: origin, path (with its format suffix), query
    format_name: str
    profile: str  # token
    explicit_profile: bool  # asked for (query or Accept-Profile): the paging links carry it
    page_size: int  # Settings.catalog_page_size

    def file_name(self) -> str:
        text = "\n".join((code_fingerprint(), self.url, self.format_name, self.profile,
                          "explicit" if self.explicit_profile else "", str(self.page_size)))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """A digest of the code that builds pages (this package's sources and templates, rdflib's version): a page
    kept by a previous release is not served by the next one, even before a new data version is published."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(rdflib.__version__.encode())
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".html", ".ttl") and p.is_file()):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class StoredPage(NamedTuple):
    body: bytes
    content_type: str


class StoredPages:
    """The complete catalogue pages of one data version, as files shared by every process."""

    def __init__(self, downloads: DownloadCache) -> None:
        self.directory: Path = downloads.version_dir / FOLDER
        self.store: GraphStore = downloads.store
        self.version = downloads.version

    def read(self, key: PageKey) -> StoredPage | None:
        data = read_stored(self.directory / key.file_name())
        if data is None:
            return None
        content_type, newline, body = data.partition(b"\n")
        return StoredPage(body, content_type.decode("utf-8")) if newline else None

    def has(self, key: PageKey) -> bool:
        return (self.directory / key.file_name()).is_file()

    def write(self, key: PageKey, page: StoredPage) -> bool:
        """Keep the complete ``page`` (never one built while the downloads were pending) for every process, if
        its key is one worth keeping and the data version it was built from is still published."""
        if not kept(key) or self._count() >= MAX_PAGES_PER_VERSION:
            return False
        data = page.content_type.encode("utf-8") + b"\n" + page.body
        return keep(self.directory / key.file_name(), data, self.store, self.version)

    def _count(self) -> int:
        try:
            with os.scandir(self.directory) as entries:
                return sum(1 for entry in entries if not entry.name.startswith("."))  # not partial files
        except FileNotFoundError:
            return 0


def kept(key: PageKey) -> bool:
    """Whether a page's query has no parameter but ``page`` and ``profile`` (the pages kept on disk)."""
    return all(name in KEPT_PARAMETERS for name, _ in parse_qsl(urlsplit(key.url).query, keep_blank_values=True))


def served_page(memory: VersionedCache[tuple[bytes, str]], downloads: DownloadCache, key: PageKey, pending: bool,
                build: Callable[[], StoredPage]) -> StoredPage:
    """The page of ``key`` for the published data version: from this process's memory, else from the file
    another process (or ``load``) wrote, else built (and kept in both, the file only if complete)."""
    store = downloads.store
    version = version_key(store)
    memory_key = (key, pending)
    cached = memory.get(version, memory_key)
    if cached is not None:
        return StoredPage(*cached)
    pages = StoredPages(downloads)
    page = None if pending else pages.read(key)
    if page is None:
        page = build()
        if not pending:
            pages.write(key, page)
    if version_key(store) == version:
        memory.put(version, memory_key, page)
    return page


def page_url(origin: str, path: str, **params: str | int | None) -> str:
    """``origin`` + ``path`` with the parameters given (``None`` ones left out), as the catalogue links pages."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return origin.rstrip("/") + path + (f"?{query}" if query else "")


def page_links(origin: str, path: str, modified_since: str | None, profile: str | None) -> Callable[[int], str]:
    """The URL of page ``n`` of the listing at ``origin`` + ``path`` (what a page's paging links say)."""
    return lambda number: page_url(origin, path, modified_since=modified_since, profile=profile, page=number)


def rdf_page(graph: Graph, fmt: Format) -> StoredPage:
    return StoredPage(graph.serialize(format=fmt.rdflib_name, encoding="utf-8"), fmt.content_type)


def prepare_first_pages(catalogue: Catalogue) -> int:
    """Write the first page of ``/catalog`` at ``catalogue``'s origin in every RDF format, negotiated and with a
    suffix, in the default profile and with each ``?profile=`` (those not written yet); the number written.

    Only an origin without a path (``http://host:port/``) is served as such (the web face maps IRIs to the
    request's host), so an origin with a path (such as the persistent base) gets none."""
    origin = catalogue.mapper.public_base
    if urlsplit(origin).path not in ("", "/"):
        return 0
    pages = StoredPages(catalogue.downloads)
    page_size = catalogue.settings.catalog_page_size
    written = 0
    variants: list[tuple[Profile, bool]] = [(DEFAULT_PROFILE, False), *((p, True) for p in PROFILES)]
    for profile, explicit in variants:
        token = profile.token if explicit else None
        paths = [("/catalog", RDF_FORMATS), *((f"/catalog.{fmt.extension}", [fmt]) for fmt in RDF_FORMATS)]
        for path, formats in paths:
            url = page_url(origin, path, profile=token)
            missing = [(key, fmt) for fmt in formats
                       if not pages.has(key := PageKey(url, fmt.name, profile.token, explicit, page_size))]
            if not missing:
                continue
            graph = catalogue.public_page(profile=profile, page=1, url_of=page_links(origin, path, None, token))
            for key, fmt in missing:
                written += pages.write(key, rdf_page(graph, fmt))
    return written
