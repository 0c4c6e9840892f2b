"""Paging the way ckanext-dcat does it: newest first, ``?page=`` from 1, ``?modified_since=`` (ISO 8601).

Each page carries a ``hydra:PagedCollection`` node (its IRI is the page's URL) with ``hydra:totalItems``,
``hydra:itemsPerPage`` and literal ``hydra:first/last/next/previous`` plus the older ``hydra:firstPage/lastPage/
nextPage/previousPage`` (what ckanext-dcat's serializer writes and what piveau and ckanext-dcat's parser read).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from ..namespaces import HYDRA

#: Upper bound of datasets per page (ckanext-dcat's default ``ckanext.dcat.datasets_per_page``).
MAX_PAGE_SIZE = 100

T = TypeVar("T")


class PagingError(ValueError):
    """A ``page`` or ``modified_since`` parameter the catalogue cannot honour; the message says why."""


@dataclass(frozen=True)
class PageInfo:
    number: int
    per_page: int
    total: int
    current: str
    first: str
    last: str
    next: str | None
    previous: str | None

    @property
    def last_number(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def parse_page(raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    try:
        page = int(raw)
    except ValueError:
        raise PagingError(f"page must be a positive integer, not {raw!r}") from None
    if page < 1:
        raise PagingError(f"page must be a positive integer, not {raw!r}")
    return page


def parse_modified_since(raw: str | None) -> datetime | None:
    """An ISO 8601 date or date-time (UTC when no offset is given)."""
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip().replace(" ", "+")  # a '+' of an offset arrives as a space when not percent-encoded
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise PagingError(f"modified_since must be an ISO 8601 date or date-time, not {raw!r}") from None
        moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def modified_at(text: str) -> datetime | None:
    """The moment an ``xsd:date``/``xsd:dateTime``/``xsd:gYear`` lexical form stands for (start of the day/year)."""
    if not text:
        return None
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select_page(
    items: Sequence[T], page: int, per_page: int, url_of: Callable[[int], str]
) -> tuple[list[T], PageInfo]:
    """The items of ``page`` and its paging links (a page past the last one is empty, as in ckanext-dcat)."""
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    total = len(items)
    last = max(1, math.ceil(total / per_page))
    chosen = list(items[(page - 1) * per_page: page * per_page])
    info = PageInfo(
        number=page, per_page=per_page, total=total, current=url_of(page), first=url_of(1), last=url_of(last),
        next=url_of(page + 1) if page * per_page < total else None,
        previous=url_of(min(page - 1, last)) if page > 1 else None,
    )
    return chosen, info


def add_paging(graph: Graph, info: PageInfo) -> URIRef:
    """The ``hydra:PagedCollection`` node of a page, with old and new predicate names and literal values."""
    node = URIRef(info.current)
    graph.add((node, RDF.type, HYDRA.PagedCollection))
    graph.add((node, HYDRA.totalItems, Literal(info.total, datatype=XSD.integer)))
    graph.add((node, HYDRA.itemsPerPage, Literal(info.per_page, datatype=XSD.integer)))
    links = {"first": info.first, "last": info.last, "next": info.next, "previous": info.previous}
    for name, url in links.items():
        if url is not None:
            graph.add((node, HYDRA[name], Literal(url)))
            graph.add((node, HYDRA[f"{name}Page"], Literal(url)))
    return node
