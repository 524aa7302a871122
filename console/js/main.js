import { ApiError, createApi } from "./api.js";
import { field, h, mount, notice } from "./dom.js";
import { auditScreen } from "./screens/audit.js";
import { bundlesScreen } from "./screens/bundles.js";
import { decisionScreen } from "./screens/decision.js";
import { decisionsScreen } from "./screens/decisions.js";
import { overridesScreen } from "./screens/overrides.js";
import { overviewScreen } from "./screens/overview.js";
import { policiesScreen } from "./screens/policies.js";
import { regionsScreen } from "./screens/regions.js";
import { explain } from "./ui.js";

// The shell: sign-in, navigation, client-side routes under /console. The key lives in
// sessionStorage (this tab only, gone when it closes), never in a cookie or the URL.

const KEY_STORAGE = "residency.console.key";
const BASE = "/console";

const SCREENS = [
  { path: "overview", title: "Overview", screen: overviewScreen },
  { path: "decisions", title: "Decisions", screen: decisionsScreen },
  { path: "policies", title: "Policies", screen: policiesScreen },
  { path: "overrides", title: "Overrides", screen: overridesScreen },
  { path: "bundles", title: "Bundles", screen: bundlesScreen },
  { path: "audit", title: "Audit", screen: auditScreen },
  { path: "regions", title: "Regions", screen: regionsScreen },
];

const root = document.getElementById("app");
let session = null; // {api, me}
let signInMessage = null;

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  session = null;
  signInMessage = message ?? null;
  render();
}

async function startSession(key) {
  let signedIn = false;
  const api = createApi(key, {
    // A key revoked mid-session: back to the sign-in form (not while signing in: the form says why).
    onUnauthenticated: () => {
      if (signedIn) signOut("The service no longer accepts this API key. Sign in again.");
    },
  });
  const me = await api.get("/api/v1/keys/self");
  signedIn = true;
  return { api, me };
}

export function navigate(path, { replace = false } = {}) {
  const url = path.startsWith(BASE) ? path : `${BASE}/${path.replace(/^\//, "")}`;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

/** Links inside the console route on the client (a normal link still works: the server serves the page). */
export function link(path, ...children) {
  const href = `${BASE}/${path.replace(/^\//, "")}`;
  return h(
    "a",
    {
      href,
      onclick: (event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(href);
      },
    },
    ...children,
  );
}

function signInForm() {
  const input = h("input", {
    type: "password",
    name: "api-key",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
  });
  const status = h("div.sign-in-status");
  if (signInMessage) mount(status, notice(signInMessage, "error"));
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form.sign-in",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        mount(status, notice("Signing in…"));
        try {
          session = await startSession(input.value.trim());
          sessionStorage.setItem(KEY_STORAGE, input.value.trim());
          signInMessage = null;
          if (location.pathname === BASE || location.pathname === `${BASE}/`) {
            navigate("overview", { replace: true });
          } else render();
        } catch (err) {
          button.disabled = false;
          mount(
            status,
            notice(
              err instanceof ApiError && err.status === 401
                ? "That API key was not accepted."
                : `Could not sign in: ${err.message}`,
              "error",
            ),
          );
        }
      },
    },
    h("h1", "Residency console"),
    h("p", "Sign in with your API key. It is kept in this tab only and sent to this service alone."),
    field("API key", input),
    button,
    status,
  );
  return h("main.signed-out", form);
}

function currentScreen() {
  const rest = location.pathname.slice(BASE.length).replace(/^\/+|\/+$/g, "");
  const [first = "overview", ...params] = rest.split("/").map(decodeURIComponent);
  if (first === "decisions" && params[0]) {
    return { path: "decisions", title: "Decision", screen: decisionScreen, params };
  }
  const found = SCREENS.find((s) => s.path === first);
  return found ? { ...found, params } : null;
}

function shell(active) {
  const { me } = session;
  const nav = h(
    "nav",
    { "aria-label": "Console" },
    h(
      "ul",
      SCREENS.map((s) => h("li", link(s.path, s.title))),
    ),
  );
  for (const a of nav.querySelectorAll("a")) {
    if (a.getAttribute("href") === `${BASE}/${active?.path}`) a.setAttribute("aria-current", "page");
  }
  const scope = me.tenant_ids ? `tenants ${me.tenant_ids.join(", ")}` : "all tenants";
  const main = h("main#content", { tabindex: "-1" });
  const header = h(
    "header",
    h("span.brand", "Residency"),
    nav,
    h(
      "div.who",
      h("span", { title: `key ${me.key_id}` }, `${me.principal} · ${me.roles.join(", ")} · ${scope}`),
      h("button.link", { type: "button", onclick: () => signOut() }, "Sign out"),
    ),
  );
  mount(root, header, main);
  return main;
}

let renderCount = 0;

async function render() {
  const mine = ++renderCount;
  if (!session) {
    const stored = sessionStorage.getItem(KEY_STORAGE);
    if (stored) {
      try {
        session = await startSession(stored);
      } catch (err) {
        sessionStorage.removeItem(KEY_STORAGE);
        signInMessage = err instanceof ApiError && err.status === 401 ? "Sign in again." : err.message;
      }
      if (mine !== renderCount) return;
    }
  }
  if (!session) {
    document.title = "Sign in · Residency console";
    mount(root, signInForm());
    return;
  }
  const route = currentScreen();
  const main = shell(route);
  if (!route) {
    mount(main, notice("No such page in the console."), link("overview", "Go to the overview"));
    return;
  }
  document.title = `${route.title} · Residency console`;
  const ctx = {
    api: session.api,
    me: session.me,
    params: route.params,
    navigate,
    link,
    isCurrent: () => mine === renderCount,
  };
  try {
    await route.screen(main, ctx);
  } catch (err) {
    if (mine === renderCount) mount(main, h("h1", route.title), explain(err));
  }
}

window.addEventListener("popstate", () => render());
render();
