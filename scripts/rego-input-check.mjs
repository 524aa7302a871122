#!/usr/bin/env node
// What the rules may read of the input, checked on the non-test .rego files under the given
// directories. The host passes in each part the contract lists (`data.contract.fields`: policy,
// request) only the fields declared there, and reuses a decision for another input as the
// answer's `reuse` allows (src/engine/decision-memo.ts). Both are exact only if:
//   - each read of a listed part names a declared field (`input.policy.primary_region`), never
//     the part whole or through a computed key — except `is_object(input.<part>)`, which cannot
//     tell a cut part from a whole one;
//   - `input` itself is never read whole or through a computed key;
//   - the clock (`input.now_ms`) and the learner (`input.request.learner_id`) are read only by
//     the named rules of the file that computes `reuse` (CONFINED below): the expiry comparison
//     and the window, and the learner-scope match — so no other rule sees either value;
//   - no other file refers to a private (`_`) rule of that file's package: the confined rules,
//     and the functions that take an override to judge it, cannot be called from elsewhere
//     with arguments of their choosing.
// Declared fields no rule reads fail too: the contract says exactly what the rules read.
//   node scripts/rego-input-check.mjs <opa> <reuse-file> <contract-json> <dir>...
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseRego, policyFiles } from "./lib/rego-files.mjs";

const [opa, reuseFile, contractFile, ...dirs] = process.argv.slice(2);
const declared = new Map(
  Object.entries(JSON.parse(readFileSync(contractFile, "utf8")).fields).map(([part, fields]) => [
    part,
    new Set(fields),
  ]),
);
/** Reads that decide reuse: allowed only in these rules of the reuse file. */
const CONFINED = new Map([
  ["now_ms", new Set(["_before_expiry", "_window_from", "_window_until"])],
  ["request.learner_id", new Set(["_learner_in_scope"])],
]);

const files = policyFiles(dirs);

const problems = [];
const read = new Map([...declared.keys()].map((part) => [part, new Set()]));
const isInput = (term) => term?.type === "var" && term.value === "input";
const constant = (term) => (term?.type === "string" ? term.value : undefined);
const isRefTo = (term, name) =>
  term?.type === "ref" &&
  term.value.length === 1 &&
  term.value[0].type === "var" &&
  term.value[0].value === name;

function checkRef(parts, file, rule, typeCheckOnly) {
  if (parts.length < 2) return problems.push(`${file}: reads \`input\` whole`);
  const top = constant(parts[1]);
  if (top === undefined) return problems.push(`${file}: reads \`input\` through a computed key`);
  const field = constant(parts[2]);
  const name = field === undefined ? top : `${top}.${field}`;
  const readers = CONFINED.get(top) ?? CONFINED.get(name);
  if (readers && !(path.resolve(file) === path.resolve(reuseFile) && readers.has(rule))) {
    problems.push(
      `${file}: rule ${rule} reads input.${CONFINED.has(top) ? top : name} (only ${[...readers].join(", ")} in ${reuseFile}, which computes reuse, may)`,
    );
  }
  const fields = declared.get(top);
  if (!fields) return;
  if (parts.length < 3) {
    if (!typeCheckOnly) problems.push(`${file}: reads \`input.${top}\` whole`);
  } else if (field === undefined) problems.push(`${file}: reads \`input.${top}\` through a computed key`);
  else if (!fields.has(field))
    problems.push(`${file}: reads input.${name}, which ${contractFile} does not declare`);
  else read.get(top).add(field);
}

function visit(node, file, rule) {
  if (Array.isArray(node)) {
    for (const item of node) visit(item, file, rule);
    return;
  }
  if (node === null || typeof node !== "object") return;
  // is_object(input.<part>) with its one argument, as an expression (`terms`) or a call term
  // (`value`): it cannot tell a cut part from a whole one. Anything else in the node is visited.
  const call = Array.isArray(node.terms) ? node.terms : node.type === "call" ? node.value : null;
  if (
    call?.length === 2 &&
    isRefTo(call[0], "is_object") &&
    call[1]?.type === "ref" &&
    isInput(call[1].value[0])
  ) {
    checkRef(call[1].value, file, rule, true);
    visit(call[1].value.slice(1), file, rule);
    for (const [key, value] of Object.entries(node))
      if (key !== "terms" && key !== "value") visit(value, file, rule);
    return;
  }
  if (node.type === "ref" && Array.isArray(node.value) && isInput(node.value[0])) {
    checkRef(node.value, file, rule, false);
    visit(node.value.slice(1), file, rule);
    return;
  }
  if (isInput(node)) {
    problems.push(`${file}: reads \`input\` whole`);
    return;
  }
  for (const value of Object.values(node)) visit(value, file, rule);
}

/** The strings of a ref after its head var: data.a.b[x].c → ["a", "b"]. */
const segmentsOf = (terms) => {
  const out = [];
  for (const t of terms) {
    if (t.type !== "string") break;
    out.push(t.value);
  }
  return out;
};

/** Refs (resolved through the file's imports) to private rules of `pkg`, reported. */
function checkPrivateRefs(ast, file, pkg) {
  const aliases = new Map();
  for (const imp of ast.imports ?? []) {
    const terms = imp.path?.value ?? [];
    if (terms[0]?.type !== "var" || terms[0].value !== "data") continue;
    const segments = segmentsOf(terms.slice(1));
    aliases.set(imp.alias ?? segments[segments.length - 1], segments);
  }
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== "object") return;
    if (node.type === "ref" && Array.isArray(node.value) && node.value[0]?.type === "var") {
      const head = node.value[0].value;
      const base = head === "data" ? [] : aliases.get(head);
      if (base) {
        const full = [...base, ...segmentsOf(node.value.slice(1))];
        const rule = full[pkg.length];
        if (pkg.every((s, i) => full[i] === s) && typeof rule === "string" && rule.startsWith("_")) {
          problems.push(`${file}: refers to ${pkg.join(".")}.${rule}, private to ${reuseFile}`);
        }
      }
    }
    for (const value of Object.values(node)) walk(value);
  };
  walk(ast.rules ?? []);
}

const ruleName = (rule) => rule.head?.name ?? rule.head?.ref?.map((t) => t.value).join(".") ?? "?";

const parse = (file) => parseRego(opa, file);
const reusePackage = segmentsOf(parse(reuseFile).package.path.slice(1));
for (const file of files) {
  const ast = parse(file);
  for (const rule of ast.rules ?? []) visit(rule, file, ruleName(rule));
  if (path.resolve(file) !== path.resolve(reuseFile)) checkPrivateRefs(ast, file, reusePackage);
}
for (const [part, fields] of declared) {
  const unread = [...fields].filter((f) => !read.get(part).has(f));
  if (unread.length > 0)
    problems.push(`${contractFile}: declares ${part} fields no rule reads: ${unread.join(", ")}`);
}
if (problems.length > 0) {
  console.error(`input check: ${problems.length} problem(s)`);
  for (const p of [...new Set(problems)]) console.error(`  ${p}`);
  process.exit(1);
}
const summary = [...read].map(([part, fields]) => `${part} ${fields.size}`).join(", ");
console.log(
  `input check: ${files.length} files; clock and learner read only by their rules in ${reuseFile}; declared fields read: ${summary}`,
);
