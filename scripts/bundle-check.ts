// Checks a built bundle against the Rego tree: the revision in its .manifest must be the one
// computed from the tree now, and the manifest must list every entrypoint of the contract with a
// wasm module that is in the archive. The same functions the service and the CLI use.
//   node --import tsx scripts/bundle-check.ts <bundle.tar.gz> <rego-dir>
import { readFileSync } from "node:fs";
import { readManifest, regoRevision, wasmModule } from "../src/bundles/bundle-facts.ts";
import { readTarGz } from "../src/bundles/tar.ts";
import { ENTRYPOINTS } from "../src/domain/policy-contract.ts";

const [bundle, regoDir] = process.argv.slice(2);
const fail = (message: string): never => {
  console.error(`bundle-check: ${message}`);
  process.exit(1);
};
if (!bundle || !regoDir) fail("usage: bundle-check.ts <bundle> <rego-dir>");

const expected = await regoRevision(regoDir!);
let files: Awaited<ReturnType<typeof readTarGz>>;
try {
  files = await readTarGz(readFileSync(bundle!));
} catch (error) {
  fail(`cannot read ${bundle} (${(error as Error).message}): run make bundle`);
}
try {
  const manifest = readManifest(files!);
  if (manifest.revision !== expected) {
    fail(
      `bundle is stale: run make bundle (manifest revision ${manifest.revision}, ${regoDir}/ is ${expected})`,
    );
  }
  wasmModule(files!, manifest);
} catch (error) {
  fail(`${bundle}: ${(error as Error).message}`);
}
console.log(`bundle-check: ${bundle} is ${expected} with ${ENTRYPOINTS.join(", ")}`);
