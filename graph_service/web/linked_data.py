"""The Linked Data face: dereferenceable IRIs for things, concepts, the ontology and the shapes.

URI pattern (DESIGN.md "Identifiers"; the Cool URIs note, Pubby's 303 pattern):

* ``GET /id/{kind}/{key}`` answers ``303 See Other`` to the document ``/doc/{kind}/{key}``.
* ``/doc/{kind}/{key}`` negotiates HTML and every RDF format of :mod:`graph_service.formats` (TriG and N-Quads keep
  the named graphs each statement comes from); ``/doc/{kind}/{key}.ttl`` (``.jsonld .rdf .nt .trig .nq .n3
  .html``) bypasses negotiation. ``Content-Location`` names the concrete file, ``Link`` the other formats.
* ``/doc/{kind}/{key}/inverse?property=IRI&page=N`` pages through the links to a resource beyond those its
  description lists.
* ``/concept``, ``/concept/{scheme}``, ``/concept/{scheme}/{code}``: concept schemes and concepts (their IRIs are
  documents: they answer 200 with the same negotiation).
* ``/def/{name}``: an ontology (the named graph that declares ``{base}def/{name} a owl:Ontology``), documented for
  people with one anchor per term (``/def/aiwatch#Report``).
* ``/shapes``: the SHACL files of ``shapes/``, as a readable list and in every RDF format.

Every representation speaks the serving origin (:mod:`.iris`), so ``rdflib.Graph().parse(url)`` finds triples
whose subject is the URL it fetched. Every answer is cacheable (strong ETag from the data version, Last-Modified,
304) and works with HEAD. Unknown resources are 404 (checked with ASK first), with an HTML page for browsers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyoxigraph
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.blueprints import BlueprintSetupState
from pyoxigraph import DefaultGraph, NamedNode, Quad
from werkzeug.exceptions import HTTPException

from .. import describe as describing
from ..formats import FORMATS, Format, Kind, by_name, guess_rdf_format, negotiate
from ..namespaces import DCTERMS, FOAF, OWL, RDF, SKOS
from ..sparql.cache import VersionedCache, version_key
from . import context, pages
from .http import DEFAULT_MAX_AGE, cacheable, negotiated, plain_error
from .iris import IriMapper, mapper

blueprint = Blueprint("linked_data", __name__)

#: A kind or key of an IRI (ontology/README.md: lower case ``[a-z0-9-]``); anything else is a 404, never a query.
SEGMENT = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")
HTML = by_name("html")
#: RDF formats offered for every document, the page first: browsers and ``*/*`` get HTML.
RDF_FORMATS: list[Format] = [f for f in FORMATS if f.rdf_format is not None and Kind.GRAPH in f.kinds]
OFFERED: list[Format] = [HTML, *RDF_FORMATS]
_BY_SUFFIX: dict[str, Format] = {f.extension: f for f in OFFERED}
#: Formats that keep graph names (quads); the others get the RDF merge of the description's triples.
_DATASET_FORMATS = {"trig", "nq"}
#: The paths this face answers; a 404 under them gets this face's page.
PREFIXES = ("/id/", "/doc/", "/def/", "/concept", "/shapes")
INVERSE_PAGE_SIZE = 100
MAX_PAGE = 10_000


# ---------------------------------------------------------------------------------------------------------------
# Things: /id/ and /doc/
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/id/<kind>/<name>")
def thing(kind: str, name: str) -> Response:
    key, suffix = _parse(kind, name)
    iri = _base() + f"id/{kind}/{key}"
    if not describing.exists(context.store(), iri):
        return not_found(f"Nothing in the graph is identified by {mapper().to_public_iri(iri)}")
    document = mapper().public_base + f"doc/{kind}/{key}" + (f".{suffix.extension}" if suffix else "")
    response = Response(status=303, headers={"Location": document})
    response.cache_control.public = True
    response.cache_control.max_age = DEFAULT_MAX_AGE
    return response


@blueprint.get("/doc/<kind>/<name>")
def document(kind: str, name: str) -> Response:
    key, suffix = _parse(kind, name)
    return _describe_and_serve(_base() + f"id/{kind}/{key}", f"doc/{kind}/{key}", suffix, topic_has_own_iri=True,
                               inverse_path=f"doc/{kind}/{key}/inverse")


@blueprint.get("/doc/<kind>/<key>/<name>")
def thing_inverse_links(kind: str, key: str, name: str) -> Response:
    stem, suffix = _parse(kind, name)
    if stem != "inverse" or not SEGMENT.fullmatch(key):
        abort(404)
    return _inverse_links(_base() + f"id/{kind}/{key}", f"doc/{kind}/{key}/inverse", suffix)


def _inverse_links(iri: str, path: str, suffix: Format | None) -> Response:
    """Every resource that links to ``iri`` with one property (``?property=``), a page (``?page=``) at a time."""
    store, iri_mapper = context.store(), mapper()
    predicate = iri_mapper.to_store_iri(request.args.get("property", ""))
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        return plain_error(400, "page must be a whole number from 1")
    number = int(page)
    try:
        total, subjects = describing.inverse_page(store, iri, predicate, offset=(number - 1) * INVERSE_PAGE_SIZE,
                                                  limit=INVERSE_PAGE_SIZE)
    except ValueError:
        return plain_error(400, "property must be the IRI of a property")
    if not subjects:
        return not_found(f"Nothing links to {iri_mapper.to_public_iri(iri)} with {predicate} (page {number})")
    last = (total + INVERSE_PAGE_SIZE - 1) // INVERSE_PAGE_SIZE
    target, link = NamedNode(iri), NamedNode(predicate)
    quads = [Quad(s, link, target, DefaultGraph()) for s in subjects]
    page_url = f"{iri_mapper.public_base}{path}?property={_quote(iri_mapper.to_public_iri(predicate))}&page="

    def page_html(formats: list[pages.FormatLink]) -> str:
        view = describing.view_of(store, quads)  # names of the linking resources, the property and the target
        target_name, property_name = pages.name_of(view, target), pages.property_label(view, predicate)
        pager = {"number": number, "last": last, "total": total, "size": INVERSE_PAGE_SIZE,
                 "previous": f"{page_url}{number - 1}" if number > 1 else None,
                 "next": f"{page_url}{number + 1}" if number < last else None}
        return render_template(
            "listing.html", title=f"{target_name}: {pages.inverse_label(view, predicate).lower()}",
            lead=f"{total} resources link to {target_name} with the property “{property_name.lower()}” "
                 f"({pages.curie(predicate)}).",
            back=iri_mapper.to_public_iri(iri), back_label=target_name,
            items=pages.linked_items(view, iri_mapper, subjects), pager=pager, formats=formats)

    pager_links = [f'<{page_url}1>; rel="first"', f'<{page_url}{last}>; rel="last"']
    pager_links += [f'<{page_url}{number - 1}>; rel="prev"'] if number > 1 else []
    pager_links += [f'<{page_url}{number + 1}>; rel="next"'] if number < last else []
    return _serve(path, suffix, lambda: quads, page_html, topic=None,
                  query=f"?property={_quote(iri_mapper.to_public_iri(predicate))}&page={number}",
                  links_extra=pager_links)


def _describe_and_serve(iri: str, path: str, suffix: Format | None, *, topic_has_own_iri: bool,
                        inverse_path: str | None = None, inverse_limit: int = describing.DEFAULT_INVERSE_LIMIT,
                        decorate: Callable[[pages.ResourcePage, describing.Description], None] | None = None
                        ) -> Response:
    """The document of ``iri``, built once per data version, URL and format (see :class:`_Stored`)."""
    fmt = suffix or negotiate(request.environ.get("HTTP_ACCEPT"), OFFERED)  # (Accept, read without a KeyError)

    def build() -> tuple[Response, tuple[str, ...] | None]:
        return _describe_and_build(iri, path, suffix, topic_has_own_iri=topic_has_own_iri,
                                   inverse_path=inverse_path, inverse_limit=inverse_limit, decorate=decorate)

    if fmt is None:  # 406 (or 404): nothing worth keeping
        response, parts = build()
        return response if parts is None else cacheable(response, *parts)
    documents: VersionedCache[_Stored] = current_app.extensions[_DOCUMENTS]
    version, key = _data_version(), (request.url, fmt.name)
    stored = documents.get(version, key)
    if stored is None:
        response, parts = build()
        if parts is None or response.status_code != 200:
            return response if parts is None else cacheable(response, *parts)
        stored = _Stored(response.get_data(), response.content_type or "", tuple(
            (name, value) for name, value in response.headers.items() if name in _KEPT_HEADERS), parts)
        if _data_version() == version:
            documents.put(version, key, stored)
    response = Response(stored.body, content_type=stored.content_type)
    for name, value in stored.headers:
        response.headers[name] = value
    return cacheable(response, *stored.etag_parts)


def _describe_and_build(iri: str, path: str, suffix: Format | None, *, topic_has_own_iri: bool,
                        inverse_path: str | None, inverse_limit: int,
                        decorate: Callable[[pages.ResourcePage, describing.Description], None] | None
                        ) -> tuple[Response, tuple[str, ...] | None]:
    store = context.store()
    description = describing.describe(store, iri, inverse_limit=inverse_limit)
    if description is None:
        return not_found(f"Nothing in the graph is identified by {mapper().to_public_iri(iri)}"), None
    iri_mapper = mapper()

    def inverse_href(group: describing.InverseLinks) -> str | None:
        if inverse_path is None:
            return None
        return (f"{iri_mapper.public_base}{inverse_path}"
                f"?property={_quote(iri_mapper.to_public_iri(group.predicate.value))}&page=1")

    def page_html(formats: list[pages.FormatLink]) -> str:
        page = pages.resource_page(description, iri_mapper, formats=formats, inverse_href=inverse_href,
                                   page_url=iri_mapper.public_base + path)
        if decorate:
            decorate(page, description)
        return render_template("resource.html", page=page)

    return _build(path, suffix, lambda: description.quads, page_html, topic=iri if topic_has_own_iri else None)


#: Headers of a document that are part of the stored representation (validators and caching are added per request).
_KEPT_HEADERS = frozenset({"Content-Location", "Link", "Vary"})
_DOCUMENTS = "linked_data.documents"


@dataclass(frozen=True)
class _Stored:
    """A finished document of one data version: rebuilding it would ask the store the same ~8 queries again.

    Kept in a bounded per-process LRU (graph_service.sparql.cache); the key is the request URL (origin, path,
    query) and the negotiated format, everything the bytes depend on.
    """

    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]
    etag_parts: tuple[str, ...]


@blueprint.record_once
def _install_document_cache(state: BlueprintSetupState) -> None:
    state.app.extensions[_DOCUMENTS] = VersionedCache(lambda stored: len(stored.body))


def _data_version() -> str:
    return version_key(context.store())


# ---------------------------------------------------------------------------------------------------------------
# Concept schemes and concepts
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/concept")
def concept_schemes() -> Response:
    """The concept schemes, with their number of concepts."""
    store, iri_mapper = context.store(), mapper()
    rows = store.select(
        f"SELECT ?scheme (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?scheme a <{SKOS.ConceptScheme}> "
        f"OPTIONAL {{ ?c <{SKOS.inScheme}> ?scheme }} }} GROUP BY ?scheme ORDER BY ?scheme"
    )
    schemes = [row["scheme"] for row in rows if isinstance(row["scheme"], NamedNode)]
    counts = {row["scheme"]: int(row["n"].value) for row in rows}
    type_quads = [Quad(s, NamedNode(str(RDF.type)), NamedNode(str(SKOS.ConceptScheme)), DefaultGraph())
                  for s in schemes]

    def page_html(formats: list[pages.FormatLink]) -> str:
        view = describing.view_of(store, type_quads)
        items = pages.linked_items(view, iri_mapper, schemes)
        for item, scheme in zip(items, schemes, strict=True):
            item.hint = f"{counts[scheme]} concepts"
        items.sort(key=lambda v: v.text.lower())
        return render_template("listing.html", title="Concept schemes", items=items, formats=formats, pager=None,
                               lead="The coded values of the AI Watch data: each is a SKOS concept in one of "
                                    "these schemes.")

    return _serve("concept", None, lambda: type_quads, page_html, topic=None)


@blueprint.get("/concept/<name>")
def concept_scheme(name: str) -> Response:
    stem, suffix = _parse("concept", name)
    iri = _base() + f"concept/{stem}"
    # All concepts are listed with their scheme (a scheme has at most a few hundred).
    return _describe_and_serve(iri, f"concept/{stem}", suffix, topic_has_own_iri=False, inverse_limit=1000,
                               decorate=_concept_hierarchy)


@blueprint.get("/concept/<scheme>/<name>")
def concept(scheme: str, name: str) -> Response:
    stem, suffix = _parse(scheme, name)
    return _describe_and_serve(_base() + f"concept/{scheme}/{stem}", f"concept/{scheme}/{stem}", suffix,
                               topic_has_own_iri=False, inverse_path=f"concept/{scheme}/{stem}/inverse")


@blueprint.get("/concept/<scheme>/<code>/<name>")
def concept_inverse_links(scheme: str, code: str, name: str) -> Response:
    stem, suffix = _parse(scheme, name)
    if stem != "inverse" or not SEGMENT.fullmatch(code):
        abort(404)
    return _inverse_links(_base() + f"concept/{scheme}/{code}", f"concept/{scheme}/{code}/inverse", suffix)


@dataclass
class ConceptNode:
    label: str
    notation: str | None
    href: str
    children: list[ConceptNode]


def _concept_hierarchy(page: pages.ResourcePage, description: describing.Description) -> None:
    """Show a scheme's concepts as a tree (top concepts, then narrower ones) instead of two flat link lists."""
    scheme = description.resource
    rows = context.store().select(
        f"SELECT ?c ?label ?notation ?broader WHERE {{ ?c <{SKOS.inScheme}> {describing.sparql_iri(scheme.value)} "
        f"OPTIONAL {{ ?c <{SKOS.prefLabel}> ?label FILTER(LANGMATCHES(LANG(?label), 'en')) }} "
        f"OPTIONAL {{ ?c <{SKOS.notation}> ?notation }} OPTIONAL {{ ?c <{SKOS.broader}> ?broader }} }}"
    )
    iri_mapper = mapper()
    nodes: dict[NamedNode, ConceptNode] = {}
    parents: dict[NamedNode, NamedNode] = {}
    for row in rows:
        c = row["c"]
        if c not in nodes:
            nodes[c] = ConceptNode(label=row["label"].value if "label" in row else pages.humanise(c.value),
                                   notation=row["notation"].value if "notation" in row else None,
                                   href=iri_mapper.to_public_iri(c.value), children=[])
        if "broader" in row:
            parents[c] = row["broader"]
    roots = []
    for c, node in nodes.items():
        parent = parents.get(c)
        (nodes[parent].children if parent in nodes else roots).append(node)

    def order(items: list[ConceptNode]) -> None:
        items.sort(key=lambda n: pages._natural_key(n.notation or n.label))
        for item in items:
            order(item.children)

    order(roots)
    page.extra["hierarchy"] = roots
    page.extra["concept_count"] = len(nodes)
    listed = {str(SKOS.inScheme), str(SKOS.topConceptOf)}
    page.inverse = [group for group in page.inverse if group.curie not in {pages.curie(p) for p in listed}]
    page.rows = [row for row in page.rows if row.curie != pages.curie(str(SKOS.hasTopConcept))]


