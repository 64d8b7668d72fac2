// statflow web front: report list, report pages and the operations live view.
// One page shell (index.html), routed here by path:
//   /                       report list grouped by service
//   /r/{service}/{report}   one report: chart, table, period, filters, drill-down, exports
//   /live                   operations live view (polls /api/v1/live every 3 s)
// All view state lives in the query string, so every view is a shareable link.

import { barChart, colour, columnChart, countyTiles, dash, lineChart } from "./chart.js";

const POLL_MS = 3000;
const UI_ONLY = new Set(["lang"]); // passed through to the API too, which accepts it

const I18N = {
  sv: {
    skip: "Hoppa till innehållet",
    nav: "Huvudmeny",
    nav_reports: "Rapporter",
    nav_live: "Driftläge",
    nav_login: "Logga in",
    nav_logged_in: (who) => `Inloggad: ${who}`,
    login_title: "Logga in",
    login_intro: "Inloggad statistik visar din egen organisations uppgifter, även rapporter som bara finns för inloggade. Klistra in din åtkomstnyckel (bearer token). Den sparas bara i den här fliken och skickas bara till statistikens API.",
    login_token: "Åtkomstnyckel",
    login_submit: "Logga in",
    logout: "Logga ut",
    login_as: "Inloggad som",
    login_scope: "Behörighet",
    login_expires: "Giltig till",
    login_bad: "Nyckeln går inte att läsa. Kontrollera att du klistrat in hela nyckeln.",
    logged_in_only: "Endast för inloggade",
    toggle: "English",
    footer: "Öppen statistik över användningen av e-tjänster i vården. Antal invånare 1–9 redovisas inte.",
    home_title: "Statistik över e-tjänster",
    home_intro: "Användningsstatistik för nationella e-tjänster i vården, några sekunder efter att händelserna kommit in. Välj en rapport.",
    loading: "Laddar…",
    definition: "Definition",
    data_as_of: "Data uppdaterad",
    no_data_yet: "ingen data ännu",
    period: "Period",
    from: "Från och med",
    to: "Till och med",
    filters: "Urval",
    level: "Nivå",
    show: "Visa",
    clear: "Rensa urval",
    export: "Ladda ner",
    chart: "Diagram",
    table: "Tabell",
    measure: "Mått i diagrammet",
    notes: "Noter",
    withheld: "Redovisas inte – se noter",
    rows: (n) => `${n} rader`,
    showing: "Visar",
    drill_hint: (next) => `Klicka på en rad för att gå ner en nivå (till ${next}).`,
    up_level: (lvl) => `Upp en nivå (${lvl})`,
    all: "Alla",
    hsa_hint: "HSA-id; flera åtskilda med kommatecken",
    name_hint: "Namn; flera åtskilda med kommatecken",
    multi_hint: "Inget valt = alla",
    error: "Fel",
    not_found: "Sidan finns inte.",
    top_n: (n, all) => `De ${n} största av ${all}.`,
    live_title: "Driftläge",
    live_intro: "Händelser per minut den senaste timmen per ämne (topic) och operation, konsumentfördröjning och avvisade meddelanden. Sidan uppdateras var tredje sekund.",
    updated: "Uppdaterad",
    pause: "Pausa uppdatering",
    resume: "Återuppta uppdatering",
    paused: "pausad",
    kpi_last_minute: "Händelser senaste minuten",
    kpi_hour: "Händelser senaste timmen",
    kpi_error_share: "Felandel senaste timmen",
    kpi_lag: "Konsumentfördröjning",
    kpi_dead: "Avvisade (DLQ)",
    kpi_dup: "Dubbletter",
    per_minute: "Händelser per minut, senaste timmen",
    by_operation: "Per ämne och operation, senaste timmen",
    topic: "Ämne (topic)",
    operation: "Operation",
    events: "Händelser",
    errors: "Fel",
    error_share: "Felandel",
    lag_title: "Konsumentfördröjning per partition",
    partition: "Partition",
    lag: "Meddelanden efter",
    dead_title: "Avvisade meddelanden (dead letters)",
    dup_title: "Dubbletter som sorterats bort",
    count: "Antal",
    none: "Inga ännu.",
    minute: "Minut",
  },
  en: {
    skip: "Skip to content",
    nav: "Main menu",
    nav_reports: "Reports",
    nav_live: "Operations",
    nav_login: "Log in",
    nav_logged_in: (who) => `Logged in: ${who}`,
    login_title: "Log in",
    login_intro: "Logged-in statistics show your own organisation's data, including reports only served to logged-in staff. Paste your bearer token. It is kept in this tab only and sent only to the statistics API.",
    login_token: "Bearer token",
    login_submit: "Log in",
    logout: "Log out",
    login_as: "Logged in as",
    login_scope: "Scope",
    login_expires: "Valid until",
    login_bad: "The token cannot be read. Check that you pasted all of it.",
    logged_in_only: "Logged-in only",
    toggle: "Svenska",
    footer: "Open statistics on the use of e-health services. Resident counts of 1–9 are withheld.",
    home_title: "E-service statistics",
    home_intro: "Usage statistics of national e-health services, seconds after the events arrive. Choose a report.",
    loading: "Loading…",
    definition: "Definition",
    data_as_of: "Data as of",
    no_data_yet: "no data yet",
    period: "Period",
    from: "From",
    to: "To (inclusive)",
    filters: "Filters",
    level: "Level",
    show: "Show",
    clear: "Clear filters",
    export: "Download",
    chart: "Chart",
    table: "Table",
    measure: "Measure in the chart",
    notes: "Notes",
    withheld: "Withheld – see notes",
    rows: (n) => `${n} rows`,
    showing: "Showing",
    drill_hint: (next) => `Click a row to drill down one level (to ${next}).`,
    up_level: (lvl) => `Up one level (${lvl})`,
    all: "All",
    hsa_hint: "HSA id; several separated by commas",
    name_hint: "Name; several separated by commas",
    multi_hint: "None selected = all",
    error: "Error",
    not_found: "No such page.",
    top_n: (n, all) => `The ${n} largest of ${all}.`,
    live_title: "Operations live view",
    live_intro: "Events per minute over the last hour by topic and operation, consumer lag and dead letters. Updates every three seconds.",
    updated: "Updated",
    pause: "Pause updates",
    resume: "Resume updates",
    paused: "paused",
    kpi_last_minute: "Events, last minute",
    kpi_hour: "Events, last hour",
    kpi_error_share: "Error share, last hour",
    kpi_lag: "Consumer lag",
    kpi_dead: "Dead letters",
    kpi_dup: "Duplicates",
    per_minute: "Events per minute, last hour",
    by_operation: "By topic and operation, last hour",
    topic: "Topic",
    operation: "Operation",
    events: "Events",
    errors: "Errors",
    error_share: "Error share",
    lag_title: "Consumer lag per partition",
    partition: "Partition",
    lag: "Messages behind",
    dead_title: "Dead letters",
    dup_title: "Duplicates dropped",
    count: "Count",
    none: "None yet.",
    minute: "Minute",
  },
};

