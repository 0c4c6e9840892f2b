"""The catalogue face's model: a DCAT-AP catalogue of what the knowledge graph publishes, built from the store.

:class:`Catalogue` is the one entry point the web face and the CLI use: the records (:mod:`.records`), their
DCAT-AP graphs in either profile (:mod:`.build`, :mod:`.profiles`), paging (:mod:`.paging`), the generated
downloads (:mod:`.downloads`), VoID (:mod:`.void`) and the MQA quality assessment (:mod:`.quality`). What costs
aggregates over the whole store is computed once per data version for every server process and kept beside that
version's downloads (:mod:`.version_files`): the VoID statistics and the catalogue pages (:mod:`.stored_pages`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from ..config import Settings, origin_url
from ..store import GraphStore
from ..web.iris import IriMapper
from .build import CatalogueContext, build_catalogue_page, build_record_document, build_service_document
from .constants import Constants, load_constants
from .downloads import (
    DownloadCache,
    DownloadFile,
    DownloadSpec,
    StaleVersion,
    prepare_in_background,
    run_in_child_process,
)
from .paging import PageInfo, modified_at, select_page
from .profiles import DEFAULT_PROFILE, Profile
from .records import DatasetRecord, RecordReader
from .stored_pages import prepare_first_pages

__all__ = ["Catalogue", "DatasetRecord", "DownloadFile", "DownloadSpec", "PageInfo", "Profile", "prepare", "rewrite"]


class Catalogue:
    """The catalogue of one store, as served at one origin (``mapper``).

    With ``wait_for_downloads`` (the default, for the CLI and the quality assessment) every download is written
    before a graph states its byte size and checksums. Without it (the web face), a graph states them only once
    every file of the origin is written (:attr:`pending` is ``False``); until then it leaves them out, and
    :meth:`prepare_downloads_in_background` gets the files written.
    """

    def __init__(self, store: GraphStore, settings: Settings, mapper: IriMapper, *,
                 wait_for_downloads: bool = True) -> None:
        self.store = store
        self.settings = settings
        self.mapper = mapper
        self.constants: Constants = load_constants(settings.base_iri)
        self.downloads = DownloadCache.of(settings, store, mapper)
        #: Decided once, so that every graph of this catalogue says the same (all sizes and checksums, or none);
        #: an origin that gets no files (:meth:`.DownloadCache.admits`) states none.
        self.pending = not self.downloads.ready() and not (wait_for_downloads and self.downloads.admits())
        self._wait_for_downloads = wait_for_downloads
        self._reader = RecordReader(store, self.constants)
        self._records: list[DatasetRecord] | None = None

    @property
    def records(self) -> list[DatasetRecord]:
        """Every record, newest change first (the order of the pages, as ckanext-dcat sorts)."""
        if self._records is None:
            records = self._reader.records()
            self._records = sorted(records, key=lambda r: (r.sort_date, str(r.iri)), reverse=True)
        return self._records

    def context(self, profile: Profile = DEFAULT_PROFILE) -> CatalogueContext:
        if self._wait_for_downloads and not self.pending:
            self.prepare_downloads()  # all of them (and the origin marked complete): returns at once when done
            self._wait_for_downloads = False
        file_of = (lambda spec: None) if self.pending else self.downloads.get
        return CatalogueContext(self.constants, self.store, file_of, profile, self._reader.published)

    def modified_since(self, moment: datetime | None) -> list[DatasetRecord]:
        if moment is None:
            return self.records
        return [r for r in self.records if (changed := modified_at(r.sort_date)) is not None and changed >= moment]

    def page(self, *, profile: Profile = DEFAULT_PROFILE, page: int = 1, per_page: int = 100,
             modified_since: datetime | None = None, url_of: Callable[[int], str] | None = None) -> Graph:
        """One page of the catalogue (persistent IRIs; see :func:`rewrite`)."""
        selected = self.modified_since(modified_since)
        url_of = url_of or (lambda n: f"{self.constants.catalog}?page={n}")
        chosen, info = select_page(selected, page, per_page, url_of)
        return build_catalogue_page(self.context(profile), chosen, self.records, info)

    def public_page(self, *, profile: Profile = DEFAULT_PROFILE, page: int = 1, modified_since: datetime | None = None,
                    url_of: Callable[[int], str] | None = None) -> Graph:
        """One page of ``Settings.catalog_page_size`` datasets as served at this catalogue's origin (IRIs
        rewritten): what ``/catalog`` serialises, and what :func:`.stored_pages.prepare_first_pages` writes."""
        return rewrite(self.page(profile=profile, page=page, per_page=self.settings.catalog_page_size,
                                 modified_since=modified_since, url_of=url_of), self.mapper)

    def whole(self, profile: Profile = DEFAULT_PROFILE) -> Graph:
        """Every record in one graph (for quality assessment and the HTML view), without paging."""
        return build_catalogue_page(self.context(profile), self.records, self.records, None)

    def record_by_document(self, document: str) -> DatasetRecord | None:
        return next((r for r in self.records if str(r.document) == document), None)

    def document(self, document: str, profile: Profile = DEFAULT_PROFILE) -> Graph | None:
        """The DCAT-AP document of one record (or of the data service), or ``None``."""
        if document == str(self.constants.service):
            return build_service_document(self.context(profile), self.records)
        record = self.record_by_document(document)
        if record is None:
            return None
        return build_record_document(self.context(profile), record, self.records)

    def schema_org(self, iri: str) -> dict | None:
        """schema.org ``Dataset`` JSON-LD (public IRIs) of the catalogued dataset ``iri`` (persistent IRI), for the
        page of that dataset (Google Dataset Search); ``None`` if ``iri`` is not catalogued."""
        from .schema_org import dataset_json_ld

        record = next((r for r in self.records if str(r.iri) == iri), None)
        if record is None:
            return None
        graph = rewrite(build_record_document(self.context(), record, self.records), self.mapper)
        return dataset_json_ld(graph, URIRef(self.mapper.to_public_iri(iri)))

    def download_specs(self) -> dict[str, DownloadSpec]:
        return {d.download.name: d.download for r in self.records for d in r.distributions if d.download}

    def download(self, name: str) -> tuple[DownloadSpec, DownloadFile] | None:
        """The download ``name`` and its file (written first if need be: only this one file); raises
        :class:`.OriginRefused` if this origin gets no files."""
        spec = self.download_specs().get(name)
        if spec is None:
            return None
        return spec, self.downloads.get(spec)

    def prepare_downloads(self, progress: Callable[[str], None] | None = None) -> None:
        """Write every download of this data version for this origin (returns at once if they are written)."""
        self.downloads.generate_all(list(self.download_specs().values()), progress)

    def prepare_downloads_in_background(self) -> bool:
        """Get every download written in the background (unless that is under way already): by a child process
        when the store can be opened by one, so that the memory the work takes (~150 MB at a million triples, and
        the store's caches it fills) is given back when it ends instead of staying with a server worker; else
        (a remote store) by a thread of this process."""
        if not self.downloads.admits():
            return False
        opener = self.store.worker_opener()
        if opener is None:
            return prepare_in_background(self.downloads, self.prepare_downloads)
        settings, public_base = self.settings, self.mapper.public_base
        return prepare_in_background(self.downloads, lambda: run_in_child_process(
            _prepare_downloads_of, opener, settings, public_base, name=f"downloads of {public_base}"))

    def void(self) -> Graph:
        """The VoID description (persistent IRIs), computed once per data version and kept beside the downloads."""
        from .void import stored_void

        def dumps() -> list[URIRef]:
            return sorted(self.constants.iri(spec.url_path) for name, spec in self.download_specs().items()
                          if name.startswith("knowledge-graph."))

        kg = self.constants.knowledge_graph
        return stored_void(self.downloads.version_dir / "void.nt", self.store, self.downloads.version,
                           self.constants.base_iri, kg, dumps, self.constants.literal(kg, DCTERMS.title))


def _prepare_downloads_of(open_store: Callable[[], GraphStore], settings: Settings, public_base: str) -> None:
    """In a child process: write every download of the published version for ``public_base``."""
    try:
        Catalogue(open_store(), settings, IriMapper(settings.base_iri, public_base)).prepare_downloads()
    except StaleVersion:
        pass  # a newer version is published: its own first catalogue request starts over


def prepare(settings: Settings, store: GraphStore, origins: Iterable[str] | None = None,
            progress: Callable[[str], None] | None = None) -> None:
    """Write every download of the published data version for each origin (default: the persistent base, the
    origin the public service answers as), the first catalogue pages of each origin served as such
    (:func:`.stored_pages.prepare_first_pages`), and the VoID statistics, so that no request has to.

    ``graph-service load`` and ``restore`` call it after publishing; it returns quickly when everything is written
    already. An origin left out is prepared in the background by the first server process serving it.
    """
    say = progress or (lambda _message: None)
    origins = list(dict.fromkeys(origin_url(o) for o in origins or [settings.base_iri]))
    settings = settings.replace(download_origins=(*settings.download_origins, *origins))  # asked for: never refused
    try:
        for origin in origins:
            catalogue = Catalogue(store, settings, IriMapper(settings.base_iri, origin))
            if catalogue.downloads.ready():
                say(f"downloads for {origin}: already written")
            else:
                say(f"writing the downloads for {origin}")
                started = time.perf_counter()
                catalogue.prepare_downloads(say)
                say(f"downloads for {origin} written in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            if pages := prepare_first_pages(catalogue):
                say(f"{pages} first catalogue pages for {origin} written in {time.perf_counter() - started:.1f} s")
        Catalogue(store, settings, IriMapper(settings.base_iri, settings.base_iri)).void()
    except StaleVersion:
        say("a newer data version was published meanwhile: its downloads are written when it is prepared")


def rewrite(graph: Graph, mapper: IriMapper) -> Graph:
    """A copy of ``graph`` with IRIs under the persistent base rewritten to the serving origin."""
    if mapper.identity:
        return graph
    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, mapper.to_public_iri(str(namespace)), override=True, replace=True)

    def term(node: Node) -> Node:
        return URIRef(mapper.to_public_iri(str(node))) if isinstance(node, URIRef) else node

    for s, p, o in graph:
        out.add((term(s), term(p), term(o)))
    return out
