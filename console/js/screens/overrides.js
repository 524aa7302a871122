import { badge, code, field, h, mount, notice, table, time } from "../dom.js";
import {
  act,
  allPages,
  explain,
  hasRole,
  refuseUnless,
  tenantControl,
  tenantsFor,
  truncatedNotice,
} from "../ui.js";

// Break-glass overrides (GET /api/v1/emergency/overrides) by status; approvers approve and revoke.

const STATUSES = ["pending", "active", "expired", "revoked"];

export async function overridesScreen(main, { api, me }) {
  if (refuseUnless(main, me, "Overrides", ["approver", "auditor"], "listing overrides")) return;
  const initial = Object.fromEntries(new URLSearchParams(location.search));
  const canAct = hasRole(me, ["approver"]);
  const tenants = await tenantsFor(api, me).catch(() => null);
  const tenant = tenantControl(tenants, { any: true });
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const list = h("section", { "aria-live": "polite" });
  const outcome = h("div.outcome");

  async function load() {
    try {
      const listing = await allPages(api, "/api/v1/emergency/overrides", {
        tenant_id: tenant.value.trim(),
        status: status.value,
      });
      const { items } = listing;
      const shown = initial.id ? items.filter((o) => o.override_id === initial.id) : items;
      mount(
        list,
        truncatedNotice(listing),
        shown.length === 0
          ? notice("No overrides match.")
          : table(
              [
                "Override",
                "Status",
                "Tenant",
                "Scope",
                "Requested by",
                "Approvals",
                "Time left",
                "Uses",
                "Reason",
                "",
              ],
              shown.map((o) => row(o)),
              { label: "Overrides" },
            ),
      );
    } catch (err) {
      mount(list, explain(err));
    }
  }

  function row(o) {
    const actions = h("td.actions");
    if (canAct && o.status === "pending") {
      const approve = h("button", { type: "button" }, "Approve");
      approve.addEventListener("click", () =>
        act(approve, outcome, async () => {
          const after = await api.post(
            `/api/v1/emergency/override/${encodeURIComponent(o.override_id)}/approve`,
          );
          await load();
          return `Override ${o.override_id} is ${after.status} (${after.approvals.length} of ${after.required_approvals ?? "?"} approvals).`;
        }),
      );
      actions.append(approve);
    }
    if (canAct && (o.status === "pending" || o.status === "active")) {
      const revoke = h("button.danger", { type: "button" }, "Revoke");
      revoke.addEventListener("click", () =>
        act(revoke, outcome, async () => {
          const after = await api.post(
            `/api/v1/emergency/override/${encodeURIComponent(o.override_id)}/revoke`,
            {
              reason: "revoked from the console",
            },
          );
          await load();
          return `Override ${o.override_id} is ${after.status}.`;
        }),
      );
      actions.append(revoke);
    }
    const kind = { active: "ok", pending: "warn", revoked: "deny", expired: "muted" }[o.status] ?? "muted";
    return h(
      "tr",
      { "data-override": o.override_id },
      h("td", code(o.override_id)),
      h("td", badge(o.status, kind)),
      h("td", o.tenant_id),
      h(
        "td",
        `→ ${o.target_region}`,
        h("br"),
        `learners: ${o.learner_ids ? o.learner_ids.join(", ") : "all"}`,
        h("br"),
        `operations: ${o.operations ? o.operations.join(", ") : "all"}`,
      ),
      h("td", o.requested_by),
      h(
        "td",
        o.approvals.length === 0 ? "none" : o.approvals.map((a) => h("div", a.principal, " ", time(a.at))),
        h("div.muted", `${o.approvals.length} of ${o.required_approvals ?? "?"}`),
      ),
      h("td", timeLeft(o)),
      h("td.num", String(o.use_count)),
      h("td", o.reason, h("br"), h("span.muted", `ticket ${o.ticket}`)),
      actions,
    );
  }

  mount(
    main,
    h("h1", "Overrides"),
    h(
      "form.filters",
      {
        "aria-label": "Filter overrides",
        onsubmit: (e) => {
          e.preventDefault();
          load();
        },
      },
      field("Tenant", tenant),
      field("Status", status),
      h("button", { type: "submit" }, "Show"),
    ),
    outcome,
    list,
  );
  await load();
}

function timeLeft(o) {
  if (o.status === "revoked" || o.status === "expired") return "—";
  const ms = Date.parse(o.expires_at) - Date.now();
  if (ms <= 0) return "expired";
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  return h("span", { title: o.expires_at }, `${hours} h ${minutes} min`);
}
