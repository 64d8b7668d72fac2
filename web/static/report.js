// One report (/r/{service}/{report}): chart, table, period, filters,
// drill-down and exports. All view state lives in the query string.
import { barChart, columnChart, countyTiles, lineChart } from "./chart.js";
import { lang, query, t } from "./i18n.js";
import { ApiError, authHeaders, cap, catalogue, debounce, filterLabel, formatCell, formatChoice, formatDim, formatInstant, formatMeasure, getJSON, h, isMeasure, isNumeric, isShare, labels, labelsOf, legend, levelLabel, link, meta, monthLabel, navigate, own, page, setTitle, showError, token } from "./common.js";

// --- report page ------------------------------------------------------------

const UI_ONLY = new Set(["lang", "sort"]); // lang goes to the API too, which accepts it; sort is the table's own

// Period presets: the dates are Stockholm's, as the API's.
const PRESETS = ["30d", "year", "12m", "prev_year"];
const iso = (y, m, d) => new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);

export function stockholmToday(now) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Stockholm", year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return [get("year"), get("month"), get("day")];
}

export function presetPeriod(name, now) {
  const [y, m, d] = stockholmToday(now);
  if (name === "30d") return [iso(y, m, d - 29), iso(y, m, d)];
  if (name === "year") return [iso(y, 1, 1), iso(y, m, d)];
  if (name === "prev_year") return [iso(y - 1, 1, 1), iso(y - 1, 12, 31)];
  // the last 12 complete months (the API's default period)
  return [iso(y, m - 12, 1), iso(y, m, 0)];
}

// The current month ("YYYY-MM") in Stockholm: later months are not drawn.
const thisMonth = () => {
  const [y, m] = stockholmToday(new Date());
  return `${y}-${String(m).padStart(2, "0")}`;
};

export let reportPage = null;
export function forgetReport() {
  reportPage = null;
}
let loads = 0; // answers rendered in this document (tests wait on it)

function apiParams(q = query()) {
  const out = new URLSearchParams();
  for (const [k, v] of q) if (!UI_ONLY.has(k) || k === "lang") out.append(k, v);
  return out;
}