# ---------------------------------------------------------------------------------------------------------------
# The ontology
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/def/<name>")
def ontology(name: str) -> Response:
    stem, suffix = _parse("def", name)
    iri = _base() + f"def/{stem}"
    store = context.store()
    graphs = [row["g"].value for row in store.select(
        f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {describing.sparql_iri(iri)} a <{OWL.Ontology}> }} }}")]
    if not graphs:
        return not_found(f"No ontology is published at {mapper().to_public_iri(iri)}")
    rows = store.select(
        f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?g {{ {' '.join(describing.sparql_iri(g) for g in graphs)} }} "
        f"GRAPH ?g {{ ?s ?p ?o }} }}")
    quads = [Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows]

    def page_html(formats: list[pages.FormatLink]) -> str:
        view = describing.view_of(store, quads)
        page = pages.ontology_page(view, NamedNode(iri), mapper(), formats)
        return render_template("ontology.html", page=page)

    return _serve(f"def/{stem}", suffix, lambda: quads, page_html, topic=None)


@blueprint.get("/def/<name>/<version>")
def ontology_version(name: str, version: str) -> Response:
    """A version IRI (``owl:versionIRI``) leads to the ontology document that declares it."""
    if not SEGMENT.fullmatch(name) or not SEGMENT.fullmatch(version):
        abort(404)
    iri, version_iri = _base() + f"def/{name}", _base() + f"def/{name}/{version}"
    declared = context.store().ask(
        f"ASK {{ {describing.sparql_iri(iri)} <{OWL.versionIRI}> {describing.sparql_iri(version_iri)} }}")
    if not declared:
        return not_found(f"No ontology version is published at {mapper().to_public_iri(version_iri)}")
    response = Response(status=303, headers={"Location": mapper().public_base + f"def/{name}"})
    response.cache_control.public = True
    response.cache_control.max_age = DEFAULT_MAX_AGE
    return response


