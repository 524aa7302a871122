// Bundles for the life-cycle suites, built from rego/ at test time with the real opa binary (as
// npm-opa-wasm does in beforeAll): a revision-only variant, a variant with a changed rule, one
// lacking an entrypoint — and key pairs made at run time (no private key is ever committed).

import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { RequestListener } from "node:http";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import request from "supertest";
import { revisionOf } from "../../src/bundles/bundle-facts.ts";
import { readTarGz, writeTarGz } from "../../src/bundles/tar.ts";
import { ENTRYPOINTS } from "../../src/domain/policy-contract.ts";

export const FILE_BUNDLE = "bundles/residency.tar.gz";

export function opaBinary(): string {
  const candidates = [
    process.env.OPA,
    ...(process.env.PATH ?? "").split(delimiter).map((d) => (d ? join(d, "opa") : undefined)),
  ];
  try {
    candidates.push(join(execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim(), "bin", "opa"));
  } catch {
    // no Go toolchain
  }
  const found = candidates.find((c): c is string => Boolean(c && existsSync(c)));
  if (!found) {
    throw new Error(
      "the bundle tests build bundles with opa, which was not found: run `make opa` (make test does it before vitest) or set OPA=/path/to/opa",
    );
  }
  return found;
}

const cache = new Map<string, Buffer>();

/**
 * rego/ built with `opa build` as mk/opa.mk does, under `revision`; `edit` may change the copied
 * tree first (it gets the copy's rego/ directory).
 */
export function buildBundle(
  revision: string,
  options: { entrypoints?: readonly string[]; edit?: (regoDir: string) => void } = {},
): Buffer {
  const key = `${revision}|${(options.entrypoints ?? ENTRYPOINTS).join(",")}|${options.edit?.toString() ?? ""}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const work = mkdtempSync(join(tmpdir(), "residency-bundle-"));
  try {
    cpSync("rego", join(work, "rego"), { recursive: true });
    options.edit?.(join(work, "rego"));
    const out = join(work, "bundle.tar.gz");
    execFileSync(
      opaBinary(),
      [
        "build",
        "-t",
        "wasm",
        ...(options.entrypoints ?? ENTRYPOINTS).flatMap((e) => ["-e", e]),
        "--capabilities",
        join(process.cwd(), "mk/opa-wasm-capabilities.json"),
        "--revision",
        revision,
        "--ignore",
        "*_test.rego",
        "-o",
        out,
        "rego",
      ],
      { cwd: work, stdio: ["ignore", "ignore", "pipe"] },
    );
    const bytes = readFileSync(out);
    cache.set(key, bytes);
    return bytes;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** GDPR loses Canada's adequacy: gdpr tenants replicating to ca-central become denials. */
export function withoutCanadaAdequacy(regoDir: string): void {
  const file = join(regoDir, "frameworks/gdpr/gdpr.rego");
  const text = readFileSync(file, "utf8");
  const changed = text.replace(
    'adequate := {"eu-west", "eu-central", "ca-central", "apac-east"}',
    'adequate := {"eu-west", "eu-central", "apac-east"}',
  );
  if (changed === text) throw new Error("gdpr.rego no longer has the expected adequacy table");
  writeFileSync(file, changed);
}

const FILE_REVISION = (await revisionOf(readFileSync(FILE_BUNDLE)))!;

export function fileRevision(): string {
  return FILE_REVISION;
}

/** The same bundle with one file's content changed (or removed when `content` is null). */
export async function withFile(bytes: Buffer, name: string, content: Buffer | null): Promise<Buffer> {
  const files = await readTarGz(bytes);
  if (content === null) files.delete(name);
  else files.set(name, content);
  return writeTarGz(files);
}

export function keyPair(type: "rsa" | "ec" = "rsa") {
  const { publicKey, privateKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

export function putBundle(handler: RequestListener, key: string, bytes: Buffer, query = "") {
  return request(handler)
    .put(`/api/v1/bundles${query}`)
    .set("authorization", `Bearer ${key}`)
    .set("content-type", "application/gzip")
    .send(bytes);
}

export const DECISION = {
  tenant_id: "bundle-tenant",
  operation_type: "read",
  resource_type: "document",
  resource_id: "doc-1",
};
