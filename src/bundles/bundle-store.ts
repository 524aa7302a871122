import type { Db, InTx, Queryable, Row } from "../store/db.ts";

// Postgres persistence of bundles (migration 004): every published bundle's bytes, the single
// active record all instances converge on, and the activation history. Same SQL on PGlite.

// Activations from several instances are serialised by this lock, so `previous` is exact.
const ACTIVATION_LOCK = 727_004;

export type StoredBundle = {
  sha256: string;
  revision: string;
  size_bytes: number;
  manifest: unknown;
  entrypoints: string[];
  signed: boolean;
  source: string;
  uploaded_by: string | null;
  uploaded_at: Date;
  /** Set once its bytes were pruned (bundle-pruning.ts); the row stays. */
  pruned_at: Date | null;
  archived_location: string | null;
};

export type NewBundle = Omit<
  StoredBundle,
  "uploaded_at" | "size_bytes" | "pruned_at" | "archived_location"
> & {
  bytes: Buffer;
  uploaded_at: Date;
};

export type ActiveRecord = {
  sha256: string;
  revision: string;
  generation: number;
  source: string;
  activated_at: Date;
  activated_by: string | null;
};

export type ActivationRecord = ActiveRecord & {
  previous_sha256: string | null;
  previous_revision: string | null;
};

export type BundleStore = ReturnType<typeof createBundleStore>;

/** Serialises activations and pruning across every instance (held to the transaction's end). */
export async function lockActivations(tx: Queryable): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock($1)", [ACTIVATION_LOCK]);
}

/** The bundle to activate lost its bytes to pruning meanwhile. */
export class BundlePruned extends Error {
  constructor(readonly sha256: string) {
    super(`bundle ${sha256} was pruned`);
    this.name = "BundlePruned";
  }
}

/** Another bundle is stored under this revision (a revision names one content). */
export class RevisionConflict extends Error {
  constructor(
    readonly revision: string,
    readonly existing: string,
  ) {
    super(`revision ${revision} is already stored as ${existing}`);
    this.name = "RevisionConflict";
  }
}

const SUMMARY_COLUMNS =
  "sha256, revision, size_bytes, manifest, entrypoints, signed, source, uploaded_by, uploaded_at, pruned_at, archived_location";

function toBundle(row: Row): StoredBundle {
  return {
    sha256: String(row.sha256),
    revision: String(row.revision),
    size_bytes: Number(row.size_bytes),
    manifest: typeof row.manifest === "string" ? JSON.parse(row.manifest) : row.manifest,
    entrypoints: (row.entrypoints as string[] | null) ?? [],
    signed: Boolean(row.signed),
    source: String(row.source),
    uploaded_by: (row.uploaded_by as string | null) ?? null,
    uploaded_at: new Date(row.uploaded_at as string | Date),
    pruned_at: row.pruned_at ? new Date(row.pruned_at as string | Date) : null,
    archived_location: (row.archived_location as string | null) ?? null,
  };
}

function toActivation(row: Row): ActivationRecord {
  return {
    sha256: String(row.sha256),
    revision: String(row.revision),
    generation: Number(row.generation),
    source: String(row.source),
    activated_at: new Date(row.activated_at as string | Date),
    activated_by: (row.activated_by as string | null) ?? null,
    previous_sha256: (row.previous_sha256 as string | null) ?? null,
    previous_revision: (row.previous_revision as string | null) ?? null,
  };
}

/** `pg` hands bytea back as a Buffer, PGlite as a Uint8Array. */
function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  const u8 = value as Uint8Array;
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