# ---------------------------------------------------------------------------------------------------------------
# The shapes
# ---------------------------------------------------------------------------------------------------------------

@blueprint.get("/shapes")
def shapes() -> Response:
    return _shapes(None)


@blueprint.get("/shapes.<extension>")
def shapes_file(extension: str) -> Response:
    fmt = _BY_SUFFIX.get(extension)
    if fmt is None:
        abort(404)
    return _shapes(fmt)


def _shape_files() -> list[Path]:
    folder = context.settings().shapes_dir
    return sorted(p for p in folder.iterdir() if p.is_file() and guess_rdf_format(p.name)) if folder.is_dir() else []


def _shapes(suffix: Format | None) -> Response:
    files = _shape_files()
    if not files:
        return not_found("No SHACL shapes are published")
    fingerprint = hashlib.sha256()
    quads: list[Quad] = []
    for path in files:
        content = path.read_bytes()
        fingerprint.update(path.name.encode() + b"\0" + content)
        quads += [Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in pyoxigraph.parse(
            content, format=guess_rdf_format(path.name), base_iri=_base() + "shapes")]
    quads = _stable_blank_nodes(quads)
    document_iri = NamedNode(_base() + "shapes")

    def page_html(formats: list[pages.FormatLink]) -> str:
        page = pages.shapes_page(describing.view_of(context.store(), quads), document_iri, mapper(), formats)
        return render_template("ontology.html", page=page)

    # The files are read from disk, not from the store: their content is part of the validator.
    return _serve("shapes", suffix, lambda: quads, page_html, topic=None, etag_extra=fingerprint.hexdigest())


