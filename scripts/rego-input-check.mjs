#!/usr/bin/env node
// What the rules may read of the input, checked on the non-test .rego files under the given
// directories. The service reuses a decision for an identical input while `now_ms` stays inside
// the `time_window` the bundle publishes (src/policy/decision-memo.ts), and passes in
// `input.request` only the fields the bundle declares it reads (`data.contract.request_fields`).
// Both are exact only if:
//   - `input.now_ms` is read only in the file that computes the window;
//   - every `input.request.<field>` read is a declared field;
//   - neither `input` nor `input.request` is read whole or through a computed key (either could
//     reach the clock or an undeclared field unseen).
//   node scripts/rego-input-check.mjs <opa> <window-file> <contract-json> <dir>...
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const [opa, windowFile, contractFile, ...dirs] = process.argv.slice(2);
const declared = new Set(JSON.parse(readFileSync(contractFile, "utf8")).request_fields);
const files = [];
const walkDir = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walkDir(full);
    else if (name.endsWith(".rego") && !name.endsWith("_test.rego")) files.push(full);
  }
};
for (const dir of dirs) walkDir(dir);

const problems = [];
const read = new Set();
const isInput = (term) => term?.type === "var" && term.value === "input";
const constant = (term) => (term?.type === "string" ? term.value : undefined);

function checkRef(parts, file) {
  const top = constant(parts[1]);
  if (parts.length < 2) return problems.push(`${file}: reads \`input\` whole`);
  if (top === undefined) return problems.push(`${file}: reads \`input\` through a computed key`);
  if (top === "now_ms" && path.resolve(file) !== path.resolve(windowFile)) {
    problems.push(`${file}: reads input.now_ms (only ${windowFile}, which publishes time_window, may)`);
  }
  if (top !== "request") return;
  const field = constant(parts[2]);
  if (parts.length < 3) problems.push(`${file}: reads \`input.request\` whole`);
  else if (field === undefined) problems.push(`${file}: reads \`input.request\` through a computed key`);
  else if (!declared.has(field)) {
    problems.push(`${file}: reads input.request.${field}, which ${contractFile} does not declare`);
  } else read.add(field);
}

function visit(node, file) {
  if (Array.isArray(node)) {
    for (const item of node) visit(item, file);
    return;
  }
  if (node === null || typeof node !== "object") return;
  if (node.type === "ref" && Array.isArray(node.value) && isInput(node.value[0])) {
    checkRef(node.value, file);
    visit(node.value.slice(1), file);
    return;
  }
  if (isInput(node)) {
    problems.push(`${file}: reads \`input\` whole`);
    return;
  }
  for (const value of Object.values(node)) visit(value, file);
}

for (const file of files) {
  visit(JSON.parse(execFileSync(opa, ["parse", "--format", "json", file], { encoding: "utf8" })), file);
}
const unread = [...declared].filter((f) => !read.has(f));
if (unread.length > 0) problems.push(`${contractFile}: declares fields no rule reads: ${unread.join(", ")}`);
if (problems.length > 0) {
  console.error(`input check: ${problems.length} problem(s)`);
  for (const p of [...new Set(problems)]) console.error(`  ${p}`);
  process.exit(1);
}
console.log(
  `input check: ${files.length} files; clock read only in ${windowFile}; request fields read: ${[...read].sort().join(", ")}`,
);
