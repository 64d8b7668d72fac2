// A tiny SVG chart module: lines, bars (vertical grouped, horizontal grouped)
// and a tile grid of Sweden's 21 counties. No dependencies, no network.
//
// Every chart is drawn at the pixel width of its container (redrawn by the
// caller on resize), so text stays readable at phone width. Colours are the
// Okabe–Ito palette (safe for the common colour-vision deficiencies); lines
// also differ by dash pattern and marker, so colour is never the only cue.

const SVG = "http://www.w3.org/2000/svg";

export const PALETTE = [
  "#0072B2", // blue
  "#E69F00", // orange
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#56B4E9", // sky blue
  "#D55E00", // vermillion
  "#000000", // black
  "#F0E442", // yellow (last: low contrast on white)
];
export const DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4", "3 6"];
const MARKERS = ["circle", "square", "diamond", "triangle", "circle", "square", "diamond", "triangle"];

// Sequential single-hue scale (light to dark blue) for the county tiles.
const SEQ = ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];

export const colour = (i) => PALETTE[i % PALETTE.length];
export const dash = (i) => DASHES[i % DASHES.length];

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  if (parent) parent.appendChild(node);
  return node;
}

function text(parent, x, y, content, attrs = {}) {
  const t = el("text", { x, y, ...attrs }, parent);
  t.textContent = content;
  return t;
}

function svgRoot(width, height, title, desc) {
  const id = "c" + Math.random().toString(36).slice(2, 9);
  const svg = el("svg", {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": `${id}-t ${id}-d`,
    class: "chart-svg",
  });
  el("title", { id: `${id}-t` }, svg).textContent = title || "";
  el("desc", { id: `${id}-d` }, svg).textContent = desc || "";
  return svg;
}

// "Nice" axis ticks covering [0, max].
export function ticks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  if (out[out.length - 1] < max) out.push(+(out[out.length - 1] + step).toPrecision(12));
  return out;
}

function marker(parent, kind, x, y, fill) {
  const r = 3.2;
  if (kind === "square") return el("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, fill }, parent);
  if (kind === "diamond") {
    return el("path", { d: `M${x} ${y - r - 1}L${x + r + 1} ${y}L${x} ${y + r + 1}L${x - r - 1} ${y}Z`, fill }, parent);
  }
  if (kind === "triangle") {
    return el("path", { d: `M${x} ${y - r - 1}L${x + r + 1} ${y + r}L${x - r - 1} ${y + r}Z`, fill }, parent);
  }
  return el("circle", { cx: x, cy: y, r, fill }, parent);
}

// Data-quality bands: a hatched area over the categories a note covers, drawn
// under the data (opts.bands: [{from, to, title}] as category indexes).
function bands(svg, list, left, right, upper, bottom) {
  if (!list || !list.length) return;
  const g = el("g", { class: "quality-bands" }, svg);
  for (const b of list) {
    const x0 = Math.max(left, left + b.x0);
    const x1 = Math.min(right, left + b.x1);
    const r = el("rect", { x: x0.toFixed(1), y: upper, width: Math.max(2, x1 - x0).toFixed(1), height: bottom - upper, class: "quality-band", "data-from": b.from, "data-to": b.to }, g);
    el("title", {}, r).textContent = b.title || "";
  }
}

function yAxis(svg, scale, tickValues, left, right, fmt) {
  const g = el("g", { class: "axis y" }, svg);
  for (const v of tickValues) {
    const y = scale(v);
    el("line", { x1: left, x2: right, y1: y, y2: y, class: "grid" }, g);
    text(g, left - 6, y + 4, fmt(v), { "text-anchor": "end" });
  }
}

/**
 * Line chart. categories: x labels (strings); series: [{name, values: [number|null]}].
 * Nulls leave a gap. opts: {width, height, title, desc, fmt, fmtCat}.
 */
export function lineChart(categories, series, opts = {}) {
  const width = Math.max(280, opts.width || 640);
  const height = opts.height || Math.round(Math.min(360, Math.max(220, width * 0.45)));
  const fmt = opts.fmt || ((v) => String(v));
  const fmtCat = opts.fmtCat || ((c) => c);
  const svg = svgRoot(width, height, opts.title, opts.desc);
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  const max = Math.max(0, ...all);
  const tv = ticks(max);
  const top = tv[tv.length - 1] || 1;
  const labelW = Math.max(...tv.map((v) => fmt(v).length)) * 7 + 12;
  const left = Math.min(90, Math.max(36, labelW));
  const right = width - 12;
  const bottom = height - 34;
  const upper = 12;
  const y = (v) => bottom - (v / top) * (bottom - upper);
  const n = categories.length;
  const x = (i) => (n <= 1 ? (left + right) / 2 : left + (i * (right - left)) / (n - 1));
  yAxis(svg, y, tv, left, right, fmt);
  const half = n <= 1 ? (right - left) / 2 : (right - left) / (n - 1) / 2;
  bands(svg, (opts.bands || []).map((b) => ({ ...b, x0: x(b.from) - half - left, x1: x(b.to) + half - left })), left, right, upper, bottom);
  // x labels, thinned to fit
  const every = Math.max(1, Math.ceil((n * 58) / (right - left)));
  const gx = el("g", { class: "axis x" }, svg);
  categories.forEach((c, i) => {
    if (i % every === 0) text(gx, x(i), bottom + 18, fmtCat(c), { "text-anchor": "middle" });
  });
  el("line", { x1: left, x2: right, y1: bottom, y2: bottom, class: "baseline" }, svg);
  series.forEach((s, si) => {
    const g = el("g", { class: "series" }, svg);
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = true;
    });
    el("path", {
      d,
      fill: "none",
      stroke: colour(si),
      "stroke-width": 2.4,
      "stroke-dasharray": dash(si) || null,
      "stroke-linejoin": "round",
    }, g);
    const showMarkers = n <= 40;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      if (showMarkers || n === 1) {
        const m = marker(g, MARKERS[si % MARKERS.length], x(i), y(v), colour(si));
        el("title", {}, m).textContent = `${s.name}, ${fmtCat(categories[i])}: ${fmt(v)}`;
      }
    });
  });
  return svg;
}

