"""The SPARQL query UI: YASGUI bundled in the package, the project's prefixes, and example queries with stable links.

- ``render_query_ui()`` is the page the ``/sparql`` endpoint answers a browser with (``text/html``, no query); it is
  also served at ``/sparql/ui``. ``?example=<slug>`` opens an example in a tab, ``&run=1`` also runs it.
- ``/sparql/examples/<slug>`` is the stable link of each example (the UI with it loaded); ``<slug>.rq`` is the query
  as a file. ``/sparql/examples`` lists them: the UI for people, RDF for machines (the SIB "sparql-examples"
  convention: ``sh:SPARQLExecutable`` with ``sh:select``/``sh:construct``, ``rdfs:comment``, ``schema:target``).
- ``/sparql/ui/assets/<file>`` serves the bundled YASGUI build (``scripts/bundle-yasgui.sh``): the page loads nothing
  from another origin, and the autocompleters that would ask prefix.cc or Linked Open Vocabularies are replaced by
  ones reading this graph and ``namespaces.PREFIXES``.

Example queries are data: ``graph_service/sparql_examples/<slug>.rq``, each opening with ``# title:``,
``# description:`` (continued on indented ``#`` lines), ``# group:`` and ``# order:`` comments and holding no
PREFIX lines: the declarations of the project prefixes a query uses are added when it is served, so every prefix
lives in one place.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from pathlib import Path

import pyoxigraph
from flask import Blueprint, Response, render_template, request, url_for
from rdflib import RDF, RDFS, Graph, Literal, URIRef

from .. import formats
from ..formats import Kind
from ..namespaces import PREFIXES, SCHEMA, SH
from . import context, http, iris

blueprint = Blueprint("query_ui", __name__, template_folder="templates")

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "sparql_examples"
ASSETS_DIR = Path(__file__).resolve().parent / "static" / "yasgui"
#: The files of the YASGUI bundle the page links to (the rest of the folder is LICENSE and VERSION).
BUNDLE_FILES = ("yasgui.min.js", "yasgui.min.css")
SPARQL_QUERY_TYPE = "application/sparql-query"
#: Browsers may keep an asset a day; its URL carries a content hash, so a new bundle is fetched at once.
ASSET_MAX_AGE = 86_400

_HEADER_LINE = re.compile(r"^#\s*(?P<key>[a-z]+):\s*(?P<value>.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}\S")  # an indented comment line continues the value above it
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TRUE = {"", "1", "true", "yes", "on"}
#: Where "name:" may appear without being a prefixed name: IRIs, string literals, comments. One pass over all
#: three, because '#' inside an IRI or a string does not start a comment.
_IRIS_STRINGS_COMMENTS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\s]*>'
    r"|#[^\n]*"
)


@dataclass(frozen=True)
class Example:
    """One example query: metadata from its header comments, the query body, and its form."""

    slug: str
    title: str
    description: str
    group: str
    order: int
    body: str  # the query without header comments and without PREFIX declarations
    form: str  # select | construct | ask | describe

    @property
    def query(self) -> str:
        """The runnable text: title and description as comments, the prefixes it uses, the body."""
        comment = "\n".join(textwrap.wrap(self.description, 88, initial_indent="# ", subsequent_indent="# "))
        return f"# {self.title}\n{comment}\n{declare_prefixes(self.body)}\n{self.body}"


def declare_prefixes(body: str) -> str:
    """PREFIX lines for the project prefixes ``body`` uses and does not declare itself (one per line, then a blank)."""
    code = _IRIS_STRINGS_COMMENTS.sub(" ", body)
    declared = {m.lower() for m in re.findall(r"(?i)\bPREFIX\s+([\w-]*):", code)}
    used = [
        name for name in PREFIXES
        if name not in declared and re.search(rf"(?<![\w.:-]){re.escape(name)}:", code)
    ]
    return "".join(f"PREFIX {name}: <{PREFIXES[name]}>\n" for name in used)


def all_prefix_declarations() -> str:
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())


def parse_example(path: Path) -> Example:
    """Read one ``.rq`` file; its header comments give the metadata (see the module docstring)."""
    slug = path.stem
    if not _SLUG.match(slug):
        raise ValueError(f"{path.name}: example file names are slugs ([a-z0-9-]), they are the stable links")
    lines = path.read_text(encoding="utf-8").splitlines()
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    meta: dict[str, str] = {}
    key = None
    for line in lines[:header_end]:
        match = _HEADER_LINE.match(line)
        if match and match["key"] in {"title", "description", "group", "order"}:
            key = match["key"]
            meta[key] = match["value"].strip()
        elif key and _CONTINUATION.match(line):
            meta[key] += " " + line[1:].strip()
    body = "\n".join(lines[header_end:]).strip() + "\n"
    missing = {"title", "description"} - meta.keys()
    if missing:
        raise ValueError(f"{path.name}: header comment lacks {', '.join(sorted(missing))}")
    return Example(slug, meta["title"], meta["description"], meta.get("group", "Other"),
                   int(meta.get("order", "1000")), body, _query_form(path.name, declare_prefixes(body) + body))


def _query_form(name: str, query: str) -> str:
    """The query form, found by running it on an empty store (which also proves it parses)."""
    try:
        result = pyoxigraph.Store().query(query)
    except SyntaxError as error:
        raise ValueError(f"{name}: {error}") from error
    if isinstance(result, pyoxigraph.QueryBoolean):
        return "ask"
    if isinstance(result, pyoxigraph.QueryTriples):
        return "describe" if re.search(r"(?i)\bDESCRIBE\b", query) else "construct"
    return "select"


@lru_cache(maxsize=1)
def load_examples(directory: Path = EXAMPLES_DIR) -> tuple[Example, ...]:
    """Every example, in display order (their group's first ``order``, then their own)."""
    examples = sorted((parse_example(path) for path in directory.glob("*.rq")), key=lambda e: (e.order, e.slug))
    first_of_group: dict[str, int] = {}
    for example in examples:
        first_of_group.setdefault(example.group, example.order)
    return tuple(sorted(examples, key=lambda e: (first_of_group[e.group], e.order, e.slug)))


def find_example(slug: str | None) -> Example | None:
    return next((e for e in load_examples() if e.slug == slug), None)


def default_query() -> str:
    """The query of a fresh tab: every project prefix declared, and a first look at what the graph holds."""
    return (
        "# AI Watch knowledge graph: the project's prefixes are declared; pick an example from the list.\n"
        f"{all_prefix_declarations()}\n"
        "SELECT ?class (COUNT(?thing) AS ?things)\n"
        "WHERE {\n  ?thing a ?class .\n}\nGROUP BY ?class\nORDER BY DESC(?things)\nLIMIT 50\n"
    )


# ---------------------------------------------------------------------------------------------------------------
# The page


def _example_links(example: Example) -> dict[str, str]:
    return {
        "link": url_for("query_ui.example_page", name=example.slug),
        "raw": url_for("query_ui.example_page", name=f"{example.slug}.rq"),
    }


def render_query_ui(example: str | None = None) -> Response:
    """The query UI page (YASGUI) with ``example`` (default: ``?example=<slug>``) open; ``?run=1`` also runs it."""
    examples = load_examples()
    selected = find_example(example or request.args.get("example"))
    run = selected is not None and request.args.get("run", "0").lower() in _TRUE
    entries = [
        {"slug": e.slug, "title": e.title, "description": e.description, "group": e.group, "form": e.form,
         "query": e.query, **_example_links(e)}
        for e in examples
    ]
    config = {
        # Resolved against the page URL in the browser, so a proxy's scheme and host are kept.
        "endpoint": request.script_root + "/sparql",
        "prefixes": PREFIXES,
        # Where the endpoint may rewrite the persistent base to (iris.py): autocompletion maps it back.
        "baseIri": context.settings().base_iri,
        "publicBase": iris.public_base(),
        "defaultQuery": default_query(),
        "examples": entries,
        "selected": selected.slug if selected else None,
        "run": run,
    }
    groups = [(group, list(items)) for group, items in groupby(entries, key=lambda e: e["group"])]
    html = render_template(
        "query_ui.html", config=config, groups=groups, selected=selected,
        assets={name: _asset_url(name) for name in BUNDLE_FILES},
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    return _conditional(http.negotiated(response))


def _conditional(response: Response, max_age: int = http.DEFAULT_MAX_AGE) -> Response:
    """ETag from the bytes sent (code and examples change pages, not only data), Cache-Control, 304."""
    coding = "gzip" if "gzip" in request.headers.get("Accept-Encoding", "") else "identity"
    response.set_etag(hashlib.sha256(response.get_data() + coding.encode()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response.make_conditional(request)


@blueprint.get("/sparql/ui")
def query_ui() -> Response:
    return render_query_ui()


# ---------------------------------------------------------------------------------------------------------------
# Examples


@blueprint.get("/sparql/examples")
def examples_index() -> Response:
    """People get the UI (whose side bar lists the examples); RDF clients get the examples as SHACL executables."""
    offered = [formats.BY_NAME["html"], *formats.formats_of(Kind.GRAPH)]
    chosen = formats.negotiate(request.headers.get("Accept"), offered)
    if chosen is None:
        return http.plain_error(406, "acceptable: " + ", ".join(f.media_type for f in offered))
    if chosen.name == "html":
        return render_query_ui()
    body = examples_graph().serialize(format=chosen.rdflib_name)
    return _conditional(http.negotiated(Response(body, content_type=chosen.content_type)))


def examples_graph() -> Graph:
    """The examples described with the vocabulary of SIB's sparql-examples (used by UniProt, Bgee, ...)."""
    graph = Graph()
    graph.bind("sh", SH)
    graph.bind("schema", SCHEMA)
    origin = iris.public_base().rstrip("/")
    endpoint = URIRef(origin + request.script_root + "/sparql")
    kinds = {"select": SH.SPARQLSelectExecutable, "construct": SH.SPARQLConstructExecutable,
             "ask": SH.SPARQLAskExecutable, "describe": SH.SPARQLExecutable}
    for example in load_examples():
        node = URIRef(origin + url_for("query_ui.example_page", name=example.slug))
        graph.add((node, RDF.type, SH.SPARQLExecutable))
        graph.add((node, RDF.type, kinds[example.form]))
        graph.add((node, RDFS.label, Literal(example.title, lang="en")))
        graph.add((node, RDFS.comment, Literal(example.description, lang="en")))
        graph.add((node, SCHEMA.keywords, Literal(example.group, lang="en")))
        graph.add((node, SCHEMA.target, endpoint))
        graph.add((node, SH[example.form], Literal(example.query)))  # sh:select, sh:construct, sh:ask, sh:describe
    return graph


@blueprint.get("/sparql/examples/<name>")
def example_page(name: str) -> Response:
    """The stable link of an example: the UI with it loaded (``?run=1`` runs it); ``<slug>.rq`` is the query file."""
    slug, dot, suffix = name.partition(".")
    found = find_example(slug)
    if found is None or (dot and suffix != "rq"):
        return http.plain_error(404, f"no example query {name!r}; see {url_for('query_ui.examples_index')}")
    if suffix == "rq":
        response = Response(found.query, content_type=f"{SPARQL_QUERY_TYPE}; charset=utf-8")
        response.headers["Content-Disposition"] = f'inline; filename="{found.slug}.rq"'
        return _conditional(response)
    return render_query_ui(example=found.slug)


# ---------------------------------------------------------------------------------------------------------------
# The bundled YASGUI build


@dataclass(frozen=True)
class _Asset:
    body: bytes
    gzipped: bytes
    digest: str
    content_type: str


@lru_cache(maxsize=8)
def _asset(name: str) -> _Asset | None:
    path = ASSETS_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        return None
    body = path.read_bytes()
    content_type = mimetypes.guess_type(name)[0] or "text/plain"
    return _Asset(body, gzip.compress(body, compresslevel=9), hashlib.sha256(body).hexdigest(),
                  f"{content_type}; charset=utf-8")


def _asset_url(name: str) -> str:
    asset = _asset(name)
    if asset is None:
        raise FileNotFoundError(f"{ASSETS_DIR / name} is missing: run scripts/bundle-yasgui.sh")
    return url_for("query_ui.asset", name=name, v=asset.digest[:12])


@blueprint.get("/sparql/ui/assets/<name>")
def asset(name: str) -> Response:
    """A file of the YASGUI bundle, compressed once and sent gzipped to clients that accept it."""
    found = _asset(name)
    if found is None:
        return http.plain_error(404, f"no asset {name!r} in the query UI bundle")
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(found.gzipped if use_gzip else found.body, content_type=found.content_type)
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(found.digest[:32] + ("-gz" if use_gzip else ""))
    response.cache_control.public = True
    response.cache_control.max_age = ASSET_MAX_AGE
    return response.make_conditional(request)
