import { field, h, mount, notice } from "../dom.js";
import { act, refuseUnless, tenantControl, tenantsFor } from "../ui.js";

// Verify the hash chain (GET /api/v1/audit/verify) and export the trail (JSONL or CSV). The export
// is fetched with the key in the header and handed to the browser as a file: no key in a link.

export async function auditScreen(main, { api, me }) {
  if (refuseUnless(main, me, "Audit", ["auditor"], "the audit trail")) return;
  const tenants = await tenantsFor(api, me).catch(() => null);
  const result = h("div.verify-result", { role: "status", "aria-live": "polite" });
  const verify = h("button", { type: "button" }, "Verify chain");
  verify.addEventListener("click", () =>
    act(verify, result, async () => {
      const r = await api.get("/api/v1/audit/verify");
      mount(
        result,
        r.ok
          ? h(
              "p.verdict.ok",
              h("strong", "Chain intact"),
              ` — ${r.checked} records checked, head seq ${r.head_seq}.`,
            )
          : h(
              "p.verdict.broken",
              h("strong", `Broken at seq ${r.first_broken_seq}`),
              ` — ${r.checked} records checked before the break, head seq ${r.head_seq}.`,
            ),
      );
      return null;
    }),
  );

  const tenant = tenantControl(tenants, { any: true });
  const from = h("input", { type: "date", name: "from" });
  const to = h("input", { type: "date", name: "to" });
  const exportStatus = h("div.outcome");
  const exportButton = (format) => {
    const b = h("button", { type: "button" }, `Export ${format.toUpperCase()}`);
    b.addEventListener("click", () =>
      act(b, exportStatus, async () => {
        const blob = await api.blob("/api/v1/audit/export", {
          format,
          tenant_id: tenant.value.trim(),
          from: from.value,
          to: to.value,
        });
        const url = URL.createObjectURL(blob);
        const a = h("a", { href: url, download: `audit.${format}` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        return `Exported ${blob.size} bytes as audit.${format}.`;
      }),
    );
    return b;
  };

  mount(
    main,
    h("h1", "Audit"),
    h(
      "section",
      h("h2", "Hash chain"),
      me.tenant_ids
        ? notice("Verifying the chain needs a key not scoped to tenants (the chain spans every tenant).")
        : [h("p", "Recomputes every record's hash from the first to the head."), verify, result],
    ),
    h(
      "section",
      h("h2", "Export"),
      h(
        "form.filters",
        { "aria-label": "Export", onsubmit: (e) => e.preventDefault() },
        field("Tenant", tenant),
        field("From", from),
        field("To", to),
        exportButton("jsonl"),
        exportButton("csv"),
      ),
      exportStatus,
    ),
  );
}
