"""Charts drawn on the server as SVG: no JavaScript library, no CDN, readable by anything that shows an image.

This module turns numbers into geometry (plain dataclasses); ``templates/chart_macros.html`` writes the SVG. Every
mark links to the list of the items it counts and carries a ``<title>`` (the tooltip: name and number), so the
charts are also a way to browse.

* :func:`choropleth` — a value per country on a map of Europe. The map is a bundled file,
  ``static/maps/europe.json``: Natural Earth countries projected once (Lambert azimuthal equal-area) into SVG paths
  keyed by ISO alpha-3 by ``scripts/build-europe-map.sh``; nothing is fetched at run time.
* :func:`bar_chart` — horizontal bars, optionally indented as a tree (AI technology domains and subdomains).
* :func:`column_chart` — vertical bars along a sequence (cases per start year).
* :func:`timeline` — dated events in lanes (workshops, reports); year-only dates are drawn as the whole year.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

MAP_FILE = Path(__file__).parent / "static" / "maps" / "europe.json"

#: Sequential blues ending in the site's brand colour (light = few, dark = many).
SEQUENTIAL = ("#dce8f7", "#b3cdee", "#7faadd", "#4f84c6", "#2460ab", "#0b3d91")
NO_VALUE_FILL = "#ffffff"  # in the data, nothing counted
BACKGROUND_FILL = "#e4e7ec"  # not in the data (neighbouring countries)
BREAKS = (1, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000)
#: Countries whose main body is smaller than this (square px on the map) also get a round marker: Malta, Luxembourg.
SMALL_AREA = 150
#: Countries large enough to carry their number on the full map.
LABEL_AREA = 1000
#: Average advance of a character of the chart font, in em (to fit labels without measuring text).
CHAR_EM = 0.53

BAR_ROW, BAR_HEIGHT, BAR_WIDTH = 24, 16, 760
COLUMN_HEIGHT, COLUMN_WIDTH = 300, 760
TIMELINE_WIDTH, TIMELINE_ROW = 760, 26


# ---------------------------------------------------------------------------------------------------------------
# The map of Europe
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    d: str
    centre: tuple[float, float]
    area: float


@dataclass(frozen=True)
class EuropeMap:
    width: int
    height: int
    source: str
    shapes: dict[str, Shape]


@cache
def europe_map(path: Path = MAP_FILE) -> EuropeMap:
    data = json.loads(path.read_text(encoding="utf-8"))
    shapes = {code: Shape(code, c["name"], c["d"], tuple(c["centre"]), c["area"])
              for code, c in data["countries"].items()}
    return EuropeMap(data["width"], data["height"], data["source"], shapes)


@dataclass(frozen=True)
class CountryValue:
    alpha3: str
    name: str
    count: int
    href: str  # what a click on the country opens
    page: str = ""  # the country's own page


@dataclass
class Area:
    code: str
    name: str
    d: str
    fill: str
    title: str | None = None  # the tooltip; None for countries outside the data
    href: str | None = None
    count: int | None = None
    marker: tuple[float, float, float] | None = None  # cx, cy, r
    label: tuple[float, float, str, str] | None = None  # x, y, text, colour


@dataclass
class LegendEntry:
    fill: str
    text: str


@dataclass
class ChoroplethMap:
    width: int
    height: int
    areas: list[Area]  # countries outside the data first, so the borders of the data are drawn on top
    legend: list[LegendEntry]
    title: str
    description: str
    source: str
    compact: bool
    legend_title: str = "Cases"
    kind: str = "choropleth"
    missing: list[CountryValue] = field(default_factory=list)  # values without a shape on the map


def class_breaks(maximum: int, classes: int = len(SEQUENTIAL)) -> list[int]:
    """Lower bounds of the colour classes: round numbers from 1 up to ``maximum``, at most ``classes`` of them."""
    bounds = [b for b in BREAKS if b <= maximum] or [1]
    return [1, *bounds[1:][-(classes - 1):]] if len(bounds) > classes else bounds


def _fill(count: int, breaks: list[int]) -> str:
    if count <= 0:
        return NO_VALUE_FILL
    index = max(i for i, bound in enumerate(breaks) if count >= bound)
    return SEQUENTIAL[len(SEQUENTIAL) - len(breaks) + index]


def _text_on(fill: str) -> str:
    red, green, blue = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * red + 0.587 * green + 0.114 * blue < 150 else "#1d2330"


def choropleth(values: list[CountryValue], *, compact: bool = False, unit: str = "case",
               title: str = "Cases per member state") -> ChoroplethMap:
    """A map of Europe with each country of ``values`` coloured by its count (classes of round numbers)."""
    geometry = europe_map()
    by_code = {v.alpha3.upper(): v for v in values}
    breaks = class_breaks(max((v.count for v in values), default=0))
    background, data = [], []
    for code, shape in geometry.shapes.items():
        value = by_code.get(code)
        if value is None:
            background.append(Area(code, shape.name, shape.d, BACKGROUND_FILL))
            continue
        fill = _fill(value.count, breaks)
        area = Area(code, value.name, shape.d, fill, title=f"{value.name}: {_count(value.count, unit)}",
                    href=value.href, count=value.count)
        if shape.area < SMALL_AREA:
            area.marker = (*shape.centre, 4.5 if compact else 6.0)
        elif not compact and shape.area >= LABEL_AREA and value.count:
            area.label = (*shape.centre, f"{value.count:,}", _text_on(fill))
        data.append(area)
    legend = [LegendEntry(_fill(bound, breaks), _range_text(bound, breaks[i + 1] if i + 1 < len(breaks) else None))
              for i, bound in enumerate(breaks)]
    legend += [LegendEntry(NO_VALUE_FILL, "none"), LegendEntry(BACKGROUND_FILL, "not in the data")]
    missing = [v for code, v in by_code.items() if code not in geometry.shapes]
    return ChoroplethMap(geometry.width, geometry.height, background + data, legend, title,
                         f"Number of {unit}s per country, darker is more; countries outside the data are grey.",
                         geometry.source, compact, legend_title=f"{unit.capitalize()}s", missing=missing)


def _count(count: int, unit: str) -> str:
    return f"{count:,} {unit}{'' if count == 1 else 's'}"


def _range_text(low: int, next_low: int | None) -> str:
    if next_low is None:
        return f"{low:,} or more"
    return f"{low:,}" if next_low - 1 == low else f"{low:,}–{next_low - 1:,}"


# ---------------------------------------------------------------------------------------------------------------
# Bars and columns
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Bar:
    label: str
    count: int
    href: str | None = None
    depth: int = 0
    # Geometry, set by the chart functions.
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    fill: str = SEQUENTIAL[-1]

    @property
    def title(self) -> str:
        return f"{self.label}: {self.count:,}"


@dataclass
class Tick:
    position: float
    text: str


@dataclass
class BarChart:
    width: int
    height: int
    label_width: float
    bars: list[Bar]
    title: str
    description: str
    kind: str = "bars"


@dataclass
class ColumnChart:
    width: int
    height: int
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    columns: list[Bar]
    ticks: list[Tick]  # on the count axis
    labels: list[Tick]  # under the columns
    rotate_labels: bool
    title: str
    description: str
    kind: str = "columns"


def nice_step(span: float, intervals: int = 5) -> int:
    """A round step (1, 2, 5 × 10^n) that cuts ``span`` into about ``intervals`` parts."""
    if span <= 0:
        return 1
    raw = span / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return max(1, int(factor * magnitude))
    return max(1, int(10 * magnitude))


def bar_chart(bars: list[Bar], *, title: str, description: str, width: int = BAR_WIDTH) -> BarChart:
    """Horizontal bars, one row each, in the given order; ``depth`` indents a label under its parent's."""
    font = 13
    label_width = min(width * 0.42, max((_text_width(b.label, font) + 18 * b.depth for b in bars), default=0) + 16)
    number_room = _text_width(f"{max((b.count for b in bars), default=0):,}", font) + 12
    room = width - label_width - number_room
    maximum = max((b.count for b in bars), default=0) or 1
    for i, bar in enumerate(bars):
        bar.x, bar.y = label_width, i * BAR_ROW + (BAR_ROW - BAR_HEIGHT) / 2
        bar.width, bar.height = max(1.0, room * bar.count / maximum) if bar.count else 0, BAR_HEIGHT
        bar.fill = SEQUENTIAL[-1] if bar.depth == 0 else SEQUENTIAL[3]
    return BarChart(width, len(bars) * BAR_ROW + 4, label_width, bars, title, description)


