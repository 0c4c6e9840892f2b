"""The catalogue face: ``/catalog`` (DCAT-AP, paged like ckanext-dcat), its records, quality, downloads, VoID, sitemap.

Routes
  ``/catalog`` (+ ``.ttl .rdf .jsonld .nt .html``): one page of the catalogue, negotiated; ``?page=``,
  ``?modified_since=``, ``?profile=dcat-ap-2`` or ``Accept-Profile`` (see :mod:`graph_service.catalog.profiles`).
  ``/catalog/{kind}/{key}`` (+ suffixes): the DCAT-AP document of one record (distribution IRIs are its fragments).
  ``/catalog/quality`` (+ suffixes): the MQA assessment, as a page or as DQV.
  ``/download/{name}``: the generated downloads. ``/.well-known/void``: VoID. ``/sitemap.xml``: every page.

Downloads being written. The catalogue states each download's ``dcat:byteSize`` and ``spdx:checksum``, so its
files must exist first. ``graph-service load`` writes them for the persistent base; for an origin nobody prepared
(a laptop, CI, a new version written through SPARQL Update) the first catalogue request starts writing them in
the background (:mod:`graph_service.catalog.downloads`) and is answered at once, without byte sizes and checksums
(both optional in DCAT-AP; every other statement is there). Such a page is a different representation from the
complete one, so it never carries the complete page's ETag: its ETag also names the state "downloads pending",
and it is sent with ``Cache-Control: no-cache``: a cache may keep it but must revalidate every time, and once the
files are written, revalidation returns the complete page (200, its own ETag), never a 304 for the partial one.
Pages of either state are kept in memory per data version, separately; complete pages also on disk, for every
server process (:mod:`graph_service.catalog.stored_pages`). ``/download/{name}`` always answers with
the file, writing that one file first if it is not written yet; ``/catalog/quality`` waits for every file (the
assessment counts byte sizes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file
from flask.blueprints import BlueprintSetupState
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from ..catalog import Catalogue, rewrite
from ..catalog import profiles as catalog_profiles
from ..catalog.downloads import DownloadCache, OriginRefused
from ..catalog.paging import PagingError, parse_modified_since, parse_page
from ..catalog.profiles import DEFAULT_PROFILE, Profile
from ..catalog.quality import DIMENSIONS, MAX_POINTS, UrlChecker, assess_catalogue, to_dqv, wsgi_status_of
from ..catalog.schema_org import catalog_json_ld, dataset_json_ld, script_tag
from ..catalog.sitemap import page_paths, sitemap_xml
from ..catalog.stored_pages import RDF_FORMATS, PageKey, StoredPage, page_links, page_url, rdf_page, served_page
from ..formats import BY_EXTENSION, Format, by_name, negotiate
from ..namespaces import HYDRA
from ..sparql.cache import VersionedCache, version_key
from . import context, http, iris

blueprint = Blueprint("catalog", __name__, template_folder="../catalog/templates")

PAGE_FORMAT: Format = by_name("html")
#: Suffixes that bypass negotiation.
SUFFIXES = {f.extension: f for f in [*RDF_FORMATS, PAGE_FORMAT]} | {"json": BY_EXTENSION["json"]}


def _catalogue(wait_for_downloads: bool = False) -> Catalogue:
    """The catalogue at the request's origin; unless it waits, it gets the downloads written in the background
    when they are not (and its graphs leave their sizes and checksums out meanwhile)."""
    catalogue = Catalogue(context.store(), context.settings(), iris.mapper(), wait_for_downloads=wait_for_downloads)
    if catalogue.pending:
        catalogue.prepare_downloads_in_background()
    return catalogue


def _choose_format(suffix: str | None, html_first: bool = False) -> Format:
    if suffix is not None:
        fmt = SUFFIXES.get(suffix)
        if fmt is None:
            abort(http.plain_error(404, f"no representation .{suffix}; try " + ", ".join(f".{s}" for s in SUFFIXES)))
        return fmt
    offered = [PAGE_FORMAT, *RDF_FORMATS] if html_first else [*RDF_FORMATS, PAGE_FORMAT]
    fmt = negotiate(request.headers.get("Accept"), offered)
    if fmt is None:
        abort(http.plain_error(406, "acceptable: " + ", ".join(f.media_type for f in offered)))
    return fmt


def _choose_profile() -> tuple[Profile, bool]:
    """The profile asked for and whether it was asked for explicitly (query parameter or header)."""
    wanted = request.args.get("profile")
    if wanted:
        profile = catalog_profiles.by_name(wanted)
        if profile is None:
            known = ", ".join(p.token for p in catalog_profiles.PROFILES)
            abort(http.plain_error(400, f"unknown profile {wanted!r}; known: {known}"))
        return profile, True
    profile = catalog_profiles.from_accept_profile(request.headers.get("Accept-Profile"))
    return (profile, True) if profile else (DEFAULT_PROFILE, False)


def _rdf_response(graph: Graph, fmt: Format, profile: Profile | None, content_location: str | None,
                  pending: bool = False) -> Response:
    body = graph.serialize(format=fmt.rdflib_name, encoding="utf-8")
    response = Response(body, content_type=fmt.content_type)
    return _finish(response, profile, content_location, pending)


#: Names the state of a page built while the downloads are being written (no byte sizes, no checksums).
_PENDING = "downloads-pending"


def _finish(response: Response, profile: Profile | None, content_location: str | None,
            pending: bool = False) -> Response:
    http.negotiated(response)
    if profile is not None:
        response.vary.add("Accept-Profile")
        response.headers["Content-Profile"] = f"<{profile.iri}>"
        response.headers["Link"] = ", ".join(
            f'<{_url_with(request.path, profile=p.token)}>; rel="alternate"; formats="text/turtle"; profile="{p.iri}"'
            for p in catalog_profiles.PROFILES)
    if content_location:
        response.headers["Content-Location"] = content_location
    parts = (request.path, request.query_string.decode("latin-1"), response.content_type or "",
             profile.token if profile else "", *([_PENDING] if pending else []))
    response = http.cacheable(response, *parts)
    if pending:  # kept by caches, but revalidated on every use until the complete page exists
        response.cache_control.no_cache = True
        response.cache_control.max_age = None
    return response


def _url_with(path: str, **params: str | int | None) -> str:
    return page_url(request.host_url, path, **params)


# ---------------------------------------------------------------------------------------------------------------
# /catalog
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/catalog")
@blueprint.get("/catalog.<suffix>")
def catalog(suffix: str | None = None) -> Response:
    fmt = _choose_format(suffix)
    profile, explicit = _choose_profile()
    try:
        page = parse_page(request.args.get("page"))
        since = parse_modified_since(request.args.get("modified_since"))
    except PagingError as error:
        return http.plain_error(400, str(error))
    keep = {"modified_since": request.args.get("modified_since") or None,
            "profile": profile.token if explicit else None}
    location = None
    if suffix is None and fmt is not PAGE_FORMAT:
        location = _url_with(f"{request.path}.{fmt.extension}", **keep, page=request.args.get("page"))
    # Which state the page is in (downloads written, or pending) costs one stat; a pending page is only kept in
    # this process's memory, a complete one also on disk for every process (catalog.stored_pages).
    catalogue: Catalogue | None = None
    downloads = DownloadCache.of(context.settings(), context.store(), iris.mapper())
    pending = not downloads.ready()
    if pending:
        catalogue = _catalogue()  # gets the files written, unless a thread is at it already
        pending = catalogue.pending  # decided once for all it states (the files may just have been finished)

    def build() -> StoredPage:
        built = catalogue or _catalogue()
        graph = built.public_page(profile=profile, page=page, modified_since=since,
                                  url_of=page_links(request.host_url, request.path, **keep))
        if fmt is PAGE_FORMAT:
            html = _catalog_page(built, graph, profile, page)
            return StoredPage(html.get_data(), html.content_type or "")
        return rdf_page(graph, fmt)

    stored = served_page(current_app.extensions[_PAGES], downloads,
                         PageKey(request.url, fmt.name, profile.token, explicit, context.settings().catalog_page_size),
                         pending, build)
    return _finish(Response(stored.body, content_type=stored.content_type), profile, location, pending)


_PAGES = "catalog.pages"


@blueprint.record_once
def _install_page_cache(state: BlueprintSetupState) -> None:
    state.app.extensions[_PAGES] = VersionedCache(lambda stored: len(stored[0]))


def _catalog_page(catalogue: Catalogue, graph: Graph, profile: Profile, page: int) -> Response:
    catalog_iri = URIRef(catalogue.mapper.to_public_iri(str(catalogue.constants.catalog)))
    html = render_template(
        "catalog/catalog.html", graph=graph, catalog=catalog_iri, profile=profile, profiles=catalog_profiles.PROFILES,
        page=page, view=_view(graph, catalog_iri), json_ld=script_tag(catalog_json_ld(graph, catalog_iri)),
        formats=RDF_FORMATS,
    )
    return Response(html, content_type=PAGE_FORMAT.content_type)


def _view(graph: Graph, catalog: URIRef) -> dict:
    """Plain values for the HTML template."""
    datasets = []
    for dataset in sorted(graph.objects(catalog, DCAT.dataset), key=lambda d: str(graph.value(d, DCTERMS.title))):
        distributions = []
        for dist in sorted(graph.objects(dataset, DCAT.distribution), key=str):
            distributions.append({
                "title": str(graph.value(dist, DCTERMS.title) or ""),
                "url": str(graph.value(dist, DCAT.downloadURL) or graph.value(dist, DCAT.accessURL) or ""),
                "media_type": str(graph.value(dist, DCAT.mediaType) or "").rsplit("media-types/", 1)[-1],
                "size": str(graph.value(dist, DCAT.byteSize) or ""),
                "licence": str(graph.value(dist, DCTERMS.license) or ""),
            })
        datasets.append({
            "iri": str(dataset), "title": str(graph.value(dataset, DCTERMS.title) or dataset),
            "description": str(graph.value(dataset, DCTERMS.description) or ""),
            "modified": str(graph.value(dataset, DCTERMS.modified) or ""),
            "keywords": sorted(str(k) for k in graph.objects(dataset, DCAT.keyword)),
            "distributions": distributions,
        })
    paging = next(iter(graph.subjects(RDF.type, HYDRA.PagedCollection)), None)
    links = {name: str(value) for name in ("first", "previous", "next", "last")
             if paging is not None and (value := graph.value(paging, HYDRA[name])) is not None}
    total = graph.value(paging, HYDRA.totalItems) if paging is not None else None
    return {"title": str(graph.value(catalog, DCTERMS.title) or ""),
            "description": str(graph.value(catalog, DCTERMS.description) or ""),
            "datasets": datasets, "links": links, "total": int(total) if total is not None else len(datasets)}


# ---------------------------------------------------------------------------------------------------------------
# /catalog/{kind}/{key}
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/catalog/<kind>/<key>")
def record(kind: str, key: str) -> Response:
    stem, _, suffix = key.partition(".")
    fmt = _choose_format(suffix or None)
    profile, _ = _choose_profile()
    catalogue = _catalogue()
    document = catalogue.constants.iri(f"catalog/{kind}/{stem}")
    graph = catalogue.document(str(document), profile)
    if graph is None:
        return http.plain_error(404, f"no catalogue record at /catalog/{kind}/{stem}")
    graph = rewrite(graph, catalogue.mapper)
    if fmt is PAGE_FORMAT:
        record_ = catalogue.record_by_document(str(document))
        dataset = URIRef(catalogue.mapper.to_public_iri(str(record_.iri))) if record_ else None
        catalog_iri = URIRef(catalogue.mapper.to_public_iri(str(catalogue.constants.catalog)))
        html = render_template(
            "catalog/record.html", view=_view(graph, catalog_iri), turtle=graph.serialize(format="turtle"),
            json_ld=script_tag(dataset_json_ld(graph, dataset)) if dataset is not None else "",
            path=f"/catalog/{kind}/{stem}", formats=RDF_FORMATS, profile=profile,
        )
        return _finish(Response(html, content_type=PAGE_FORMAT.content_type), profile, None, catalogue.pending)
    location = None if suffix else _url_with(f"/catalog/{kind}/{stem}.{fmt.extension}")
    return _rdf_response(graph, fmt, profile, location, catalogue.pending)


# ---------------------------------------------------------------------------------------------------------------
# /catalog/quality
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/catalog/quality")
@blueprint.get("/catalog/quality.<suffix>")
def quality(suffix: str | None = None) -> Response:
    fmt = _choose_format(suffix, html_first=True)
    # The assessment requests every URL of the catalogue and validates it with the DCAT-AP shapes (5 s at 10M
    # triples): kept per data version, origin and format, like VoID.
    body, content_type = _per_data_version(("quality", request.host_url, fmt.name), lambda: _assessed(fmt))
    return _finish(Response(body, content_type=content_type), None, None)


def _per_data_version(key: tuple[str, ...], build: Callable[[], tuple[bytes, str]]) -> tuple[bytes, str]:
    """``build()`` (a body and its content type) once per data version, kept with this process's catalogue pages."""
    pages: VersionedCache[tuple[bytes, str]] = current_app.extensions[_PAGES]
    return pages.answer(lambda: version_key(context.store()), key, build)[0]