def _stable_blank_nodes(quads: Sequence[Quad]) -> list[Quad]:
    """The same blank node labels on every parse (the parser mints random ones): a strong ETag names the bytes."""
    labels: dict[pyoxigraph.BlankNode, pyoxigraph.BlankNode] = {}

    def stable(term):
        if isinstance(term, pyoxigraph.BlankNode):
            return labels.setdefault(term, pyoxigraph.BlankNode(f"s{len(labels)}"))
        return term

    return [Quad(stable(q.subject), q.predicate, stable(q.object), q.graph_name) for q in quads]


# ---------------------------------------------------------------------------------------------------------------
# Serving one document in the negotiated format
# ---------------------------------------------------------------------------------------------------------------

def _serve(path: str, suffix: Format | None, quads_of: Callable[[], Sequence[Quad]],
           page_of: Callable[[list[pages.FormatLink]], str], *, topic: str | None, query: str = "",
           etag_extra: str = "", links_extra: Sequence[str] = ()) -> Response:
    """Answer for the document at ``path`` (relative to the public base) in the requested format.

    ``quads_of`` gives the statements in store IRIs; they are rewritten to the serving origin here. ``topic`` is the
    thing the document describes when it has an IRI of its own (``/id/...``): the document then says so.
    """
    response, parts = _build(path, suffix, quads_of, page_of, topic=topic, query=query, etag_extra=etag_extra,
                             links_extra=links_extra)
    return response if parts is None else cacheable(response, *parts)


