"""Property-based tests (hypothesis): random bytes and random-but-valid queries at the parsers and the endpoint.

Whatever arrives, the parsers raise only their documented errors, and the SPARQL endpoint (Flask test client over
the real data) never answers 5xx: a parseable answer in the negotiated format, or a plain-text 4xx with a reason.
The valid queries come from a small grammar over the vocabulary actually used in the data (classes and their
properties, read from the store). Example counts are bounded so that the file runs in well under a minute.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ElementTree

import pyoxigraph
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from graph_service.loading.untrusted import UnsafeDocument, check_document
from graph_service.namespaces import PREFIXES
from graph_service.sparql.protocol import ProtocolError, parse_request
from graph_service.web import create_app
from graph_service.web.limits import QueryTooComplex, check_query_structure, structural_operators

FAST = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ENDPOINT = settings(max_examples=250, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SPARQL_CHARACTERS = st.sampled_from(list("{}()[]<>?$.;,|&!^*+-/=\"'#@: \n\tSELECTWHEREaFILTERUNION0123456789"))
SPARQLISH = st.one_of(st.text(max_size=300), st.lists(SPARQL_CHARACTERS, max_size=300).map("".join))
CONTENT_TYPES = st.sampled_from([
    None, "", "application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded",
    "application/sparql-query; charset=latin-1", "application/x-www-form-urlencoded; charset=utf-16",
    "text/plain", "multipart/form-data; boundary=x", "application/json", "application/sparql-query; charset=",
    ";;;", "application/x-www-form-urlencoded; charset=\"utf-8\"",
])
ACCEPTS = st.sampled_from([
    None, "*/*", "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
    "text/tab-separated-values", "text/turtle", "application/n-triples", "application/ld+json", "text/html",
    "application/x-nonsense", "text/csv;q=0.5, application/sparql-results+json;q=0.9", ";q=", "*/*;q=abc",
])


# --- the parsers --------------------------------------------------------------------------------------------------

@FAST
@given(text=SPARQLISH)
def test_the_structure_counter_reads_any_text(text):
    count = structural_operators(text)
    assert count >= 0
    try:
        check_query_structure(text, 800)
    except QueryTooComplex as error:
        assert "800" in str(error)


@FAST
@given(prefix=SPARQLISH, depth=st.integers(min_value=0, max_value=3000))
def test_nesting_is_always_counted(prefix, depth):
    """However the text before them reads, n nested groups after it count at least n: no string, IRI or comment
    opened before can hide them. (VALUES data is not counted: Oxigraph refuses a group there before nesting.)"""
    assume("VALUES" not in prefix.upper())
    text = prefix + "\n" + "{" * depth + "}" * depth
    assert structural_operators(text) >= depth


@FAST
@given(data=st.binary(max_size=400), media_type=CONTENT_TYPES, method=st.sampled_from(["GET", "POST", "PUT"]),
       parameters=st.lists(st.tuples(st.sampled_from(["query", "update", "default-graph-uri", "named-graph-uri",
                                                       "format", "output", "x"]), st.text(max_size=40)),
                           max_size=4))
def test_the_protocol_parser_only_raises_protocol_errors(data, media_type, method, parameters):
    try:
        parse_request(method, MultiDict(parameters), media_type, data)
    except ProtocolError as error:
        assert 400 <= error.status < 500 and error.message


RDF_FORMATS = [pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.N_TRIPLES, pyoxigraph.RdfFormat.N_QUADS,
               pyoxigraph.RdfFormat.TRIG, pyoxigraph.RdfFormat.RDF_XML, pyoxigraph.RdfFormat.JSON_LD,
               pyoxigraph.RdfFormat.N3]


@FAST
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)),
       rdf_format=st.sampled_from(RDF_FORMATS))
def test_the_rdf_parsers_refuse_garbage_with_syntax_errors(data, rdf_format):
    """What the loader does with a file: the hazard check, then Oxigraph's parser; nothing else escapes."""
    try:
        check_document(data, rdf_format)
        list(pyoxigraph.parse(data, format=rdf_format, base_iri="https://w3id.org/aiwatch/"))
    except (UnsafeDocument, SyntaxError, ValueError):
        pass