const WEEKDAY = {
  sv: ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"],
  en: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
};
const MONTHS = {
  sv: ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
  en: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
};

// --- small helpers ----------------------------------------------------------

const query = () => new URLSearchParams(location.search);
const lang = () => (query().get("lang") === "en" ? "en" : "sv");
function t(key, ...args) {
  const v = I18N[lang()][key] ?? I18N.sv[key] ?? key;
  return typeof v === "function" ? v(...args) : v;
}

function h(tag, attrs = {}, ...children) {
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
function withLang(href) {
  const url = new URL(href, location.origin);
  if (lang() === "en") url.searchParams.set("lang", "en");
  else url.searchParams.delete("lang");
  return url.pathname + (url.search ? url.search : "");
}
const link = (href, text, attrs = {}) => h("a", { href: withLang(href), "data-nav": "", ...attrs }, text);

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.parameter = body && body.parameter;
  }
}

// --- logged-in tier -----------------------------------------------------------
// The bearer token lives in this tab's sessionStorage only: never in a URL, a
// cookie or the page, and it is sent only to this origin's API.

const TOKEN_KEY = "statflow.token";
const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
const authHeaders = () => (token() ? { Authorization: `Bearer ${token()}` } : {});

function claims(tok = token()) {
  try {
    const part = tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part + "=".repeat((4 - (part.length % 4)) % 4)), (ch) => ch.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function scopeText(c) {
  const roles = c.roles || [];
  const parts = [];
  if (roles.includes("region_admin")) parts.push(`region_admin ${c.county_code || ""}`.trim());
  if (roles.includes("unit_admin")) parts.push(`unit_admin ${(c.unit_ids || []).join(", ")}`);
  if ((c.care_providers || []).length) parts.push((c.care_providers || []).join(", "));
  return parts.join(" · ") || roles.join(", ");
}

async function getJSON(url) {
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

let cataloguePromise = null;
let metaPromise = null;
const catalogue = () => (cataloguePromise ||= getJSON("/api/v1/reports").catch((e) => { cataloguePromise = null; throw e; }));
// What the declarations say the pages need (reports/labels.py, served at
// /api/v1/meta): drill-down keys, filter inputs, and what every filter, level
// and code is called. No service, filter, level or code is named in this file.
let pageMeta = null;
const meta = () => (metaPromise ||= getJSON("/api/v1/meta").then((m) => (pageMeta = m)).catch((e) => { metaPromise = null; throw e; }));
const labels = () => (pageMeta && pageMeta.labels) || { text: {}, org_levels: [], ordered: [] };
function labelsOf(kind) {
  const text = labels().text[lang()] || {};
  return text[kind] || {};
}
const own = (obj, key) => (obj && Object.hasOwn(obj, key) ? obj[key] : undefined);
const filterLabel = (name) => own(labelsOf("filters"), name) || name;
const levelLabel = (name) => own(labelsOf("levels"), name) || name;

const nf = () => new Intl.NumberFormat(lang() === "en" ? "en-GB" : "sv-SE", { maximumFractionDigits: 2 });
const pf = () => new Intl.NumberFormat(lang() === "en" ? "en-GB" : "sv-SE", { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
const isShare = (name) => name === "share" || name.endsWith("_share");

function formatMeasure(name, value) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  return isShare(name) ? pf().format(value) : nf().format(value);
}

function monthLabel(m) {
  const [y, mo] = String(m).split("-");
  const name = MONTHS[lang()][Number(mo) - 1];
  return name ? `${name} ${y}` : String(m);
}

// How a dimension value reads for a person (the raw value stays in data-v).
function formatDim(name, value, short = false) {
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

function formatCell(col, value) {
  if (col.type === "integer" || col.type === "number") {
    if (col.name === "weekday") return formatDim(col.name, value);
    return formatMeasure(col.name, value);
  }
  return formatDim(col.name, value);
}

function formatInstant(iso) {
  if (!iso) return t("no_data_yet");
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "sv-SE", {
    timeZone: "Europe/Stockholm",
    dateStyle: "medium",
    timeStyle: "medium",
  }).format(d);
}

function setTitle(text) {
  document.title = text ? `${text} – statflow` : "statflow";
}

// --- shell: language, navigation --------------------------------------------

let stopPage = () => {};

function applyShell() {
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

function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  route();
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest && ev.target.closest("a[data-nav]");
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  ev.preventDefault();
  const samePage = url.pathname === location.pathname;
  navigate(url.pathname + url.search);
  if (!samePage) document.getElementById("main").focus({ preventScroll: false });
});

window.addEventListener("popstate", () => route());

document.getElementById("lang-toggle").addEventListener("click", () => {
  const q = query();
  if (lang() === "en") q.delete("lang");
  else q.set("lang", "en");
  const s = q.toString();
  navigate(location.pathname + (s ? `?${s}` : ""));
});

let currentPath = null;
async function route() {
  applyShell();
  const path = location.pathname;
  const samePage = path === currentPath;
  currentPath = path;
  const m = path.match(/^\/r\/([^/]+)\/([^/]+)\/?$/);
  if (m) {
    if (samePage && reportPage && reportPage.matches(m[1], m[2])) return reportPage.refresh();
    stopPage();
    return showReport(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  }
  stopPage();
  reportPage = null;
  if (path === "/" || path === "") return showHome();
  if (path === "/live" || path === "/live/") return showLive();
  if (path === "/login" || path === "/login/") return showLogin();
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", { text: t("not_found") }), h("p", {}, link("/", t("nav_reports"))));
  return undefined;
}

function showError(where, err) {
  where.replaceChildren(h("div", { class: "error", role: "alert" }, h("strong", {}, `${t("error")}: `), err.message || String(err)));
}

// --- report list ------------------------------------------------------------

async function showHome() {
  const main = document.getElementById("main");
  setTitle(t("home_title"));
  main.replaceChildren(h("h1", { text: t("home_title") }), h("p", { class: "loading", role: "status", text: t("loading") }));
  try {
    const cat = await catalogue();
    const L = lang();
    const sections = cat.services.map((svc) => {
      const tier = token() ? "logged_in" : "open";
      const reports = cat.reports.filter((r) => r.service === svc.id && r.tiers.includes(tier));
      if (!reports.length) return null;
      const title = L === "en" ? svc.title_en : svc.title;
      const headingId = `svc-${svc.id}`;
      return h("section", { class: "service", "aria-labelledby": headingId, "data-service": svc.id },
        h("h2", { id: headingId, text: title }),
        h("ul", { class: "reports" }, reports.map((r) =>
          h("li", {},
            link(`/r/${encodeURIComponent(r.service)}/${encodeURIComponent(r.id)}`, L === "en" ? r.title_en : r.title,
              { "data-report": `${r.service}/${r.id}` }),
            r.tiers.includes("open") ? "" : h("span", { class: "badge", text: ` ${t("logged_in_only")}` }),
            h("p", { lang: "en", text: r.description.length > 160 ? r.description.slice(0, 157) + "…" : r.description })))));
    });
    main.replaceChildren(
      h("h1", { text: t("home_title") }),
      h("p", { text: t("home_intro") }),
      ...sections.filter(Boolean),
      h("p", {}, link("/live", t("live_title"))));
  } catch (err) {
    showError(main, err);
  }
}

// --- report page ------------------------------------------------------------

let reportPage = null;
let loads = 0; // answers rendered in this document (tests wait on it)

function apiParams(q = query()) {
  const out = new URLSearchParams();
  for (const [k, v] of q) if (!UI_ONLY.has(k) || k === "lang") out.append(k, v);
  return out;
}

function splitValues(q, name) {
  return q.getAll(name).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

async function showReport(service, id) {
  const main = document.getElementById("main");
  main.replaceChildren(h("p", { class: "loading", role: "status", text: t("loading") }));
  let cat;
  let m;
  try {
    [cat, m] = await Promise.all([catalogue(), meta()]);
  } catch (err) {
    showError(main, err);
    return;
  }
  const report = cat.reports.find((r) => r.service === service && r.id === id);
  if (!report) {
    main.replaceChildren(h("h1", { text: t("not_found") }), h("p", {}, link("/", t("nav_reports"))));
    return;
  }
  const svc = cat.services.find((s) => s.id === service) || { title: service, title_en: service };
  reportPage = new ReportPage(main, report, svc, m.reports[`${service}/${id}`] || { levels: {}, label_of: {}, choices: {}, dimensions: [], inputs: {} }, m.counties);
  await reportPage.refresh();
}

class ReportPage {
  constructor(main, report, service, meta, counties) {
    this.main = main;
    this.report = report;
    this.service = service;
    this.meta = meta;
    this.counties = counties;
    this.answer = null;
    this.measure = null;
    this.seq = 0;
    this.build();
    this.onResize = debounce(() => this.drawChart(), 150);
    window.addEventListener("resize", this.onResize);
    stopPage = () => window.removeEventListener("resize", this.onResize);
  }

  matches(service, id) {
    return this.report.service === decodeURIComponent(service) && this.report.id === decodeURIComponent(id);
  }

  get base() {
    return `/api/v1/reports/${encodeURIComponent(this.report.service)}/${encodeURIComponent(this.report.id)}`;
  }

  title() {
    return lang() === "en" ? this.report.title_en : this.report.title;
  }

  build() {
    const r = this.report;
    this.heading = h("h1", { id: "report-title" });
    this.crumbs = h("nav", { class: "crumbs", "aria-label": "Brödsmulor" });
    this.asof = h("p", { class: "asof", id: "data-as-of" });
    this.definition = h("div", { class: "definition" });
    this.form = this.buildForm();
    this.exports = h("div", { class: "exports", id: "exports" });
    this.errorBox = h("div", { id: "report-error" });
    this.chartBox = h("section", { class: "chart-section", "aria-labelledby": "chart-h" });
    this.tableBox = h("section", { class: "table-section", "aria-labelledby": "table-h" });
    this.notesBox = h("div", { id: "notes" });
    this.results = h("div", { id: "results", "aria-live": "polite", "aria-busy": "false" },
      this.errorBox, this.chartBox, this.tableBox, this.notesBox);
    this.main.replaceChildren(this.crumbs, this.heading, this.definition, this.asof, this.form, this.exports, this.results);
    this.main.dataset.report = `${r.service}/${r.id}`;
  }

  buildForm() {
    const r = this.report;
    const form = h("form", { class: "filters", id: "filters", novalidate: true });
    this.fields = {};
    const period = h("fieldset", { class: "period" }, h("legend", { "data-t": "period" }));
    for (const name of ["from", "to"]) {
      const input = h("input", { type: "date", id: `f-${name}`, name, min: r.data_start, required: true });
      period.append(h("div", { class: "field" }, h("label", { for: `f-${name}`, "data-t": name }), input));
      this.fields[name] = input;
    }
    form.append(period);
    const filters = h("fieldset", { class: "filter-set" }, h("legend", { "data-t": "filters" }));
    if (r.levels && r.levels.length) {
      const sel = h("select", { id: "f-level", name: "level" });
      for (const lvl of r.levels) sel.append(h("option", { value: lvl, "data-level": lvl }));
      filters.append(h("div", { class: "field" }, h("label", { for: "f-level", "data-t": "level" }), sel));
      this.fields.level = sel;
    }
    for (const name of r.filters) {
      const id = `f-${name}`;
      const hintId = `${id}-hint`;
      let control;
      let hint;
      const input = own(this.meta.inputs, name);
      if (input === "counties") {
        control = h("select", { id, name, multiple: true, size: 6, "aria-describedby": hintId });
        for (const c of this.counties) control.append(h("option", { value: c.code }, `${c.code} ${c.name}`));
        hint = "multi_hint";
      } else if (input === "choices" && this.meta.choices && this.meta.choices[name]) {
        const choices = this.meta.choices[name];
        control = h("select", { id, name, multiple: true, size: Math.max(2, Math.min(6, choices.length)), "aria-describedby": hintId });
        for (const v of choices) control.append(h("option", { value: v, "data-choice": name }));
        hint = "multi_hint";
      } else {
        control = h("input", { type: "text", id, name, autocomplete: "off", spellcheck: "false", "aria-describedby": hintId });
        hint = input === "names" ? "name_hint" : "hsa_hint";
      }
      this.fields[name] = control;
      filters.append(h("div", { class: "field" },
        h("label", { for: id, "data-filter": name }), control, h("span", { class: "hint", id: hintId, "data-t": hint })));
    }
    form.append(filters);
    form.append(h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", id: "apply", "data-t": "show" }),
      h("button", { type: "button", class: "secondary", id: "clear", "data-t": "clear", onclick: () => this.clearFilters() })));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.apply();
    });
    return form;
  }

  // Text of the static parts in the current language.
  relabel() {
    const L = lang();
    for (const node of this.main.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
    for (const node of this.main.querySelectorAll("[data-filter]")) node.textContent = filterLabel(node.dataset.filter);
    for (const node of this.main.querySelectorAll("option[data-level]")) node.textContent = cap(levelLabel(node.value));
    for (const node of this.main.querySelectorAll("option[data-choice]")) node.textContent = formatDim(node.dataset.choice, node.value);
    this.heading.textContent = this.title();
    setTitle(this.title());
    const svcTitle = L === "en" ? this.service.title_en : this.service.title;
    this.crumbs.replaceChildren(h("ol", {}, h("li", {}, link("/", t("nav_reports"))), h("li", {}, svcTitle)));
    this.definition.replaceChildren(h("p", {}, h("strong", {}, `${t("definition")}: `), h("span", { lang: "en", text: this.report.description })));
  }

  // The form shows the URL's state (or the API's defaults for what the URL leaves out).
  fillForm(q, echo) {
    this.fields.from.value = q.get("from") || (echo && echo.from) || "";
    this.fields.to.value = q.get("to") || (echo && echo.to) || "";
    if (this.fields.level) this.fields.level.value = q.get("level") || (echo && echo.level) || this.report.levels[this.report.levels.length - 1];
    for (const name of this.report.filters) {
      const control = this.fields[name];
      const values = splitValues(q, name);
      if (control.tagName === "SELECT") {
        for (const opt of control.options) opt.selected = values.includes(opt.value);
      } else control.value = values.join(", ");
    }
  }

  formQuery() {
    const q = new URLSearchParams();
    if (this.fields.from.value) q.set("from", this.fields.from.value);
    if (this.fields.to.value) q.set("to", this.fields.to.value);
    if (this.fields.level) q.set("level", this.fields.level.value);
    for (const name of this.report.filters) {
      const control = this.fields[name];
      const values = control.tagName === "SELECT"
        ? [...control.selectedOptions].map((o) => o.value)
        : control.value.split(",").map((v) => v.trim()).filter(Boolean);
      for (const v of values) q.append(name, v);
    }
    if (lang() === "en") q.set("lang", "en");
    return q;
  }

  apply() {
    const q = this.formQuery();
    navigate(`${location.pathname}?${q}`);
  }

  clearFilters() {
    for (const name of this.report.filters) {
      const control = this.fields[name];
      if (control.tagName === "SELECT") for (const opt of control.options) opt.selected = false;
      else control.value = "";
    }
    this.apply();
  }

  async refresh() {
    const levels = this.report.levels || [];
    if (levels.length && !query().get("level")) {
      // A drill-down report opens at its top level; the URL says so, so the
      // view and a shared link stay the same thing.
      const q = query();
      q.set("level", levels[0]);
      history.replaceState(null, "", `${location.pathname}?${q}`);
    }
    const q = query();
    this.relabel();
    this.fillForm(q, null);
    const api = apiParams(q);
    this.renderExports(api);
    const seq = ++this.seq;
    for (const f of Object.values(this.fields)) f.removeAttribute("aria-invalid");
    this.results.setAttribute("aria-busy", "true");
    this.main.dataset.state = "loading";
    try {
      const answer = await getJSON(`${this.base}?${api}`);
      if (seq !== this.seq) return;
      this.answer = answer;
      this.errorBox.replaceChildren();
      this.fillForm(q, answer.params);
      this.asof.textContent = `${t("data_as_of")}: ${formatInstant(answer.data_as_of)} · ${t("period")}: ${answer.params.from} – ${answer.params.to}`;
      this.asof.dataset.v = answer.data_as_of || "";
      this.renderChart();
      this.renderTable();
      this.renderNotes();
      loads += 1;
      this.main.dataset.loaded = String(loads);
      this.main.dataset.state = "ready";
    } catch (err) {
      if (seq !== this.seq) return;
      this.answer = null;
      this.chartBox.replaceChildren();
      this.tableBox.replaceChildren();
      this.notesBox.replaceChildren();
      showError(this.errorBox, err);
      if (err.parameter && this.fields[err.parameter]) this.fields[err.parameter].setAttribute("aria-invalid", "true");
      this.main.dataset.state = "error";
    } finally {
      if (seq === this.seq) this.results.setAttribute("aria-busy", "false");
    }
  }

  renderExports(api) {
    const fmts = [["csv", "CSV"], ["xlsx", "Excel"], ["jsonstat", "JSON-stat"], ["pdf", "PDF"]];
    this.exports.replaceChildren(h("span", { text: `${t("export")}:` }), ...fmts.map(([fmt, label]) => {
      const q = new URLSearchParams(api);
      q.set("format", fmt);
      const a = h("a", { class: "button", href: `${this.base}?${q}`, download: "", "data-format": fmt }, label);
      // A link cannot carry the bearer token: logged in, fetch it and hand over the file.
      a.addEventListener("click", (ev) => {
        if (!token() || a.dataset.blob) return;
        ev.preventDefault();
        downloadWithToken(a, `${this.base}?${q}`, `${this.report.id}.${fmt}`).catch((err) => showError(this.errorBox, err));
      });
      return a;
    }));
  }

  // -- table --

  levelIndex() {
    const levels = this.report.levels || [];
    const lvl = (this.answer && this.answer.params.level) || query().get("level") || levels[levels.length - 1];
    return levels.indexOf(lvl);
  }

  drillTarget(row, cols) {
    const levels = this.report.levels || [];
    const i = this.levelIndex();
    if (!levels.length || i < 0 || i >= levels.length - 1) return null;
    const level = levels[i];
    const info = this.meta.levels[level];
    if (!info || !this.report.filters.includes(level)) return null;
    const k = cols.findIndex((c) => c.name === info.key);
    if (k < 0) return null;
    const key = row[k];
    if (key === null || key === undefined || key === "") return null;
    const q = query();
    q.delete(level);
    q.append(level, String(key));
    q.set("level", levels[i + 1]);
    return `${location.pathname}?${q}`;
  }

  renderTable() {
    const a = this.answer;
    const cols = a.columns;
    const labelCols = cols.map((c, i) => (this.meta.label_of[c.name] ? i : -1)).filter((i) => i >= 0);
    const headerIdx = labelCols.length ? labelCols[labelCols.length - 1] : 0;
    const levels = this.report.levels || [];
    const i = this.levelIndex();
    const info = levels.length ? this.meta.levels[levels[i]] : null;
    const linkIdx = info ? cols.findIndex((c) => c.name === (info.label || info.key)) : -1;
    const thead = h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col", class: isMeasure(c) ? "num" : null, "data-col": c.name, text: c.label }))));
    const tbody = h("tbody");
    for (const row of a.rows) {
      const drill = this.drillTarget(row, cols);
      const tr = h("tr", { class: drill ? "drillable" : null });
      row.forEach((v, j) => {
        const c = cols[j];
        const tag = j === headerIdx ? "th" : "td";
        const cls = [isMeasure(c) ? "num" : null, v === null ? "null" : null].filter(Boolean).join(" ") || null;
        const cell = h(tag, { class: cls, scope: tag === "th" ? "row" : null, "data-v": JSON.stringify(v), title: v === null && isNumeric(c) ? t("withheld") : null });
        const shown = formatCell(c, v);
        if (drill && j === (linkIdx >= 0 ? linkIdx : headerIdx)) cell.append(h("a", { href: drill, "data-nav": "", class: "drill" }, shown === "–" ? String(v) : shown));
        else cell.textContent = shown;
        tr.append(cell);
      });
      if (drill) {
        tr.addEventListener("click", (ev) => {
          if (ev.target.closest("a")) return;
          navigate(drill);
        });
      }
      tbody.append(tr);
    }
    const caption = h("caption", {}, `${this.title()} (${t("rows", a.rows.length)})`);
    const table = h("table", { class: "data", id: "report-table" }, caption, thead, tbody);
    const parts = [h("h2", { id: "table-h", text: t("table") })];
    if (levels.length) {
      const path = this.drillPath(cols, i);
      if (path.length) parts.push(h("p", { class: "drill-path", id: "drill-path" }, `${t("showing")}: `, path.join(" › ")));
      const nav = h("p", { class: "drill-hint" });
      if (i < levels.length - 1) nav.append(t("drill_hint", levelLabel(levels[i + 1])), " ");
      if (i > 0) {
        const q = query();
        q.delete(levels[i - 1]);
        q.set("level", levels[i - 1]);
        nav.append(h("a", { href: `${location.pathname}?${q}`, "data-nav": "", id: "drill-up" }, t("up_level", levelLabel(levels[i - 1]))));
      }
      parts.push(nav);
    }
    parts.push(h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "table-h" }, table));
    this.tableBox.replaceChildren(...parts);
  }

  // "County: Stockholms län › Care provider: Region Stockholm" for the levels
  // above the current one that a drill-down (or the filter) narrowed to one value.
  drillPath(cols, i) {
    const levels = this.report.levels || [];
    const q = query();
    const out = [];
    for (const lvl of levels.slice(0, Math.max(0, i))) {
      const values = splitValues(q, lvl);
      if (values.length !== 1) continue;
      const info = this.meta.levels[lvl] || {};
      const k = cols.findIndex((c) => c.name === info.key);
      const n = cols.findIndex((c) => c.name === info.label);
      const row = k >= 0 ? this.answer.rows.find((r) => String(r[k]) === values[0]) : null;
      const name = row && n >= 0 && row[n] !== null ? row[n] : formatDim(lvl, values[0]);
      out.push(`${cap(levelLabel(lvl))}: ${name}`);
    }
    return out;
  }

  renderNotes() {
    const notes = this.answer.notes || [];
    if (!notes.length) {
      this.notesBox.replaceChildren();
      return;
    }
    this.notesBox.replaceChildren(h("aside", { class: "notes", "aria-labelledby": "notes-h" },
      h("h2", { id: "notes-h", text: t("notes") }), h("ul", {}, notes.map((n) => h("li", { text: n })))));
  }

  // -- chart --

  measures() {
    const dims = new Set(this.meta.dimensions || []);
    return this.answer.columns.filter((c) => isNumeric(c) && !dims.has(c.name) && c.name !== "weekday");
  }

  renderChart() {
    const measures = this.measures();
    if (!measures.length || !this.answer.rows.length) {
      this.chartBox.replaceChildren();
      return;
    }
    if (!this.measure || !measures.some((c) => c.name === this.measure)) {
      this.measure = (measures.find((c) => c.name === "share") || measures[0]).name;
    }
    const parts = [h("h2", { id: "chart-h", class: "sr-only", text: t("chart") })];
    if (measures.length > 1) {
      const sel = h("select", { id: "f-measure" }, measures.map((c) => h("option", { value: c.name, selected: c.name === this.measure }, c.label)));
      sel.addEventListener("change", () => {
        this.measure = sel.value;
        this.drawChart();
      });
      parts.push(h("p", { class: "measure-pick" }, h("label", { for: "f-measure", text: t("measure") }), sel));
    }
    this.figure = h("figure", { class: "chart", id: "chart" });
    parts.push(this.figure);
    this.chartBox.replaceChildren(...parts);
    this.drawChart();
  }

  drawChart() {
    if (!this.answer || !this.figure) return;
    const spec = chartSpec(this.report, this.answer, this.meta, this.measure);
    const width = Math.max(280, this.chartBox.clientWidth || 640);
    const measureCol = this.answer.columns.find((c) => c.name === this.measure);
    const fmt = (v) => formatMeasure(this.measure, v);
    const caption = h("figcaption", {}, `${measureCol.label}${spec.xLabel ? ` · ${spec.xLabel}` : ""}`);
    const desc = `${measureCol.label}. ${t("table")}: ${this.title()}.`;
    const opts = { title: `${this.title()}: ${measureCol.label}`, desc, fmt, fmtCat: spec.fmtCat };
    const row = h("div", { class: "chart-row" });
    const mainBox = h("div", { class: "chart-main" });
    row.append(mainBox);
    let tilesWidth = 0;
    if (spec.tiles) {
      tilesWidth = width >= 700 ? 340 : width;
    }
    const mainWidth = spec.tiles && width >= 700 ? width - tilesWidth - 16 : width;
    let svg;
    if (spec.kind === "line") svg = lineChart(spec.categories, spec.series, { ...opts, width: mainWidth });
    else if (spec.kind === "column") svg = columnChart(spec.categories, spec.series, { ...opts, width: mainWidth });
    else svg = barChart(spec.categories, spec.series, { ...opts, width: mainWidth });
    svg.dataset.kind = spec.kind;
    mainBox.append(svg);
    if (spec.series.length > 1) mainBox.append(legend(spec.series, spec.kind));
    if (spec.note) mainBox.append(h("p", { class: "drill-hint", text: spec.note }));
    if (spec.tiles) {
      const names = Object.fromEntries(this.counties.map((c) => [c.code, c.name]));
      const tiles = countyTiles(spec.tiles, names, { width: tilesWidth, fmt, title: `${measureCol.label} per län`, desc });
      tiles.dataset.kind = "tiles";
      row.append(h("div", { class: "chart-tiles" }, tiles));
    }
    this.figure.replaceChildren(caption, row);
  }
}