def _build(path: str, suffix: Format | None, quads_of: Callable[[], Sequence[Quad]],
           page_of: Callable[[list[pages.FormatLink]], str], *, topic: str | None, query: str = "",
           etag_extra: str = "", links_extra: Sequence[str] = ()) -> tuple[Response, tuple[str, ...] | None]:
    """The response of :func:`_serve` before validators, and what names its representation (``None``: an error)."""
    fmt = suffix or negotiate(request.headers.get("Accept"), OFFERED)
    iri_mapper = mapper()
    generic = iri_mapper.public_base + path

    def url_of(f: Format) -> str:
        return f"{generic}.{f.extension}{query}"

    alternates = [f'<{url_of(f)}>; rel="alternate"; type="{f.media_type}"' for f in OFFERED if f is not fmt]
    if fmt is None:
        available = ", ".join(f.media_type for f in OFFERED)
        response = plain_error(406, f"None of the formats of this document is acceptable. Available: {available}",
                               [("Link", ", ".join(alternates))])
        return negotiated(response), None
    if fmt is HTML:
        body: str | bytes = page_of(pages.format_links(url_of, RDF_FORMATS))
    else:
        statements = list(iri_mapper.quads(quads_of()))
        statements += _document_statements(iri_mapper, generic, url_of(fmt), topic, [url_of(f) for f in OFFERED])
        body = serialize(statements, fmt, iri_mapper)
    response = Response(body, content_type=fmt.content_type)
    response.headers["Content-Location"] = url_of(fmt)
    response.headers["Link"] = ", ".join([*alternates, *links_extra])
    if suffix is None:
        negotiated(response)
    # The body depends on the serving origin (base rewriting) and the format, not only on the path.
    return response, (iri_mapper.public_base, request.path, request.query_string.decode("latin-1"), fmt.name,
                      etag_extra)


