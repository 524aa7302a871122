#!/usr/bin/env node
// Checks a built bundle against the Rego tree: the revision in its .manifest must
// be the one computed from rego/ now, and the manifest must list every entrypoint
// with a wasm module that is in the archive.
//   node scripts/bundle-check.mjs <bundle.tar.gz> <expected-revision> <entrypoint>...
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

const [bundle, expected, ...entrypoints] = process.argv.slice(2);
const fail = (message) => {
  console.error(`bundle-check: ${message}`);
  process.exit(1);
};
if (!bundle || !expected || entrypoints.length === 0)
  fail("usage: bundle-check.mjs <bundle> <revision> <entrypoint>...");

let archive;
try {
  archive = gunzipSync(readFileSync(bundle));
} catch (error) {
  fail(`cannot read ${bundle} (${error.message}): run make bundle`);
}

// ustar: 512-byte header (name 0..100, size 124..136 octal, prefix 345..500), data padded to 512.
const files = new Map();
for (let offset = 0; offset + 512 <= archive.length; ) {
  const header = archive.subarray(offset, offset + 512);
  if (header.every((byte) => byte === 0)) break;
  const text = (from, to) => header.subarray(from, to).toString("utf8").replace(/\0.*$/s, "");
  const prefix = text(345, 500);
  const name = (prefix ? `${prefix}/` : "") + text(0, 100);
  const size = Number.parseInt(text(124, 136).trim() || "0", 8);
  files.set(name.replace(/^\.?\//, ""), archive.subarray(offset + 512, offset + 512 + size));
  offset += 512 + Math.ceil(size / 512) * 512;
}

const raw = files.get(".manifest");
if (!raw) fail(`${bundle} has no .manifest`);
const manifest = JSON.parse(raw.toString("utf8"));

if (manifest.revision !== expected) {
  fail(
    `bundle is stale: run make bundle (manifest revision ${manifest.revision ?? "<none>"}, rego/ is ${expected})`,
  );
}
const wasm = Array.isArray(manifest.wasm) ? manifest.wasm : [];
for (const entrypoint of entrypoints) {
  const entry = wasm.find((w) => w.entrypoint === entrypoint);
  if (!entry)
    fail(
      `manifest lists no wasm entrypoint ${entrypoint} (has: ${wasm.map((w) => w.entrypoint).join(", ") || "none"})`,
    );
  if (!files.has(entry.module.replace(/^\//, "")))
    fail(`wasm module ${entry.module} for ${entrypoint} is not in ${bundle}`);
}
console.log(`bundle-check: ${bundle} is ${expected} with ${entrypoints.join(", ")}`);