function isNumeric(c) {
  return c.type === "integer" || c.type === "number";
}
function isMeasure(c) {
  return isNumeric(c) && c.name !== "weekday";
}
function cap(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
function debounce(fn, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

function legend(series, kind) {
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
function chartSpec(report, answer, meta, measure) {
  const cols = answer.columns;
  const idx = Object.fromEntries(cols.map((c, i) => [c.name, i]));
  const labelOf = meta.label_of || {};
  const labelFor = Object.fromEntries(Object.entries(labelOf).map(([label, key]) => [key, label]));
  const dimSet = new Set(meta.dimensions || []);
  const dims = cols.filter((c) => (dimSet.has(c.name) || !isNumeric(c)) && !labelOf[c.name]).map((c) => c.name);
  const mi = idx[measure];
  const value = (row) => row[mi];
  const colLabel = (name) => (cols[idx[name]] ? cols[idx[name]].label : name);
  const rows = answer.rows;
  const levels = report.levels || [];

  const series2 = (x, sName) => {
    const cats = [];
    const names = [];
    const cell = new Map();
    for (const row of rows) {
      const xv = row[idx[x]];
      const sv = sName ? row[idx[sName]] : "";
      if (!cats.includes(xv)) cats.push(xv);
      if (!names.includes(sv)) names.push(sv);
      const key = JSON.stringify([xv, sv]);
      const v = value(row);
      const prev = cell.get(key);
      cell.set(key, prev === undefined ? v : prev === null || v === null ? (prev ?? v) : prev + v);
    }
    const series = names.map((sv) => ({
      name: sName ? formatDim(sName, sv) : colLabel(measure),
      values: cats.map((xv) => {
        const v = cell.get(JSON.stringify([xv, sv]));
        return v === undefined ? null : v;
      }),
    }));
    return { cats, series };
  };

  if (dims.includes("month")) {
    const other = dims.find((d) => d !== "month") || null;
    const { cats, series } = series2("month", other);
    return { kind: cats.length >= 3 ? "line" : "column", categories: cats, series, fmtCat: (c) => monthLabel(c), xLabel: colLabel("month") };
  }
  if (dims.includes("weekday")) {
    const other = dims.find((d) => d !== "weekday") || null;
    const { cats, series } = series2("weekday", other);
    return { kind: "column", categories: cats, series, fmtCat: (c) => formatDim("weekday", c, true), xLabel: colLabel("weekday") };
  }
  if (levels.length) {
    // Drill-down: one bar per row, named by the row's most specific labels.
    const present = levels.filter((l) => meta.levels[l] && idx[meta.levels[l].key] !== undefined);
    const nameOf = (row) => {
      const parts = [];
      const deepest = present[present.length - 1];
      const lastOrg = [...present].reverse().find((l) => labels().org_levels.includes(l));
      for (const l of present) {
        if (l !== deepest && l !== lastOrg) continue;
        const info = meta.levels[l];
        const v = info.label && idx[info.label] !== undefined ? row[idx[info.label]] : row[idx[info.key]];
        parts.push(v === null || v === undefined ? (own(labelsOf("missing"), info.key) || (row[idx[info.key]] ?? "–")) : formatDim(info.key, v));
      }
      return [...new Set(parts)].join(" · ");
    };
    const sorted = rows.map((r) => [nameOf(r), value(r), r]).sort((a, b) => (b[1] ?? -1) - (a[1] ?? -1));
    const top = sorted.slice(0, 25);
    const spec = {
      kind: "bar",
      categories: top.map((x) => x[0]),
      series: [{ name: colLabel(measure), values: top.map((x) => x[1]) }],
      fmtCat: (c) => c,
      note: sorted.length > top.length ? t("top_n", top.length, sorted.length) : null,
    };
    const deepest = present[present.length - 1];
    if (deepest && meta.levels[deepest].key === "county_code") spec.tiles = Object.fromEntries(rows.map((r) => [r[idx.county_code], value(r)]));
    return spec;
  }
  if (dims.includes("county_code")) {
    const nameIdx = idx[labelFor.county_code];
    const sorted = rows.map((r) => [nameIdx !== undefined ? r[nameIdx] : r[idx.county_code], value(r)]).sort((a, b) => (b[1] ?? -1) - (a[1] ?? -1));
    return {
      kind: "bar",
      categories: sorted.map((x) => x[0]),
      series: [{ name: colLabel(measure), values: sorted.map((x) => x[1]) }],
      fmtCat: (c) => String(c),
      tiles: Object.fromEntries(rows.map((r) => [r[idx.county_code], value(r)])),
    };
  }
  // Other categories: the dimension with more values on the axis, the other as series.
  let [x, s] = dims;
  if (x === undefined) return { kind: "bar", categories: rows.map((_, i) => String(i + 1)), series: [{ name: colLabel(measure), values: rows.map(value) }] };
  if (s !== undefined) {
    const distinct = (d) => new Set(rows.map((r) => r[idx[d]])).size;
    if (distinct(s) > distinct(x)) [x, s] = [s, x];
  }
  let { cats, series } = series2(x, s || null);
  if (!s && !labels().ordered.includes(x)) {
    const order = cats.map((c, i) => [c, series[0].values[i]]).sort((a, b) => (b[1] ?? -1) - (a[1] ?? -1));
    cats = order.map((o) => o[0]);
    series = [{ ...series[0], values: order.map((o) => o[1]) }];
  }
  return { kind: "bar", categories: cats, series, fmtCat: (c) => formatDim(x, c), xLabel: colLabel(x) };
}

async function downloadWithToken(anchor, url, name) {
  const r = await fetch(url, { headers: authHeaders(), cache: "no-store" });
  if (!r.ok) {
    let body = null;
    try { body = await r.json(); } catch { body = null; }
    throw new ApiError(r.status, body);
  }
  const href = URL.createObjectURL(await r.blob());
  const tmp = h("a", { href, download: name, "data-blob": "1", hidden: true });
  document.body.append(tmp);
  tmp.click();
  tmp.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60000);
}

// --- log in -------------------------------------------------------------------

function showLogin() {
  const main = document.getElementById("main");
  setTitle(t("login_title"));
  main.dataset.report = "";
  const box = h("div", { id: "login-state" });
  const errorBox = h("div", { id: "login-error" });
  const area = h("textarea", { id: "f-token", rows: "5", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { id: "login-form" },
    h("label", { for: "f-token", text: t("login_token") }), area,
    h("p", {}, h("button", { type: "submit", id: "login-submit", text: t("login_submit") })));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = area.value.trim().replace(/^Bearer\s+/i, "");
    if (!claims(value)) {
      showError(errorBox, new Error(t("login_bad")));
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, value);
    area.value = "";
    errorBox.replaceChildren();
    applyShell();
    render();
  });
  function render() {
    const c = token() ? claims() : null;
    if (!c) {
      box.replaceChildren();
      form.hidden = false;
      return;
    }
    form.hidden = true;
    const expires = c.exp ? new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "sv-SE", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Stockholm" }).format(new Date(c.exp * 1000)) : "–";
    const out = h("button", { type: "button", id: "logout", class: "secondary", text: t("logout") });
    out.addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      applyShell();
      render();
    });
    box.replaceChildren(h("dl", { class: "kpis" },
      h("div", {}, h("dt", { text: t("login_as") }), h("dd", { id: "login-sub", text: c.sub || "–" })),
      h("div", {}, h("dt", { text: t("login_scope") }), h("dd", { id: "login-scope", text: scopeText(c) })),
      h("div", {}, h("dt", { text: t("login_expires") }), h("dd", { text: expires }))),
      h("p", {}, link("/", t("nav_reports")), " ", out));
  }
  main.replaceChildren(h("h1", { text: t("login_title") }), h("p", { text: t("login_intro") }), errorBox, box, form);
  render();
}