async function insertBundle(q: Queryable, b: NewBundle): Promise<void> {
  // Bytes are immutable per sha256: a second upload of the same bundle keeps the first record, and
  // only puts the bytes back when they were pruned (the same bytes: the sha256 says so).
  await q.query(
    `INSERT INTO bundles (sha256, revision, bytes, size_bytes, manifest, entrypoints, signed, source,
                          uploaded_by, uploaded_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)
     ON CONFLICT (sha256) DO UPDATE SET bytes = EXCLUDED.bytes, pruned_at = NULL
       WHERE bundles.bytes IS NULL`,
    [
      b.sha256,
      b.revision,
      b.bytes,
      b.bytes.length,
      JSON.stringify(b.manifest),
      b.entrypoints,
      b.signed,
      b.source,
      b.uploaded_by,
      b.uploaded_at,
    ],
  );
}

export function createBundleStore(db: Db) {
  async function has(sha256: string): Promise<boolean> {
    const r = await db.query("SELECT 1 FROM bundles WHERE sha256 = $1", [sha256]);
    return r.rows.length > 0;
  }

  return {
    has,

    /** Stored with its bytes (not pruned). */
    async hasBytes(sha256: string): Promise<boolean> {
      const r = await db.query("SELECT 1 FROM bundles WHERE sha256 = $1 AND bytes IS NOT NULL", [sha256]);
      return r.rows.length > 0;
    },

    async bytes(sha256: string): Promise<Buffer | null> {
      const r = await db.query<{ bytes: unknown }>("SELECT bytes FROM bundles WHERE sha256 = $1", [sha256]);
      const bytes = r.rows[0]?.bytes;
      return bytes === undefined || bytes === null ? null : toBuffer(bytes);
    },

    /** By sha256 (64 hex digits), else by revision: the latest upload carrying it. */
    async find(ref: string): Promise<StoredBundle | null> {
      if (/^[0-9a-f]{64}$/.test(ref)) {
        const r = await db.query(`SELECT ${SUMMARY_COLUMNS} FROM bundles WHERE sha256 = $1`, [ref]);
        if (r.rows[0]) return toBundle(r.rows[0]);
      }
      const r = await db.query(
        `SELECT ${SUMMARY_COLUMNS} FROM bundles WHERE revision = $1 ORDER BY uploaded_at DESC LIMIT 1`,
        [ref],
      );
      return r.rows[0] ? toBundle(r.rows[0]) : null;
    },

    /** The sha256 of every stored bundle carrying `revision` (one, unless stored before this rule). */
    async revisionShas(revision: string): Promise<string[]> {
      const r = await db.query<{ sha256: string }>(
        "SELECT sha256 FROM bundles WHERE revision = $1 ORDER BY uploaded_at",
        [revision],
      );
      return r.rows.map((row) => String(row.sha256));
    },

    /** Newest first, `limit + 1` rows read (the extra one says whether a next page exists). */
    async list(limit: number, after?: { uploadedAt: string; sha256: string }): Promise<StoredBundle[]> {
      // Milliseconds: the cursor carries a JavaScript date, the column may hold microseconds.
      const at = "date_trunc('milliseconds', uploaded_at)";
      const r = await db.query(
        `SELECT ${SUMMARY_COLUMNS} FROM bundles
         ${after ? `WHERE (${at}, sha256) < ($2::timestamptz, $3)` : ""}
         ORDER BY ${at} DESC, sha256 DESC LIMIT $1`,
        after ? [limit + 1, after.uploadedAt, after.sha256] : [limit + 1],
      );
      return r.rows.map(toBundle);
    },

    async active(): Promise<ActiveRecord | null> {
      const r = await db.query(
        `SELECT a.sha256, a.revision, a.generation, a.activated_at, a.activated_by, h.source
           FROM bundle_active a JOIN bundle_activations h ON h.generation = a.generation`,
      );
      const row = r.rows[0];
      return row ? toActivation({ ...row, previous_sha256: null, previous_revision: null }) : null;
    },

    /** The generation at which each bundle was first activated (bundles never activated are absent). */
    async firstActivations(sha256s: string[]): Promise<Map<string, number>> {
      const r = await db.query<{ sha256: string; first: unknown }>(
        "SELECT sha256, min(generation) AS first FROM bundle_activations WHERE sha256 = ANY($1) GROUP BY sha256",
        [sha256s],
      );
      return new Map(r.rows.map((row) => [row.sha256, Number(row.first)]));
    },

    /** Activations, newest first; `before`: only those of an earlier generation (a page's cursor). */
    async activations(limit: number, before?: number): Promise<ActivationRecord[]> {
      const r = await db.query(
        `SELECT generation, sha256, revision, previous_sha256, previous_revision, source, activated_by,
                activated_at
           FROM bundle_activations ${before === undefined ? "" : "WHERE generation < $2"}
          ORDER BY generation DESC LIMIT $1`,
        before === undefined ? [limit] : [limit, before],
      );
      return r.rows.map(toActivation);
    },

    /**
     * Makes `sha256` the cluster's active bundle (storing `bundle` first when given), in one
     * transaction. Returns the new activation, with the bundle it replaced — or null when `sha256`
     * already is the active one (two instances publishing the same changed file, say).
     */
    async activate(a: {
      sha256: string;
      revision: string;
      source: string;
      actor: string | null;
      at: Date;
      bundle?: NewBundle;
      /** Runs in the same transaction (the audit record): the activation and its record commit together. */
      onWritten?: InTx<ActivationRecord>;
    }): Promise<ActivationRecord | null> {
      return db.transaction(async (tx) => {
        await lockActivations(tx);
        if (!a.bundle) {
          // Pruning holds the same lock: bytes present now stay until this activation commits
          // (and then its own record cites the revision, which keeps them).
          const present = await tx.query("SELECT 1 FROM bundles WHERE sha256 = $1 AND bytes IS NOT NULL", [
            a.sha256,
          ]);
          if (present.rows.length === 0) throw new BundlePruned(a.sha256);
        }
        if (a.bundle) {
          // Under the lock every insert takes, so two instances cannot both store one revision.
          const other = await tx.query<{ sha256: string }>(
            "SELECT sha256 FROM bundles WHERE revision = $1 AND sha256 <> $2 LIMIT 1",
            [a.bundle.revision, a.bundle.sha256],
          );
          if (other.rows[0]) throw new RevisionConflict(a.bundle.revision, String(other.rows[0].sha256));
          await insertBundle(tx, a.bundle);
        }
        const prev = await tx.query<{ sha256: string; revision: string }>(
          "SELECT sha256, revision FROM bundle_active",
        );
        const previous = prev.rows[0] ?? null;
        if (previous?.sha256 === a.sha256) return null;
        const inserted = await tx.query(
          `INSERT INTO bundle_activations (sha256, revision, previous_sha256, previous_revision, source,
                                           activated_by, activated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING generation`,
          [
            a.sha256,
            a.revision,
            previous?.sha256 ?? null,
            previous?.revision ?? null,
            a.source,
            a.actor,
            a.at,
          ],
        );
        const generation = Number(inserted.rows[0]!.generation);
        await tx.query(
          `INSERT INTO bundle_active (singleton, sha256, revision, generation, activated_at, activated_by)
           VALUES (true, $1, $2, $3, $4, $5)
           ON CONFLICT (singleton) DO UPDATE
             SET sha256 = EXCLUDED.sha256, revision = EXCLUDED.revision, generation = EXCLUDED.generation,
                 activated_at = EXCLUDED.activated_at, activated_by = EXCLUDED.activated_by`,
          [a.sha256, a.revision, generation, a.at, a.actor],
        );
        const activation: ActivationRecord = {
          sha256: a.sha256,
          revision: a.revision,
          generation,
          source: a.source,
          activated_at: a.at,
          activated_by: a.actor,
          previous_sha256: previous?.sha256 ?? null,
          previous_revision: previous?.revision ?? null,
        };
        await a.onWritten?.(tx, activation);
        return activation;
      });
    },
  };
}
