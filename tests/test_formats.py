"""Content negotiation over the one table of formats."""

from __future__ import annotations

import pytest

from graph_service.formats import BY_NAME, FORMATS, Kind, by_extension, by_name, formats_of, negotiate

PAGE_OR_GRAPH = [BY_NAME["html"], *formats_of(Kind.GRAPH)]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/turtle", "ttl"),
        ("application/rdf+xml;q=0.9, text/turtle;q=0.5", "rdf"),
        ("text/turtle;q=0.5, application/rdf+xml;q=0.9", "rdf"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),  # a browser
        ("application/ld+json", "jsonld"),
        ("text/plain", "nt"),
        ("*/*", "html"),
        ("text/*", "html"),
        ("", "html"),
        (None, "html"),
        ("application/n-triples, */*;q=0.1", "nt"),
        ("text/*;q=0.3, text/turtle;q=0.9", "ttl"),
    ],
)
def test_accept_headers_choose_the_expected_format(accept: str | None, expected: str) -> None:
    chosen = negotiate(accept, PAGE_OR_GRAPH)
    assert chosen is not None and chosen.name == expected


def test_nothing_acceptable_gives_none() -> None:
    assert negotiate("image/png", PAGE_OR_GRAPH) is None
    assert negotiate("text/turtle;q=0", PAGE_OR_GRAPH[1:2]) is None


def test_an_exact_match_beats_a_wildcard_of_the_same_quality() -> None:
    assert negotiate("*/*, application/n-triples", PAGE_OR_GRAPH).name == "nt"


def test_results_and_rdf_formats_are_looked_up_by_name_extension_and_media_type() -> None:
    assert by_name("json", Kind.RESULTS).media_type == "application/sparql-results+json"
    assert by_name("json", Kind.GRAPH) is None
    assert by_name("text/turtle").name == "ttl"
    assert by_extension("report.jsonld").name == "jsonld"
    assert by_extension("README") is None
    assert all(f.content_type.endswith("charset=utf-8") for f in FORMATS if f.textual)
    assert {f.name for f in formats_of(Kind.RESULTS)} == {"json", "xml", "csv", "tsv"}