def column_chart(columns: list[Bar], *, title: str, description: str, width: int = COLUMN_WIDTH,
                 height: int = COLUMN_HEIGHT) -> ColumnChart:
    """Vertical bars in the given order, with a count axis of round steps."""
    left, top, right = 44, 16, width - 8
    slot = (right - left) / max(1, len(columns))
    rotate = slot < 34
    bottom = height - (48 if rotate else 28)
    maximum = max((c.count for c in columns), default=0)
    step = nice_step(maximum)
    axis_top = max(step, math.ceil(maximum / step) * step)
    scale = (bottom - top) / axis_top
    ticks = [Tick(bottom - value * scale, f"{value:,}") for value in range(0, axis_top + 1, step)]
    labels = []
    for i, column in enumerate(columns):
        column.width = max(2.0, slot * 0.72)
        column.x = left + i * slot + (slot - column.width) / 2
        column.height = column.count * scale
        column.y = bottom - column.height
        labels.append(Tick(left + i * slot + slot / 2, column.label))
    return ColumnChart(width, height, (left, top, right, bottom), columns, ticks, labels, rotate, title, description)


def _text_width(text: str, font_size: float) -> float:
    return len(text) * font_size * CHAR_EM


# ---------------------------------------------------------------------------------------------------------------
# Timeline
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Event:
    label: str
    lane: str  # "workshop", "report"
    date: str  # xsd:gYear, xsd:date or xsd:dateTime lexical form
    end: str | None = None
    href: str | None = None
    code: str = ""
    # Geometry, set by timeline().
    x: float = 0
    x_end: float = 0
    y: float = 0
    year_only: bool = False
    text: str = ""
    anchor: str = "start"
    text_x: float = 0
    when: str = ""

    @property
    def title(self) -> str:
        return f"{self.label} ({self.when})"


