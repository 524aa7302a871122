#!/usr/bin/env node
// Writes the capabilities file `opa build -t wasm` uses, so a builtin the
// @open-policy-agent/opa-wasm SDK cannot run fails the build, not a request.
//
//   node scripts/wasm-capabilities.mjs <opa binary> <output.json>
//
// A builtin runs under the SDK when it is either
//   1. implemented natively in the wasm runtime OPA links into policy.wasm
//      (OPA v1.22.3, internal/compiler/wasm/wasm.go `builtinsFunctions`), or
//   2. implemented in JavaScript by the SDK (node_modules/@open-policy-agent/
//      opa-wasm/src/builtins/*.js: json.is_valid, sprintf, regex.split, yaml.*).
// The SDK's own capabilities.json is not used: it is older than OPA 1.x and
// lists builtins neither side implements (time.diff, rand.intn).
//
// House rules (docs/policy-contract.md, STYLE.md) remove a few more at build
// time: no regular expressions (they pull RE2 into the module) and no walk().
// Declarations, features and keywords come from `opa capabilities --current`
// so the file matches the OPA that builds the bundle.
import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [opa = "opa", out = "mk/opa-wasm-capabilities.json"] = process.argv.slice(2);

const NATIVE_WASM_V1_22_3 = [
  "abs",
  "all",
  "and",
  "any",
  "array.concat",
  "array.flatten",
  "array.reverse",
  "array.slice",
  "base64.decode",
  "base64.encode",
  "base64.is_valid",
  "base64url.decode",
  "base64url.encode",
  "bits.and",
  "bits.lsh",
  "bits.negate",
  "bits.or",
  "bits.rsh",
  "bits.xor",
  "ceil",
  "concat",
  "contains",
  "count",
  "div",
  "endswith",
  "equal",
  "floor",
  "format_int",
  "glob.match",
  "graph.reachable",
  "gt",
  "gte",
  "indexof",
  "internal.member_2",
  "internal.member_3",
  "internal.template_string",
  "intersection",
  "is_array",
  "is_boolean",
  "is_null",
  "is_number",
  "is_object",
  "is_set",
  "is_string",
  "json.filter",
  "json.is_valid",
  "json.marshal",
  "json.remove",
  "json.unmarshal",
  "lower",
  "lt",
  "lte",
  "max",
  "min",
  "minus",
  "mul",
  "neq",
  "net.cidr_contains",
  "net.cidr_intersects",
  "net.cidr_overlap",
  "numbers.range",
  "object.filter",
  "object.get",
  "object.keys",
  "object.remove",
  "object.union",
  "object.union_n",
  "or",
  "plus",
  "product",
  "re_match",
  "regex.find_all_string_submatch_n",
  "regex.is_valid",
  "regex.match",
  "rem",
  "replace",
  "round",
  "set_diff",
  "sort",
  "split",
  "startswith",
  "strings.replace_n",
  "strings.reverse",
  "substring",
  "sum",
  "to_number",
  "trim",
  "trim_left",
  "trim_prefix",
  "trim_right",
  "trim_space",
  "trim_suffix",
  "type_name",
  "union",
  "upper",
  "walk",
];

// Unification and assignment are compiled away; rego.metadata.* is rewritten to
// constants by the compiler before planning.
const COMPILED_AWAY = ["eq", "assign", "rego.metadata.rule", "rego.metadata.chain"];

const HOUSE_RULES_EXCLUDE = new Set([
  "re_match",
  "regex.match",
  "regex.is_valid",
  "regex.find_all_string_submatch_n",
  "regex.split",
  "glob.match",
  "walk",
]);

const require = createRequire(path.resolve("package.json"));
const sdkDir = path.resolve(path.dirname(require.resolve("@open-policy-agent/opa-wasm")), "..");
const sdkBuiltins = Object.keys(require(path.join(sdkDir, "src/builtins/index.js")));
for (const file of readdirSync(path.join(sdkDir, "src/builtins"))) {
  if (!file.endsWith(".js")) throw new Error(`unexpected SDK builtin file ${file}`);
}

const current = JSON.parse(execFileSync(opa, ["capabilities", "--current"], { encoding: "utf8" }));
const wanted = new Set([...NATIVE_WASM_V1_22_3, ...sdkBuiltins, ...COMPILED_AWAY]);
const builtins = current.builtins.filter((b) => wanted.has(b.name) && !HOUSE_RULES_EXCLUDE.has(b.name));
const missing = [...wanted].filter((n) => !HOUSE_RULES_EXCLUDE.has(n) && !builtins.some((b) => b.name === n));
if (missing.length) throw new Error(`opa does not declare: ${missing.join(", ")}`);

const capabilities = {
  builtins,
  future_keywords: current.future_keywords,
  features: current.features,
  // what the SDK accepts (src/opa.js: ABI 1, fast path from minor 2); OPA 1.22.3 emits 1.3,
  // which stays compatible with hosts for 1.1 and 1.2.
  wasm_abi_versions: [
    { version: 1, minor_version: 1 },
    { version: 1, minor_version: 2 },
  ],
};
writeFileSync(out, `${JSON.stringify(capabilities, null, 2)}\n`);
console.log(
  `${out}: ${builtins.length} builtins (${sdkBuiltins.filter((n) => !HOUSE_RULES_EXCLUDE.has(n)).join(", ")} from the SDK)`,
);