@FAST
@given(text=SPARQLISH)
def test_the_query_parser_refuses_garbage_with_syntax_errors(text):
    """What a query worker does with a text the endpoint let through: parse it (on an empty store)."""
    try:
        check_query_structure(text, 800)
        pyoxigraph.Store().query(text)
    except (QueryTooComplex, SyntaxError, ValueError, OSError):
        pass


# --- the endpoint -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def endpoint(settings, store):
    """The app over the real data, without per-client limits (these tests send hundreds of requests at once)."""
    app = create_app(settings.replace(client_rate_per_s=0, client_max_concurrent=0, query_timeout_s=20), store)
    yield app.test_client()
    app.extensions["sparql_executor"].close()


def assert_well_formed(response) -> None:
    """Never 5xx; a plain-text 4xx with a reason, or an answer that parses in the format it says it is in."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    body = response.get_data()
    if response.status_code >= 400:
        assert response.mimetype == "text/plain" and body.strip(), (response.status_code, body[:200])
        return
    if response.status_code != 200 or not body:
        return
    mimetype = response.mimetype
    if mimetype == "application/sparql-results+json":
        json.loads(body)
    elif mimetype == "application/sparql-results+xml":
        ElementTree.fromstring(body)
    elif mimetype in ("text/csv", "text/tab-separated-values"):
        list(csv.reader(io.StringIO(body.decode("utf-8")), delimiter="," if mimetype == "text/csv" else "\t"))
    elif mimetype == "text/html":
        assert b"<html" in body.lower()
    else:
        rdf_format = pyoxigraph.RdfFormat.from_media_type(mimetype)
        assert rdf_format is not None, mimetype
        list(pyoxigraph.parse(body, format=rdf_format))


@ENDPOINT
@given(data=st.binary(max_size=600), media_type=CONTENT_TYPES, accept=ACCEPTS)
def test_random_bytes_posted_to_the_endpoint_get_a_clear_answer(endpoint, data, media_type, accept):
    headers = {"Accept": accept} if accept else {}
    if media_type is not None:
        headers["Content-Type"] = media_type
    assert_well_formed(endpoint.post("/sparql", data=data, headers=headers))


@ENDPOINT
@given(text=SPARQLISH, accept=ACCEPTS, method=st.sampled_from(["GET", "POST"]))
def test_random_query_texts_get_a_clear_answer(endpoint, text, accept, method):
    headers = {"Accept": accept} if accept else {}
    if method == "GET":
        response = endpoint.get("/sparql", query_string={"query": text}, headers=headers)
    else:
        response = endpoint.post("/sparql", data={"query": text}, headers=headers)
    assert_well_formed(response)


@ENDPOINT
@given(raw=st.binary(max_size=200))
def test_random_query_strings_get_a_clear_answer(endpoint, raw):
    query_string = "".join(f"%{byte:02X}" if byte > 127 or chr(byte) in "&=#% +" else chr(byte) for byte in raw)
    assert_well_formed(endpoint.get("/sparql?query=" + query_string))


# --- random-but-valid queries over the real vocabulary -----------------------------------------------------------

@pytest.fixture(scope="module")
def vocabulary(store) -> dict[str, list[str]]:
    """Classes with their instances' properties, as prefixed names: what the generated queries talk about."""
    rows = store.select("""SELECT ?class ?property WHERE {
        { SELECT DISTINCT ?class ?property WHERE { ?s a ?class ; ?property ?o } } }""")
    by_class: dict[str, list[str]] = {}
    for row in rows:
        cls, prop = _curie(row["class"].value), _curie(row["property"].value)
        if cls and prop:
            by_class.setdefault(cls, []).append(prop)
    return {cls: sorted(props) for cls, props in by_class.items() if len(props) >= 2}


def _curie(iri: str) -> str | None:
    for prefix, namespace in PREFIXES.items():
        local = iri[len(namespace):]
        if iri.startswith(namespace) and local and local.replace("_", "a").replace("-", "a").isalnum():
            return f"{prefix}:{local}"
    return None


PROLOGUE = "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in PREFIXES.items())