// --- live view --------------------------------------------------------------

function showLive() {
  const main = document.getElementById("main");
  setTitle(t("live_title"));
  main.dataset.report = "";
  const status = h("p", { class: "status-line", id: "live-status" });
  const pause = h("button", { type: "button", class: "secondary", id: "live-pause", "aria-pressed": "false", text: t("pause") });
  const kpis = h("dl", { class: "kpis", id: "live-kpis" });
  const chart = h("figure", { class: "chart", id: "live-chart" });
  const byOp = h("section", { "aria-labelledby": "op-h" });
  const lag = h("section", { "aria-labelledby": "lag-h" });
  const dead = h("section", { "aria-labelledby": "dead-h" });
  const dup = h("section", { "aria-labelledby": "dup-h" });
  const extra = h("div", { id: "live-extra" });
  const errorBox = h("div", { id: "live-error" });
  main.replaceChildren(
    h("h1", { text: t("live_title") }),
    h("p", { text: t("live_intro") }),
    h("div", { class: "actions" }, pause),
    status, errorBox, kpis, chart, byOp,
    h("div", { class: "live-grid" }, lag, dead), dup, extra);

  let timer = null;
  let stopped = false;
  let paused = false;
  let polls = 0;
  let last = null;
  const draw = () => last && renderLive(last, { kpis, chart, byOp, lag, dead, dup, extra });
  const onResize = debounce(draw, 150);
  window.addEventListener("resize", onResize);

  async function poll() {
    timer = null;
    if (stopped) return;
    try {
      // The operations' labels come from the declarations (/api/v1/meta).
      [last] = await Promise.all([getJSON("/api/v1/live"), meta()]);
      if (stopped) return;
      polls += 1;
      errorBox.replaceChildren();
      draw();
      const now = new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "sv-SE", { timeStyle: "medium", timeZone: "Europe/Stockholm" }).format(new Date());
      status.textContent = `${t("updated")} ${now}${paused ? ` (${t("paused")})` : ""}`;
      status.dataset.polls = String(polls);
    } catch (err) {
      if (!stopped) showError(errorBox, err);
    }
    if (!stopped && !paused) timer = setTimeout(poll, POLL_MS);
  }
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? t("resume") : t("pause");
    if (!paused && !timer) poll();
    else if (paused && timer) {
      clearTimeout(timer);
      timer = null;
      status.textContent += ` (${t("paused")})`;
    }
  });
  stopPage = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    window.removeEventListener("resize", onResize);
  };
  poll();
}

