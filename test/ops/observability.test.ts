// The Grafana dashboard and the Prometheus alert rules must speak about metrics the service
// really exports, with labels it really sets: every expression's metric names and selector
// labels are checked against a live /metrics after real traffic. (promtool checks the rules'
// syntax and behaviour: `make ops-test`.)

import { readFileSync } from "node:fs";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

type Panel = {
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string }[];
};
const dashboard = JSON.parse(
  readFileSync("deploy/grafana/provisioning/dashboards/residency.json", "utf8"),
) as {
  panels: Panel[];
};
const alerts = parse(readFileSync("deploy/alerts.yml", "utf8")) as {
  groups: { rules: { alert: string; expr: string }[] }[];
};
const expressions = [
  ...dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
  ),
  ...alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
];

/** metric family → label names seen on its samples, from the Prometheus text format. */
function exported(text: string): Map<string, Set<string>> {
  const families = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const names = type[2] === "histogram" ? ["", "_bucket", "_sum", "_count"] : [""];
      for (const suffix of names) families.set(`${type[1]}${suffix}`, new Set());
      continue;
    }
    const sample = /^(\w+)\{([^}]*)\}/.exec(line);
    if (sample)
      for (const [, label] of sample[2]!.matchAll(/(\w+)="/g)) families.get(sample[1]!)?.add(label!);
  }
  return families;
}

describe("dashboard and alert expressions against a live /metrics", () => {
  let t: TestService;
  let families: Map<string, Set<string>>;

  beforeAll(async () => {
    t = await startTestService();
    const admin = api(t.handler, ADMIN_KEY);
    await admin.post("/api/v1/policies", {
      tenant_id: "obs",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    const svc = api(t.handler, await t.keyFor(["service"]));
    const body = { tenant_id: "obs", operation_type: "read", resource_type: "doc", resource_id: "1" };
    expect((await svc.post("/api/v1/access/resolve", body)).body.allowed).toBe(true);
    expect(
      (await svc.post("/api/v1/access/resolve", { ...body, requested_region: "us-east" })).body.allowed,
    ).toBe(false);
    expect((await admin.get("/api/v1/nowhere")).status).toBe(404);
    expect((await request(t.handler).get("/api/v1/regions")).status).toBe(401);
    families = exported((await request(t.handler).get("/metrics")).text);
  });

  afterAll(() => t?.close());

  it("has expressions to check", () => {
    expect(expressions.length).toBeGreaterThanOrEqual(15);
  });

  it("names only metrics the service exports, with labels it sets", () => {
    const problems: string[] = [];
    for (const { where, expr } of expressions) {
      for (const [, metric, selector] of expr.matchAll(/\b(residency_\w+)(?:\{([^}]*)\})?/g)) {
        const labels = families.get(metric!);
        if (!labels) {
          problems.push(`${where}: ${metric} is not exported`);
          continue;
        }
        for (const [, label] of (selector ?? "").matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) {
          if (!labels.has(label!)) problems.push(`${where}: ${metric} has no label ${label}`);
        }
      }
      for (const [, by] of expr.matchAll(/\bby \(([^)]*)\)/g)) {
        for (const label of by!.split(",").map((l) => l.trim())) {
          const known =
            label === "le" || label === "instance" || [...families.values()].some((s) => s.has(label));
          if (!known) problems.push(`${where}: groups by unknown label ${label}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("lays the dashboard out on the grid without overlaps, with HTTP, decision, audit and bundle panels", () => {
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const { h, w, x, y } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let dx = 0; dx < w; dx++)
        for (let dy = 0; dy < h; dy++) {
          const cell = `${x + dx},${y + dy}`;
          expect(cells.has(cell), `${panel.title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
    }
    const rows = dashboard.panels.filter((p) => p.type === "row").map((p) => p.title);
    expect(rows).toEqual(["HTTP", "Decisions", "Audit", "Bundles, overrides, health"]);
    expect(
      new Set(dashboard.panels.filter((p) => p.type !== "row").map((p) => p.gridPos.x)).size,
    ).toBeGreaterThan(1);
  });
});
