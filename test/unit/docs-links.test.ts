import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// A clone holds everything the README and docs/ point at: every relative link resolves to a file
// in the repository, and nothing points outside it.

const ROOT = path.resolve(import.meta.dirname, "../..");

function markdownFiles(): string[] {
  const files = ["README.md", "CHANGELOG.md"];
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, name.name);
      if (name.isDirectory()) walk(rel);
      else if (name.name.endsWith(".md")) files.push(rel);
    }
  };
  walk("docs");
  return files;
}

describe("documentation links", () => {
  it("every relative link in README.md and docs/ names a file of the repository", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdownFiles()) {
      const text = readFileSync(path.join(ROOT, file), "utf8");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^(https?:|mailto:|#)/.test(target)) continue;
        checked++;
        const resolved = path.resolve(ROOT, path.dirname(file), target.split("#")[0]!);
        if (!resolved.startsWith(ROOT + path.sep) || !existsSync(resolved)) broken.push(`${file}: ${target}`);
      }
      for (const m of text.matchAll(/\.\.\/shared\/|\.\.\/\.\.\//g))
        broken.push(`${file}: ${m[0]} (outside the repository)`);
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(3);
  });
});