@dataclass
class Lane:
    name: str
    y: float
    height: float


@dataclass
class Timeline:
    width: int
    height: int
    plot: tuple[float, float, float, float]
    lanes: list[Lane]
    events: list[Event]
    years: list[Tick]  # year boundaries
    year_labels: list[Tick]  # in the middle of each year
    title: str
    description: str
    kind: str = "timeline"


LANE_NAMES = {"workshop": "Workshops", "report": "Reports"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_when(lexical: str) -> tuple[date, bool] | None:
    """The day a date names, and whether only the year is known."""
    try:
        if len(lexical) == 4 and lexical.isdigit():
            return date(int(lexical), 1, 1), True
        return datetime.fromisoformat(lexical.replace("Z", "+00:00")).date() if "T" in lexical \
            else date.fromisoformat(lexical[:10]), False
    except ValueError:
        return None


def timeline(events: list[Event], *, title: str, description: str, width: int = TIMELINE_WIDTH) -> Timeline:
    """Events in one lane per kind, one row each, on a time axis of whole years."""
    parsed = [(e, when) for e in events if (when := parse_when(e.date)) is not None]
    if not parsed:
        return Timeline(width, 40, (0, 0, width, 40), [], [], [], [], title, description)
    first = min(when[0].year for _, when in parsed)
    last = max(when[0].year for _, when in parsed)
    left, right, top = 12, width - 12, 28
    span_days = (date(last + 1, 1, 1) - date(first, 1, 1)).days

    def x_of(day: date) -> float:
        return left + (right - left) * (day - date(first, 1, 1)).days / span_days

    lanes, placed, y = [], [], top
    font = 12
    for lane in ("workshop", "report"):
        members = sorted((pe for pe in parsed if pe[0].lane == lane), key=lambda pe: (pe[1][0], pe[0].label))
        if not members:
            continue
        lanes.append(Lane(LANE_NAMES[lane], y, 20 + len(members) * TIMELINE_ROW))
        y += 20
        for event, (day, year_only) in members:
            event.year_only = year_only
            event.x = x_of(day)
            end_day = parse_when(event.end)[0] if event.end and parse_when(event.end) else day
            event.x_end = x_of(date(day.year + 1, 1, 1)) if year_only else x_of(end_day)
            event.y = y + TIMELINE_ROW / 2
            event.when = str(day.year) if year_only else f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
            # The label goes on the side with more room, cut to fit.
            name = f"{event.code}: {event.label}" if event.code and not event.code.isdigit() else event.label
            room_right, room_left = right - event.x_end - 10, event.x - left - 10
            event.anchor = "start" if room_right >= room_left else "end"
            room = max(room_right, room_left)
            event.text = _fit(f"{event.when} · {name}", room, font)
            event.text_x = event.x_end + 8 if event.anchor == "start" else event.x - 8
            placed.append(event)
            y += TIMELINE_ROW
        y += 8
    bottom = y
    years = [Tick(x_of(date(year, 1, 1)), str(year)) for year in range(first, last + 2)]
    year_labels = [Tick((x_of(date(year, 1, 1)) + x_of(date(year + 1, 1, 1))) / 2, str(year))
                   for year in range(first, last + 1)]
    return Timeline(width, int(bottom + 4), (left, top, right, bottom), lanes, placed, years, year_labels, title,
                    description)


def _fit(text: str, room: float, font_size: float) -> str:
    limit = max(8, int(room / (font_size * CHAR_EM)))
    return text if len(text) <= limit else text[:limit - 1].rstrip(" .,:;–-") + "…"
