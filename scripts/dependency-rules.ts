// `make lint`'s room check: the rules of .dependency-cruiser.cjs, evaluated by dependency-cruiser
// over the import graph of src/.
//   node --import tsx scripts/dependency-rules.ts [root]      (root: the repository, default ".")
//
// dependency-cruiser reads TypeScript through the TypeScript compiler API, which TypeScript 7 (the
// native compiler this project builds with) no longer ships, and its CLI refuses Node 20. So this
// runner writes, for every src/**/*.ts, a stand-in module holding that file's imports and nothing
// else — run-time imports as `import "x"`, type-only ones as `require("x")` — and calls
// dependency-cruiser's API on those: it resolves them (relative files, node_modules), finds cycles
// and applies the rules. Exit code 1 and one line per violation when a rule is broken.

import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { cruise, type IViolation } from "dependency-cruiser";

export type Dependency = { specifier: string; typeOnly: boolean };

// Statements as Biome prints them: `import … from "x"`, `export … from "x"`, `import "x"`,
// `import("x")`, and a worker started from a module URL.
const FROM = /(?:^|[\n;])\s*(import|export)\s+(type\s+)?([^;"]*?)\s*from\s*"([^"]+)"/g;
const BARE = /(?:^|[\n;])\s*import\s*"([^"]+)"/g;
const DYNAMIC = /\bimport\(\s*"([^"]+)"\s*\)/g;
const WORKER_URL = /new\s+URL\(\s*"(\.{1,2}\/[^"]+)"\s*,\s*import\.meta\.url\s*\)/g;

/** The imports of one TypeScript source, each marked type-only or not. */
export function importsOf(source: string): Dependency[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: Dependency[] = [];
  for (const m of text.matchAll(FROM)) {
    const clause = m[3] ?? "";
    const members = /^\{([\s\S]*)\}$/.exec(clause.trim())?.[1];
    const names = members
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const allTypes = names?.every((s) => s.startsWith("type ")) === true;
    found.push({ specifier: m[4]!, typeOnly: m[2] !== undefined || allTypes });
  }
  for (const re of [BARE, DYNAMIC, WORKER_URL]) {
    for (const m of text.matchAll(re)) found.push({ specifier: m[1]!, typeOnly: false });
  }
  return found;
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** Runs the rules over `root`/src; returns the violations. */
export async function checkRooms(root: string): Promise<IViolation[]> {
  const stage = mkdtempSync(join(tmpdir(), "dependency-rules-"));
  try {
    symlinkSync(resolve(root, "node_modules"), join(stage, "node_modules"), "dir");
    for (const file of sourcesUnder(resolve(root, "src"))) {
      const lines = importsOf(readFileSync(file, "utf8")).map(({ specifier, typeOnly }) => {
        const target = specifier.startsWith(".") ? specifier.replace(/\.ts$/, ".js") : specifier;
        return typeOnly ? `require(${JSON.stringify(target)});` : `import ${JSON.stringify(target)};`;
      });
      const out = join(stage, relative(resolve(root), file)).replace(/\.ts$/, ".js");
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${lines.join("\n")}\n`);
    }
    const require = createRequire(import.meta.url);
    const rules = require(resolve(root, ".dependency-cruiser.cjs"));
    const result = await cruise(
      ["src"],
      { ...rules.options, ruleSet: { forbidden: rules.forbidden }, validate: true, baseDir: stage },
      {},
      {},
    );
    if (typeof result.output === "string") throw new Error("dependency-cruiser returned text, not a graph");
    const { summary } = result.output;
    if (summary.totalCruised === 0) throw new Error("dependency-cruiser found no module to check");
    // Report the sources' own names: src/x.ts, node_modules/pkg/… (not the stand-ins' or the symlink's).
    const named = (path: string) =>
      path.replace(/^src\/(.*)\.js$/, "src/$1.ts").replace(/^.*?\bnode_modules\//, "node_modules/");
    return summary.violations.map((v) => ({
      ...v,
      from: named(v.from),
      to: named(v.to),
      ...(v.cycle ? { cycle: v.cycle.map((c) => ({ ...c, name: named(c.name) })) } : {}),
    }));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

const here = import.meta.url === `file://${process.argv[1]}`;
if (here) {
  const violations = await checkRooms(process.argv[2] ?? ".");
  for (const v of violations) {
    const via = v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(" → ")})` : "";
    console.error(`dependency rule ${v.rule.name}: ${v.from} → ${v.to}${via}`);
  }
  if (violations.length > 0) process.exit(1);
  console.log("dependency rules: the rooms hold (.dependency-cruiser.cjs)");
}
