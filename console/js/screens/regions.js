import { badge, code, field, h, mount, notice, time } from "../dom.js";
import { act, hasRole } from "../ui.js";

// The region health board (GET /api/v1/regions); operators change a region's health with a reason.

const HEALTH = ["healthy", "degraded", "unavailable"];
const KIND = { healthy: "ok", degraded: "warn", unavailable: "deny" };

export async function regionsScreen(main, { api, me }) {
  const operator = hasRole(me, ["operator"]) && !me.tenant_ids;
  const board = h("section.region-board", { "aria-label": "Region health" });
  const outcome = h("div.outcome");

  async function load() {
    const { items } = await api.get("/api/v1/regions");
    mount(
      board,
      items.map((r) => card(r)),
    );
  }

  function card(r) {
    const health = { status: r.health, reason: r.health_reason, updated_at: r.health_updated_at };
    const body = h(
      "article.region-card",
      { "aria-label": `${r.code} ${r.name ?? ""}`.trim(), class: `health-${health.status}` },
      h("h2", code(r.code), " ", h("span.region-name", r.name ?? "")),
      h("p", badge(health.status, KIND[health.status] ?? "muted")),
      h("p.muted", `${r.location ?? ""} · ${r.jurisdiction ?? ""}`),
      health.reason ? h("p", "Reason: ", health.reason) : null,
      health.updated_at ? h("p.muted", "Since ", time(health.updated_at)) : null,
    );
    if (operator) {
      const status = h(
        "select",
        { name: "status" },
        HEALTH.map((s) => h("option", { value: s, selected: s === health.status }, s)),
      );
      const reason = h("input", { type: "text", name: "reason", maxlength: "500", required: true });
      const save = h("button", { type: "submit", "aria-label": `Set health of ${r.code}` }, "Set health");
      body.append(
        h(
          "form.health-form",
          {
            "aria-label": `Change health of ${r.code}`,
            onsubmit: (e) => {
              e.preventDefault();
              act(save, outcome, async () => {
                await api.put(`/api/v1/regions/${encodeURIComponent(r.code)}/health`, {
                  status: status.value,
                  reason: reason.value,
                });
                await load();
                return `${r.code} is ${status.value}.`;
              });
            },
          },
          field(`Health of ${r.code}`, status),
          field(`Reason for ${r.code}`, reason),
          save,
        ),
      );
    }
    return body;
  }

  mount(
    main,
    h("h1", "Regions"),
    operator
      ? null
      : notice("Changing a region's health needs the operator role on a key not scoped to tenants."),
    outcome,
    board,
  );
  await load();
}
