// Dead letters (/live/dead-letters), under the operations view: the listing
// with its filters (kept in the query string), counts per topic and reason
// class, one message's detail and the record of replays. Operator role only:
// the API refuses everyone else. Every value is set as text, never as HTML;
// a message's bytes arrive from the API already redacted and cut.
import { lang, query, t } from "./i18n.js";
import { ApiError, authHeaders, claims, getJSON, h, link, navigate, nf, setTitle, showError, token } from "./common.js";

const FILTERS = ["topic", "reason", "reason_class", "status", "from", "to", "partition", "offset", "page", "per_page"];

function params() {
  const q = query();
  const out = new URLSearchParams();
  for (const k of FILTERS) if (q.get(k)) out.set(k, q.get(k));
  return out;
}

function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "–";
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "sv-SE", { dateStyle: "short", timeStyle: "medium", timeZone: "Europe/Stockholm" }).format(d);
}

function table(id, caption, headers, rows, onRow) {
  if (!rows.length) return h("p", { class: "loading", id, text: t("none") });
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", { class: "data", id },
      h("caption", { class: "sr-only", text: caption }),
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col", text: x })))),
      h("tbody", {}, rows.map((r, i) => {
        const tr = h("tr", { class: onRow ? "drillable" : null }, r.map((v, j) => h(j === 0 ? "th" : "td", { scope: j === 0 ? "row" : null, text: v === null || v === undefined ? "–" : String(v) })));
        if (onRow) {
          tr.tabIndex = 0;
          tr.addEventListener("click", () => onRow(i));
          tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") onRow(i); });
        }
        return tr;
      }))));
}