function splitValues(q, name) {
  return q.getAll(name).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

export async function showReport(service, id) {
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
    // Which columns add up (declared with the report): the total row sums these only.
    this.sums = new Set((report.columns || []).filter((c) => c.sums).map((c) => c.name));
    this.build();
    this.onResize = debounce(() => this.drawChart(), 150);
    window.addEventListener("resize", this.onResize);
    page.stop = () => window.removeEventListener("resize", this.onResize);
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
    const compare = h("select", { id: "f-compare", name: "compare" },
      ["", "previous", "year"].map((v) => h("option", { value: v, "data-t": v ? `compare_${v}` : "compare_none" })));
    period.append(h("div", { class: "field" }, h("label", { for: "f-compare", "data-t": "compare" }), compare));
    this.fields.compare = compare;
    const presets = h("div", { class: "presets", role: "group", "aria-labelledby": "presets-l" },
      h("span", { id: "presets-l", "data-t": "presets" }),
      ...PRESETS.map((name) => h("button", { type: "button", class: "secondary preset", "data-preset": name, "data-t": `preset_${name}`,
        onclick: () => this.preset(name) })));
    period.append(presets);
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
      const field = h("div", { class: "field" },
        h("label", { for: id, "data-filter": name }), control, h("span", { class: "hint", id: hintId, "data-t": hint, "data-hint": name }));
      if (control.multiple) {
        const summary = h("span", { class: "chosen", id: `${id}-chosen`, "aria-live": "polite" });
        control.setAttribute("aria-describedby", `${hintId} ${id}-chosen`);
        control.addEventListener("change", () => this.summarise(control));
        field.append(summary);
      }
      filters.append(field);
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

  // What a multi-select has chosen, in words: a long list is not visible at once.
  summarise(control) {
    const summary = document.getElementById(`${control.id}-chosen`);
    if (!summary) return;
    const names = [...control.selectedOptions].map((o) => o.textContent);
    summary.textContent = names.length ? t("selected", names.join(", ")) : t("selected_all");
  }

  // A preset fills the period and shows it at once.
  preset(name) {
    const [from, to] = presetPeriod(name, new Date());
    this.fields.from.value = from;
    this.fields.to.value = to;
    this.apply();
  }

  // Text of the static parts in the current language.
  relabel() {
    const L = lang();
    for (const node of this.main.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
    for (const node of this.main.querySelectorAll("[data-filter]")) node.textContent = filterLabel(node.dataset.filter);
    // a filter's own hint, declared with its service, over the generic one
    for (const node of this.main.querySelectorAll("[data-hint]")) node.textContent = own(labelsOf("hints"), node.dataset.hint) || node.textContent;
    for (const node of this.main.querySelectorAll("option[data-level]")) node.textContent = cap(levelLabel(node.value));
    for (const node of this.main.querySelectorAll("option[data-choice]")) node.textContent = formatChoice(node.dataset.choice, node.value);
    this.heading.textContent = this.title();
    setTitle(this.title());
    const svcTitle = L === "en" ? this.service.title_en : this.service.title;
    this.crumbs.replaceChildren(h("ol", {}, h("li", {}, link("/", t("nav_reports"))), h("li", {}, svcTitle)));
    this.definition.replaceChildren(h("p", {}, h("strong", {}, `${t("definition")}: `), h("span", { text: L === "en" ? this.report.description_en : this.report.description })));
  }

  // The form shows the URL's state (or the API's defaults for what the URL leaves out).
  fillForm(q, echo) {
    this.fields.from.value = q.get("from") || (echo && echo.from) || "";
    this.fields.to.value = q.get("to") || (echo && echo.to) || "";
    if (this.fields.level) this.fields.level.value = q.get("level") || (echo && echo.level) || this.report.levels[this.report.levels.length - 1];
    this.fields.compare.value = q.get("compare") || "";
    for (const name of this.report.filters) {
      const control = this.fields[name];
      const values = splitValues(q, name);
      if (control.tagName === "SELECT") {
        for (const opt of control.options) opt.selected = values.includes(opt.value);
        this.summarise(control);
      } else control.value = values.join(", ");
    }
  }

  formQuery() {
    const q = new URLSearchParams();
    if (this.fields.from.value) q.set("from", this.fields.from.value);
    if (this.fields.to.value) q.set("to", this.fields.to.value);
    if (this.fields.level) q.set("level", this.fields.level.value);
    if (this.fields.compare.value) q.set("compare", this.fields.compare.value);
    for (const name of this.report.filters) {
      const control = this.fields[name];
      const values = control.tagName === "SELECT"
        ? [...control.selectedOptions].map((o) => o.value)
        : control.value.split(",").map((v) => v.trim()).filter(Boolean);
      for (const v of values) q.append(name, v);
    }
    if (lang() === "en") q.set("lang", "en");
    const sort = query().get("sort");
    if (sort) q.set("sort", sort);
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
      q.delete("compare"); // a comparison is answered in JSON only
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

  // The table's order: the API's unless a column was chosen (?sort=name or
  // ?sort=-name); empty (withheld) cells last either way.
  sortState() {
    const raw = query().get("sort") || "";
    const desc = raw.startsWith("-");
    const name = desc ? raw.slice(1) : raw;
    const i = this.answer.columns.findIndex((c) => c.name === name);
    return i < 0 ? null : { name, i, desc };
  }

  sortBy(name) {
    const now = this.sortState();
    const col = this.answer.columns.find((c) => c.name === name);
    // Numbers start largest first, text A–Ö; a second click turns the order.
    const first = isMeasure(col) ? "-" : "";
    const next = now && now.name === name ? (now.desc ? "" : "-") : first;
    const q = query();
    q.set("sort", `${next}${name}`);
    history.replaceState(null, "", `${location.pathname}?${q}`);
    this.renderTable();
    const btn = this.tableBox.querySelector(`th[data-col="${CSS.escape(name)}"] button`);
    if (btn) btn.focus();
  }

  sortedRows() {
    const rows = this.answer.rows.slice();
    const s = this.sortState();
    if (!s) return rows;
    const col = this.answer.columns[s.i];
    const collator = new Intl.Collator(lang() === "en" ? "en" : "sv", { numeric: true });
    const key = (r) => r[s.i];
    rows.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
      if (y === null || y === undefined) return -1;
      const d = typeof x === "number" && typeof y === "number" ? x - y : collator.compare(formatCell(col, x), formatCell(col, y));
      return s.desc ? -d : d;
    });
    return rows;
  }

  // The comparison period's rows by the same dimensions; months by their
  // place in the period (the first month of each period side by side).
  comparisonRows() {
    const a = this.answer;
    if (!a.comparison) return null;
    const cols = a.columns;
    const dims = cols.map((c, i) => (isMeasure(c) ? -1 : i)).filter((i) => i >= 0);
    const mi = cols.findIndex((c) => c.name === "month");
    const start = (iso) => { const [y, m] = iso.split("-").map(Number); return y * 12 + m; };
    const keyOf = (row, from) => JSON.stringify(dims.map((i) => (i === mi ? start(row[i]) - start(from) : row[i])));
    const found = new Map(a.comparison.rows.map((r) => [keyOf(r, a.comparison.from), r]));
    return (row) => found.get(keyOf(row, a.params.from)) || null;
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
    const sort = this.sortState();
    const earlier = this.comparisonRows();
    const compared = earlier ? cols.map((c, j) => (isMeasure(c) ? j : -1)).filter((j) => j >= 0) : [];
    const headRow = h("tr", {}, cols.map((c) => {
      const sorted = sort && sort.name === c.name ? (sort.desc ? "descending" : "ascending") : null;
      // The label is the button's whole text (the arrow is CSS), so the header reads as the column.
      const btn = h("button", { type: "button", class: "sort", title: t("sort_by", c.label), text: c.label, onclick: () => this.sortBy(c.name) });
      return h("th", { scope: "col", class: isMeasure(c) ? "num" : null, "data-col": c.name, "aria-sort": sorted }, btn);
    }));
    for (const j of compared) headRow.append(h("th", { scope: "col", class: "num compare", "data-compare": cols[j].name, text: t("compare_col", cols[j].label) }));
    const thead = h("thead", {}, headRow);
    const tbody = h("tbody");
    const overOne = new Set();
    for (const row of this.sortedRows()) {
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
        if (isShare(c.name) && typeof v === "number" && v > 1) {
          overOne.add(c.label);
          cell.classList.add("over-one");
        }
        tr.append(cell);
      });
      if (earlier) {
        const other = earlier(row);
        for (const j of compared) {
          const v = other ? other[j] : null;
          tr.append(h("td", { class: "num compare", "data-compare-v": JSON.stringify(v) }, formatCell(cols[j], v)));
        }
      }
      if (drill) {
        tr.addEventListener("click", (ev) => {
          if (ev.target.closest("a")) return;
          navigate(drill);
        });
      }
      tbody.append(tr);
    }
    const caption = h("caption", {}, `${this.title()} (${t("rows", a.rows.length)})`);
    // Many columns (hierarchies, case types per unit) set tighter, so all fit at 1366 px.
    const wide = cols.length + compared.length > 9;
    const table = h("table", { class: wide ? "data wide" : "data", id: "report-table" }, caption, thead, tbody);
    const total = this.totalRow(cols, headerIdx, compared);
    if (total) table.append(h("tfoot", {}, total));
    const parts = [h("h2", { id: "table-h", text: t("table") })];
    if (a.comparison) parts.push(h("p", { class: "compare-period", id: "compare-period" }, t("compare_period", a.comparison.from, a.comparison.to)));
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
    // A share over 1 is right by definition (completions of moments started
    // earlier): the table says so under itself.
    for (const label of overOne) parts.push(h("p", { class: "share-note", "data-share-note": "" }, t("share_over_one", label)));
    this.tableBox.replaceChildren(...parts);
  }

  // "Riket" (or "Totalt" under a county filter or without counties): the sum of
  // each column that adds up, declared per column; a column with a withheld
  // cell has no total (the sum would give the withheld value away).
  totalRow(cols, headerIdx, compared) {
    const a = this.answer;
    if (a.rows.length < 2) return null;
    const summed = cols.map((c, j) => (this.sums.has(c.name) && isMeasure(c) ? j : -1)).filter((j) => j >= 0);
    if (!summed.length) return null;
    const sum = (rows, j) => (rows.some((r) => r[j] === null || r[j] === undefined) ? null : rows.reduce((acc, r) => acc + r[j], 0));
    // "Riket" only for the whole country by county (the rows are named by
    // county); any filter, or rows of organisations, make it "Totalt".
    const filtered = this.report.filters.some((f) => splitValues(query(), f).length);
    const rowName = cols[headerIdx].name;
    const nation = !filtered && (this.meta.label_of[rowName] || rowName) === "county_code";
    const name = t(nation ? "nation" : "total");
    const labelAt = headerIdx;
    const tr = h("tr", { class: "total", id: "total-row" });
    cols.forEach((c, j) => {
      if (j === labelAt) {
        tr.append(h("th", { scope: "row", text: name }));
        return;
      }
      if (!summed.includes(j)) {
        tr.append(h("td", { class: isMeasure(c) ? "num" : null }));
        return;
      }
      const v = sum(a.rows, j);
      tr.append(h("td", { class: "num", "data-col": c.name, "data-v": JSON.stringify(v), title: v === null ? t("withheld") : null }, formatCell(c, v)));
    });
    if (compared.length) {
      const earlier = a.comparison.rows;
      for (const j of compared) {
        const v = summed.includes(j) && earlier.length ? sum(earlier, j) : null;
        tr.append(h("td", { class: "num compare" }, summed.includes(j) && earlier.length ? formatCell(cols[j], v) : ""));
      }
    }
    return tr;
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
    if (!measures.length) {
      this.chartBox.replaceChildren();
      return;
    }
    const idx = measures.map((c) => this.answer.columns.indexOf(c));
    const any = this.answer.rows.some((r) => idx.some((i) => typeof r[i] === "number" && r[i] !== 0));
    if (!any) {
      // Nothing happened in the period (or all is withheld): no flat line on
      // a made-up axis, but words.
      this.figure = null;
      this.chartBox.replaceChildren(h("h2", { id: "chart-h", class: "sr-only", text: t("chart") }),
        h("p", { class: "no-data", id: "no-data", role: "status", text: t("no_data") }));
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
    const fmt = (v) => formatMeasure(this.measure, v, measureCol.type);
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
    const bands = spec.months ? qualityBands(this.answer.annotations || [], spec.categories) : [];
    if (bands.length) opts.bands = bands;
    let svg;
    if (spec.kind === "line") svg = lineChart(spec.categories, spec.series, { ...opts, width: mainWidth });
    else if (spec.kind === "column") svg = columnChart(spec.categories, spec.series, { ...opts, width: mainWidth });
    else svg = barChart(spec.categories, spec.series, { ...opts, width: mainWidth });
    svg.dataset.kind = spec.kind;
    mainBox.append(svg);
    if (spec.series.length > 1) mainBox.append(legend(spec.series, spec.kind));
    if (spec.note) mainBox.append(h("p", { class: "drill-hint", text: spec.note }));
    if (bands.length) mainBox.append(h("p", { class: "band-key", id: "band-key" }, h("span", { class: "band-swatch", "aria-hidden": "true" }), t("quality_band")));
    if (spec.tiles) {
      const names = Object.fromEntries(this.counties.map((c) => [c.code, c.name]));
      const tiles = countyTiles(spec.tiles, names, { width: tilesWidth, fmt, title: `${measureCol.label} per län`, desc });
      tiles.dataset.kind = "tiles";
      row.append(h("div", { class: "chart-tiles" }, tiles));
    }
    this.figure.replaceChildren(caption, row);
  }
}


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
    let { cats, series } = series2("month", other);
    // A month after this one has not happened: it is not drawn as a zero.
    const now = thisMonth();
    const keep = cats.map((c) => String(c) <= now);
    cats = cats.filter((_, i) => keep[i]);
    series = series.map((s) => ({ ...s, values: s.values.filter((_, i) => keep[i]) }));
    if (answer.comparison && !other) {
      // One line: the comparison period beside it, month by month from each start.
      const start = (iso) => { const [y, m] = String(iso).split("-").map(Number); return y * 12 + m; };
      const earlier = new Map(answer.comparison.rows.map((r) => [start(r[idx.month]) - start(answer.comparison.from), value(r)]));
      series.push({ name: t("compare_col", colLabel(measure)), compare: true,
        values: cats.map((c) => earlier.get(start(c) - start(answer.params.from)) ?? null) });
    }
    return { kind: cats.length >= 3 ? "line" : "column", categories: cats, series, fmtCat: (c) => monthLabel(c), xLabel: colLabel("month"), months: true };
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

// The months a data-quality note touches, as index ranges of the chart's
// month categories ("YYYY-MM"), with the note's text for the band's tooltip.
export function qualityBands(annotations, months) {
  const out = [];
  for (const a of annotations) {
    const first = months.findIndex((m) => String(m) >= a.from.slice(0, 7));
    let last = -1;
    months.forEach((m, i) => { if (String(m) <= a.to.slice(0, 7)) last = i; });
    if (first >= 0 && last >= first) out.push({ from: first, to: last, title: `${a.from} – ${a.to}: ${a.text}` });
  }
  return out;
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

