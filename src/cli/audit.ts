import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  type ArchiveReport,
  type Finding,
  linkArchives,
  MANIFEST_FILE,
  verifyArchive,
} from "../audit/archive-format.ts";
import { ed25519PublicKey } from "../audit/checkpoint.ts";
import { CliError, type Io } from "./output.ts";

// `residency audit verify <archive-or-directory> --public-key <file>`: an auditor's offline check
// of audit archives, with nothing but the files and the public key that signed the checkpoints.

type Flags = Record<string, string | boolean | undefined>;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function directoryFiles(dir: string) {
  return {
    async read(name: string): Promise<Buffer | null> {
      try {
        return await readFile(join(dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
  };
}

/** Exit code 0 when everything verifies, 1 when anything does not. */
export async function verify(io: Io, args: string[], flags: Flags): Promise<number> {
  const [target] = args;
  if (!target || args.length > 1)
    throw new CliError("usage: residency audit verify <archive-or-directory> --public-key <file>", 2);
  const root = resolve(io.cwd, target);
  if (!(await exists(root))) throw new CliError(`${target}: no such file or directory`);

  let publicKey = null;
  const keyFile = typeof flags["public-key"] === "string" ? flags["public-key"] : undefined;
  if (keyFile) {
    let pem: string;
    try {
      pem = await readFile(resolve(io.cwd, keyFile), "utf8");
    } catch (err) {
      throw new CliError(
        `cannot read ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    try {
      publicKey = ed25519PublicKey(pem);
    } catch (err) {
      throw new CliError(`${keyFile}: ${(err as Error).message}`);
    }
  }

  // One archive, or a directory of them (each a subdirectory with a manifest).
  let dirs: string[];
  if (await exists(join(root, MANIFEST_FILE))) {
    dirs = [root];
  } else {
    const entries = await readdir(root, { withFileTypes: true });
    dirs = [];
    for (const e of entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()) {
      if (await exists(join(root, e, MANIFEST_FILE))) dirs.push(join(root, e));
    }
    if (dirs.length === 0) throw new CliError(`${target}: no ${MANIFEST_FILE} here or in any subdirectory`);
  }

  const reports: ArchiveReport[] = [];
  for (const dir of dirs) {
    const name = dir === root ? target : dir.slice(root.length + 1);
    reports.push(await verifyArchive(directoryFiles(dir), { name, publicKey }));
  }
  const between: Finding[] = linkArchives(reports);
  const ok = reports.every((r) => r.ok) && between.length === 0;

  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ ok, signatures_checked: publicKey !== null, archives: reports, findings: between }, null, 2)}\n`,
    );
    return ok ? 0 : 1;
  }
  for (const r of reports) {
    const span = r.first_seq === null ? "" : `seq ${r.first_seq}–${r.last_seq}, `;
    const what = `${span}${r.records_checked} records in ${r.segments_checked} segments, ${r.checkpoints_checked} checkpoints`;
    io.stdout.write(
      `${r.ok ? "ok    " : "FAILED"} ${r.name}: ${what}${r.signed ? " (all signed, signatures verified)" : ""}\n`,
    );
    for (const f of r.findings) io.stdout.write(`         ${f.code}: ${f.message}\n`);
  }
  for (const f of between) io.stdout.write(`FAILED ${f.code}: ${f.message}\n`);
  if (!publicKey)
    io.stdout.write("note: no --public-key given: hashes and links checked, signatures NOT checked\n");
  io.stdout.write(ok ? "audit archives verify\n" : "audit archives DO NOT verify\n");
  return ok ? 0 : 1;
}
