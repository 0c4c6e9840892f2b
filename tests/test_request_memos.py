"""What the cheap cache-hit path remembers between requests: parsed query strings and request URLs
(graph_service.web.limits.LimitedRequest), prepared SPARQL GET requests (graph_service.web.sparql) and negotiated
formats. Remembering must never change an answer: each test repeats a request with one input changed and checks
that the answer follows that input, and that a refusal is never remembered as an answer."""

from __future__ import annotations

import gzip
import json
import logging
import uuid
from urllib.parse import quote

import pytest
from flask import Flask, request
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from graph_service.namespaces import PREFIXES
from graph_service.sparql.negotiation import NotAcceptable, choose_formats
from graph_service.web.access_log import LOGGER_NAME, request_id_of
from graph_service.web.limits import LimitedRequest

MEMBER_STATE = "https://w3id.org/aiwatch/id/member-state/esp"
ONE_MEMBER_STATE = (f"PREFIX aiw: <{PREFIXES['aiw']}>\n"
                    f"SELECT ?ms WHERE {{ ?ms a aiw:MemberState FILTER(?ms = <{MEMBER_STATE}>) }}")
JSON = "application/sparql-results+json"


def sparql_url(query: str) -> str:
    return "/sparql?query=" + quote(query)


# ---------------------------------------------------------------------------------------------------------------
# Parsed query strings and URLs: the same values Werkzeug computes
# ---------------------------------------------------------------------------------------------------------------

QUERY_STRINGS = [
    "", "query=SELECT%20*", "a=1&a=2&b=", "a", "x=%ZZ&y=%E2%82%AC", "x=%FF%FE", "q=a+b&q=c%2Bd",
    "format=json&output=xml&results=csv", "query=" + quote("SELECT ?s { ?s ?p 'é' }"),
]


@pytest.mark.parametrize("query_string", QUERY_STRINGS)
@pytest.mark.parametrize(("path", "script_name", "host"), [
    ("/sparql", "", "127.0.0.1:5000"), ("/doc/case/x y", "/mirror", "example.org"), ("/é", "", "[::1]:8080"),
])
def test_remembered_arguments_and_urls_are_werkzeugs(query_string, path, script_name, host):
    def environ() -> dict:
        return EnvironBuilder(path=path, query_string=query_string, base_url=f"http://{host}{script_name}",
                              environ_overrides={"QUERY_STRING": query_string}).get_environ()

    for _ in range(2):  # computed, then remembered
        ours, werkzeugs = LimitedRequest(environ()), Request(environ())
        assert list(ours.args.items(multi=True)) == list(werkzeugs.args.items(multi=True))
        assert type(ours.args) is type(werkzeugs.args)
        assert (ours.url, ours.base_url, ours.root_url, ours.host_url) == \
               (werkzeugs.url, werkzeugs.base_url, werkzeugs.root_url, werkzeugs.host_url)


def test_remembered_arguments_cannot_be_changed_by_one_request_for_the_next():
    first = LimitedRequest(EnvironBuilder(query_string="a=1").get_environ())
    with pytest.raises(TypeError):
        first.args["a"] = "2"  # immutable, so sharing it between requests is safe
    assert LimitedRequest(EnvironBuilder(query_string="a=1").get_environ()).args["a"] == "1"


def test_an_app_with_a_mutable_argument_class_gets_its_own_arguments():
    from werkzeug.datastructures import MultiDict

    class MutableArgs(LimitedRequest):
        parameter_storage_class = MultiDict

    one, two = (MutableArgs(EnvironBuilder(query_string="a=1").get_environ()) for _ in range(2))
    one.args["a"] = "changed"
    assert two.args["a"] == "1" and one.args is not two.args


def test_an_untrusted_host_is_still_refused():
    app = Flask(__name__)
    app.request_class = LimitedRequest
    app.config["TRUSTED_HOSTS"] = ["good.example"]
    app.add_url_rule("/", "root", lambda: request.host_url)
    client = app.test_client()
    assert client.get("/", headers={"Host": "good.example"}).get_data(as_text=True) == "http://good.example/"
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


# ---------------------------------------------------------------------------------------------------------------
# Prepared SPARQL requests: one per query string, Accept and serving origin
# ---------------------------------------------------------------------------------------------------------------

def bound_iris(response) -> list[str]:
    return [row["ms"]["value"] for row in json.loads(response.get_data())["results"]["bindings"]]


def test_the_same_query_sent_to_two_origins_answers_in_each_origins_iris(client):
    url = sparql_url(ONE_MEMBER_STATE)
    for _ in range(2):
        for host in ("localhost", "127.0.0.1:8080"):  # hosts answered for by default
            response = client.get(url, headers={"Accept": JSON, "Host": host})
            assert response.status_code == 200
            assert bound_iris(response) == [f"http://{host}/id/member-state/esp"]


