// Builds graph_service/web/static/maps/europe.json: the countries of Europe as projected SVG paths, keyed by ISO
// 3166 alpha-3, for the server-side choropleth of graph_service/web/charts.py. Run through
// scripts/build-europe-map.sh, which installs the pinned npm packages this imports into a throw-away folder.
//
// Source: world-atlas 2.0.2 (ISC, Mike Bostock), countries-50m.json = Natural Earth 4.1.0 Admin 0 countries at
// 1:50m (public domain). Projection: Lambert azimuthal equal-area centred on 10°E 52°N (as EPSG:3035, the EU's
// statistical maps), so that areas compare fairly. Overseas territories (French Guiana, the Canaries, Svalbard...)
// are left out; the island of Cyprus is drawn whole as CYP.
//
// Usage: node build-europe-map.mjs OUTPUT.json
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { geoAzimuthalEqualArea, geoCentroid, geoPath } from "d3-geo";
import { feature, merge } from "topojson-client";
import { presimplify, quantile, simplify } from "topojson-simplify";
import countries from "i18n-iso-countries";
import polylabel from "polylabel";

const require = createRequire(import.meta.url);
const WIDTH = 800;
const MARGIN = 12;
// Where a polygon's centre must lie to be drawn: Europe from Iceland to Cyprus, North Cape to Crete.
const VIEW = { west: -25, east: 45, south: 33.5, north: 72 };
// Members of the data (ontology/README.md): EU-27 plus NOR ISL LIE CHE GBR; the map is fitted to them.
const MEMBER_STATES = new Set(("AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT "
  + "ROU SVK SVN ESP SWE NOR ISL LIE CHE GBR").split(" "));
// Natural Earth features without an ISO numeric code.
const UNCODED = { Kosovo: "XKX", "N. Cyprus": "CYP" };
// Drawn as part of another country: the Åland Islands are Finnish, the island of Cyprus is one EU member state.
const PART_OF = { ALA: "FIN" };
const NAMES = { CYP: "Cyprus", UKR: "Ukraine", FIN: "Finland" };

const output = process.argv[2];
if (!output) throw new Error("usage: node build-europe-map.mjs OUTPUT.json");

const topology = JSON.parse(readFileSync(require.resolve("world-atlas/countries-50m.json"), "utf8"));
const atlasVersion = require("world-atlas/package.json").version;

// Keep the shape of coastlines at this scale but drop points nobody can see (weights are spherical areas).
const simplified = simplify(presimplify(topology), quantile(presimplify(topology), 0.55));

// Each polygon of each country, under the code of the country it is drawn as.
const pieces = new Map();
for (const geometry of simplified.objects.countries.geometries) {
  const natural = geometry.id !== undefined ? countries.numericToAlpha3(geometry.id) : UNCODED[geometry.properties.name];
  if (!natural) continue;
  const polygons = geometry.type === "Polygon" ? [geometry.arcs] : geometry.type === "MultiPolygon" ? geometry.arcs : [];
  for (const arcs of polygons) {
    const piece = { type: "Polygon", arcs };
    const code = drawnAs(natural, geoCentroid(feature(simplified, piece)));
    if (!pieces.has(code)) pieces.set(code, { code, name: NAMES[code] ?? geometry.properties.name, parts: [] });
    if (code === natural && !NAMES[code]) pieces.get(code).name = geometry.properties.name;
    pieces.get(code).parts.push(piece);
  }
}

function drawnAs(code, [lon, lat]) {
  // Natural Earth 4.1 draws Crimea as Russian (de facto); the EU recognises it as part of Ukraine.
  if (code === "RUS" && lon > 32 && lon < 37 && lat > 44 && lat < 46.5) return "UKR";
  return PART_OF[code] ?? code;
}

function inView([lon, lat]) {
  return lon >= VIEW.west && lon <= VIEW.east && lat >= VIEW.south && lat <= VIEW.north;
}

// Merging dissolves the borders between pieces of one code (Cyprus and N. Cyprus, Ukraine and Crimea).
const shapes = [];
for (const { code, name, parts } of pieces.values()) {
  const geometry = merge(simplified, parts);
  const european = geometry.coordinates.filter((rings) => inView(geoCentroid({ type: "Polygon", coordinates: rings })));
  shapes.push({ code, name, geometry, european: { type: "MultiPolygon", coordinates: european } });
}

// Fit the projection to the member states, then clip every country (Russia, Turkey, North Africa) to the frame.
const members = {
  type: "FeatureCollection",
  features: shapes.filter((s) => MEMBER_STATES.has(s.code)).map((s) => ({ type: "Feature", geometry: s.european })),
};
const projection = geoAzimuthalEqualArea().rotate([-10, -52]).fitWidth(WIDTH - 2 * MARGIN, members);
const [[x0, y0], [x1, y1]] = geoPath(projection).bounds(members);
projection.translate([projection.translate()[0] - x0 + MARGIN, projection.translate()[1] - y0 + MARGIN]);
const height = Math.ceil(y1 - y0 + 2 * MARGIN);
projection.clipExtent([[0, 0], [WIDTH, height]]);
const path = geoPath(projection).digits(1);

const round = (value) => Math.round(value * 10) / 10;
const result = {};
for (const { code, name, geometry, european } of shapes.sort((a, b) => a.code.localeCompare(b.code))) {
  // Islands smaller than a fraction of a pixel would only add bytes; a country's largest part always stays.
  const polygons = geometry.coordinates.map((rings) => ({ type: "Polygon", coordinates: rings }));
  const main = european.coordinates.map((rings) => ({ type: "Polygon", coordinates: rings }));
  const largest = (main.length ? main : polygons).reduce((a, b) => (path.area(b) > path.area(a) ? b : a));
  const kept = polygons.filter((p) => p === largest || path.area(p) >= 0.6);
  const d = path({ type: "MultiPolygon", coordinates: kept.map((p) => p.coordinates) });
  if (!d || path.area(largest) === 0) continue; // wholly outside the frame
  // Where a label or a marker goes: the point of the main body farthest from its coast and borders (the centroid
  // of a concave country such as Norway or Croatia can lie outside it).
  const rings = largest.coordinates.map((ring) => ring.map((point) => projection(point)));
  const [cx, cy] = MEMBER_STATES.has(code) ? polylabel(rings, 0.5) : path.centroid(largest);
  const [[bx0, by0], [bx1, by1]] = path.bounds({ type: "MultiPolygon", coordinates: kept.map((p) => p.coordinates) });
  result[code] = {
    name,
    d,
    centre: [round(cx), round(cy)],
    area: Math.round(path.area(largest)),
    bounds: [round(bx0), round(by0), round(bx1), round(by1)],
    member: MEMBER_STATES.has(code),
  };
}

const missing = [...MEMBER_STATES].filter((code) => !result[code]);
if (missing.length) throw new Error(`member states missing from the map: ${missing.join(" ")}`);

const document = {
  width: WIDTH,
  height,
  projection: "Lambert azimuthal equal-area, centre 10°E 52°N",
  source: `world-atlas ${atlasVersion} countries-50m.json (Natural Earth 4.1.0 Admin 0, public domain)`,
  licence: "ISC (world-atlas), see LICENSE-world-atlas; Natural Earth data is in the public domain",
  countries: result,
};
writeFileSync(output, JSON.stringify(document) + "\n");
const bytes = JSON.stringify(document).length;
console.log(`${output}: ${Object.keys(result).length} countries, ${WIDTH}x${height}, ${bytes} bytes`);