function simpleTable(id, caption, headers, rows, numeric = []) {
  if (!rows.length) return h("p", { class: "loading", id, text: t("none") });
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", { class: "data", id },
      h("caption", { class: "sr-only", text: caption }),
      h("thead", {}, h("tr", {}, headers.map((x, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : null, text: x })))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((v, i) => {
        const [shown, raw] = Array.isArray(v) ? v : [v, v];
        return h(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, class: numeric.includes(i) ? "num" : null, "data-v": JSON.stringify(raw), text: shown });
      }))))));
}

function minuteKey(d) {
  return d.toISOString().slice(0, 16) + ":00Z";
}

function renderLive(data, parts) {
  const per = data.per_minute || [];
  const now = new Date();
  const minutes = [];
  for (let i = 59; i >= 0; i--) minutes.push(minuteKey(new Date(now.getTime() - i * 60000)));
  // per topic/operation: events per minute, errors
  const keyOf = (r) => `${r.topic} · ${r.operation}`;
  const groups = new Map();
  let total = 0;
  let errors = 0;
  for (const r of per) {
    const k = keyOf(r);
    if (!groups.has(k)) groups.set(k, { topic: r.topic, operation: r.operation, events: 0, errors: 0, byMinute: new Map() });
    const g = groups.get(k);
    g.events += r.events;
    total += r.events;
    if (r.status === "error") {
      g.errors += r.events;
      errors += r.events;
    }
    g.byMinute.set(r.minute, (g.byMinute.get(r.minute) || 0) + r.events);
  }
  const lastMinute = minutes[minutes.length - 1];
  const lastMinuteCount = per.filter((r) => r.minute === lastMinute).reduce((s, r) => s + r.events, 0);
  const sum = (list) => (list || []).reduce((s, x) => s + (x.value || 0), 0);
  const lagTotal = sum(data.consumer_lag);
  const deadTotal = sum(data.dead_letters);
  const dupTotal = sum(data.duplicates);
  const kpi = (id, label, v, shown) => h("div", {}, h("dt", { text: label }), h("dd", { id, "data-v": JSON.stringify(v), text: shown }));
  parts.kpis.replaceChildren(
    kpi("live-last-minute", t("kpi_last_minute"), lastMinuteCount, nf().format(lastMinuteCount)),
    kpi("live-total", t("kpi_hour"), total, nf().format(total)),
    kpi("live-error-share", t("kpi_error_share"), total ? errors / total : null, total ? pf().format(errors / total) : "–"),
    kpi("live-lag", t("kpi_lag"), lagTotal, nf().format(lagTotal)),
    kpi("live-dead", t("kpi_dead"), deadTotal, nf().format(deadTotal)),
    kpi("live-dup", t("kpi_dup"), dupTotal, nf().format(dupTotal)));

  const ordered = [...groups.values()].sort((a, b) => b.events - a.events);
  const series = ordered.map((g) => ({ name: formatOp(g), values: minutes.map((m) => g.byMinute.get(m) || 0) }));
  const width = Math.max(280, parts.chart.clientWidth || 640);
  const timeFmt = new Intl.DateTimeFormat("sv-SE", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Stockholm" });
  const fmtCat = (m) => timeFmt.format(new Date(m));
  const svg = lineChart(minutes, series.length ? series : [{ name: t("events"), values: minutes.map(() => 0) }],
    { width, height: 260, title: t("per_minute"), desc: t("per_minute"), fmt: (v) => nf().format(v), fmtCat });
  svg.dataset.kind = "line";
  parts.chart.replaceChildren(h("figcaption", { text: t("per_minute") }), svg, series.length > 1 ? legend(series, "line") : "");

  parts.byOp.replaceChildren(h("h2", { id: "op-h", text: t("by_operation") }), simpleTable("live-ops", t("by_operation"),
    [t("operation"), t("topic"), t("events"), t("errors"), t("error_share")],
    ordered.map((g) => [[formatOp(g, false), g.operation], g.topic, [nf().format(g.events), g.events], [nf().format(g.errors), g.errors],
      [g.events ? pf().format(g.errors / g.events) : "–", g.events ? g.errors / g.events : null]]), [2, 3, 4]));

  const lagRows = [...(data.consumer_lag || [])].sort((a, b) => (a.topic || "").localeCompare(b.topic || "") || Number(a.partition) - Number(b.partition));
  parts.lag.replaceChildren(h("h2", { id: "lag-h", text: t("lag_title") }), simpleTable("live-lag-table", t("lag_title"),
    [t("topic"), t("partition"), t("lag")], lagRows.map((r) => [r.topic || "–", r.partition ?? "–", [nf().format(r.value), r.value]]), [1, 2]));
  const deadRows = (data.dead_letters || []).filter((r) => r.value > 0);
  parts.dead.replaceChildren(h("h2", { id: "dead-h", text: t("dead_title") }), simpleTable("live-dead-table", t("dead_title"),
    [t("topic"), t("count")], deadRows.map((r) => [r.topic || "–", [nf().format(r.value), r.value]]), [1]));
  const dupRows = (data.duplicates || []).filter((r) => r.value > 0);
  parts.dup.replaceChildren(h("h2", { id: "dup-h", text: t("dup_title") }), simpleTable("live-dup-table", t("dup_title"),
    [t("topic"), t("count")], dupRows.map((r) => [r.topic || "–", [nf().format(r.value), r.value]]), [1]));

  // Whatever else the endpoint reports (latest dead-letter reasons,
  // reconciliation results, ...) as plain tables, so new fields show up.
  const known = new Set(["per_minute", "consumer_lag", "dead_letters", "duplicates"]);
  const extras = Object.entries(data).filter(([k, v]) => !known.has(k) && Array.isArray(v) && v.every((x) => x && typeof x === "object"));
  parts.extra.replaceChildren(...extras.flatMap(([k, list]) => {
    const headers = [...new Set(list.flatMap((x) => Object.keys(x)))];
    const title = k.replace(/_/g, " ");
    return [h("h2", { text: cap(title) }), simpleTable(`live-${k}`, title, headers, list.map((x) => headers.map((c) => (x[c] === null || x[c] === undefined ? "–" : typeof x[c] === "object" ? JSON.stringify(x[c]) : String(x[c])))))];
  }));
}

function formatOp(g, withTopic = true) {
  const label = own(labelsOf("operations"), g.operation);
  const op = label ? `${label} (${g.operation})` : g.operation;
  return withTopic ? `${op}` : op;
}

route();
