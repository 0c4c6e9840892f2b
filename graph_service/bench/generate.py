"""Synthetic data shaped like the real graph, at any size, the same for the same seed.

The real project (ontology, concept schemes, curated member states, organisations, reports, workshops, datasets)
is kept as it is: the **base**. The AI cases, which make up almost all of the real graph, are the **templates**:
each generated case copies one real case picked at random (its classes, coded values, member states, countries,
source dataset, years, links), under a new IRI (``id/case/bench-{n}``) with its own identifier, a title made of
the template's words plus a number, and a description of its own (so text is as unique as in the real data).
Responsible organisations are generated too (``id/organisation/bench-org-{n}``, copying a real organisation's
category and label), about as many per case as in the real data. So the class and property distribution, the
concept schemes and member states, and the fan-out of every link are the real ones, scaled.

The generated cases go into one named graph, ``{base}graph/bench/generated-cases``; the base keeps its graphs and a
load record like the real loader's (:func:`graph_service.loading.loader.provenance`).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pyoxigraph
from pyoxigraph import Literal, NamedNode, Quad

from ..config import Settings
from ..loading.loader import provenance
from ..loading.sources import Source, discover, parse_file, rdf_files
from ..namespaces import AIW, DCTERMS, ORG, OWL, RDF, SKOS

#: Changes whenever the generator's output for a given seed and size changes (part of the data digest).
GENERATOR_VERSION = "1"
IMPORTED = PurePosixPath("data/imported")
_TITLE_WORD = re.compile(r"[a-z]{5,}")
_STOP_WORDS = frozenset({"public", "system", "based", "using", "service", "services", "their", "which", "about"})


@dataclass(frozen=True)
class CaseTemplate:
    iri: str
    statements: tuple[tuple[NamedNode, pyoxigraph.Term], ...]  # (predicate, object) of the real case


@dataclass
class Templates:
    """What generation starts from, read from the project's files."""

    base: list[Quad]  # every quad of the project except the imported cases
    base_sources: dict[Source, list[Quad]]
    cases: list[CaseTemplate]
    organisations: dict[str, tuple[tuple[NamedNode, pyoxigraph.Term], ...]]
    member_states: list[str]  # IRIs, sorted
    title_words: list[str]  # frequent words of case titles, most frequent first
    shapes: list

    @property
    def triples_per_case(self) -> float:
        """Triples a generated case adds on average (its own, and its share of generated organisations)."""
        own = sum(len(case.statements) for case in self.cases) / len(self.cases)
        organisation = sum(len(v) for v in self.organisations.values()) / max(1, len(self.organisations))
        return own + ORGANISATIONS_PER_CASE * organisation


#: Real data: about 1,250 organisations for 1,718 cases.
ORGANISATIONS_PER_CASE = 0.73


def read_templates(settings: Settings) -> Templates:
    sources = discover(settings.source_dirs, settings.project_root, settings.base_iri)
    base_sources: dict[Source, list[Quad]] = {}
    imported: list[Quad] = []
    for source in sources:
        quads = parse_file(source.path, source.graph, settings.base_iri)
        if source.relative_path.is_relative_to(IMPORTED):
            imported += quads
        else:
            base_sources[source] = quads
    by_subject: dict[str, list[tuple[NamedNode, pyoxigraph.Term]]] = {}
    case_iris: list[str] = []
    organisation_iris: set[str] = set()
    for quad in imported:
        if not isinstance(quad.subject, NamedNode):
            continue
        by_subject.setdefault(quad.subject.value, []).append((quad.predicate, quad.object))
        if quad.predicate.value == str(RDF.type) and quad.object.value == str(AIW.AIUseCase):
            case_iris.append(quad.subject.value)
        if quad.predicate.value == str(RDF.type) and quad.object.value == str(ORG.Organization):
            organisation_iris.add(quad.subject.value)
    cases = [CaseTemplate(iri, tuple(dict.fromkeys(by_subject[iri]))) for iri in sorted(set(case_iris))]
    organisations = {iri: tuple(dict.fromkeys(by_subject[iri])) for iri in sorted(organisation_iris)}
    base = [quad for quads in base_sources.values() for quad in quads]
    member_states = sorted({q.subject.value for q in base if q.predicate.value == str(RDF.type)
                            and q.object.value == str(AIW.MemberState)})
    words = Counter(word for case in cases for p, o in case.statements if p.value == str(DCTERMS.title)
                    for word in _TITLE_WORD.findall(o.value.lower()) if word not in _STOP_WORDS)
    return Templates(base, base_sources, cases, organisations, member_states,
                     [word for word, _ in words.most_common(200)], list(rdf_files([settings.shapes_dir])))


