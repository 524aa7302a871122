import { badge, code, field, h, mount, notice, table, time } from "../dom.js";
import { act, explain, hasRole, shortId } from "../ui.js";

// The active bundle, its history with rollback (bundle_publisher), and a dry run of a candidate
// file: how many recent decisions it would change, and from which code to which.

export async function bundlesScreen(main, { api, me, link }) {
  const publisher = hasRole(me, ["bundle_publisher"]);
  const outcome = h("div.outcome");
  const history = h("section", h("h2", "History"));
  const activeBox = h("section.active-bundle", { "aria-label": "Active bundle" });

  async function load() {
    const [active, hist] = await Promise.all([
      api.get("/api/v1/bundles/active").catch((err) => ({ error: err })),
      api.get("/api/v1/bundles", { limit: 50 }),
    ]);
    mount(
      activeBox,
      active.error
        ? explain(active.error)
        : h(
            "dl.facts",
            [h("dt", "Active revision"), h("dd", code(active.revision))],
            [h("dt", "sha256"), h("dd", code(active.sha256))],
            [h("dt", "Loaded"), h("dd", time(active.loaded_at))],
            [h("dt", "Entrypoints"), h("dd", (active.entrypoints ?? []).join(", "))],
          ),
    );
    mount(
      history,
      h("h2", "History"),
      hist.items.length === 0
        ? notice("No bundles stored yet.")
        : table(
            ["Revision", "sha256", "Source", "Uploaded by", "Uploaded", "Signed", ""],
            hist.items.map((b) => {
              const cell = h("td.actions");
              if (b.active) cell.append(badge("active", "ok"));
              else if (publisher) {
                const button = h(
                  "button",
                  { type: "button", "aria-label": `Roll back to ${b.revision}` },
                  "Activate",
                );
                button.addEventListener("click", () =>
                  act(button, outcome, async () => {
                    const r = await api.post(`/api/v1/bundles/${encodeURIComponent(b.sha256)}/activate`);
                    await load();
                    return `Revision ${r.revision ?? b.revision} is active.`;
                  }),
                );
                cell.append(button);
              }
              return h(
                "tr",
                h("td", code(b.revision)),
                h("td", code(b.sha256.slice(0, 12))),
                h("td", b.source),
                h("td", b.uploaded_by ?? "—"),
                h("td", time(b.uploaded_at)),
                h("td", b.signed ? "yes" : "no"),
                cell,
              );
            }),
            { label: "Bundle history" },
          ),
    );
  }

  const dryRun = h("section.dry-run", h("h2", "Dry run"));
  if (publisher) {
    const file = h("input", { type: "file", name: "candidate", accept: ".tar.gz,.tgz,application/gzip" });
    const limit = h("input", { type: "number", name: "limit", min: "1", max: "10000", value: "1000" });
    const report = h("div.report", { "aria-live": "polite" });
    const run = h("button", { type: "submit" }, "Dry run");
    dryRun.append(
      h("p", "Replays recent audited decisions through a candidate bundle. Nothing is activated."),
      h(
        "form",
        {
          "aria-label": "Dry run",
          onsubmit: (e) => {
            e.preventDefault();
            const chosen = file.files?.[0];
            if (!chosen) {
              mount(report, notice("Choose a candidate bundle file first.", "error"));
              return;
            }
            act(run, report, async () => {
              const r = await api.putFile("/api/v1/bundles", chosen, {
                dry_run: "true",
                limit: limit.value,
                examples: 20,
              });
              mount(report, dryRunReport(r, link));
              return null;
            });
          },
        },
        field("Candidate bundle", file),
        field("Recent decisions to replay", limit),
        run,
      ),
      report,
    );
  } else {
    dryRun.append(notice("Dry runs and rollbacks need the bundle_publisher role.", "info"));
  }

  mount(main, h("h1", "Bundles"), activeBox, outcome, history, dryRun);
  await load();
}

function dryRunReport(r, link) {
  return h(
    "div",
    h(
      "p.dry-run-summary",
      h("strong", `${r.changed} of ${r.replayed} recent decisions would change`),
      ` (candidate ${r.candidate.revision} against ${r.active_revision ?? "the recorded answers"}; ${r.errors} could not be replayed).`,
    ),
    r.transitions.length
      ? table(
          ["Before", "After", "Decisions"],
          r.transitions.map((t) =>
            h("tr", h("td", code(t.before)), h("td", code(t.after)), h("td.num", String(t.count))),
          ),
          { label: "Code changes" },
        )
      : null,
    r.examples.length
      ? table(
          ["Decision", "Tenant", "Before", "After"],
          r.examples.map((e) =>
            h(
              "tr",
              h("td", link(`decisions/${encodeURIComponent(e.event_id)}`, code(shortId(e.event_id)))),
              h("td", e.tenant_id ?? "—"),
              h("td", outcomeOf(e.before)),
              h("td", outcomeOf(e.after)),
            ),
          ),
          { label: "Examples" },
        )
      : null,
  );
}

const outcomeOf = (o) =>
  h(
    "span",
    badge(o.allowed ? "allow" : "deny", o.allowed ? "ok" : "deny"),
    " ",
    code(o.reason_code),
    o.target_region ? ` → ${o.target_region}` : "",
  );