/**
 * Vertical grouped bars. categories: x labels; series: [{name, values}].
 */
export function columnChart(categories, series, opts = {}) {
  const width = Math.max(280, opts.width || 640);
  const height = opts.height || Math.round(Math.min(340, Math.max(220, width * 0.42)));
  const fmt = opts.fmt || ((v) => String(v));
  const fmtCat = opts.fmtCat || ((c) => c);
  const svg = svgRoot(width, height, opts.title, opts.desc);
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  const tv = ticks(Math.max(0, ...all));
  const top = tv[tv.length - 1] || 1;
  const labelW = Math.max(...tv.map((v) => fmt(v).length)) * 7 + 12;
  const left = Math.min(90, Math.max(36, labelW));
  const right = width - 8;
  const bottom = height - 34;
  const upper = 12;
  const y = (v) => bottom - (v / top) * (bottom - upper);
  yAxis(svg, y, tv, left, right, fmt);
  const n = Math.max(1, categories.length);
  const band = (right - left) / n;
  const inner = band * 0.78;
  const bw = inner / Math.max(1, series.length);
  bands(svg, (opts.bands || []).map((b) => ({ ...b, x0: band * b.from, x1: band * (b.to + 1) })), left, right, upper, bottom);
  const every = Math.max(1, Math.ceil((n * 46) / (right - left)));
  const gx = el("g", { class: "axis x" }, svg);
  categories.forEach((c, i) => {
    if (i % every === 0) text(gx, left + band * (i + 0.5), bottom + 18, fmtCat(c), { "text-anchor": "middle" });
  });
  series.forEach((s, si) => {
    const g = el("g", { class: "series" }, svg);
    s.values.forEach((v, i) => {
      const x0 = left + band * i + (band - inner) / 2 + si * bw;
      if (v === null || v === undefined) {
        text(g, x0 + bw / 2, bottom - 4, "–", { "text-anchor": "middle", class: "missing" });
        return;
      }
      const r = el("rect", {
        x: x0.toFixed(1),
        y: y(v).toFixed(1),
        width: Math.max(1, bw - 1).toFixed(1),
        height: Math.max(0, bottom - y(v)).toFixed(1),
        fill: colour(si),
      }, g);
      el("title", {}, r).textContent = `${s.name}, ${fmtCat(categories[i])}: ${fmt(v)}`;
    });
  });
  el("line", { x1: left, x2: right, y1: bottom, y2: bottom, class: "baseline" }, svg);
  return svg;
}

/**
 * Horizontal grouped bars, one band per category, labels on the left and
 * values at the bar ends. Good for long names (counties, programmes, units).
 */
export function barChart(categories, series, opts = {}) {
  const width = Math.max(280, opts.width || 640);
  const fmt = opts.fmt || ((v) => String(v));
  const fmtCat = opts.fmtCat || ((c) => c);
  const pitch = 13; // per bar when grouped
  const rowH = series.length > 1 ? pitch * series.length + 10 : 22;
  const height = 16 + categories.length * rowH + 8;
  const svg = svgRoot(width, height, opts.title, opts.desc);
  const labels = categories.map((c) => fmtCat(c));
  const longest = Math.max(4, ...labels.map((l) => l.length));
  const left = Math.min(Math.round(width * 0.42), longest * 6.6 + 12);
  const valueRoom = 64;
  const right = width - valueRoom;
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  const max = Math.max(0, ...all) || 1;
  const x = (v) => left + (v / max) * (right - left);
  const maxChars = Math.floor((left - 10) / 6.3);
  categories.forEach((c, i) => {
    const y0 = 12 + i * rowH;
    const lab = labels[i].length > maxChars ? labels[i].slice(0, maxChars - 1) + "…" : labels[i];
    const t = text(svg, left - 8, y0 + rowH / 2 + 3, lab, { "text-anchor": "end", class: "cat" });
    if (lab !== labels[i]) el("title", {}, t).textContent = labels[i];
    series.forEach((s, si) => {
      const v = s.values[i];
      const bh = series.length > 1 ? pitch - 2 : 15;
      const yb = series.length > 1 ? y0 + 5 + si * pitch : y0 + (rowH - bh) / 2;
      if (v === null || v === undefined) {
        text(svg, left + 4, yb + bh - 2, "–", { class: "missing" });
        return;
      }
      const r = el("rect", {
        x: left,
        y: yb.toFixed(1),
        width: Math.max(v > 0 ? 1 : 0, x(v) - left).toFixed(1),
        height: bh,
        fill: colour(si),
      }, svg);
      el("title", {}, r).textContent = `${s.name}, ${labels[i]}: ${fmt(v)}`;
      text(svg, x(v) + 4, yb + bh - 2, fmt(v), { class: "value" });
    });
  });
  el("line", { x1: left, x2: left, y1: 8, y2: height - 6, class: "baseline" }, svg);
  return svg;
}

