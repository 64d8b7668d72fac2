// Log in (/login): the bearer token is kept in this tab's sessionStorage only.
import { lang, t } from "./i18n.js";
import { TOKEN_KEY, applyShell, claims, h, link, scopeText, setTitle, showError, token } from "./common.js";

// --- log in -------------------------------------------------------------------

export function showLogin() {
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

