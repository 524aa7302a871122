// The policy files the Rego checks read, and their parsed form, in one place.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

/** The non-test .rego files under `dirs`, in a stable order. */
export function policyFiles(dirs) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(".rego") && !name.endsWith("_test.rego")) files.push(full);
    }
  };
  for (const dir of dirs) walk(dir);
  return files;
}

/** `opa parse --format json` of one file; `extra` adds flags (e.g. `--json-include -comments`). */
export function parseRego(opa, file, extra = []) {
  return JSON.parse(execFileSync(opa, ["parse", "--format", "json", ...extra, file], { encoding: "utf8" }));
}
