import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { decodeCursor, type Page, pageOf } from "../domain/page.ts";
import { canonicalPrincipal } from "../domain/principal.ts";
import type { Role } from "../domain/vocabulary.ts";
import type { Db, InTx } from "../store/db.ts";

// Keys are looked up by the SHA-256 of the whole key (indexed) and compared in constant time;
// only the hash is stored. Generated keys carry 256 random bits, so a fast hash is enough. Any
// printable string of 24+ characters works as a configured bootstrap key.

export type Principal = {
  key_id: string;
  principal: string;
  roles: Role[];
  /** null = every tenant */
  tenant_ids: string[] | null;
};

export type CreatedKey = Principal & { key: string; created_at: string };

/** A key as listed: who, which roles and tenants, when — never the secret. */
export type KeySummary = Principal & {
  created_at: string;
  created_by: string | null;
  revoked_at: string | null;
};

type KeyRow = {
  key_id: string;
  principal: string;
  roles: Role[];
  tenant_ids: string[] | null;
  secret_hash: string;
  revoked_at: Date | null;
};

export const BOOTSTRAP_KEY_ID = "key_bootstrap";

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

export function isAcceptableKey(key: string): boolean {
  return /^[\x21-\x7e]{24,256}$/.test(key);
}

export type KeysRepo = ReturnType<typeof createKeysRepo>;

export function createKeysRepo(db: Db) {
  return {
    async create(args: {
      principal: string;
      roles: Role[];
      tenantIds: string[] | null;
      createdBy: string;
      now: Date;
      /** Use this exact key under this id (bootstrap from configuration); otherwise a random one. */
      fixed?: { keyId: string; key: string };
      onWritten?: InTx<CreatedKey>;
    }): Promise<CreatedKey> {
      if (args.fixed && !isAcceptableKey(args.fixed.key))
        throw new Error("key must be 24-256 printable characters");
      const keyId = args.fixed?.keyId ?? `key_${randomBytes(8).toString("hex")}`;
      const key = args.fixed?.key ?? `rsk_${randomBytes(32).toString("base64url")}`;
      const created: CreatedKey = {
        key_id: keyId,
        key,
        principal: args.principal,
        roles: args.roles,
        tenant_ids: args.tenantIds,
        created_at: args.now.toISOString(),
      };
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO api_keys (key_id, principal, roles, tenant_ids, secret_hash, created_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (key_id) DO UPDATE SET principal = EXCLUDED.principal, roles = EXCLUDED.roles,
             tenant_ids = EXCLUDED.tenant_ids, secret_hash = EXCLUDED.secret_hash, revoked_at = NULL`,
          [
            keyId,
            args.principal,
            args.roles,
            args.tenantIds,
            hashKey(key),
            args.now.toISOString(),
            args.createdBy,
          ],
        );
        await args.onWritten?.(tx, created);
      });
      return created;
    },

    /** null when the key is unknown, revoked or wrong — the caller cannot tell which. */
    async authenticate(key: string): Promise<Principal | null> {
      if (!isAcceptableKey(key)) return null;
      const presented = hashKey(key);
      const r = await db.query<KeyRow>(
        "SELECT key_id, principal, roles, tenant_ids, secret_hash, revoked_at FROM api_keys WHERE secret_hash = $1",
        [presented],
      );
      const row = r.rows[0];
      if (!row) return null;
      // The index lookup is by hash (timing there reveals nothing about the key); the final
      // comparison is constant-time all the same.
      const match = timingSafeEqual(Buffer.from(presented, "hex"), Buffer.from(row.secret_hash, "hex"));
      if (!match || row.revoked_at) return null;
      // Canonical even for a key stored before names were: what it does is recorded under one name.
      return {
        key_id: row.key_id,
        principal: canonicalPrincipal(row.principal),
        roles: row.roles,
        tenant_ids: row.tenant_ids,
      };
    },

    async revoke(keyId: string, now: Date, onWritten?: InTx<string>): Promise<boolean> {
      return db.transaction(async (tx) => {
        const r = await tx.query(
          "UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL",
          [keyId, now.toISOString()],
        );
        if (r.rowCount === 0) return false;
        await onWritten?.(tx, keyId);
        return true;
      });
    },

    /** Newest first; what an admin needs to find a key to revoke — never the secret or its hash. */
    async list(filter: {
      includeRevoked: boolean;
      limit: number;
      cursor?: string | undefined;
    }): Promise<Page<KeySummary>> {
      const where: string[] = filter.includeRevoked ? [] : ["revoked_at IS NULL"];
      const params: unknown[] = [];
      if (filter.cursor) {
        const [createdAt, keyId] = decodeCursor(filter.cursor, ["instant", "string"]);
        params.push(createdAt, keyId);
        where.push(`(created_at, key_id) < ($1::timestamptz, $2)`);
      }
      params.push(filter.limit + 1);
      const r = await db.query<{
        key_id: string;
        principal: string;
        roles: Role[];
        tenant_ids: string[] | null;
        created_at: Date;
        created_by: string | null;
        revoked_at: Date | null;
      }>(
        `SELECT key_id, principal, roles, tenant_ids, created_at, created_by, revoked_at FROM api_keys
         ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY created_at DESC, key_id DESC LIMIT $${params.length}`,
        params,
      );
      const items = r.rows.map((row) => ({
        key_id: row.key_id,
        principal: row.principal,
        roles: row.roles,
        tenant_ids: row.tenant_ids,
        created_at: new Date(row.created_at).toISOString(),
        created_by: row.created_by,
        revoked_at: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
      }));
      return pageOf(items, filter.limit, (k) => [k.created_at, k.key_id]);
    },

    /** Every key ever created, revoked ones included: zero only on a fresh installation. */
    async count(): Promise<number> {
      const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM api_keys");
      return r.rows[0]?.n ?? 0;
    },

    async find(keyId: string): Promise<{ secret_hash: string; revoked: boolean } | null> {
      const r = await db.query<{ secret_hash: string; revoked_at: Date | null }>(
        "SELECT secret_hash, revoked_at FROM api_keys WHERE key_id = $1",
        [keyId],
      );
      const row = r.rows[0];
      return row ? { secret_hash: row.secret_hash, revoked: row.revoked_at !== null } : null;
    },
  };
}
