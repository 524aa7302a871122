import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BundleError } from "../../src/bundles/bundle-error.ts";
import { loadBundle } from "../../src/bundles/candidate.ts";
import { ArchiveLimitError, readTarGz, writeTarGz } from "../../src/bundles/tar.ts";

// Archives are refused before they cost much: too many entries, or more unpacked bytes than the
// limit (gunzip stops there — a gzip bomb is never inflated whole).

describe("archive limits", () => {
  it("refuses an archive with more entries than the limit", async () => {
    const files = new Map(Array.from({ length: 30 }, (_, i) => [`f${i}.json`, Buffer.from("{}")] as const));
    const gz = await writeTarGz(files);
    expect((await readTarGz(gz, { maxEntries: 30, maxUnpackedBytes: 1 << 20 })).size).toBe(30);
    await expect(readTarGz(gz, { maxEntries: 29, maxUnpackedBytes: 1 << 20 })).rejects.toThrow(
      new ArchiveLimitError("bundle has more than 29 archive entries (the limit)"),
    );
  });

  it("stops inflating at the unpacked-size limit", async () => {
    // 64 MiB of zeros in a ~64 KB stream: refused once 1 MiB is out, quickly and without the memory.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const started = performance.now();
    await expect(readTarGz(bomb, { maxEntries: 10, maxUnpackedBytes: 1 << 20 })).rejects.toThrow(
      ArchiveLimitError,
    );
    console.log(
      `gzip bomb (${bomb.length} bytes for 64 MiB) refused in ${(performance.now() - started).toFixed(1)} ms`,
    );
  });

  it("the loader reports both as BUNDLE_TOO_LARGE", async () => {
    const many = await writeTarGz(
      new Map(Array.from({ length: 1_001 }, (_, i) => [`f${i}`, Buffer.alloc(0)] as const)),
    );
    const err = await loadBundle(many).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as BundleError).code).toBe("BUNDLE_TOO_LARGE");
    const bomb = gzipSync(Buffer.alloc(80 * 1024 * 1024));
    expect(((await loadBundle(bomb).catch((e: unknown) => e)) as BundleError).code).toBe("BUNDLE_TOO_LARGE");
  });
});