def _assessed(fmt: Format) -> tuple[bytes, str]:
    """The MQA assessment of the catalogue at the request's origin, as ``fmt`` (body, content type)."""
    settings = context.settings()
    catalogue = _catalogue(wait_for_downloads=True)
    checker = UrlChecker(request.host_url, wsgi_status_of(current_app))
    results, shapes_used = assess_catalogue(
        catalogue, checker, settings.dcat_ap_shapes_dir, settings.shapes_dir / "catalog.ttl",
        lambda g: rewrite(g, catalogue.mapper),
    )
    if fmt is PAGE_FORMAT:
        html = render_template("catalog/quality.html", results=results, dimensions=DIMENSIONS, max_points=MAX_POINTS,
                               shapes_used=shapes_used, formats=RDF_FORMATS)
        return html.encode(), PAGE_FORMAT.content_type
    dqv = to_dqv(results, URIRef(_url_with("/catalog/quality")), shapes_used)
    return dqv.serialize(format=fmt.rdflib_name, encoding="utf-8"), fmt.content_type


# ---------------------------------------------------------------------------------------------------------------
# /download, /.well-known/void, /sitemap.xml
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/download/<path:name>")
def download(name: str) -> Response:
    written = DownloadCache.of(context.settings(), context.store(), iris.mapper()).written(name)
    if written is not None:
        file, media_type = written
    else:  # not written for this origin yet (or no such download): the records say which files there are
        try:
            found = _catalogue().download(name)
        except OriginRefused:
            limit = context.settings().max_download_origins
            return http.plain_error(421, f"No downloads are written for {request.host_url}: this data version has "
                                         f"them for {limit} origins besides the service's own already (each is a "
                                         "copy of the data under its own IRIs). An operator adds origins with "
                                         "AIWATCH_DOWNLOAD_ORIGINS.")
        if found is None:
            return http.plain_error(404, f"no download {name!r}; the catalogue (/catalog) lists them all")
        spec, file = found
        media_type = spec.media_type
    response = send_file(file.path, mimetype=media_type, conditional=True, etag=file.sha256,
                         download_name=file.path.name, max_age=http.DEFAULT_MAX_AGE)
    response.headers["Digest"] = f"sha-256={_base64(file.sha256)}"
    return response


