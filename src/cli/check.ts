import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { BundleError } from "../bundles/bundle-error.ts";
import { loadBundle } from "../bundles/candidate.ts";
import { selfCheck } from "../bundles/self-check.ts";
import { CliError, type Io, kilobytes, short, step } from "./output.ts";

// `residency bundle check`: would the service accept this bundle? Offline — the bundle is loaded
// in opa-wasm here, as the service loads it, and its self-check run (the invariants every served
// bundle must keep); the entrypoints it answers are listed. `make bundle` runs it after building.

type Flags = Record<string, string | boolean | undefined>;

export async function check(io: Io, flags: Flags, defaultFile: string): Promise<void> {
  const file = typeof flags.file === "string" ? flags.file : defaultFile;
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(io.cwd, file));
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const result = await step(io, `loading ${file} in opa-wasm and running its self-check`, async () => {
    try {
      const bundle = await loadBundle(bytes, { memoEntries: 0 });
      return { bundle, failures: selfCheck(bundle) };
    } catch (err) {
      if (err instanceof BundleError)
        throw new CliError(`${file} would be refused: ${err.code}: ${err.message}`);
      throw err;
    }
  });
  const { bundle, failures } = result;
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          file,
          revision: bundle.revision,
          sha256: bundle.sha256,
          size_bytes: bytes.length,
          entrypoints: bundle.entrypoints,
          self_check: { ok: failures.length === 0, failures },
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.stdout.write(
      `${file}: ${bundle.revision} (sha256 ${short(bundle.sha256)}, ${kilobytes(bytes.length)})\n` +
        `entrypoints: ${bundle.entrypoints.join(", ")}\n` +
        (failures.length === 0
          ? "self-check: passed; the service would accept it (signature checks aside)\n"
          : `self-check: ${failures.length} failed\n${failures.map((f) => `  ✗ ${f}\n`).join("")}`),
    );
  }
  if (failures.length > 0) {
    throw new CliError(`${file} would be refused: BUNDLE_SELF_CHECK_FAILED (${failures.length} failed)`);
  }
}
