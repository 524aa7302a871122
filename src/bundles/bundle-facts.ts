import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { ENTRYPOINTS } from "../domain/policy-contract.ts";
import { BundleError } from "./bundle-error.ts";
import { readTarGz, type TarFiles } from "./tar.ts";

// The facts of a bundle, each computed here and nowhere else: its identity (sha256 of the bytes),
// its manifest and revision, the entrypoints it must list, and the revision a Rego tree builds to.
// The service, the CLI, `make bundle` / `make bundle-check` and the tests all use these.

export type Manifest = {
  revision: string;
  roots?: string[];
  wasm?: Array<{ entrypoint: string; module: string }>;
  metadata?: Record<string, unknown>;
};

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The `.manifest` of an unpacked bundle, with a non-empty revision. Throws BundleError. */
export function readManifest(files: TarFiles): Manifest {
  const bytes = files.get(".manifest");
  if (!bytes) throw new BundleError("BUNDLE_MANIFEST_INVALID", "bundle has no .manifest");
  let manifest: Manifest;
  try {
    manifest = JSON.parse(bytes.toString("utf8")) as Manifest;
  } catch (err) {
    throw new BundleError("BUNDLE_MANIFEST_INVALID", ".manifest is not JSON", { cause: err });
  }
  if (typeof manifest?.revision !== "string" || manifest.revision === "") {
    throw new BundleError("BUNDLE_MANIFEST_INVALID", ".manifest has no revision");
  }
  return manifest;
}

/** The revision a bundle's manifest names, or null when the bytes are not a readable bundle. */
export async function revisionOf(bytes: Buffer): Promise<string | null> {
  try {
    return readManifest(await readTarGz(bytes)).revision;
  } catch {
    return null;
  }
}

/**
 * The wasm module that serves every entrypoint of the contract. Throws BundleError when the
 * manifest does not list one of them or the module is not in the archive.
 */
export function wasmModule(files: TarFiles, manifest: Manifest, entrypoints = ENTRYPOINTS): Buffer {
  const wasm = manifest.wasm ?? [];
  const listed = new Set(wasm.map((w) => w.entrypoint));
  const missing = entrypoints.filter((e) => !listed.has(e));
  if (missing.length > 0) {
    throw new BundleError("BUNDLE_ENTRYPOINT_MISSING", `bundle lacks entrypoint(s): ${missing.join(", ")}`);
  }
  const path = (wasm[0]?.module ?? "/policy.wasm").replace(/^\/+/, "");
  const module = files.get(path);
  if (!module) throw new BundleError("BUNDLE_WASM_INVALID", `bundle has no ${path}`);
  return module;
}

/**
 * The revision a Rego tree builds to: "rev-" + 12 hex of a sha256 over "<sha256 of file> ./<path>\n"
 * for every non-test file, paths in byte order — so it changes exactly when what goes into the
 * bundle changes.
 */
export async function regoRevision(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && !entry.name.endsWith("_test.rego")) files.push(path);
    }
  };
  await walk(dir);
  const names = files
    .map((f) => `./${relative(dir, f).split(sep).join("/")}`)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const digest = createHash("sha256");
  for (const name of names) {
    digest.update(`${sha256Hex(await readFile(join(dir, name)))} ${name}\n`);
  }
  return `rev-${digest.digest("hex").slice(0, 12)}`;
}
