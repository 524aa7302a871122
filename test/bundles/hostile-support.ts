// Hostile variants of rego/ for the sandbox and hostile-bundle suites: real Rego compiled by opa,
// whose evaluation does not end in any useful time (a cross product of two 100,000-number ranges
// that never matches: 10^10 iterations, no memory growth), for every input or only for one tenant.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SPIN =
  "count([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000); i == 0 - j]) >= 0";

function editDecision(regoDir: string, condition: string): void {
  const file = join(regoDir, "residency/decision/decision.rego");
  const text = readFileSync(file, "utf8");
  const changed = text.replace(
    "allowed := access.outcome.allowed\n",
    `allowed := access.outcome.allowed if {\n\t${condition}\n}\n`,
  );
  if (changed === text) throw new Error("decision.rego no longer has `allowed := access.outcome.allowed`");
  writeFileSync(file, changed);
}

/** Every access decision spins. */
export function spinningDecision(regoDir: string): void {
  editDecision(regoDir, SPIN);
}

/** Access decisions for the tenant `victim-tenant` spin; every other input is answered as usual. */
export function spinningForVictim(regoDir: string): void {
  editDecision(
    regoDir,
    `not victim_spins\n}\n\nvictim_spins if {\n\tinput.request.tenant_id == "victim-tenant"\n\t${SPIN}`,
  );
}

/** Every access decision materialises a 100-million-number range (memory grows ~70 MiB/s). */
export function allocatingDecision(regoDir: string): void {
  editDecision(regoDir, "count(numbers.range(1, 100000000)) >= 0");
}
