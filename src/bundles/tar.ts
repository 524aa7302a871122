import { gunzipSync, gzipSync } from "node:zlib";
import { packTar, unpackTar } from "modern-tar";

// A bundle is a small tar.gz read whole in memory; `modern-tar` reads and writes the tar, and we
// never touch the filesystem with its contents. Entry names lose their leading "/" (opa writes
// one) and may not climb out of the bundle's root.

export type TarFiles = Map<string, Buffer>;

/**
 * What an archive may hold before it is refused. A bundle is a handful of files (the shipped one:
 * 30 entries, under 300 KB unpacked); the limits are far above that and far below what would hurt:
 * gunzip stops at `maxUnpackedBytes` (a gzip bomb costs that much and no more), and the entry count
 * is checked as headers are read, before any body is copied.
 */
export type ArchiveLimits = { maxEntries: number; maxUnpackedBytes: number };

export const ARCHIVE_LIMITS: ArchiveLimits = { maxEntries: 1_000, maxUnpackedBytes: 64 * 1024 * 1024 };

/** Thrown for an archive over its limits (the loader reports it as BUNDLE_TOO_LARGE). */
export class ArchiveLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArchiveLimitError";
  }
}

export async function readTarGz(gz: Buffer, limits: ArchiveLimits = ARCHIVE_LIMITS): Promise<TarFiles> {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: limits.maxUnpackedBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ArchiveLimitError(
        `bundle expands to more than ${limits.maxUnpackedBytes} bytes (the limit); refused before unpacking further`,
      );
    }
    throw new Error(`bundle is not a valid gzip stream: ${(err as Error).message}`);
  }
  return readTar(tar, limits);
}

export async function readTar(tar: Uint8Array, limits: ArchiveLimits = ARCHIVE_LIMITS): Promise<TarFiles> {
  let entries: Awaited<ReturnType<typeof unpackTar>>;
  let count = 0;
  try {
    entries = await unpackTar(tar, {
      // strict: a bad header checksum, a truncated body or a missing end-of-archive marker throws
      strict: true,
      // Called with each header before its body is copied; every entry counts (directories too).
      filter: () => {
        if (++count > limits.maxEntries) {
          throw new ArchiveLimitError(
            `bundle has more than ${limits.maxEntries} archive entries (the limit)`,
          );
        }
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ArchiveLimitError) throw err;
    throw new Error(`bundle tar is unreadable: ${(err as Error).message}`);
  }
  const files: TarFiles = new Map();
  for (const { header, data } of entries) {
    if (header.type !== "file" || !data) continue; // directories, links: bundles carry plain files only
    files.set(normalise(header.name), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  return files;
}

/**
 * The writing half, for `residency bundle sign` and for tests that craft bundles: entries laid out
 * like `opa build` lays them out — a leading "/", mode 0600, owner 0, mtime 0 — so a re-packed
 * bundle differs only where it must.
 */
export async function writeTarGz(files: TarFiles): Promise<Buffer> {
  const tar = await packTar(
    [...files].map(([name, body]) => ({
      header: {
        name: `/${name.replace(/^\/+/, "")}`,
        size: body.length,
        type: "file" as const,
        mode: 0o600,
        uid: 0,
        gid: 0,
        mtime: new Date(0),
      },
      body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    })),
  );
  return gzipSync(tar);
}

function normalise(name: string): string {
  const clean = name.replace(/^\.?\/+/, "");
  if (clean.split("/").includes("..")) throw new Error(`bundle entry escapes its root: ${name}`);
  return clean;
}
