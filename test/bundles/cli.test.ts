import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBundleVerifier, parseVerificationKey } from "../../src/bundles/signature.ts";
import { readTarGz } from "../../src/bundles/tar.ts";
import { run } from "../../src/cli/main.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { api, serve, stopServing } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import {
  buildBundle,
  FILE_BUNDLE,
  fileRevision,
  keyPair,
  opaBinary,
  withoutCanadaAdequacy,
} from "./support.ts";

// `residency bundle …` against a running service (a real listening server).

const exec = promisify(execFile);

describe("the residency CLI", () => {
  let db: TestDb;
  let t: TestService;
  let url: string;
  let publisherKey: string;
  let work: string;

  async function cli(args: string[], env: Record<string, string | undefined> = {}) {
    let stdout = "";
    let stderr = "";
    const code = await run(args, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s), isTTY: false },
      env: { RESIDENCY_URL: url, RESIDENCY_API_KEY: publisherKey, PATH: process.env.PATH, ...env },
      cwd: process.cwd(),
    });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "residency-cli-"));
    db = await testBackends()[0]!.create();
    t = await startTestService({ db });
    publisherKey = await t.keyFor(["bundle_publisher"], undefined, "compliance-engineer");
    url = await serve(t.handler);
  });
  afterAll(async () => {
    if (t) await stopServing(t.handler);
    await t?.close();
    await db?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("status shows the active bundle and the activations", async () => {
    const r = await cli(["bundle", "status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`revision     ${fileRevision()}`);
    expect(r.stdout).toMatch(/recent activations\n\s+GEN\s+REVISION/);
    const json = await cli(["bundle", "status", "--json"]);
    expect(JSON.parse(json.stdout).active.revision).toBe(fileRevision());
  });

  it("push uploads and activates, with progress on stderr; pushing it again changes nothing", async () => {
    const file = join(work, "b.tar.gz");
    writeFileSync(file, buildBundle("rev-cli-b"));
    const r = await cli(["bundle", "push", "--file", file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /uploading .*b\.tar\.gz \(rev-cli-b, \d+ KB\) to http:\/\/127\.0\.0\.1:\d+; verifying and activating …/,
    );
    expect(r.stdout).toContain(`activated rev-cli-b (previously ${fileRevision()})`);
    expect((await api(t.handler, ADMIN_KEY).get("/api/v1/bundles/active")).body.revision).toBe("rev-cli-b");
    const again = await cli(["bundle", "push", "-f", file]);
    expect(again.stdout).toContain("rev-cli-b is already the active bundle; nothing changed");
  });

  it("diff prints the decisions a changed rule would change, as a table", async () => {
    const admin = api(t.handler, ADMIN_KEY);
    await admin.post("/api/v1/policies", {
      tenant_id: "cli-gdpr",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
      allowed_regions: ["ca-central"],
    });
    for (const region of ["ca-central", "ca-central", "ca-central", "eu-west"]) {
      const d = await admin.post("/api/v1/access/resolve", {
        tenant_id: "cli-gdpr",
        operation_type: "replicate",
        resource_type: "document",
        resource_id: "x",
        requested_region: region,
      });
      expect(d.status).toBe(200);
    }
    const file = join(work, "changed.tar.gz");
    writeFileSync(file, buildBundle("rev-cli-no-ca", { edit: withoutCanadaAdequacy }));
    const r = await cli(["bundle", "diff", "--file", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("dry run: rev-cli-no-ca");
    expect(r.stdout).toContain("4 decisions replayed, 3 would change, 1 unchanged, 0 errors");
    expect(r.stdout).toMatch(
      /BEFORE\s+AFTER\s+COUNT\n\s+ALLOW_PERMITTED_REGION\s+DENY_NO_TRANSFER_MECHANISM\s+3/,
    );
    expect(r.stdout).toMatch(/allow ALLOW_PERMITTED_REGION → ca-central\s+deny DENY_NO_TRANSFER_MECHANISM/);
    // `push --dry-run` is the same, and nothing was activated.
    const dry = await cli(["bundle", "push", "--dry-run", "--file", file, "--json"]);
    expect(JSON.parse(dry.stdout)).toMatchObject({ replayed: 4, changed: 3 });
    expect((await admin.get("/api/v1/bundles/active")).body.revision).toBe("rev-cli-b");

    // --fail-on-change: CI can gate on it (exit 3); the active bundle itself changes nothing (0).
    const gated = await cli(["bundle", "diff", "--file", file, "--fail-on-change"]);
    expect(gated.code).toBe(3);
    expect(gated.stderr).toContain("3 decisions would change, 0 could not be replayed (--fail-on-change)");
    const same = await cli(["bundle", "diff", "--file", join(work, "b.tar.gz"), "--fail-on-change"]);
    expect(same.stdout).toContain("no decision would change");
    expect(same.code).toBe(0);
  });

  it("help per command, --version, and `bundle` alone lists its commands", async () => {
    const v = await cli(["--version"]);
    expect(v).toMatchObject({
      code: 0,
      stdout: `residency ${JSON.parse(readFileSync("package.json", "utf8")).version}\n`,
    });
    const alone = await cli(["bundle"]);
    expect(alone.code).toBe(2);
    for (const c of ["build", "check", "sign", "push", "diff", "status", "rollback"]) {
      expect(alone.stderr).toMatch(new RegExp(`^  ${c}\\b`, "m"));
    }
    expect(alone.stderr).not.toContain("unknown command");
    const push = await cli(["bundle", "push", "--help"]);
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/^usage: residency bundle push \[options\]/);
    expect(push.stdout).toContain("--dry-run");
    expect(push.stdout).not.toContain("--fail-on-change"); // diff's, not push's
    const diff = await cli(["help", "bundle", "diff"]);
    expect(diff.stdout).toMatch(/^usage: residency bundle diff/);
    expect(diff.stdout).toContain("--fail-on-change");
    const unknown = await cli(["bundle", "frobnicate"]);
    expect(unknown.stderr).toContain('unknown bundle command "frobnicate"; the commands are:');
  });

  it("--url: host:port is understood as http, a URL it cannot use is refused clearly", async () => {
    const bare = await cli(["bundle", "status", "--url", url.replace("http://", "")]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain("active bundle");
    const ftp = await cli(["bundle", "status", "--url", "ftp://127.0.0.1:21"]);
    expect(ftp).toMatchObject({ code: 2 });
    expect(ftp.stderr).toContain('--url / RESIDENCY_URL: unsupported scheme "ftp:"');
    const junk = await cli(["bundle", "status"], { RESIDENCY_URL: "http://" });
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain("not a URL");
  });

  it("bundle check: offline, loads the bundle in opa-wasm, runs the self-check, lists entrypoints", async () => {
    const ok = await cli(["bundle", "check", "--url", "http://127.0.0.1:1"]); // no service needed
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${FILE_BUNDLE}: ${fileRevision()}`);
    expect(ok.stdout).toContain("entrypoints: inference/route, residency/decision, residency/validate");
    expect(ok.stdout).toContain("self-check: passed");
    const json = JSON.parse((await cli(["bundle", "check", "--json"])).stdout);
    expect(json).toMatchObject({ revision: fileRevision(), self_check: { ok: true, failures: [] } });

    const partial = join(work, "partial.tar.gz");
    writeFileSync(partial, buildBundle("rev-cli-partial", { entrypoints: ["residency/decision"] }));
    const refused = await cli(["bundle", "check", "--file", partial]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("would be refused: BUNDLE_ENTRYPOINT_MISSING");
    const corrupt = join(work, "corrupt.tar.gz");
    writeFileSync(corrupt, "not a bundle");
    expect((await cli(["bundle", "check", "-f", corrupt])).stderr).toContain(
      "would be refused: BUNDLE_CORRUPT",
    );
  });

  it("rollback serves a stored revision again", async () => {
    const r = await cli(["bundle", "rollback", fileRevision()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`now serving ${fileRevision()} (was rev-cli-b)`);
  });

  it("errors are one line with the server's code and message, exit 1", async () => {
    const bad = join(work, "bad.tar.gz");
    writeFileSync(bad, "not a bundle");
    const refused = await cli(["bundle", "push", "--file", bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n").at(-1)).toBe(
      "residency: bundle rejected: BUNDLE_CORRUPT: bundle is not a valid gzip stream: incorrect header check",
    );
    const unknown = await cli(["bundle", "rollback", "rev-nope"]);
    expect(unknown.stderr).toContain(
      'residency: NOT_FOUND: no stored bundle has revision or sha256 "rev-nope"',
    );
    const forbidden = await cli(["bundle", "push", "--file", FILE_BUNDLE], {
      RESIDENCY_API_KEY: await t.keyFor(["auditor"]),
    });
    expect(forbidden.stderr).toContain("residency: FORBIDDEN: requires one of the roles: bundle_publisher");
    const noKey = await cli(["bundle", "status"], { RESIDENCY_API_KEY: undefined });
    expect(noKey).toMatchObject({
      code: 1,
      stderr: "residency: no API key: set RESIDENCY_API_KEY (or pass --api-key)\n",
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = await cli(["bundle", "status", "--url", `http://127.0.0.1:${port}`]);
    expect(down).toMatchObject({
      code: 1,
      stderr: `residency: cannot reach http://127.0.0.1:${port} (ECONNREFUSED): is the service running? (--url or RESIDENCY_URL)\n`,
    });
    const missing = await cli(["bundle", "push", "--file", join(work, "nope.tar.gz")]);
    expect(missing.stderr).toMatch(/residency: cannot read .*nope\.tar\.gz: ENOENT/);
    expect((await cli(["bundle", "frobnicate"])).code).toBe(2);
    expect((await cli(["bundle", "push", "--bogus"])).code).toBe(2);
  });

  it("build compiles rego/ like make bundle; sign writes a signature OPA's format verifies", async () => {
    opaBinary(); // a clear failure when opa is missing
    const out = join(work, "built.tar.gz");
    const built = await cli(["bundle", "build", "--out", out]);
    expect(built.code).toBe(0);
    expect(built.stderr).toContain(`compiling rego/ to wasm (${fileRevision()}) …`);
    expect(built.stdout).toMatch(
      new RegExp(`^built .*built\\.tar\\.gz \\(${fileRevision()}, \\d+ KB\\) in \\d+\\.\\d s\\n$`),
    );
    // Byte for byte what `make bundle` produced (same opa, same flags, same revision).
    expect(readFileSync(out).equals(readFileSync(FILE_BUNDLE))).toBe(true);

    const keys = keyPair("ec");
    const keyFile = join(work, "signing.pem");
    writeFileSync(keyFile, keys.privatePem);
    const signed = join(work, "signed.tar.gz");
    const r = await cli(["bundle", "sign", "--key", keyFile, "--in", out, "--out", signed]);
    expect(r.code).toBe(0);
    // Every file of the bundle is signed (the count grows with rego/'s data files).
    const files = (await readTarGz(readFileSync(out))).size;
    expect(r.stdout).toMatch(
      new RegExp(
        `^signed .*signed\\.tar\\.gz \\(rev-[0-9a-f]{12}, ${files} files, ES256, sha256 [0-9a-f]{12}\\)\\n$`,
      ),
    );
    await createBundleVerifier(parseVerificationKey(keys.publicPem))(await readTarGz(readFileSync(signed)));
    expect((await cli(["bundle", "sign", "--in", out])).stderr).toContain("sign needs --key");
    // A file that is not a PEM private key is an HMAC secret only when --alg names HS256/384/512.
    const secretFile = join(work, "secret.txt");
    writeFileSync(secretFile, "a-shared-hmac-secret-of-at-least-32-bytes\n");
    const guessed = await cli(["bundle", "sign", "--key", secretFile, "--in", out, "--out", signed]);
    expect(guessed.code).not.toBe(0);
    expect(guessed.stderr).toMatch(/not a PEM private key .*name the algorithm: --alg HS256/);
    const named = await cli([
      "bundle",
      "sign",
      "--key",
      secretFile,
      "--alg",
      "HS256",
      "--in",
      out,
      "--out",
      signed,
    ]);
    expect(named.code).toBe(0);
    expect(named.stdout).toContain("HS256");
  });

  it("runs as `npx residency` (bin/residency.mjs)", { timeout: 30_000 }, async () => {
    const { stdout } = await exec("npx", ["residency", "bundle", "status"], {
      env: { ...process.env, RESIDENCY_URL: url, RESIDENCY_API_KEY: publisherKey },
    });
    expect(stdout).toContain("active bundle");
    const failed = await exec("npx", ["residency", "bundle", "rollback", "rev-nope"], {
      env: { ...process.env, RESIDENCY_URL: url, RESIDENCY_API_KEY: publisherKey },
    }).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain("residency: NOT_FOUND");
  });
});
