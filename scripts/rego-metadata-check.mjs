#!/usr/bin/env node
// Every package and every public rule (name not starting with `_`) of the non-test
// .rego files under the given directories carries a METADATA block with a title
// and a description (on at least one of its definitions). With --cite the block
// must also cite its source: `related_resources`, or `custom.citation`.
//   node scripts/rego-metadata-check.mjs [--cite] <opa> <dir>...
import { parseRego, policyFiles } from "./lib/rego-files.mjs";

const args = process.argv.slice(2);
const cite = args[0] === "--cite";
const [opa, ...dirs] = cite ? args.slice(1) : args;
const files = policyFiles(dirs);

const cited = (a) => !cite || (a.related_resources ?? []).length > 0 || Boolean(a.custom?.citation);
const complete = (annotations) => (annotations ?? []).some((a) => a.title && a.description && cited(a));
const wanted = cite ? "title, description and citation" : "title and description";
const problems = [];
let rules = 0;
for (const file of files) {
  const ast = parseRego(opa, file, ["--json-include", "-comments"]);
  const pkg = ast.package.path
    .slice(1)
    .map((term) => term.value)
    .join(".");
  if (!complete((ast.annotations ?? []).filter((a) => a.scope === "package"))) {
    problems.push(`${file}: package ${pkg} has no METADATA ${wanted}`);
  }
  const byName = new Map();
  for (const rule of ast.rules ?? []) {
    const name = rule.head.name ?? rule.head.ref?.[0]?.value;
    if (!name || name.startsWith("_")) continue;
    byName.set(name, byName.get(name) || complete(rule.annotations));
  }
  for (const [name, annotated] of byName) {
    rules += 1;
    if (!annotated) problems.push(`${file}: ${pkg}.${name} has no METADATA ${wanted}`);
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(
  `rego metadata: ${rules} public rules in ${files.length} files under ${dirs.join(", ")} carry a METADATA ${wanted}`,
);
