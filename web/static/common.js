// Shared by every page: DOM building, links that keep the language, the
// logged-in token, API fetches, the declarations' labels, number and
// dimension formatting, the shell (language, navigation) and the chart legend.
import { colour, dash } from "./chart.js";
import { MONTHS, WEEKDAY, lang, t } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// A link inside the app keeps the language and is routed without a reload.
export function withLang(href) {
  const url = new URL(href, location.origin);
  if (lang() === "en") url.searchParams.set("lang", "en");
  else url.searchParams.delete("lang");
  return url.pathname + (url.search ? url.search : "");
}
export const link = (href, text, attrs = {}) => h("a", { href: withLang(href), "data-nav": "", ...attrs }, text);

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.parameter = body && body.parameter;
  }
}

// --- logged-in tier -----------------------------------------------------------
// The bearer token lives in this tab's sessionStorage only: never in a URL, a
// cookie or the page, and it is sent only to this origin's API.

export const TOKEN_KEY = "statflow.token";
export const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
export const authHeaders = () => (token() ? { Authorization: `Bearer ${token()}` } : {});

export function claims(tok = token()) {
  try {
    const part = tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part + "=".repeat((4 - (part.length % 4)) % 4)), (ch) => ch.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

export function scopeText(c) {
  const roles = c.roles || [];
  const parts = [];
  if (roles.includes("region_admin")) parts.push(`region_admin ${c.county_code || ""}`.trim());
  if (roles.includes("unit_admin")) parts.push(`unit_admin ${(c.unit_ids || []).join(", ")}`);
  if ((c.care_providers || []).length) parts.push((c.care_providers || []).join(", "));
  return parts.join(" · ") || roles.join(", ");
}

export async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json", ...authHeaders() }, cache: "no-store" });
  let body = null;
  try {
    body = await r.json();
  } catch {
    body = null;
  }
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

export let cataloguePromise = null;
export let metaPromise = null;
export const catalogue = () => (cataloguePromise ||= getJSON("/api/v1/reports").catch((e) => { cataloguePromise = null; throw e; }));
// What the declarations say the pages need (reports/labels.py, served at
// /api/v1/meta): drill-down keys, filter inputs, and what every filter, level
// and code is called. No service, filter, level or code is named in this file.
export let pageMeta = null;
export const meta = () => (metaPromise ||= getJSON("/api/v1/meta").then((m) => (pageMeta = m)).catch((e) => { metaPromise = null; throw e; }));
export const labels = () => (pageMeta && pageMeta.labels) || { text: {}, org_levels: [], ordered: [] };
export function labelsOf(kind) {
  const text = labels().text[lang()] || {};
  return text[kind] || {};
}
export const own = (obj, key) => (obj && Object.hasOwn(obj, key) ? obj[key] : undefined);
export const filterLabel = (name) => own(labelsOf("filters"), name) || name;
export const levelLabel = (name) => own(labelsOf("levels"), name) || name;

export const nf = () => new Intl.NumberFormat(lang() === "en" ? "en-GB" : "sv-SE", { maximumFractionDigits: 2 });
export const pf = () => new Intl.NumberFormat(lang() === "en" ? "en-GB" : "sv-SE", { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
export const isShare = (name) => name === "share" || name.endsWith("_share");

// Decimal numbers (rates, averages) always with two decimals, so a column
// reads "1,90", "3,00", "1,89" and not "1,9", "3", "1,89"; counts with none.
export const df = () => new Intl.NumberFormat(lang() === "en" ? "en-GB" : "sv-SE", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatMeasure(name, value, type = null) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (isShare(name)) return pf().format(value);
  return type === "number" ? df().format(value) : nf().format(value);
}

export function monthLabel(m) {
  const [y, mo] = String(m).split("-");
  const name = MONTHS[lang()][Number(mo) - 1];
  return name ? `${name} ${y}` : String(m);
}

// How a dimension value reads for a person (the raw value stays in data-v).
export function formatDim(name, value, short = false) {
  const L = lang();
  if (value === null || value === undefined) return own(labelsOf("missing"), name) || "–";
  const codes = own(labelsOf("values"), name);
  if (codes) return own(codes, String(value)) || value;
  if (name === "weekday") {
    const w = WEEKDAY[L][Number(value) - 1] || String(value);
    return short ? w.slice(0, 3) : w;
  }
  if (name === "month" && short) return monthLabel(value);
  if (typeof value === "boolean") return value ? (L === "en" ? "Yes" : "Ja") : (L === "en" ? "No" : "Nej");
  return String(value);
}

// How a filter's fixed choice reads (declared with the report), else as a code of its column.
export function formatChoice(name, value) {
  return own(own(labelsOf("choices"), name) || {}, value) || formatDim(name, value);
}

export function formatCell(col, value) {
  if (col.type === "integer" || col.type === "number") {
    if (col.name === "weekday") return formatDim(col.name, value);
    return formatMeasure(col.name, value, col.type);
  }
  return formatDim(col.name, value);
}

export function formatInstant(iso) {
  if (!iso) return t("no_data_yet");
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "sv-SE", {
    timeZone: "Europe/Stockholm",
    dateStyle: "medium",
    timeStyle: "medium",
  }).format(d);
}

export function setTitle(text) {
  document.title = text ? `${text} – statflow` : "statflow";
}


export function applyShell() {
  const L = lang();
  document.documentElement.lang = L;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  document.getElementById("mainnav").setAttribute("aria-label", t("nav"));
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = t("toggle");
  toggle.lang = L === "en" ? "sv" : "en";
  const login = document.getElementById("login-link");
  const who = claims();
  login.textContent = token() && who ? t("nav_logged_in", who.sub || "?") : t("nav_login");
  login.dataset.loggedIn = token() ? "true" : "false";
  for (const a of document.querySelectorAll("header a[data-nav]")) {
    const base = a.getAttribute("href").split("?")[0];
    a.setAttribute("href", withLang(base));
    const here = base === "/" ? location.pathname === "/" : location.pathname.startsWith(base);
    if (here && !a.classList.contains("brand")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}


// Pages call navigate(); app.js sets page.route (pages never import app.js)
// and each page sets page.stop, what leaving it must undo.
export const page = { route: () => {}, stop: () => {} };

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  page.route();
}

export function showError(where, err) {
  where.replaceChildren(h("div", { class: "error", role: "alert" }, h("strong", {}, `${t("error")}: `), err.message || String(err)));
}


export function isNumeric(c) {
  return c.type === "integer" || c.type === "number";
}
export function isMeasure(c) {
  return isNumeric(c) && c.name !== "weekday";
}
export function cap(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
export function debounce(fn, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

export function legend(series, kind) {
  return h("ul", { class: "legend" }, series.map((s, i) => {
    const sw = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    sw.setAttribute("width", "26");
    sw.setAttribute("height", "12");
    sw.setAttribute("aria-hidden", "true");
    if (kind === "line") {
      const l = document.createElementNS(sw.namespaceURI, "line");
      Object.entries({ x1: 1, y1: 6, x2: 25, y2: 6, stroke: colour(i), "stroke-width": 3 }).forEach(([k, v]) => l.setAttribute(k, v));
      if (dash(i)) l.setAttribute("stroke-dasharray", dash(i));
      sw.append(l);
    } else {
      const r = document.createElementNS(sw.namespaceURI, "rect");
      Object.entries({ x: 6, y: 0, width: 14, height: 12, fill: colour(i) }).forEach(([k, v]) => r.setAttribute(k, v));
      sw.append(r);
    }
    return h("li", {}, sw, s.name);
  }));
}

// Which chart fits the answer: months as lines, weekdays as columns, counties
// as sorted bars plus the tile grid, hierarchy rows as sorted bars, other
// categories (shares, programmes, reasons, genders) as bars.