def test_the_same_query_with_another_accept_answers_in_that_format(client):
    url = sparql_url(ONE_MEMBER_STATE)
    for _ in range(2):
        for accept, media_type in ((JSON, JSON), ("text/csv", "text/csv"),
                                   ("application/sparql-results+xml", "application/sparql-results+xml")):
            response = client.get(url, headers={"Accept": accept})
            assert response.status_code == 200 and response.mimetype == media_type


def test_compressed_answers_follow_the_origin_and_repeat_exactly(client):
    url = sparql_url(f"PREFIX aiw: <{PREFIXES['aiw']}>\nSELECT ?ms WHERE {{ ?ms a aiw:MemberState }}")
    bodies: dict[str, bytes] = {}
    for _ in range(2):
        for host in ("127.0.0.1:5001", "127.0.0.1:5002"):  # same length: the bodies differ only in their IRIs
            response = client.get(url, headers={"Accept": JSON, "Accept-Encoding": "gzip", "Host": host})
            assert response.headers["Content-Encoding"] == "gzip"
            iris = [row["ms"]["value"] for row in json.loads(gzip.decompress(response.get_data()))["results"]["bindings"]]
            assert len(iris) > 20 and all(iri.startswith(f"http://{host}/id/member-state/") for iri in iris)
            assert bodies.setdefault(host, response.get_data()) == response.get_data()


def test_a_refused_request_is_refused_every_time(client):
    url = sparql_url(ONE_MEMBER_STATE)
    for _ in range(2):
        assert client.get(url, headers={"Accept": "image/png"}).status_code == 406
        assert client.get(url + "&format=nonsense").status_code == 400
        assert client.get(sparql_url("INSERT DATA { <a:b> <a:c> <a:d> }")).status_code == 400
    assert client.get(url, headers={"Accept": JSON}).status_code == 200  # the refusals left nothing behind


def test_a_remembered_request_still_revalidates(client):
    url = sparql_url(ONE_MEMBER_STATE)
    first = client.get(url, headers={"Accept": JSON})
    second = client.get(url, headers={"Accept": JSON, "If-None-Match": first.headers["ETag"]})
    assert second.status_code == 304 and second.headers["ETag"] == first.headers["ETag"]
    assert client.get(url, headers={"Accept": JSON, "If-None-Match": '"other"'}).status_code == 200


def test_formats_are_chosen_the_same_way_when_remembered():
    for _ in range(2):
        formats = choose_formats("text/turtle, application/sparql-results+json;q=0.9")
        assert (formats.results.name, formats.graph.name) == ("json", "ttl")
        assert choose_formats(None, ("csv",)).results.name == "csv"
        with pytest.raises(NotAcceptable):
            choose_formats("image/png")


# ---------------------------------------------------------------------------------------------------------------
# Access log: the query clock around the query views, request ids
# ---------------------------------------------------------------------------------------------------------------

def test_only_requests_carrying_sparql_get_a_query_time(client, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    for url in (sparql_url(ONE_MEMBER_STATE), "/sparql", "/doc/member-state/esp"):
        client.get(url, headers={"Accept": JSON}).close()
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == LOGGER_NAME]
    assert ["query_ms" in line for line in lines] == [True, False, False]


def test_new_request_ids_are_random_version_4_uuids():
    ids = {request_id_of(None) for _ in range(200)}
    assert len(ids) == 200
    for request_id in ids:
        parsed = uuid.UUID(hex=request_id)
        assert parsed.hex == request_id and parsed.version == 4 and parsed.variant == uuid.RFC_4122


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_serves_log_file_gets_every_line_and_so_does_a_handler_added_later(client, tmp_path):
    from graph_service.web.access_log import log, log_to

    destination, extra = tmp_path / "access.log", _Collect()
    saved = (list(log.handlers), log.propagate, log.level)
    try:
        log_to(str(destination))  # as `serve` does: its handler alone, lines written straight to the file
        client.get("/health").close()
        log.addHandler(extra)  # an operator's handler: the lines go through logging again, to both
        client.get("/health").close()
    finally:
        for handler in list(log.handlers):
            log.removeHandler(handler)
            if handler is not extra:
                handler.close()
        for handler in saved[0]:
            log.addHandler(handler)
        log.propagate = saved[1]
        log.setLevel(saved[2])
    lines = [json.loads(line) for line in destination.read_text(encoding="utf-8").splitlines()]
    assert [line["path"] for line in lines] == ["/health", "/health"]
    assert [json.loads(record.getMessage())["request_id"] for record in extra.records] == [lines[1]["request_id"]]