@st.composite
def select_queries(draw, vocabulary: dict[str, list[str]]) -> str:
    cls = draw(st.sampled_from(sorted(vocabulary)))
    properties = draw(st.lists(st.sampled_from(vocabulary[cls]), min_size=1, max_size=3, unique=True))
    patterns = [f"?x a {cls} ."]
    variables = ["?x"]
    for index, prop in enumerate(properties):
        pattern = f"?x {prop} ?v{index} ."
        variables.append(f"?v{index}")
        kind = draw(st.sampled_from(["plain", "optional", "filter", "union"]))
        if kind == "optional":
            pattern = f"OPTIONAL {{ {pattern} }}"
        elif kind == "filter":
            condition = draw(st.sampled_from([
                f"isIRI(?v{index})", f"isLiteral(?v{index})", f"STRLEN(STR(?v{index})) > {draw(st.integers(0, 40))}",
                f"CONTAINS(LCASE(STR(?v{index})), \"{draw(st.sampled_from(['a', 'ai', 'data', 'é', '']))}\")",
                f"REGEX(STR(?v{index}), \"^{draw(st.sampled_from(['h', 'A', '[0-9]', '.*', '(a|b)+']))}\", \"i\")",
                f"LANG(?v{index}) IN (\"en\", \"\")", f"BOUND(?v{index})",
            ]))
            pattern = f"{pattern} FILTER({condition})"
        elif kind == "union":
            other = draw(st.sampled_from(vocabulary[cls]))
            pattern = f"{{ ?x {prop} ?v{index} }} UNION {{ ?x {other} ?v{index} }}"
        patterns.append(pattern)
    if draw(st.booleans()):
        patterns.append("BIND(STR(?x) AS ?label)")
        variables.append("?label")
    if draw(st.booleans()):
        patterns.insert(0, f"VALUES ?kind {{ {cls} }}")
    where = " ".join(patterns)
    if draw(st.booleans()):  # an aggregate
        grouped = draw(st.sampled_from(variables[1:]))
        query = (f"SELECT {grouped} (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }} GROUP BY {grouped} "
                 f"ORDER BY DESC(?n)")
    else:
        projection = " ".join(draw(st.lists(st.sampled_from(variables), min_size=1, unique=True)))
        distinct = draw(st.sampled_from(["", "DISTINCT ", "REDUCED "]))
        order = draw(st.sampled_from(["", "ORDER BY ?x", f"ORDER BY DESC({variables[-1]})"]))
        query = f"SELECT {distinct}{projection} WHERE {{ {where} }} {order}"
    limit = draw(st.one_of(st.integers(0, 200), st.sampled_from([2**32, 2**63 - 1, 2**64 - 1])))
    offset = draw(st.one_of(st.integers(0, 3000), st.sampled_from([2**40, 2**64 - 1])))
    return f"{PROLOGUE}{query} LIMIT {limit} OFFSET {offset}"


@ENDPOINT
@given(data=st.data(), accept=st.sampled_from([
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"]))
def test_random_valid_queries_are_answered(endpoint, vocabulary, data, accept):
    query = data.draw(select_queries(vocabulary))
    response = endpoint.post("/sparql", data={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, (query, response.get_data(as_text=True)[:500])
    assert_well_formed(response)


@ENDPOINT
@given(data=st.data(), form=st.sampled_from(["ASK", "CONSTRUCT", "DESCRIBE"]),
       accept=st.sampled_from(["text/turtle", "application/n-triples", "application/ld+json",
                               "application/rdf+xml", "application/sparql-results+json"]))
def test_random_valid_graph_and_boolean_queries_are_answered(endpoint, vocabulary, data, form, accept):
    select = data.draw(select_queries(vocabulary))
    where = select[select.index("WHERE"):select.rindex("}") + 1]
    query = {"ASK": f"{PROLOGUE}ASK {where}",
             "CONSTRUCT": f"{PROLOGUE}CONSTRUCT {{ ?x a ?kind2 }} {where.replace('?x a ', '?x a ?kind2 . ?x a ', 1)}"
                          f" LIMIT 50",
             "DESCRIBE": f"{PROLOGUE}DESCRIBE ?x {where} LIMIT 3"}[form]
    response = endpoint.post("/sparql", data={"query": query}, headers={"Accept": accept})
    assert response.status_code in (200, 406), (query, response.get_data(as_text=True)[:500])
    assert_well_formed(response)