@dataclass
class Plan:
    """How many cases a size needs, and what the workloads may ask for (all deterministic from the seed)."""

    target_triples: int
    seed: int
    cases: int
    base_triples: int
    case_keys: list[str] = field(default_factory=list)

    def digest(self, templates: Templates) -> str:
        content = hashlib.sha256(f"bench {GENERATOR_VERSION} {self.seed} {self.cases}".encode())
        for source in sorted(templates.base_sources, key=lambda s: str(s.relative_path)):
            content.update(f"\n{source.relative_path} {source.sha256}".encode())
        return content.hexdigest()[:16]


def plan(templates: Templates, target_triples: int, seed: int) -> Plan:
    base = len(templates.base)
    cases = max(1, round((target_triples - base) / templates.triples_per_case))
    return Plan(target_triples, seed, cases, base, [f"bench-{n}" for n in range(1, cases + 1)])


def _organisation_quads(settings: Settings, graph: NamedNode, number: int,
                        template: tuple[tuple[NamedNode, pyoxigraph.Term], ...]) -> tuple[NamedNode, list[Quad]]:
    iri = NamedNode(f"{settings.base_iri}id/organisation/bench-org-{number}")
    quads = []
    for predicate, value in template:
        if predicate.value in _ORGANISATION_SKIPPED:
            continue  # links to real EU bodies and parent organisations are not copied
        if isinstance(value, Literal) and predicate.value in _LABELS:
            value = Literal(f"{value.value} {number}", language=value.language) if value.language else \
                Literal(f"{value.value} {number}")
        quads.append(Quad(iri, predicate, value, graph))
    return iri, quads


_LABELS = frozenset({str(SKOS.prefLabel), str(SKOS.altLabel), "http://xmlns.com/foaf/0.1/name"})
_ORGANISATION_SKIPPED = frozenset({str(OWL.sameAs), str(ORG.subOrganizationOf), str(ORG.unitOf), str(SKOS.notation)})


def generated_quads(settings: Settings, templates: Templates, the_plan: Plan) -> Iterator[Quad]:
    """The generated cases and organisations, as a stream (10M triples never sit in memory at once)."""
    rng = random.Random(the_plan.seed)
    graph = NamedNode(f"{settings.base_iri}graph/bench/generated-cases")
    title, identifier, description = str(DCTERMS.title), str(DCTERMS.identifier), str(DCTERMS.description)
    responsible = str(AIW.responsibleOrganisation)
    organisation_templates = list(templates.organisations.items())
    organisations: list[NamedNode] = []
    for number in range(1, the_plan.cases + 1):
        case = templates.cases[rng.randrange(len(templates.cases))]
        subject = NamedNode(f"{settings.base_iri}id/case/bench-{number}")
        for predicate, value in case.statements:
            key = predicate.value
            if key == title:
                value = Literal(f"{value.value} {number}", language=value.language or "en")
            elif key == identifier:
                value = Literal(f"BENCH-{number}")
            elif key == description:
                value = Literal(f"{value.value} (Synthetic case {number}, copied from {case.iri.rsplit('/', 1)[1]} "
                                f"for benchmarking.)", language=value.language or "en")
            elif key == responsible:
                if not organisations or rng.random() < ORGANISATIONS_PER_CASE:
                    _, template = organisation_templates[rng.randrange(len(organisation_templates))]
                    value, quads = _organisation_quads(settings, graph, len(organisations) + 1, template)
                    organisations.append(value)
                    yield from quads
                else:
                    value = organisations[rng.randrange(max(0, len(organisations) - 200), len(organisations))]
            yield Quad(subject, predicate, value, graph)


def base_quads(settings: Settings, templates: Templates) -> list[Quad]:
    """The real project without its imported cases, with a load record like the real loader writes."""
    return [*templates.base, *provenance(settings, templates.base_sources, templates.shapes, datetime.now(UTC))]
