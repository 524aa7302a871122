import { badge, h, mount, notice, time } from "../dom.js";
import { refuseUnless } from "../ui.js";

// One decision from the audit trail: the answer, why, and the region board — every region of the
// catalog through legal (L) → permitted (T) → target, with the reason each removed one was removed.

export async function decisionScreen(main, { api, me, params, link }) {
  const id = params[0];
  if (refuseUnless(main, me, "Decision", ["auditor"], "reading a decision (the audit trail)")) return;
  mount(main, h("h1", "Decision"), notice("Loading…"));
  const [{ items }, regions] = await Promise.all([
    api.get("/api/v1/audit/access-logs", { event_id: id, limit: 1 }),
    api.get("/api/v1/regions").catch(() => ({ items: [] })),
  ]);
  const record = items[0];
  if (!record?.type.startsWith("decision.")) {
    mount(
      main,
      h("h1", "Decision"),
      notice(`No decision ${id} in the audit trail this key can see.`, "error"),
    );
    return;
  }
  const { request = {}, decision = {} } = record.payload ?? {};
  const reason = decision.reason ?? { code: decision.reason_code };
  mount(
    main,
    h("p.crumbs", link("decisions", "Decisions"), " / ", h("code", id)),
    h(
      "h1",
      decision.allowed ? "Allowed" : "Denied",
      decision.target_region ? ` → ${decision.target_region}` : "",
    ),
    h(
      "section.answer",
      { "aria-label": "Answer" },
      badge(decision.allowed ? "allowed" : "denied", decision.allowed ? "ok" : "deny"),
      h("p.reason", "Reason ", h("code.reason-code", reason.code)),
      reason.message ? h("p", reason.message) : null,
      h(
        "dl.facts",
        fact("Decided by", reason.decided_by ?? "—"),
        fact("Framework", reason.framework ?? "—"),
        fact("When", time(record.occurred_at)),
        fact("Tenant", record.tenant_id ?? "—"),
        fact("Learner", record.learner_id ?? "—"),
        fact(
          "Operation",
          [request.operation_type, request.resource_type ?? request.model_type, request.resource_id]
            .filter(Boolean)
            .join(" ") || "—",
        ),
        fact("Requested region", request.requested_region ?? "—"),
        fact(
          "Policy",
          record.policy_id
            ? h("span", h("code", record.policy_id), ` version ${record.policy_version}`)
            : "none",
        ),
        fact("Bundle revision", h("code", record.bundle_revision ?? "—")),
        fact(
          "Override",
          decision.override_id
            ? link(`overrides?id=${encodeURIComponent(decision.override_id)}`, decision.override_id)
            : "none",
        ),
        fact("Failover", decision.failover ? "yes" : "no"),
        decision.provider !== undefined
          ? [
              fact("Provider", decision.provider ?? "—"),
              fact("Model", decision.model ?? "—"),
              fact("Provider region", decision.provider_region ?? "—"),
            ]
          : null,
        fact("Actor", record.actor ?? "—"),
        fact("Audit seq", String(record.seq)),
      ),
    ),
    h("section", h("h2", "Regions: legal → permitted → target"), board(decision, regions.items)),
    h("details.raw", h("summary", "Raw audit record"), h("pre", JSON.stringify(record, null, 2))),
  );
}

function fact(term, value) {
  return [h("dt", term), h("dd", value)];
}

function board(decision, catalog) {
  const legal = new Set(decision.legal_regions ?? []);
  const permitted = new Set(decision.permitted_regions ?? []);
  const eliminated = decision.eliminated ?? null;
  const codes = catalog.length
    ? catalog.map((r) => r.code)
    : [...new Set([...legal, ...permitted, ...Object.keys(eliminated ?? {})])];
  const names = Object.fromEntries(catalog.map((r) => [r.code, r.name]));
  const stage = (on, label) =>
    h(
      `td.stage.${on ? "in" : "out"}`,
      h("span.pip", { "aria-hidden": "true" }),
      h("span.sr", on ? `${label}: yes` : `${label}: no`),
    );
  const rows = codes.map((c) => {
    const isTarget = decision.target_region === c;
    const why = eliminated?.[c];
    return h(
      `tr.${isTarget ? "target" : why ? "eliminated" : "kept"}`,
      h("th", { scope: "row" }, h("code", c), names[c] ? h("span.region-name", ` ${names[c]}`) : null),
      stage(legal.has(c), "legal"),
      stage(permitted.has(c), "permitted"),
      stage(isTarget, "target"),
      h(
        "td.why",
        why
          ? h("code", why)
          : isTarget
            ? "target"
            : legal.has(c) && permitted.has(c)
              ? "permitted, not chosen"
              : eliminated
                ? "—"
                : "not recorded",
      ),
    );
  });
  return h(
    "table.board",
    { "aria-label": "Region board" },
    h(
      "thead",
      h(
        "tr",
        h("th", { scope: "col" }, "Region"),
        h("th", { scope: "col" }, "Legal"),
        h("th", { scope: "col" }, "Permitted"),
        h("th", { scope: "col" }, "Target"),
        h("th", { scope: "col" }, "Why removed"),
      ),
    ),
    h("tbody", rows),
  );
}
