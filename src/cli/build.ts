import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { ENTRYPOINTS } from "../domain/policy-contract.ts";
import { CliError } from "./output.ts";

// `residency bundle build`: what `make bundle` runs (mk/opa.mk) — `opa build` with the wasm
// target, the contract's entrypoints, the wasm capabilities, tests ignored — stamped with the
// revision bundles/bundle-facts.ts computes, so `make bundle-check` accepts the result.

const run = promisify(execFile);

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
      env: env as NodeJS.ProcessEnv,
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
