// Generated documents are committed; `--check` fails when the committed one is stale.
import { readFileSync, writeFileSync } from "node:fs";

/** Writes `text` to `file`, or with `check` compares and exits 1 naming the command that fixes it. */
export function writeOrCheck(file, text, { check, fix }) {
  if (!check) {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
    return;
  }
  let current = null;
  try {
    current = readFileSync(file, "utf8");
  } catch {
    current = null;
  }
  if (current !== text) {
    console.error(`${file} is stale: regenerate it with \`${fix}\` and commit it`);
    process.exit(1);
  }
  console.log(`${file} is fresh`);
}
