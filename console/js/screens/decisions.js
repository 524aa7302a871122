import { badge, code, field, h, mount, notice, table, time } from "../dom.js";
import { explain, refuseUnless, shortId, tenantControl, tenantsFor } from "../ui.js";

// Search the audit trail (GET /api/v1/audit/access-logs) and page through it with next_cursor.

const TYPES = [
  ["decision.access", "Access decisions"],
  ["decision.inference", "Inference decisions"],
  ["decision.presign", "Presign decisions"],
  ["", "Every record"],
];

export async function decisionsScreen(main, { api, me, link }) {
  if (refuseUnless(main, me, "Decisions", ["auditor"], "searching decisions (the audit trail)")) return;
  const initial = Object.fromEntries(new URLSearchParams(location.search));
  const tenants = await tenantsFor(api, me).catch(() => null);

  const controls = {
    tenant_id: tenantControl(tenants, { any: true, value: initial.tenant_id ?? "" }),
    learner_id: h("input", { type: "text", name: "learner_id", value: initial.learner_id ?? "" }),
    code: h("input", { type: "text", name: "code", value: initial.code ?? "", placeholder: "DENY_…" }),
    allowed: h(
      "select",
      { name: "allowed" },
      [
        ["", "Any"],
        ["true", "Allowed"],
        ["false", "Denied"],
      ].map(([v, t]) => h("option", { value: v, selected: v === (initial.allowed ?? "") }, t)),
    ),
    type: h(
      "select",
      { name: "type" },
      TYPES.map(([v, t]) =>
        h("option", { value: v, selected: v === (initial.type ?? "decision.access") }, t),
      ),
    ),
    from: h("input", { type: "datetime-local", name: "from", step: "1" }),
    to: h("input", { type: "datetime-local", name: "to", step: "1" }),
  };
  const results = h("section.results", { "aria-live": "polite" });
  let cursors = [null]; // cursor of each page seen, for Previous
  let page = 0;

  const filters = () => {
    const q = {};
    for (const [k, el] of Object.entries(controls)) {
      const v = el.value.trim();
      if (!v) continue;
      // datetime-local has no zone: read as UTC, as every time on this page is shown.
      q[k] = k === "from" || k === "to" ? `${v.length === 16 ? `${v}:00` : v}Z` : v;
    }
    return q;
  };

  async function load() {
    mount(results, notice("Searching…"));
    try {
      const q = { ...filters(), limit: 25, cursor: cursors[page] ?? undefined };
      const { items, next_cursor } = await api.get("/api/v1/audit/access-logs", q);
      if (next_cursor) cursors[page + 1] = next_cursor;
      mount(
        results,
        items.length === 0
          ? notice("No records match.")
          : table(
              ["When", "Tenant", "Learner", "Operation", "Outcome", "Code", "Target", "Decision"],
              items.map((r) => row(r, link)),
              { label: "Decisions" },
            ),
        h(
          "div.pager",
          h("button", { type: "button", disabled: page === 0, onclick: () => go(page - 1) }, "Previous page"),
          h("span", `Page ${page + 1}`),
          h("button", { type: "button", disabled: !next_cursor, onclick: () => go(page + 1) }, "Next page"),
        ),
      );
    } catch (err) {
      mount(results, explain(err));
    }
  }
  const go = (p) => {
    page = p;
    load();
  };

  const form = h(
    "form.filters",
    {
      role: "search",
      "aria-label": "Search decisions",
      onsubmit: (e) => {
        e.preventDefault();
        cursors = [null];
        page = 0;
        load();
      },
    },
    field("Tenant", controls.tenant_id),
    field("Learner", controls.learner_id),
    field("Reason code", controls.code),
    field("Outcome", controls.allowed),
    field("Record type", controls.type),
    field("From (UTC)", controls.from),
    field("To (UTC)", controls.to),
    h("button", { type: "submit" }, "Search"),
  );
  mount(main, h("h1", "Decisions"), form, results);
  await load();
}

function row(r, link) {
  const d = r.payload?.decision;
  const isDecision = r.type.startsWith("decision.");
  return h(
    "tr",
    h("td", time(r.occurred_at)),
    h("td", r.tenant_id ?? "—"),
    h("td", r.learner_id ?? "—"),
    h("td", isDecision ? (r.payload?.request?.operation_type ?? "—") : r.type),
    h("td", isDecision && d ? badge(d.allowed ? "allowed" : "denied", d.allowed ? "ok" : "deny") : "—"),
    h("td", isDecision && d ? code(d.reason_code) : "—"),
    h("td", d?.target_region ?? "—"),
    h("td", isDecision ? decisionLink(r.event_id, link) : `seq ${r.seq}`),
  );
}

function decisionLink(id, link) {
  const a = link(`decisions/${encodeURIComponent(id)}`, shortId(id));
  a.setAttribute("aria-label", `Decision ${id}`);
  return a;
}
