import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { regoRevision, revisionOf, sha256Hex } from "../bundles/bundle-facts.ts";
import type { BundleHistory, BundleSummary, PublishResult } from "../bundles/bundle-service.ts";
import type { DryRunReport } from "../bundles/dry-run.ts";
import { parseSigningKey, SIGNATURES_FILE, signBundle } from "../bundles/signature.ts";
import { readTarGz } from "../bundles/tar.ts";
import { findOpa, opaBuild } from "./build.ts";
import type { CliClient as Client } from "./client.ts";
import { CliError, type Io, kilobytes, seconds, short, step, table } from "./output.ts";

// `residency bundle build|sign|push|status|diff|rollback` — what a compliance engineer runs.

export const DEFAULT_BUNDLE = "bundles/residency.tar.gz";

type Flags = Record<string, string | boolean | undefined>;

const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
};

async function readBundle(
  io: Io,
  file: string,
): Promise<{ bytes: Buffer; revision: string | null; path: string }> {
  const path = resolve(io.cwd, file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` +
        (file === DEFAULT_BUNDLE ? " (build it first: residency bundle build)" : ""),
    );
  }
  // Null when unreadable: the server says precisely what is wrong; the CLI only labels what it sends.
  const revision = await revisionOf(bytes);
  return { bytes, revision, path };
}

/** Writes next to the target and renames, so a watcher of the file never sees it half-written. */
async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, bytes);
  await rename(temp, path);
}

export async function build(io: Io, flags: Flags): Promise<void> {
  const regoDir = str(flags, "rego") ?? "rego";
  const out = str(flags, "out") ?? DEFAULT_BUNDLE;
  const capabilities = str(flags, "capabilities") ?? "mk/opa-wasm-capabilities.json";
  const regoPath = resolve(io.cwd, regoDir);
  if (!(await stat(regoPath).catch(() => null))?.isDirectory()) {
    throw new CliError(`${regoDir}/ is not a directory (run from the repository root, or pass --rego)`);
  }
  const opa = await findOpa(io.env, str(flags, "opa"));
  const revision = str(flags, "revision") ?? (await regoRevision(regoPath));
  const capabilitiesPath = resolve(io.cwd, capabilities);
  const hasCapabilities = await stat(capabilitiesPath).then(
    () => true,
    () => false,
  );
  const outPath = resolve(io.cwd, out);
  const temp = `${outPath}.tmp-${process.pid}.tar.gz`;
  await mkdir(dirname(outPath), { recursive: true });
  const started = Date.now();
  await step(io, `compiling ${regoDir}/ to wasm (${revision})`, () =>
    opaBuild({
      opa,
      regoDir,
      cwd: io.cwd,
      out: temp,
      revision,
      capabilities: hasCapabilities ? capabilitiesPath : null,
    }),
  );
  let bytes: Buffer = await readFile(temp);
  const signingKey = str(flags, "signing-key");
  if (signingKey) {
    const alg = str(flags, "signing-alg");
    let key: ReturnType<typeof parseSigningKey>;
    try {
      key = parseSigningKey(await readKey(io, signingKey), alg, { nameAlgorithm: "--signing-alg HS256" });
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`${signingKey}: ${(err as Error).message}`);
    }
    bytes = await step(io, `signing with ${key.description}`, () =>
      signBundle(bytes, key, { ...(alg ? { algorithm: alg } : {}) }),
    );
    await writeFile(temp, bytes);
  }
  await rename(temp, outPath);
  io.stdout.write(
    `built ${out} (${revision}, ${kilobytes(bytes.length)}${signingKey ? ", signed" : ""}) in ${seconds(Date.now() - started)}\n`,
  );
}

async function readKey(io: Io, file: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), "utf8");
  } catch (err) {
    throw new CliError(`cannot read the key file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

export async function sign(io: Io, flags: Flags): Promise<void> {
  const keyFile = str(flags, "key");
  if (!keyFile)
    throw new CliError(
      "sign needs --key <file> (a PEM private key, or a file holding an HMAC secret with --alg HS256)",
      2,
    );
  const input = str(flags, "in") ?? DEFAULT_BUNDLE;
  const output = str(flags, "out") ?? input;
  const alg = str(flags, "alg");
  let key: ReturnType<typeof parseSigningKey>;
  try {
    key = parseSigningKey(await readKey(io, keyFile), alg);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${keyFile}: ${(err as Error).message}`);
  }
  const { bytes, revision } = await readBundle(io, input);
  const keyId = str(flags, "key-id");
  let signed: Buffer;
  try {
    signed = await step(io, `signing ${input} with ${key.description}`, () =>
      signBundle(bytes, key, { ...(alg ? { algorithm: alg } : {}), ...(keyId ? { keyId } : {}) }),
    );
  } catch (err) {
    throw new CliError(`cannot sign ${input}: ${(err as Error).message}`);
  }
  await writeAtomically(resolve(io.cwd, output), signed);
  const files = (await readTarGz(signed)).size - 1;
  io.stdout.write(
    `signed ${output} (${revision ?? "no revision"}, ${files} files, ${alg ?? key.algorithms[0]}, sha256 ${short(sha256Hex(signed))})\n`,
  );
  if ((await readTarGz(bytes)).has(SIGNATURES_FILE))
    io.stderr.write("note: the previous .signatures.json was replaced\n");
}

function printSummary(io: Io, b: BundleSummary | PublishResult): void {
  const rows: Array<[string, string]> = [
    ["revision", b.revision],
    ["sha256", b.sha256],
    ["entrypoints", b.entrypoints.join(", ")],
    ["signed", b.signed ? "yes" : "no"],
    ["size", kilobytes(b.size_bytes)],
    ["loaded", `${b.loaded_at} (source: ${b.source})`],
  ];
  if (b.activated_by)
    rows.push(["activated", `${b.activated_at} by ${b.activated_by} (generation ${b.generation})`]);
  for (const [k, v] of rows) io.stdout.write(`  ${k.padEnd(12)} ${v}\n`);
}

function printActivation(io: Io, b: PublishResult, verb: string, before: string): void {
  io.stdout.write(
    b.changed
      ? `${verb} ${b.revision} (${before} ${b.previous_revision ?? "none"}); every instance converges on it\n`
      : `${b.revision} is already the active bundle; nothing changed\n`,
  );
}

export async function push(io: Io, client: Client, flags: Flags): Promise<void> {
  if (flags["dry-run"]) {
    await diff(io, client, flags);
    return;
  }
  const file = str(flags, "file") ?? DEFAULT_BUNDLE;
  const { bytes, revision } = await readBundle(io, file);
  const res = await step(
    io,
    `uploading ${file} (${revision ?? "?"}, ${kilobytes(bytes.length)}) to ${client.base}; verifying and activating`,
    () =>
      client.run(
        client.api.PUT("/api/v1/bundles", { body: new Uint8Array(bytes) }),
      ) as Promise<PublishResult>,
  );
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
    return;
  }
  printActivation(io, res, "activated", "previously");
  printSummary(io, res);
}

/** Prints the dry run and hands back its report (the caller decides what a change means). */
export async function diff(io: Io, client: Client, flags: Flags): Promise<DryRunReport> {
  const file = str(flags, "file") ?? DEFAULT_BUNDLE;
  const limit = str(flags, "limit") ?? "1000";
  const examples = str(flags, "examples") ?? "10";
  if (!/^\d+$/.test(limit) || !/^\d+$/.test(examples))
    throw new CliError("--limit and --examples take a number", 2);
  const { bytes, revision } = await readBundle(io, file);
  const res = await step(
    io,
    `replaying the last ${limit} decisions through ${revision ?? file} (dry run)`,
    () =>
      client.run(
        client.api.PUT("/api/v1/bundles", {
          query: { dry_run: "true", limit, examples },
          body: new Uint8Array(bytes),
        }),
      ) as Promise<DryRunReport>,
  );
  const r = res;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return r;
  }
  io.stdout.write(
    `dry run: ${r.candidate.revision} (sha256 ${short(r.candidate.sha256)}) against ${r.active_revision ?? "the recorded decisions"}: ` +
      `${r.replayed} decisions replayed, ${r.changed} would change, ${r.unchanged} unchanged, ${r.errors} errors\n`,
  );
  if (r.window.from) io.stdout.write(`  decisions from ${r.window.from} to ${r.window.to}\n`);
  if (r.transitions.length > 0) {
    io.stdout.write("\nchanges by reason code\n");
    io.stdout.write(
      table(
        ["BEFORE", "AFTER", "COUNT"],
        r.transitions.map((t) => [t.before, t.after, t.count]),
      ),
    );
  }
  if (r.examples.length > 0) {
    io.stdout.write(`\nexamples (${r.examples.length} of ${r.changed})\n`);
    const outcome = (o: { allowed: boolean; reason_code: string | null; target_region: string | null }) =>
      `${o.allowed ? "allow" : "deny"} ${o.reason_code ?? "?"}${o.target_region ? ` → ${o.target_region}` : ""}`;
    io.stdout.write(
      table(
        ["DECISION", "TYPE", "TENANT", "BEFORE", "AFTER"],
        r.examples.map((e) => [
          e.event_id,
          e.type.replace("decision.", ""),
          e.tenant_id,
          outcome(e.before),
          outcome(e.after),
        ]),
      ),
    );
  }
  for (const e of r.error_examples) io.stdout.write(`  error ${e.event_id} (${e.type}): ${e.message}\n`);
  if (r.changed === 0 && r.errors === 0) io.stdout.write("no decision would change\n");
  return r;
}

export async function status(io: Io, client: Client, flags: Flags): Promise<void> {
  const [active, history] = await Promise.all([
    (client.run(client.api.GET("/api/v1/bundles/active")) as Promise<BundleSummary>).catch((err: unknown) => {
      if (err instanceof CliError && err.message.startsWith("POLICY_UNAVAILABLE")) return null;
      throw err;
    }),
    client.run(client.api.GET("/api/v1/bundles", { query: { limit: 10 } })) as Promise<BundleHistory>,
  ]);
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ active: active ?? null, ...history }, null, 2)}\n`);
    return;
  }
  io.stdout.write(`${client.base}\n`);
  if (active) {
    io.stdout.write("active bundle\n");
    printSummary(io, active);
  } else {
    io.stdout.write("no bundle is active: the service answers 503 POLICY_UNAVAILABLE until one is\n");
  }
  const activations = history.activations;
  if (activations.length > 0) {
    io.stdout.write("\nrecent activations\n");
    io.stdout.write(
      table(
        ["GEN", "REVISION", "SHA256", "SOURCE", "BY", "AT"],
        activations.map((a) => [
          a.generation,
          a.revision,
          short(a.sha256),
          a.source,
          a.activated_by,
          a.activated_at,
        ]),
      ),
    );
  }
}

export async function rollback(io: Io, client: Client, positionals: string[], flags: Flags): Promise<void> {
  const revision = positionals[0];
  if (!revision) throw new CliError("rollback needs a revision (see: residency bundle status)", 2);
  const res = await step(
    io,
    `activating ${revision}`,
    () =>
      client.run(
        client.api.POST("/api/v1/bundles/{revision}/activate", { params: { revision } }),
      ) as Promise<PublishResult>,
  );
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
    return;
  }
  printActivation(io, res, "now serving", "was");
}
