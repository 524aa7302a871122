import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/domain/vocabulary.ts";
import { asSuperuser } from "../audit/fixtures.ts";
import { buildBundle, putBundle, withoutCanadaAdequacy } from "../bundles/support.ts";
import { launchBrowser, type TestBrowser } from "../support/browser.ts";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// The compliance console (SPEC §10) in real headless Chromium against the whole service on a real
// port: what each role sees, the decision board, approvals, dry run, chain verification, scope.

const NAV = ["Overview", "Decisions", "Policies", "Overrides", "Bundles", "Audit", "Regions"] as const;

describe("the compliance console", () => {
  let t: TestService;
  let server: Server;
  let origin: string;
  let browser: TestBrowser;
  let work: string;
  const keys = {} as Record<
    | "auditor"
    | "approver1"
    | "approver2"
    | "policyAdmin"
    | "publisher"
    | "operator"
    | "scopedAuditor"
    | "service",
    string
  >;
  let deniedId: string;
  let overrideId: string;
  let candidateFile: string;

  const admin = () => api(t.handler, ADMIN_KEY);
  const HOUR = 3_600_000;
  let hoursBack = 5;
  /** The service's clock (see beforeAll). */
  let serviceNow: () => number;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "residency-console-"));
    candidateFile = join(work, "candidate.tar.gz");
    writeFileSync(candidateFile, buildBundle("rev-console-no-ca", { edit: withoutCanadaAdequacy }));
    // The service's clock starts five hours back and steps forward, so the overview has hours to chart.
    // Pinned 10 minutes into an hour (it still runs): an hour boundary never falls inside the suite.
    const start = Date.now();
    const base = Math.floor(start / HOUR) * HOUR + 10 * 60_000;
    serviceNow = () => base + (Date.now() - start) - hoursBack * HOUR;
    t = await startTestService({ clock: () => new Date(serviceNow()) });
    const key = (roles: Role[], principal: string, tenants?: string[]) => t.keyFor(roles, tenants, principal);
    Object.assign(keys, {
      auditor: await key(["auditor"], "aud-alice"),
      approver1: await key(["approver"], "appr-bob"),
      approver2: await key(["approver"], "appr-carol"),
      policyAdmin: await key(["policy_admin"], "pol-dave"),
      publisher: await key(["bundle_publisher"], "pub-erin"),
      operator: await key(["operator"], "ops-frank"),
      scopedAuditor: await key(["auditor"], "aud-acme-only", ["acme-edu"]),
      service: await key(["service", "policy_admin"], "svc-gradebook"),
    });
    const svc = api(t.handler, keys.service);
    for (const policy of [
      { tenant_id: "gdpr-school", primary_region: "eu-west", compliance_frameworks: ["gdpr"] },
      { tenant_id: "acme-edu", primary_region: "us-east", compliance_frameworks: ["ferpa"] },
      {
        tenant_id: "acme-edu",
        learner_id: "student-123",
        primary_region: "us-east",
        allowed_regions: ["us-west"],
      },
    ]) {
      expect((await svc.post("/api/v1/policies", policy)).status).toBe(201);
    }
    // A second version of the tenant policy, for the diff.
    expect(
      (
        await svc.post("/api/v1/policies", {
          tenant_id: "acme-edu",
          primary_region: "us-east",
          allowed_regions: ["us-west", "ca-central"],
          compliance_frameworks: ["ferpa"],
        })
      ).status,
    ).toBe(201);
    const decide = async (body: Record<string, unknown>) => {
      const res = await svc.post("/api/v1/access/resolve", {
        operation_type: "write",
        resource_type: "document",
        resource_id: "doc-1",
        ...body,
      });
      expect(res.status).toBe(200);
      return res.body;
    };
    const learnerDeny = { tenant_id: "acme-edu", learner_id: "student-123", requested_region: "apac-south" };
    for (const [back, allowed, denies] of [
      [5, 3, 1],
      [3, 6, 2],
      [1, 4, 0],
    ] as const) {
      hoursBack = back;
      for (let i = 0; i < allowed; i++) await decide({ tenant_id: "acme-edu", requested_region: "us-east" });
      for (let i = 0; i < denies; i++)
        expect((await decide(learnerDeny)).reason.code).toBe("DENY_NOT_IN_TENANT_ALLOWED");
    }
    hoursBack = 0;
    const denied = await decide({ tenant_id: "gdpr-school", requested_region: "us-east" });
    expect(denied.reason.code).toBe("DENY_NO_TRANSFER_MECHANISM");
    deniedId = denied.decision_id;
    // Allowed into ca-central under GDPR adequacy: the candidate bundle (no Canadian adequacy) changes these.
    for (let i = 0; i < 3; i++) {
      expect((await decide({ tenant_id: "gdpr-school", requested_region: "ca-central" })).allowed).toBe(true);
    }
    for (let i = 0; i < 20; i++) await decide({ tenant_id: "acme-edu", requested_region: "us-east" });
    const override = await svc.post("/api/v1/emergency/override", {
      tenant_id: "acme-edu",
      target_region: "eu-west",
      reason: "us-east outage",
      ticket: "INC-42",
      duration_hours: 4,
    });
    expect(override.status).toBe(201);
    overrideId = override.body.override_id;

    server = createServer(t.handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  // No test leaves a console error or an uncaught exception behind (a CSP violation is one).
  afterEach(() => {
    expect(browser.takeProblems()).toEqual([]);
  });

  async function signIn(key: string, path = "/console"): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${origin}${path}`);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("navigation").getByRole("link", { name: "Overview" }).waitFor();
    return page;
  }

  async function open(page: Page, screen: (typeof NAV)[number]) {
    await page.getByRole("navigation").getByRole("link", { name: screen }).click();
    await page.getByRole("heading", { level: 1, name: screen }).waitFor();
  }

  it("serves the page at /console and its deep links under a strict CSP, with no inline script or style", async () => {
    for (const path of ["/console", "/console/", "/console/decisions/some-id", "/console/js/main.js"]) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
    }
    const html = await (await fetch(`${origin}/console/decisions/some-id`)).text();
    expect(html).toContain('<script type="module" src="/console/js/main.js">');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    expect((await fetch(`${origin}/console/js/missing.js`)).status).toBe(404);
  });

  it("refuses a wrong key with a clear message and stores the key in sessionStorage only", async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/console`);
    await page.getByLabel("API key").fill("not-a-real-key-0123456789");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "That API key was not accepted." }).waitFor();
    // The browser logs the refused request itself; that is the 401 this test asked for.
    expect(browser.takeProblems().map((p) => p.text)).toEqual([expect.stringContaining("401")]);

    await page.getByLabel("API key").fill(keys.auditor);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "Overview" }).waitFor();
    expect(await page.evaluate("document.cookie")).toBe("");
    expect(page.url()).not.toContain(keys.auditor);
    expect(await page.evaluate("Object.values(sessionStorage)")).toEqual([keys.auditor]);
    expect(await page.evaluate("Object.values(localStorage)")).toEqual([]);
  });

  it.each([
    ["auditor", ["Overview", "Decisions", "Policies", "Overrides", "Bundles", "Audit", "Regions"], []],
    ["approver1", ["Overrides", "Bundles", "Regions"], ["Overview", "Decisions", "Policies", "Audit"]],
    ["policyAdmin", ["Policies", "Bundles", "Regions"], ["Overview", "Decisions", "Overrides", "Audit"]],
    ["publisher", ["Bundles", "Regions"], ["Overview", "Decisions", "Policies", "Overrides", "Audit"]],
    ["operator", ["Regions", "Bundles"], ["Overview", "Decisions", "Policies", "Overrides", "Audit"]],
  ] as const)(
    "%s signs in and walks every screen; those its roles do not allow say so",
    async (who, allowed, refused) => {
      const page = await signIn(keys[who]);
      for (const screen of NAV) {
        await open(page, screen);
        const main = page.locator("main");
        if ((refused as readonly string[]).includes(screen)) {
          await main.getByText("Not allowed with this key").waitFor();
        } else {
          expect(allowed as readonly string[]).toContain(screen);
          await expect.poll(() => main.getByText("Loading…").count()).toBe(0);
          expect(await main.getByText("Not allowed with this key").count()).toBe(0);
        }
        if (
          who === "auditor" ||
          (who === "publisher" && screen === "Bundles") ||
          (who === "operator" && screen === "Regions")
        ) {
          await browser.screenshot(page, `${who}-${screen.toLowerCase()}`);
        }
      }
    },
  );

  it("overview charts decisions per hour by outcome and lists the top deny codes", async () => {
    const page = await signIn(keys.auditor);
    const summary = (await api(t.handler, keys.auditor).get("/api/v1/audit/summary")).body;
    const allowed = summary.hours.reduce((n: number, h: { allowed: number }) => n + h.allowed, 0);
    const denied = summary.hours.reduce((n: number, h: { denied: number }) => n + h.denied, 0);
    // 5 h ago 3 + 1, 3 h ago 6 + 2, 1 h ago 4 + 0, this hour 23 + 1 (allowed + denied).
    expect(
      summary.hours.slice(-6).map((h: { allowed: number; denied: number }) => [h.allowed, h.denied]),
    ).toEqual([
      [3, 1],
      [0, 0],
      [6, 2],
      [0, 0],
      [4, 0],
      [23, 1],
    ]);
    expect(summary.top_deny_codes).toEqual([
      { code: "DENY_NOT_IN_TENANT_ALLOWED", count: 3 },
      { code: "DENY_NO_TRANSFER_MECHANISM", count: 1 },
    ]);
    await page.getByText(`Last 24 hours: ${allowed + denied} decisions`).waitFor();
    await page.getByRole("img", { name: /Decisions per hour/ }).waitFor();
    const codes = page.getByRole("table", { name: "Top deny codes" });
    await expect
      .poll(() => codes.locator("tbody tr").allTextContents())
      .toEqual(["DENY_NOT_IN_TENANT_ALLOWED3", "DENY_NO_TRANSFER_MECHANISM1"]);
    // A deny code opens the search for it.
    await codes.getByRole("link", { name: "DENY_NO_TRANSFER_MECHANISM" }).click();
    await page.getByRole("heading", { level: 1, name: "Decisions" }).waitFor();
    expect(await page.getByLabel("Reason code").inputValue()).toBe("DENY_NO_TRANSFER_MECHANISM");
    const rows = page.getByRole("table", { name: "Decisions" }).locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getByRole("link").getAttribute("aria-label")).toBe(`Decision ${deniedId}`);
  });

  it("a denied decision's page (a deep link) names the code and each eliminated region's reason", async () => {
    const page = await signIn(keys.auditor, `/console/decisions/${deniedId}`);
    await page.getByRole("heading", { level: 1, name: "Denied" }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/decisions/${deniedId}`);
    await page.locator(".reason-code", { hasText: "DENY_NO_TRANSFER_MECHANISM" }).waitFor();
    const board = page.getByRole("table", { name: "Region board" });
    for (const region of ["us-east", "us-west", "apac-south"]) {
      await expect
        .poll(() => board.getByRole("row", { name: new RegExp(`^${region}\\b`) }).textContent())
        .toContain("gdpr:no_transfer_mechanism");
    }
    const euWest = await board.getByRole("row", { name: /^eu-west\b/ }).textContent();
    expect(euWest).toContain("legal: yes");
    expect(euWest).not.toContain("no_transfer_mechanism");
    const facts = await page.getByRole("region", { name: "Answer" }).textContent();
    expect(facts).toMatch(/Policy\s*pol_\w+ version 1/);
    expect(facts).toContain(`Bundle revision${(await admin().get("/api/v1/bundles/active")).body.revision}`);
    await browser.screenshot(page, "decision-denied");

    // An inference decision's page names the provider it was routed to.
    const inference = await api(t.handler, keys.service)
      .post("/api/v1/inference/route", { model_type: "claude-3-haiku", operation_type: "inference" })
      .set("x-tenant-id", "acme-edu");
    expect(inference.status).toBe(200);
    await page.goto(`${origin}/console/decisions/${inference.body.decision_id}`);
    await page
      .getByRole("heading", { level: 1, name: inference.body.allowed ? /^Allowed/ : "Denied" })
      .waitFor();
    const inferenceFacts = await page.getByRole("region", { name: "Answer" }).textContent();
    expect(inferenceFacts).toContain(`Provider${inference.body.provider ?? "—"}`);
    expect(inferenceFacts).toContain(`Reason ${inference.body.reason.code}`);

    // The same decision is found by searching on its code, and opens from the results.
    await open(page, "Decisions");
    await page.getByLabel("Reason code").fill("DENY_NO_TRANSFER_MECHANISM");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: `Decision ${deniedId}` }).click();
    await page.getByRole("heading", { level: 1, name: "Denied" }).waitFor();
  });

  it("pages through the search results", async () => {
    const page = await signIn(keys.auditor);
    await open(page, "Decisions");
    const rows = page.getByRole("table", { name: "Decisions" }).locator("tbody tr");
    // 40 access decisions: pages of 25.
    await expect.poll(() => rows.count()).toBe(25);
    // Each row's link shows the tail of its own id: ids are time-ordered (UUID version 7), so
    // decisions made within the same minute share their first digits.
    const links = rows.getByRole("link");
    const shown = await links.allTextContents();
    const ids = (await links.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")))).map((l) =>
      String(l).replace("Decision ", ""),
    );
    expect(new Set(shown).size).toBe(25);
    expect(shown).toEqual(ids.map((id) => id.slice(-8)));
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("Page 2").waitFor();
    await expect.poll(() => rows.count()).toBe(15);
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.getByText("Page 1").waitFor();
    await expect.poll(() => rows.count()).toBe(25);
    // Filters narrow the search: the denied ones of one learner.
    await page.getByLabel("Learner").fill("student-123");
    await page.getByLabel("Outcome").selectOption("false");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.first().textContent()).toContain("DENY_NOT_IN_TENANT_ALLOWED");
    // A time range (UTC): from four hours back leaves out the one denied five hours back.
    const fourHoursBack = new Date(serviceNow() - 4 * HOUR).toISOString().slice(0, 19);
    await page.getByLabel("From (UTC)").fill(fourHoursBack);
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => rows.count()).toBe(2);
  });

  it("an approver approves a pending override, a second approver activates it and sees it active, then revokes it", async () => {
    const row = (page: Page) => page.locator(`tr[data-override="${overrideId}"]`);
    const first = await signIn(keys.approver1);
    await open(first, "Overrides");
    await row(first).getByRole("button", { name: "Approve" }).click();
    await first.getByText(`Override ${overrideId} is pending (1 of 2 approvals).`).waitFor();
    expect(await row(first).textContent()).toContain("appr-bob");
    // The service, not the page, decides: a second approval by the same principal is refused, and said so.
    await row(first).getByRole("button", { name: "Approve" }).click();
    await first
      .getByRole("alert")
      .filter({ hasText: `CONFLICT: appr-bob has already approved ${overrideId}` })
      .waitFor();
    expect(browser.takeProblems().map((p) => p.text)).toEqual([expect.stringContaining("409")]);

    const second = await signIn(keys.approver2);
    await open(second, "Overrides");
    await row(second).getByRole("button", { name: "Approve" }).click();
    await second.getByText(`Override ${overrideId} is active (2 of 2 approvals).`).waitFor();
    await expect.poll(() => row(second).locator(".badge").textContent()).toBe("active");
    const text = await row(second).textContent();
    expect(text).toContain("appr-carol");
    expect(text).toMatch(/[0-9]+ h [0-9]+ min/);
    expect(await row(second).getByRole("button", { name: "Approve" }).count()).toBe(0);
    await browser.screenshot(second, "overrides-active");
    const listed = await api(t.handler, keys.approver1).get("/api/v1/emergency/overrides?status=active");
    expect(listed.body.items.map((o: { override_id: string }) => o.override_id)).toContain(overrideId);

    // Revoke is immediate: the row shows it revoked, with nothing left to approve or revoke.
    await row(second).getByRole("button", { name: "Revoke" }).click();
    await second.getByText(`Override ${overrideId} is revoked.`).waitFor();
    await expect.poll(() => row(second).locator(".badge").textContent()).toBe("revoked");
    expect(await row(second).getByRole("button").count()).toBe(0);
    expect(
      (await api(t.handler, keys.approver1).get(`/api/v1/emergency/override/${overrideId}`)).body.status,
    ).toBe("revoked");
  });

  it("policies: the effective policy with each field's source, and two versions side by side", async () => {
    const page = await signIn(keys.policyAdmin);
    await open(page, "Policies");
    await page.getByLabel("Tenant", { exact: true }).selectOption("acme-edu");
    const policies = page.getByRole("table", { name: "Policies" });
    await policies
      .getByRole("row", { name: /learner student-123/ })
      .getByRole("button", { name: "Effective" })
      .click();
    const fields = page.getByRole("table", { name: "Effective policy fields" });
    await expect
      .poll(() => fields.getByRole("row", { name: /^allowed_regions/ }).textContent())
      .toContain("merged");
    expect(await fields.getByRole("row", { name: /^primary_region/ }).textContent()).toContain("learner");
    expect(await fields.getByRole("row", { name: /^compliance_frameworks/ }).textContent()).toContain(
      "tenant",
    );
    await policies
      .getByRole("row", { name: /^tenant/ })
      .getByRole("button", { name: "Versions" })
      .click();
    const diff = page.getByRole("table", { name: "Version diff" });
    await expect
      .poll(() => diff.getByRole("row", { name: /allowed_regions \(changed\)/ }).textContent())
      .toContain("ca-central");
    await browser.screenshot(page, "policies");
  });

  it("a dry run of a candidate file reports the same count as the API", async () => {
    const fromApi = await putBundle(
      t.handler,
      keys.publisher,
      buildBundle("rev-console-no-ca", { edit: withoutCanadaAdequacy }),
      "?dry_run=true&limit=1000",
    );
    expect(fromApi.status).toBe(200);
    expect(fromApi.body.changed).toBe(3);
    const page = await signIn(keys.publisher);
    await open(page, "Bundles");
    await page.getByLabel("Candidate bundle").setInputFiles(candidateFile);
    await page.getByRole("button", { name: "Dry run" }).click();
    await page
      .getByText(`${fromApi.body.changed} of ${fromApi.body.replayed} recent decisions would change`)
      .waitFor();
    const transitions = page.getByRole("table", { name: "Code changes" });
    expect(await transitions.textContent()).toMatch(
      /ALLOW_PERMITTED_REGION\s*DENY_NO_TRANSFER_MECHANISM\s*3/,
    );
    await browser.screenshot(page, "bundles-dry-run");
    expect((await admin().get("/api/v1/bundles/active")).body.revision).not.toBe("rev-console-no-ca");
  });

  it("a publisher rolls back to an earlier bundle from the history", async () => {
    const original = (await admin().get("/api/v1/bundles/active")).body;
    const pushed = await putBundle(t.handler, keys.publisher, buildBundle("rev-console-next"));
    expect(pushed.status).toBe(201);
    const page = await signIn(keys.publisher);
    await open(page, "Bundles");
    const active = page.getByRole("region", { name: "Active bundle" });
    await expect.poll(() => active.textContent()).toContain("rev-console-next");
    await page.getByRole("button", { name: `Roll back to ${original.revision}` }).click();
    await page.getByText(`Revision ${original.revision} is active.`).waitFor();
    await expect.poll(() => active.textContent()).toContain(original.revision);
    expect((await admin().get("/api/v1/bundles/active")).body.sha256).toBe(original.sha256);
  });

  it("an auditor exports the trail as JSON lines and CSV, fetched with the key in a header", async () => {
    const page = await signIn(keys.auditor);
    await open(page, "Audit");
    const [jsonl] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export JSONL" }).click(),
    ]);
    expect(jsonl.suggestedFilename()).toBe("audit.jsonl");
    const lines = readFileSync((await jsonl.path())!, "utf8")
      .trim()
      .split("\n");
    const fromApi = (await api(t.handler, keys.auditor).get("/api/v1/audit/export?format=jsonl")).text;
    expect(lines.length).toBe(fromApi.trim().split("\n").length);
    expect(lines.map((l) => JSON.parse(l).event_id)).toContain(deniedId);
    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(readFileSync((await csv.path())!, "utf8").split("\n")[0]).toMatch(/^seq,event_id,type,/);
  });

  it("a key revoked mid-session sends the page back to sign-in with the reason", async () => {
    const key = await t.keyFor(["auditor"], undefined, "aud-leaving");
    const page = await signIn(key);
    const listed = await admin().get("/api/v1/keys?limit=1000");
    const keyId = listed.body.items.find((k: { principal: string }) => k.principal === "aud-leaving").key_id;
    expect((await admin().delete(`/api/v1/keys/${keyId}`)).status).toBe(200);
    await page.getByRole("navigation").getByRole("link", { name: "Decisions" }).click();
    await page.getByText("The service no longer accepts this API key. Sign in again.").waitFor();
    await page.getByLabel("API key").waitFor();
    expect(await page.evaluate("Object.values(sessionStorage)")).toEqual([]);
    // The refused request is logged by the browser itself: the 401s this test caused, nothing else.
    const problems = browser.takeProblems();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.text.includes("401"))).toBe(true);
  });

  it("an operator changes a region's health with a reason", async () => {
    const page = await signIn(keys.operator);
    await open(page, "Regions");
    const card = page.getByRole("article", { name: /^us-west/ });
    await card.getByLabel("Health of us-west", { exact: true }).selectOption("degraded");
    await card.getByLabel("Reason for us-west", { exact: true }).fill("storage latency");
    await card.getByRole("button", { name: "Set health of us-west" }).click();
    await page.getByText("us-west is degraded.").waitFor();
    await expect
      .poll(() => page.getByRole("article", { name: /^us-west/ }).textContent())
      .toContain("storage latency");
    expect((await admin().get("/api/v1/regions/us-west")).body.health).toBe("degraded");
  });

  it("a key scoped to one tenant sees only that tenant's decisions", async () => {
    const page = await signIn(keys.scopedAuditor);
    await page.getByText("tenants acme-edu").waitFor();
    // The overview counts this tenant's decisions only.
    const scoped = (await api(t.handler, keys.scopedAuditor).get("/api/v1/audit/summary")).body;
    const all = (await api(t.handler, keys.auditor).get("/api/v1/audit/summary")).body;
    const count = (b: { hours: Array<{ allowed: number; denied: number }> }) =>
      b.hours.reduce((n, h) => n + h.allowed + h.denied, 0);
    expect(count(scoped)).toBeLessThan(count(all));
    await page.getByText(`Last 24 hours: ${count(scoped)} decisions`).waitFor();
    expect(await page.getByRole("table", { name: "Top deny codes" }).textContent()).not.toContain(
      "DENY_NO_TRANSFER_MECHANISM",
    );
    await open(page, "Decisions");
    await page.getByLabel("Record type").selectOption("");
    await page.getByRole("button", { name: "Search" }).click();
    const table = page.getByRole("table", { name: "Decisions" });
    await table.getByRole("row").nth(1).waitFor();
    const tenants = await table.locator("tbody tr td:nth-child(2)").allTextContents();
    expect(tenants.length).toBeGreaterThan(0);
    expect(new Set(tenants)).toEqual(new Set(["acme-edu"]));
    const options = await page.getByLabel("Tenant", { exact: true }).locator("option").allTextContents();
    expect(options).toEqual(["All my tenants", "acme-edu"]);
    // gdpr-school's decision is not this key's to read, even by its address.
    await page.goto(`${origin}/console/decisions/${deniedId}`);
    await page.getByText(`No decision ${deniedId} in the audit trail this key can see.`).waitFor();
    await open(page, "Audit");
    await page.getByText("Verifying the chain needs a key not scoped to tenants").waitFor();
  });

  // Last: it breaks the chain for good.
  it("verify reports Chain intact, then Broken at seq <n> once a row is tampered with", async () => {
    const page = await signIn(keys.auditor);
    await open(page, "Audit");
    await page.getByRole("button", { name: "Verify chain" }).click();
    await page.getByText("Chain intact").waitFor();
    const { head_seq } = (await api(t.handler, keys.auditor).get("/api/v1/audit/verify")).body;
    const seq = Math.ceil(head_seq / 2);
    await asSuperuser(t.db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = $1", [seq]);
    await page.getByRole("button", { name: "Verify chain" }).click();
    await page.getByText(`Broken at seq ${seq}`).waitFor();
    await browser.screenshot(page, "audit-broken");
  });
});