export async function showDeadLetters() {
  const main = document.getElementById("main");
  setTitle(t("dlq_title"));
  main.dataset.report = "";
  const errorBox = h("div", { id: "dlq-error" });
  const c = token() ? claims() : null;
  if (!c || !(c.roles || []).includes("operator")) {
    main.replaceChildren(h("h1", { text: t("dlq_title") }), h("p", { text: t("dlq_need_operator") }),
      h("p", {}, link("/login", t("nav_login"))));
    return;
  }
  const q = query();
  const input = (name, type = "text", attrs = {}) => h("input", { id: `dlq-${name}`, name, type, value: q.get(name) || "", ...attrs });
  const select = (name, values) => h("select", { id: `dlq-${name}`, name },
    h("option", { value: "", text: t("all") }),
    values.map((v) => h("option", { value: v, text: t(`dlq_${name}_${v}`), selected: q.get(name) === v ? "" : null })));
  const field = (name, control) => h("div", {}, h("label", { for: `dlq-${name}`, text: t(`dlq_f_${name}`) }), control);
  const topicSel = h("select", { id: "dlq-topic", name: "topic" }, h("option", { value: "", text: t("all") }));
  const classSel = h("select", { id: "dlq-reason_class", name: "reason_class" }, h("option", { value: "", text: t("all") }));
  const form = h("form", { class: "filters", id: "dlq-filters" },
    h("fieldset", {}, h("legend", { text: t("filters") }),
      field("topic", topicSel),
      field("reason", input("reason", "text", { maxlength: "200" })),
      field("reason_class", classSel),
      field("status", select("status", ["dead", "replayed"])),
      field("from", input("from", "date")),
      field("to", input("to", "date")),
      field("partition", input("partition", "number", { min: "0" })),
      field("offset", input("offset", "number", { min: "0" }))),
    h("p", {}, h("button", { type: "submit", text: t("show") }), " ", link("/live/dead-letters", t("clear"))));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const out = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) out.set(k, String(v));
    if (lang() === "en") out.set("lang", "en");
    const s = out.toString();
    navigate(`/live/dead-letters${s ? `?${s}` : ""}`);
  });
  const counts = h("section", { "aria-labelledby": "dlq-counts-h" });
  const listing = h("section", { "aria-labelledby": "dlq-list-h" });
  const detail = h("section", { id: "dlq-detail", "aria-live": "polite" });
  const runs = h("section", { "aria-labelledby": "dlq-runs-h" });
  const replayBox = h("section", { id: "dlq-replay" });
  main.replaceChildren(h("h1", { text: t("dlq_title") }), h("p", { text: t("dlq_intro") }),
    h("p", {}, link("/live", t("dlq_back"))), errorBox, form, counts, listing, detail, replayBox, runs);

  const p = params();
  try {
    const [list, stats, record] = await Promise.all([
      getJSON(`/api/v1/dead-letters?${p}`),
      getJSON(`/api/v1/dead-letters/stats?${withoutPaging(p)}`),
      getJSON("/api/v1/dead-letters/replays?limit=20"),
    ]);
    for (const name of list.topics || []) topicSel.append(h("option", { value: name, text: name, selected: q.get("topic") === name ? "" : null }));
    for (const cls of list.reason_classes || []) classSel.append(h("option", { value: cls, text: t(`dlq_class_${cls}`), selected: q.get("reason_class") === cls ? "" : null }));
    counts.replaceChildren(h("h2", { id: "dlq-counts-h", text: t("dlq_counts") }),
      table("dlq-counts-table", t("dlq_counts"), [t("topic"), t("dlq_f_reason_class"), t("dlq_dead"), t("dlq_replayed")],
        stats.totals.map((r) => [r.topic, t(`dlq_class_${r.reason_class}`), nf().format(r.dead), nf().format(r.replayed)])),
      h("h3", { text: t("dlq_per_day") }),
      table("dlq-series-table", t("dlq_per_day"), [t("dlq_day"), t("topic"), t("dlq_f_reason_class"), t("dlq_dead"), t("dlq_replayed")],
        stats.series.map((r) => [r.at.slice(0, 10), r.topic, t(`dlq_class_${r.reason_class}`), nf().format(r.dead), nf().format(r.replayed)])));
    const items = list.items;
    listing.replaceChildren(h("h2", { id: "dlq-list-h", text: t("dlq_list", nf().format(list.total)) }),
      table("dlq-table", t("dlq_title"), [t("dlq_at"), t("topic"), t("partition"), t("dlq_offset"), t("dlq_f_status"), t("dlq_f_reason_class"), t("dlq_reason")],
        items.map((i) => [when(i.at), i.topic, i.partition, i.offset, t(`dlq_status_${i.status}`), t(`dlq_class_${i.reason_class}`), i.reason]),
        (n) => showDetail(detail, items[n])),
      pager(list));
    runs.replaceChildren(h("h2", { id: "dlq-runs-h", text: t("dlq_runs") }),
      table("dlq-runs-table", t("dlq_runs"), [t("dlq_at"), t("dlq_by"), t("topic"), t("dlq_state"), t("dlq_selected"), t("dlq_replayed"), t("dlq_still"), t("dlq_contract")],
        record.runs.map((r) => [when(r.started_at), r.by, r.topic, r.dry_run ? t("dlq_dry") : r.state, r.selected, r.replayed, r.still_failing, r.contract_version])));
    if (q.get("topic")) replayBox.replaceChildren(replayForm(q.get("topic")));
  } catch (err) {
    showError(errorBox, err instanceof ApiError && err.status === 403 ? new Error(t("dlq_need_operator")) : err);
  }
}

function withoutPaging(p) {
  const out = new URLSearchParams(p);
  out.delete("page");
  out.delete("per_page");
  return out;
}

function pager(list) {
  const pages = Math.max(1, Math.ceil(list.total / list.per_page));
  if (pages <= 1) return "";
  const to = (n) => {
    const p = params();
    p.set("page", String(n));
    if (lang() === "en") p.set("lang", "en");
    return `/live/dead-letters?${p}`;
  };
  return h("p", { class: "pager" },
    list.page > 1 ? link(to(list.page - 1), t("dlq_prev")) : "",
    ` ${t("dlq_page", list.page, pages)} `,
    list.page < pages ? link(to(list.page + 1), t("dlq_next")) : "");
}

