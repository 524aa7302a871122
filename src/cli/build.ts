import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { delimiter, join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { ENTRYPOINTS } from "../domain/policy-contract.ts";
import { CliError } from "./output.ts";

// `residency bundle build`: the same `opa build` as `make bundle` (mk/opa.mk) — wasm target, the
// three entrypoints, the wasm capabilities, tests ignored — with the revision computed exactly as
// scripts/rego-revision.sh computes it, so `make bundle-check` accepts the result.

const run = promisify(execFile);

/** "rev-" + 12 hex of a sha256 over "<sha256 of file> ./<path>\n" for every non-test file, C-sorted. */
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
    const sha = createHash("sha256")
      .update(await readFile(join(dir, name)))
      .digest("hex");
    digest.update(`${sha} ${name}\n`);
  }
  return `rev-${digest.digest("hex").slice(0, 12)}`;
}

/** $OPA, then `opa` on PATH, then $(go env GOPATH)/bin/opa — as mk/opa.mk looks for it. */
export async function findOpa(env: Record<string, string | undefined>, explicit?: string): Promise<string> {
  const given = explicit ?? env.OPA;
  if (given) {
    if (existsSync(given)) return given;
    throw new CliError(`opa not found at ${given}`);
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "opa"))) return join(dir, "opa");
  }
  try {
    const { stdout } = await run("go", ["env", "GOPATH"], {
      env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    });
    const candidate = join(stdout.trim(), "bin", "opa");
    if (existsSync(candidate)) return candidate;
  } catch {
    // no Go toolchain: fall through
  }
  throw new CliError("opa not found: run `make opa` (installs the pinned version) or set OPA=/path/to/opa");
}

export type BuildOptions = {
  opa: string;
  /** Relative to `cwd`: opa records module paths as given, so `rego` keeps them as `make bundle` does. */
  regoDir: string;
  cwd: string;
  out: string;
  revision: string;
  capabilities: string | null;
  entrypoints?: readonly string[];
};

/** Runs opa build; its diagnostics become the error message when it fails. */
export function opaBuild(o: BuildOptions): Promise<void> {
  const args = [
    "build",
    "-t",
    "wasm",
    ...(o.entrypoints ?? ENTRYPOINTS).flatMap((e) => ["-e", e]),
    ...(o.capabilities ? ["--capabilities", o.capabilities] : []),
    "--revision",
    o.revision,
    "--ignore",
    "*_test.rego",
    "-o",
    o.out,
    o.regoDir,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(o.opa, args, { cwd: o.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.on("error", (err) => reject(new CliError(`could not run ${o.opa}: ${err.message}`)));
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const first = output.trim().split("\n").slice(0, 6).join(" | ");
      reject(new CliError(`opa build failed (exit ${code}): ${first || "no output"}`));
    });
  });
}
