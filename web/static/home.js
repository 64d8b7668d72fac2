// The report list, grouped by service (/).
import { lang, t } from "./i18n.js";
import { catalogue, h, link, setTitle, showError, token } from "./common.js";

// --- report list ------------------------------------------------------------

export async function showHome() {
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
            definitionCard(L === "en" ? r.description_en : r.description)))));
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

// A report card's definition (declared with the report, in the page's language), shortened.
function definitionCard(text) {
  return h("p", { text: text.length > 160 ? text.slice(0, 157) + "…" : text });
}