async function showDetail(box, item) {
  box.replaceChildren(h("p", { class: "loading", text: t("loading") }));
  try {
    const d = await getJSON(`/api/v1/dead-letters/${encodeURIComponent(item.topic_name)}/${item.partition}/${item.offset}`);
    const m = d.message;
    const rows = [
      [t("topic"), d.topic], [t("partition"), d.partition], [t("dlq_offset"), d.offset], [t("dlq_at"), when(d.at)],
      [t("dlq_reason"), d.reason], [t("dlq_first_reason"), d.first_reason], [t("dlq_f_status"), t(`dlq_status_${d.status}`)],
    ];
    box.replaceChildren(h("h2", { text: t("dlq_detail") }),
      table("dlq-detail-fields", t("dlq_detail"), [t("dlq_name"), t("dlq_value")], rows),
      m ? h("div", {},
        h("h3", { text: t("dlq_headers") }),
        table("dlq-headers", t("dlq_headers"), [t("dlq_name"), t("dlq_value")], m.headers.map((x) => [x.name, x.value])),
        h("h3", { text: t("dlq_message", nf().format(m.value.bytes)) }),
        h("p", { class: "note", text: t("dlq_redacted") + (m.value.truncated ? ` ${t("dlq_truncated")}` : "") }),
        h("pre", { id: "dlq-value", text: m.value.text === null ? "–" : m.value.text }))
        : h("p", { text: d.message_note || t("dlq_gone") }),
      h("h3", { text: t("dlq_msg_runs") }),
      table("dlq-detail-replays", t("dlq_msg_runs"), [t("dlq_at"), t("dlq_contract"), t("dlq_state"), t("dlq_reason"), t("dlq_by")],
        d.replays.map((r) => [when(r.at), r.contract_version, r.outcome, r.reason, r.by])));
  } catch (err) {
    showError(box, err);
  }
}

function replayForm(topic) {
  const out = h("div", { id: "dlq-replay-out", "aria-live": "polite" });
  const run = async (dry) => {
    out.replaceChildren(h("p", { class: "loading", text: t("loading") }));
    const q = query();
    const body = { topic, dry_run: dry };
    for (const [k, name] of [["reason", "reason"], ["reason_class", "reason_class"], ["from", "since"], ["to", "until"]]) if (q.get(k)) body[name] = q.get(k);
    try {
      // The request's verb is set as a property: `method` is also a column of
      // the logins report, a name the pages never write as a key (test_web_labels).
      const init = { headers: { "Content-Type": "application/json", ...authHeaders() }, body: JSON.stringify(body) };
      init.method = "POST";
      const r = await fetch("/api/v1/dead-letters/replay", init);
      const res = await r.json().catch(() => null);
      if (!r.ok) throw new ApiError(r.status, res);
      out.replaceChildren(h("p", { text: t(dry ? "dlq_would" : "dlq_done", res.selected, res.replayed, res.still_failing, res.skipped, res.gone) }),
        table("dlq-replay-reasons", t("dlq_reason"), [t("dlq_reason"), t("count")], Object.entries(res.reasons || {}).map(([k, v]) => [k, v])));
    } catch (err) {
      showError(out, err);
    }
  };
  return h("div", {}, h("h2", { text: t("dlq_replay_title") }), h("p", { text: t("dlq_replay_intro") }),
    h("p", { class: "actions" },
      h("button", { type: "button", class: "secondary", id: "dlq-dry", text: t("dlq_dry_button"), onclick: () => run(true) }), " ",
      h("button", { type: "button", id: "dlq-run", text: t("dlq_run_button"), onclick: () => run(false) })),
    out);
}
