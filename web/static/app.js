// statflow web front: report list, report pages and the operations live view.
// One page shell (index.html), routed here by path:
//   /                       report list grouped by service
//   /r/{service}/{report}   one report: chart, table, period, filters, drill-down, exports
//   /live                   operations live view (polls /api/v1/live every 3 s)
//   /live/dead-letters      dead letters: filters, counts, detail, replay (operator role)
// All view state lives in the query string, so every view is a shareable link.
//
// Modules: i18n.js (the pages' text), common.js (shared helpers), home.js,
// report.js, live.js, deadletters.js, login.js (one per page), chart.js (SVG charts).
import { lang, query, t } from "./i18n.js";
import { applyShell, h, link, navigate, page } from "./common.js";
import { showHome } from "./home.js";
import { forgetReport, reportPage, showReport } from "./report.js";
import { showLogin } from "./login.js";
import { showLive } from "./live.js";
import { showDeadLetters } from "./deadletters.js";

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
    page.stop();
    return showReport(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  }
  page.stop();
  forgetReport();
  if (path === "/" || path === "") return showHome();
  if (path === "/live" || path === "/live/") return showLive();
  if (path === "/live/dead-letters" || path === "/live/dead-letters/") return showDeadLetters();
  if (path === "/login" || path === "/login/") return showLogin();
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", { text: t("not_found") }), h("p", {}, link("/", t("nav_reports"))));
  return undefined;
}


page.route = route;
route();
