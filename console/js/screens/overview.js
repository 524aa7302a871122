import { h, mount, notice, s, table } from "../dom.js";
import { refuseUnless } from "../ui.js";

// Decisions per hour by outcome (stacked bars) and the most frequent deny codes, last 24 h, from
// GET /api/v1/audit/summary (counted by the database).

export async function overviewScreen(main, { api, me, link }) {
  if (refuseUnless(main, me, "Overview", ["auditor"], "the overview (audit summary)")) return;
  mount(main, h("h1", "Overview"), notice("Loading…"));
  const summary = await api.get("/api/v1/audit/summary", { hours: 24 });
  const allowed = summary.hours.reduce((n, b) => n + b.allowed, 0);
  const denied = summary.hours.reduce((n, b) => n + b.denied, 0);
  mount(
    main,
    h("h1", "Overview"),
    h(
      "p.totals",
      { "aria-label": "Decisions in the last 24 hours" },
      `Last 24 hours: ${allowed + denied} decisions — `,
      h("span.allowed-text", `${allowed} allowed`),
      ", ",
      h("span.denied-text", `${denied} denied`),
      ".",
    ),
    h("section", h("h2", "Decisions per hour"), hourChart(summary.hours)),
    h(
      "section",
      h("h2", "Top deny codes"),
      summary.top_deny_codes.length === 0
        ? notice("No denied decisions in the last 24 hours.")
        : denyCodes(summary.top_deny_codes, link),
    ),
  );
}

function hourChart(hours) {
  const width = 720;
  const height = 200;
  const pad = { left: 36, bottom: 24, top: 8 };
  const max = Math.max(1, ...hours.map((b) => b.allowed + b.denied));
  const slot = (width - pad.left) / hours.length;
  const bar = Math.max(2, slot - 4);
  const y = (n) => ((height - pad.bottom - pad.top) * n) / max;
  const base = height - pad.bottom;
  const total = hours.reduce((n, b) => n + b.allowed + b.denied, 0);
  const svg = s(
    "svg.chart",
    {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": `Decisions per hour over the last ${hours.length} hours, ${total} in all; allowed and denied stacked`,
    },
    s("line.axis", { x1: pad.left, y1: base, x2: width, y2: base }),
    s("text.tick", { x: pad.left - 6, y: pad.top + 10, "text-anchor": "end" }, String(max)),
    s("text.tick", { x: pad.left - 6, y: base, "text-anchor": "end" }, "0"),
    hours.map((b, i) => {
      const x = pad.left + i * slot + 2;
      const hour = new Date(b.hour).toISOString().slice(11, 13);
      return s(
        "g",
        s(
          "title",
          `${b.hour.slice(0, 13).replace("T", " ")}:00 UTC — ${b.allowed} allowed, ${b.denied} denied`,
        ),
        s("rect.allowed", { x, y: base - y(b.allowed), width: bar, height: y(b.allowed) }),
        s("rect.denied", { x, y: base - y(b.allowed) - y(b.denied), width: bar, height: y(b.denied) }),
        i % 3 === 0 ? s("text.tick", { x: x + bar / 2, y: height - 6, "text-anchor": "middle" }, hour) : null,
      );
    }),
  );
  return h(
    "figure",
    svg,
    h(
      "figcaption.legend",
      h("span.swatch.allowed"),
      " allowed ",
      h("span.swatch.denied"),
      " denied · hours in UTC",
    ),
  );
}

function denyCodes(codes, link) {
  const max = Math.max(...codes.map((c) => c.count));
  return table(
    ["Code", "Denied decisions", ""],
    codes.map((c) =>
      h(
        "tr",
        h("td", link(`decisions?code=${encodeURIComponent(c.code)}&allowed=false`, h("code", c.code))),
        h("td.num", String(c.count)),
        h(
          "td.meter",
          s(
            "svg",
            { viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true" },
            s("rect.denied", { x: 0, y: 0, height: 10, width: (100 * c.count) / max }),
          ),
        ),
      ),
    ),
    { label: "Top deny codes" },
  );
}
