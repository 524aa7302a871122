#!/usr/bin/env node
// Reads `opa test --coverage --format json` on stdin and prints the line coverage
// of the policy itself (non-test .rego files under the given directory), failing
// below the threshold. `opa test --threshold` would also count test files.
//   opa test rego golden --coverage --format json | node scripts/rego-coverage.mjs rego 95
import { readFileSync } from "node:fs";

const [dir = "rego", threshold = "95"] = process.argv.slice(2);
const input = readFileSync(0, "utf8");
let report;
try {
  report = JSON.parse(input);
} catch {
  console.error("rego coverage: opa test did not produce a coverage report");
  process.exit(1);
}

const prefix = `${dir.replace(/\/+$/, "")}/`;
let covered = 0;
let total = 0;
const gaps = [];
for (const [file, stats] of Object.entries(report.files ?? {})) {
  if (!file.startsWith(prefix) || file.endsWith("_test.rego")) continue;
  const hit = stats.covered_lines ?? 0;
  const miss = stats.not_covered_lines ?? 0;
  covered += hit;
  total += hit + miss;
  if (miss > 0) {
    const rows = [...new Set((stats.not_covered ?? []).map((r) => r.start.row))].sort((a, b) => a - b);
    gaps.push(`  ${file}: lines ${rows.join(", ")}`);
  }
}
const percent = total === 0 ? 0 : (100 * covered) / total;
console.log(
  `rego coverage: ${percent.toFixed(2)}% (${covered}/${total} lines of non-test files under ${prefix}, minimum ${threshold}%)`,
);
if (gaps.length > 0) console.log(`not covered:\n${gaps.join("\n")}`);
if (percent < Number(threshold)) {
  console.error(`rego coverage ${percent.toFixed(2)}% is under ${threshold}%`);
  process.exit(1);
}
