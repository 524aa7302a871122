import { badge, code, field, h, mount, notice, table, time } from "../dom.js";
import {
  allPages,
  explain,
  hasRole,
  refuseUnless,
  tenantControl,
  tenantsFor,
  truncatedNotice,
} from "../ui.js";

// A tenant's policy and its learners' (GET /api/v1/policies), the effective policy with each
// field's source (GET /api/v1/policies/effective), and a policy's versions side by side.

const META = new Set([
  "policy_id",
  "version",
  "is_active",
  "created_at",
  "updated_at",
  "created_by",
  "warnings",
]);

export async function policiesScreen(main, { api, me }) {
  if (refuseUnless(main, me, "Policies", ["policy_admin", "auditor"], "reading policies")) return;
  const tenants = await tenantsFor(api, me).catch(() => null);
  const tenant = tenantControl(tenants, { value: tenants?.[0] ?? "" });
  const listing = h("section", { "aria-label": "Policies of the tenant" });
  const effective = h("section.effective", { "aria-label": "Effective policy" });
  const versions = h("section.versions", { "aria-label": "Version history" });

  async function load() {
    mount(effective);
    mount(versions);
    const tenantId = tenant.value.trim();
    if (!tenantId) {
      mount(listing, notice("Choose a tenant."));
      return;
    }
    try {
      const found = await allPages(api, "/api/v1/policies", { tenant_id: tenantId });
      const { items } = found;
      items.sort((a, b) =>
        a.learner_id === null ? -1 : b.learner_id === null ? 1 : a.learner_id.localeCompare(b.learner_id),
      );
      mount(
        listing,
        h("h2", `Policies of ${tenantId}`),
        truncatedNotice(found),
        items.length === 0
          ? notice("This tenant has no active policy.")
          : table(
              ["Applies to", "Version", "Primary", "Frameworks", "Allowed", "Updated", ""],
              items.map((p) =>
                h(
                  "tr",
                  h("td", p.learner_id ? `learner ${p.learner_id}` : "tenant"),
                  h("td.num", String(p.version)),
                  h("td", p.primary_region ?? "—"),
                  h("td", (p.compliance_frameworks ?? []).join(", ") || "—"),
                  h("td", (p.allowed_regions ?? []).join(", ") || "—"),
                  h("td", time(p.updated_at)),
                  h(
                    "td.actions",
                    h(
                      "button",
                      { type: "button", onclick: () => showEffective(tenantId, p.learner_id) },
                      "Effective",
                    ),
                    h("button", { type: "button", onclick: () => showVersions(p) }, "Versions"),
                  ),
                ),
              ),
              { label: "Policies" },
            ),
      );
    } catch (err) {
      mount(listing, explain(err));
    }
  }

  async function showEffective(tenantId, learnerId) {
    const who = learnerId ? `learner ${learnerId}` : `tenant ${tenantId}`;
    if (!hasRole(me, ["policy_admin", "service"])) {
      mount(
        effective,
        h("h2", `Effective policy of ${who}`),
        notice("The effective policy needs the policy_admin role.", "error"),
      );
      return;
    }
    try {
      const r = await api.get("/api/v1/policies/effective", {
        tenant_id: tenantId,
        learner_id: learnerId ?? undefined,
      });
      mount(
        effective,
        h("h2", `Effective policy of ${who}`),
        table(
          ["Field", "Value", "Source"],
          Object.entries(r.policy).map(([k, v]) =>
            h(
              "tr",
              h("th", { scope: "row" }, k),
              h("td", value(v)),
              h("td", badge(String(r.provenance?.[k] ?? "—"), `src-${r.provenance?.[k] ?? "none"}`)),
            ),
          ),
          { label: "Effective policy fields" },
        ),
      );
    } catch (err) {
      mount(effective, explain(err));
    }
  }

  async function showVersions(p) {
    try {
      const { items } = await api.get(`/api/v1/policies/id/${encodeURIComponent(p.policy_id)}/versions`);
      items.sort((a, b) => a.version - b.version);
      const pick = (chosen) =>
        h(
          "select",
          null,
          items.map((v) =>
            h("option", { value: String(v.version), selected: v.version === chosen }, `version ${v.version}`),
          ),
        );
      const left = pick(items.length > 1 ? items[items.length - 2].version : items[0].version);
      const right = pick(items[items.length - 1].version);
      const diff = h("div.diff");
      const draw = () =>
        mount(
          diff,
          diffTable(
            items.find((v) => String(v.version) === left.value),
            items.find((v) => String(v.version) === right.value),
          ),
        );
      left.addEventListener("change", draw);
      right.addEventListener("change", draw);
      mount(
        versions,
        h(
          "h2",
          `Versions of ${p.learner_id ? `learner ${p.learner_id}` : `tenant ${p.tenant_id}`} (${items.length})`,
        ),
        h("div.filters", field("Compare", left), field("with", right)),
        diff,
      );
      draw();
    } catch (err) {
      mount(versions, explain(err));
    }
  }

  tenant.addEventListener("change", load);
  mount(
    main,
    h("h1", "Policies"),
    h(
      "form.filters",
      {
        "aria-label": "Choose a tenant",
        onsubmit: (e) => {
          e.preventDefault();
          load();
        },
      },
      field("Tenant", tenant),
      h("button", { type: "submit" }, "Show"),
    ),
    listing,
    effective,
    versions,
  );
  await load();
}

function diffTable(a, b) {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !META.has(k)).sort();
  const rows = keys.map((k) => {
    const before = JSON.stringify(a[k] ?? null);
    const after = JSON.stringify(b[k] ?? null);
    const changed = before !== after;
    return h(
      `tr.${changed ? "changed" : "same"}`,
      h("th", { scope: "row" }, k, changed ? h("span.sr", " (changed)") : null),
      h("td", value(a[k])),
      h("td", value(b[k])),
    );
  });
  return table(
    [
      "Field",
      `Version ${a.version} (${a.created_by ?? "?"})`,
      `Version ${b.version} (${b.created_by ?? "?"})`,
    ],
    rows,
    { label: "Version diff" },
  );
}

function value(v) {
  if (v === null || v === undefined) return h("span.muted", "—");
  if (typeof v === "object") return code(JSON.stringify(v));
  return String(v);
}