def _base64(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


@blueprint.get("/.well-known/void")
@blueprint.get("/.well-known/void.<suffix>")
def void(suffix: str | None = None) -> Response:
    fmt = _choose_format(suffix)
    if fmt is PAGE_FORMAT:
        fmt = RDF_FORMATS[0]
    # Aggregates over every triple: computed once per data version (catalog.void.stored_void), and each
    # serialisation kept per origin and format like the catalogue pages.
    def build() -> tuple[bytes, str]:
        catalogue = Catalogue(context.store(), context.settings(), iris.mapper())
        body = rewrite(catalogue.void(), catalogue.mapper).serialize(format=fmt.rdflib_name, encoding="utf-8")
        return body, fmt.content_type

    body, content_type = _per_data_version(("void", request.host_url, fmt.name), build)
    return _finish(Response(body, content_type=content_type), None, None)


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    catalogue = _catalogue()
    base = catalogue.constants.base_iri
    documents = [str(r.document) for r in catalogue.records] + [str(catalogue.constants.service)]
    paths = page_paths(catalogue.store, base, documents)
    version = catalogue.store.version()
    published: datetime | None = version.published if version else None
    urls = [catalogue.mapper.to_public_iri(base + path) for path in paths]
    response = Response(sitemap_xml(urls, published), content_type="application/xml; charset=utf-8")
    return http.cacheable(response)
