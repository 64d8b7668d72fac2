// The operations live view (/live): polls /api/v1/live every 3 s.
import { lineChart } from "./chart.js";
import { lang, t } from "./i18n.js";
import { cap, claims, debounce, getJSON, h, labels, labelsOf, legend, link, meta, nf, own, page, pf, setTitle, showError, token } from "./common.js";

const POLL_MS = 3000;

// --- live view --------------------------------------------------------------

export function showLive() {
  const main = document.getElementById("main");
  setTitle(t("live_title"));
  main.dataset.report = "";
  // operations staff only (the API answers 401/403 otherwise): say so, and where to log in
  const c = token() ? claims() : null;
  if (!c || !(c.roles || []).includes("operator")) {
    main.replaceChildren(h("h1", { text: t("live_title") }), h("p", { id: "live-need-operator", text: t("live_need_operator") }),
      h("p", {}, link("/login", t("nav_login"))));
    return;
  }
  const status = h("p", { class: "status-line", id: "live-status" });
  const pause = h("button", { type: "button", class: "secondary", id: "live-pause", "aria-pressed": "false", text: t("pause") });
  const kpis = h("dl", { class: "kpis", id: "live-kpis" });
  const chart = h("figure", { class: "chart", id: "live-chart" });
  const byOp = h("section", { "aria-labelledby": "op-h" });
  const lag = h("section", { "aria-labelledby": "lag-h" });
  const dead = h("section", { "aria-labelledby": "dead-h" });
  const fresh = h("section", { "aria-labelledby": "fresh-h" });
  const workers = h("section", { "aria-labelledby": "workers-h" });
  const extra = h("div", { id: "live-extra" });
  const errorBox = h("div", { id: "live-error" });
  main.replaceChildren(
    h("h1", { text: t("live_title") }),
    h("p", { text: t("live_intro") }),
    h("p", {}, link("/live/dead-letters", t("dlq_link"))),
    h("div", { class: "actions" }, pause),
    status, errorBox, kpis, chart, byOp,
    h("div", { class: "live-grid" }, lag, dead), fresh, workers, extra);

  let timer = null;
  let stopped = false;
  let paused = false;
  let polls = 0;
  let last = null;
  const draw = () => last && renderLive(last, { kpis, chart, byOp, lag, dead, fresh, workers, extra });
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
  page.stop = () => {
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
  const workerNames = new Set((data.workers || []).map((w) => w.worker));
  const p99s = (data.freshness || []).map((f) => f.delay_p99_seconds).filter((v) => v !== null && v !== undefined);
  const p99 = p99s.length ? Math.max(...p99s) : null;
  const kpi = (id, label, v, shown) => h("div", {}, h("dt", { text: label }), h("dd", { id, "data-v": JSON.stringify(v), text: shown }));
  parts.kpis.replaceChildren(
    kpi("live-last-minute", t("kpi_last_minute"), lastMinuteCount, nf().format(lastMinuteCount)),
    kpi("live-total", t("kpi_hour"), total, nf().format(total)),
    kpi("live-error-share", t("kpi_error_share"), total ? errors / total : null, total ? pf().format(errors / total) : "–"),
    kpi("live-lag", t("kpi_lag"), lagTotal, nf().format(lagTotal)),
    kpi("live-dead", t("kpi_dead"), deadTotal, nf().format(deadTotal)),
    kpi("live-workers", t("kpi_workers"), workerNames.size, nf().format(workerNames.size)),
    kpi("live-delay", t("kpi_delay_p99"), p99, p99 === null ? "–" : nf().format(p99)));

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

  const num = (v) => (v === null || v === undefined ? [t("figure_missing"), null] : [nf().format(v), v]);
  const lagRows = [...(data.consumer_lag || [])].sort((a, b) => (a.topic || "").localeCompare(b.topic || "") || Number(a.partition) - Number(b.partition));
  parts.lag.replaceChildren(h("h2", { id: "lag-h", text: t("lag_title") }), simpleTable("live-lag-table", t("lag_title"),
    [t("topic"), t("partition"), t("lag"), t("worker")], lagRows.map((r) => [r.topic || "–", r.partition ?? "–", num(r.value), r.worker || "–"]), [1, 2]));
  const deadRows = (data.dead_letters || []).filter((r) => r.value > 0);
  parts.dead.replaceChildren(h("h2", { id: "dead-h", text: t("dead_title") }), simpleTable("live-dead-table", t("dead_title"),
    [t("topic"), t("count"), t("last_hour")], deadRows.map((r) => [r.topic || "–", [nf().format(r.value), r.value], num(r.last_hour)]), [1, 2]));
  parts.fresh.replaceChildren(h("h2", { id: "fresh-h", text: t("fresh_title") }), simpleTable("live-fresh-table", t("fresh_title"),
    [t("topic"), t("newest_event"), t("age"), t("delay_p50"), t("delay_p99")],
    (data.freshness || []).map((r) => [r.topic, r.newest_event || "–", num(r.age_seconds), num(r.delay_p50_seconds), num(r.delay_p99_seconds)]), [2, 3, 4]));
  parts.workers.replaceChildren(h("h2", { id: "workers-h", text: t("workers_title") }), simpleTable("live-workers-table", t("workers_title"),
    [t("worker"), t("topic"), t("partitions"), t("last_seen"), t("worker_paused")],
    (data.workers || []).map((w) => [w.worker, w.topic, w.partitions.join(", ") || "–", num(w.last_seen_seconds), w.paused ? t("yes") : t("no")]), [3]));

  // Whatever else the endpoint reports (latest dead-letter reasons,
  // reconciliation results, ...) as plain tables, so new fields show up.
  const known = new Set(["per_minute", "consumer_lag", "dead_letters", "freshness", "workers"]);
  const extras = Object.entries(data).filter(([k, v]) => !known.has(k) && Array.isArray(v) && v.every((x) => x && typeof x === "object"));
  parts.extra.replaceChildren(...extras.flatMap(([k, list]) => {
    const headers = [...new Set(list.flatMap((x) => Object.keys(x)))];
    // Swedish (or English) labels where the field is known; the raw name otherwise
    const title = t(k) === k ? cap(k.replace(/_/g, " ")) : t(k);
    const shown = headers.map((c) => (t(`col_${c}`) === `col_${c}` ? c : t(`col_${c}`)));
    return [h("h2", { text: title }), simpleTable(`live-${k}`, title, shown, list.map((x) => headers.map((c) => (x[c] === null || x[c] === undefined ? "–" : typeof x[c] === "object" ? JSON.stringify(x[c]) : String(x[c])))))];
  }));
}

function formatOp(g, withTopic = true) {
  const label = own(labelsOf("operations"), g.operation);
  const op = label ? `${label} (${g.operation})` : g.operation;
  return withTopic ? `${op}` : op;
}