// Tile positions (column, row) of the 21 counties, roughly as on a map.
export const COUNTY_TILES = {
  "25": [2, 0, "Nbott"],
  "24": [2, 1, "Vbott"],
  "23": [1, 2, "Jämt"],
  "22": [2, 2, "Vnorr"],
  "20": [1, 3, "Dal"],
  "21": [2, 3, "Gävl"],
  "17": [0, 4, "Värm"],
  "19": [1, 4, "Vmanl"],
  "03": [2, 4, "Upps"],
  "14": [0, 5, "VGötal"],
  "18": [1, 5, "Örebro"],
  "04": [2, 5, "Södml"],
  "01": [3, 5, "Sthlm"],
  "13": [0, 6, "Halland"],
  "06": [1, 6, "Jkpg"],
  "05": [2, 6, "Östg"],
  "09": [3, 6, "Gotl"],
  "07": [1, 7, "Kron"],
  "08": [2, 7, "Kalmar"],
  "12": [1, 8, "Skåne"],
  "10": [2, 8, "Blek"],
};

/**
 * Tile grid of the 21 counties. values: {code: number|null}; names: {code: name}.
 * Darker = more (sequential, one hue); a tile with no value is hatched.
 */
export function countyTiles(values, names, opts = {}) {
  const width = Math.max(240, Math.min(opts.width || 360, 420));
  const cols = 4;
  const rows = 9;
  const gap = 4;
  const size = Math.floor((width - gap * (cols + 1)) / cols);
  const tileH = Math.round(size * 0.62);
  const legendH = 34;
  const height = rows * (tileH + gap) + gap + legendH;
  const svg = svgRoot(width, height, opts.title, opts.desc);
  const fmt = opts.fmt || ((v) => String(v));
  const defs = el("defs", {}, svg);
  const pat = el("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 6, height: 6, fill: "#f4f4f4" }, pat);
  el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#999", "stroke-width": 2 }, pat);
  const present = Object.values(values).filter((v) => v !== null && v !== undefined);
  const min = Math.min(...present, 0);
  const max = Math.max(...present, 0);
  const shade = (v) => {
    if (max <= min) return SEQ[2];
    const k = Math.min(SEQ.length - 1, Math.floor(((v - min) / (max - min)) * SEQ.length));
    return SEQ[k];
  };
  for (const [code, [c, r, short]] of Object.entries(COUNTY_TILES)) {
    const x = gap + c * (size + gap);
    const y = gap + r * (tileH + gap);
    const v = values[code];
    const has = v !== null && v !== undefined;
    const g = el("g", { class: "tile", "data-county": code }, svg);
    const fill = has ? shade(v) : "url(#hatch)";
    el("rect", { x, y, width: size, height: tileH, rx: 3, fill, stroke: "#fff" }, g);
    const dark = has && SEQ.indexOf(fill) >= 4;
    const cls = dark ? "tile-text on-dark" : "tile-text";
    text(g, x + size / 2, y + tileH * 0.42, short, { "text-anchor": "middle", class: cls });
    text(g, x + size / 2, y + tileH * 0.8, has ? fmt(v) : "–", { "text-anchor": "middle", class: cls + " tile-value" });
    el("title", {}, g).textContent = `${names[code] || code}: ${has ? fmt(v) : "–"}`;
  }
  // legend: the scale from min to max
  const ly = height - legendH + 8;
  const lw = Math.min(width - 2 * gap, 240);
  const step = lw / SEQ.length;
  SEQ.forEach((c, i) => el("rect", { x: gap + i * step, y: ly, width: step, height: 10, fill: c, stroke: "#ccc", "stroke-width": 0.5 }, svg));
  text(svg, gap, ly + 24, fmt(min), { class: "legend-text" });
  text(svg, gap + lw, ly + 24, fmt(max), { class: "legend-text", "text-anchor": "end" });
  return svg;
}