def _document_statements(iri_mapper: IriMapper, generic: str, concrete: str, topic: str | None,
                         variants: Sequence[str]) -> list[Quad]:
    """What the document says about itself, so that the fetched URL is a subject of what it returns.

    A ``/doc/`` page is a foaf:Document about its thing, with one dct:hasFormat per variant. Documents whose
    subject is the URL itself (concepts, the ontology) only say which file was served.
    """
    default = DefaultGraph()
    primary_topic, is_format_of = NamedNode(str(FOAF.primaryTopic)), NamedNode(str(DCTERMS.isFormatOf))
    if topic is None:
        return [Quad(NamedNode(concrete), primary_topic, NamedNode(generic), default)]
    doc, thing_ = NamedNode(generic), NamedNode(iri_mapper.to_public_iri(topic))
    statements = [Quad(doc, NamedNode(str(RDF.type)), NamedNode(str(FOAF.Document)), default),
                  Quad(doc, primary_topic, thing_, default)]
    for variant in variants:
        statements += [Quad(doc, NamedNode(str(DCTERMS.hasFormat)), NamedNode(variant), default),
                       Quad(NamedNode(variant), is_format_of, doc, default)]
    return statements


def serialize(quads: Sequence[Quad], fmt: Format, iri_mapper: IriMapper) -> bytes:
    """``quads`` in ``fmt``: with graph names for TriG and N-Quads, as one merged graph otherwise."""
    prefixes = _prefixes_used(quads, iri_mapper)
    if fmt.name in _DATASET_FORMATS:
        return pyoxigraph.serialize(quads, format=fmt.rdf_format, prefixes=prefixes)
    triples = list(dict.fromkeys(pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads))
    return pyoxigraph.serialize(triples, format=fmt.rdf_format, prefixes=prefixes)


def _prefixes_used(quads: Sequence[Quad], iri_mapper: IriMapper) -> dict[str, str]:
    """The display prefixes whose namespace some IRI of ``quads`` is in (``id:`` and ``concept:`` left out: their
    local names have slashes, which Turtle would have to escape)."""
    namespaces = {prefix: iri_mapper.to_public_iri(ns) for prefix, ns in pages.DISPLAY_PREFIXES.items()
                  if prefix not in ("id", "concept")}
    iris = {term.value for q in quads for term in (q.subject, q.predicate, q.object) if isinstance(term, NamedNode)}
    return {prefix: ns for prefix, ns in namespaces.items() if any(iri.startswith(ns) for iri in iris)}


# ---------------------------------------------------------------------------------------------------------------
# Errors and helpers
# ---------------------------------------------------------------------------------------------------------------

def not_found(message: str) -> Response:
    """404: a page for browsers (who ask for HTML by name), a line of text for everyone else."""
    wants_html = any(value in HTML.media_types and quality > 0 for value, quality in request.accept_mimetypes)
    if wants_html:
        response = Response(render_template("not_found.html", message=message, path=request.path), status=404,
                            content_type=HTML.content_type)
    else:
        response = plain_error(404, message)
    response.vary.add("Accept")
    return response


@blueprint.app_errorhandler(404)
def _not_found_under_this_face(error: HTTPException):
    """Routing 404s under this face's paths (bad keys, odd paths) get the same answer as unknown resources."""
    if request.path.startswith(PREFIXES) or request.path in ("/concept", "/shapes"):
        return not_found(f"There is no document at {request.path}")
    return error


def _parse(kind: str, name: str) -> tuple[str, Format | None]:
    """``key`` and the format its suffix selects (``jrc126501.ttl``); 404 for anything that is not a clean key."""
    stem, dot, extension = name.partition(".")
    suffix = _BY_SUFFIX.get(extension) if dot else None
    if (dot and suffix is None) or not SEGMENT.fullmatch(kind) or not SEGMENT.fullmatch(stem):
        abort(404)
    return stem, suffix


def _base() -> str:
    return context.settings().base_iri


def _quote(value: str) -> str:
    return quote(value, safe="")
