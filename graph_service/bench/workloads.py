"""The fixed mix of portal workloads: what a data portal and its readers ask of the service.

Each :class:`Workload` is a list of request variants the load generator cycles through (so that a workload over
"a sorted page" asks for many different pages, not one). SPARQL workloads are the same query texts for every
engine compared; page workloads (documents, catalogue, browse) exist only on our service (and on our service over
the Virtuoso backend, which runs the very same SPARQL the pages need).

``engine`` workloads measure query evaluation: they are sent with ``Cache-Control: no-cache`` so our answer cache
(graph_service.sparql.cache) does not answer them. The others (facet counts, the dashboard refresh, popular
documents) are what caches are for, and are measured after a warm-up that fills them. ``*-cold`` document
workloads ask for a different resource with every request (as far as the run's resources last), so they measure
building documents from the store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from ..namespaces import PREFIXES

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("aiw", "dct", "skos", "rdf"))
JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
HTML = "text/html"
#: Popular documents: the portal's hot set, served from the document cache once warm.
POPULAR_DOCUMENTS = 20
#: Variants of per-request queries (pages, words, member states): enough that engines cannot just remember one.
VARIANTS = 20


@dataclass(frozen=True)
class Variant:
    """One request: a path (with query string) on the target and its headers."""

    path: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Workload:
    name: str
    what: str
    #: SPARQL texts (any engine) or paths (our service only).
    queries: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    accept: str = JSON
    #: Whether a cache may answer (else sent with Cache-Control: no-cache).
    cached: bool = False
    #: Ask a different variant with every request, never one seen before (as far as the variants last).
    cold: bool = False
    #: Which targets run it: "sparql" workloads run everywhere, "service" ones only on our service.
    scope: str = "sparql"
    tags: tuple[str, ...] = field(default_factory=tuple)

    def variants(self, sparql_path: str, dataset_params: dict[str, str] | None = None) -> list[Variant]:
        headers: list[tuple[str, str]] = [("Accept", self.accept)]
        if not self.cached:
            headers.append(("Cache-Control", "no-cache"))
        if self.queries:
            params = dataset_params or {}
            return [Variant(f"{sparql_path}?{urlencode({'query': q, **params}, quote_via=quote)}", tuple(headers))
                    for q in self.queries]
        return [Variant(path, tuple(headers)) for path in self.paths]


def _iri(base: str, path: str) -> str:
    return f"<{base}{path}>"


def portal_mix(base_iri: str, case_keys: list[str], member_states: list[str], title_words: list[str],
               seed: int = 42) -> list[Workload]:
    """The workloads of one data size (``case_keys`` of the generated cases, member-state IRIs, title words)."""
    rng = random.Random(seed)
    states = [s.rsplit("/", 1)[1] for s in member_states]
    sample_states = rng.sample(states, min(8, len(states)))
    total_cases = len(case_keys)
    offsets = sorted(rng.randrange(0, max(1, total_cases - 50)) for _ in range(VARIANTS))
    # Words from frequent to rare: a search box gets both, and a rare word makes the engine read every title.
    words = [title_words[i * len(title_words) // VARIANTS] for i in range(VARIANTS)] if title_words else ["ai"]
    described = rng.sample(case_keys, min(VARIANTS, len(case_keys)))
    popular = rng.sample(case_keys, min(POPULAR_DOCUMENTS, len(case_keys)))
    cold = rng.sample(case_keys, min(len(case_keys), 20_000))
    group_by_member_state = (
        f"{SPARQL_PREFIXES}SELECT ?ms (COUNT(?case) AS ?cases) WHERE {{ ?case a aiw:AIUseCase ; aiw:memberState ?ms }} "
        "GROUP BY ?ms ORDER BY DESC(?cases)")
    return [
        Workload("cases-per-member-state", "GROUP BY: number of cases per member state",
                 queries=(group_by_member_state,), tags=("engine",)),
        Workload("sorted-page", "ORDER BY title LIMIT 50 OFFSET n (20 different pages)",
                 queries=tuple(f"{SPARQL_PREFIXES}SELECT ?case ?title WHERE {{ ?case a aiw:AIUseCase ; "
                               f"dct:title ?title }} ORDER BY ?title LIMIT 50 OFFSET {offset}" for offset in offsets),
                 tags=("engine",)),
        Workload("text-filter", "CONTAINS on lower-cased titles, 20 words from frequent to rare, LIMIT 100",
                 queries=tuple(f"{SPARQL_PREFIXES}SELECT ?case ?title WHERE {{ ?case a aiw:AIUseCase ; "
                               f"dct:title ?title FILTER(CONTAINS(LCASE(STR(?title)), \"{word}\")) }} LIMIT 100"
                               for word in words),
                 tags=("engine",)),
        Workload("describe", "DESCRIBE a case (20 cases), Turtle",
                 queries=tuple(f"DESCRIBE {_iri(base_iri, 'id/case/' + key)}" for key in described), accept=TURTLE,
                 tags=("engine",)),
        Workload("two-hop-optional", "cases of a member state -> organisation, OPTIONAL label and category label, "
                 "ORDER BY title LIMIT 100 (8 member states)",
                 queries=tuple(f"{SPARQL_PREFIXES}SELECT ?case ?title ?org ?orgLabel ?category WHERE {{ "
                               f"?case aiw:memberState {_iri(base_iri, 'id/member-state/' + state)} ; "
                               f"dct:title ?title ; aiw:responsibleOrganisation ?org . "
                               f"OPTIONAL {{ ?org skos:prefLabel ?orgLabel }} "
                               f"OPTIONAL {{ ?org aiw:organisationCategory/skos:prefLabel ?category }} }} "
                               f"ORDER BY ?title LIMIT 100" for state in sample_states), tags=("engine",)),
        Workload("facet-counts", "cases per status within a member state (8 member states), as a portal's facets",
                 queries=tuple(f"{SPARQL_PREFIXES}SELECT ?status (COUNT(DISTINCT ?case) AS ?n) WHERE {{ "
                               f"?case a aiw:AIUseCase ; aiw:memberState {_iri(base_iri, 'id/member-state/' + state)} ;"
                               f" aiw:status ?status }} GROUP BY ?status" for state in sample_states),
                 cached=True, tags=("cache",)),
        Workload("dashboard-refresh", "the GROUP BY above, asked again and again (answer cache)",
                 queries=(group_by_member_state,), cached=True, tags=("cache",)),
        Workload("deref-ttl", f"GET /doc/case/... as Turtle ({POPULAR_DOCUMENTS} popular cases)",
                 paths=tuple(f"/doc/case/{key}" for key in popular), accept=TURTLE, cached=True, scope="service"),
        Workload("deref-html", f"GET /doc/case/... as HTML ({POPULAR_DOCUMENTS} popular cases)",
                 paths=tuple(f"/doc/case/{key}" for key in popular), accept=HTML, cached=True, scope="service"),
        Workload("deref-ttl-cold", "GET /doc/case/... as Turtle, a different case each request (built from the store)",
                 paths=tuple(f"/doc/case/{key}" for key in cold), accept=TURTLE, cached=True, cold=True,
                 scope="service"),
        Workload("deref-html-cold", "GET /doc/case/... as HTML, a different case each request",
                 paths=tuple(f"/doc/case/{key}" for key in reversed(cold)), accept=HTML, cached=True, cold=True,
                 scope="service"),
        Workload("catalogue-page", "GET /catalog as Turtle (DCAT-AP, first page)", paths=("/catalog",),
                 accept=TURTLE, cached=True, scope="service"),
        Workload("browse-facets", "GET /browse/case?member-state=... (HTML list with 6 facets, 8 member states)",
                 paths=tuple(f"/browse/case?member-state={state}" for state in sample_states), accept=HTML,
                 cached=True, scope="service"),
    ]


def cheap_query(base_iri: str, member_state: str) -> Workload:
    """One label lookup by IRI: what a remote backend adds to the engine's own answer time shows in it (not in the
    portal mix: it runs alone, against Virtuoso directly and through our service over Virtuoso)."""
    query = (f"{SPARQL_PREFIXES}SELECT ?label WHERE {{ {_iri(base_iri, 'id/member-state/' + member_state)} "
             "skos:prefLabel ?label }")
    return Workload("cheap-select", "SELECT the labels of one member state (one index lookup)", queries=(query,),
                    tags=("overhead",))


#: A query that runs for seconds at 1M triples (a sort over every triple), for the isolation check.
LONG_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY DESC(STR(?o)) ?s LIMIT 1"
