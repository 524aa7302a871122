import { auditEvent } from "../audit/events.ts";
import type { AuditAppender } from "../audit/types.ts";
import { BOOTSTRAP_KEY_ID, hashKey, type KeysRepo } from "../context/keys-repo.ts";
import type { Caller } from "../decision/types.ts";
import { canonicalPrincipal } from "../domain/principal.ts";
import type { Role } from "../domain/vocabulary.ts";
import { AppError } from "../errors.ts";
import type { Queryable } from "../store/db.ts";

export function createKeyAdmin(deps: {
  repo: KeysRepo;
  audit: AuditAppender;
  /** Drops cached authentications so a revoked key stops working at once. */
  forgetKey: (keyId: string) => Promise<void>;
  clock?: () => Date;
}) {
  const clock = deps.clock ?? (() => new Date());

  // A key change and its audit record commit together.
  const recordInTx =
    (type: string, caller: Caller | null, payload: Record<string, unknown>) =>
    (tx: Queryable, keyId: string) =>
      deps.audit.appendInTx(tx, [
        auditEvent({
          type,
          occurred_at: clock(),
          actor: caller?.principal.principal ?? "system",
          request_id: caller?.requestId ?? null,
          payload: { key_id: keyId, ...payload }, // never the secret
        }),
      ]);

  const mintAdmin = (fixed?: { keyId: string; key: string }) =>
    deps.repo.create({
      principal: "bootstrap-admin",
      roles: ["admin"],
      tenantIds: null,
      createdBy: "system",
      now: clock(),
      ...(fixed ? { fixed } : {}),
      onWritten: (tx, k) =>
        recordInTx("key.created", null, {
          principal: "bootstrap-admin",
          roles: ["admin"],
          ...(fixed ? { configured: true } : { generated: true }),
        })(tx, k.key_id),
    });

  return {
    async create(
      body: { principal: string; roles: Role[]; tenant_ids?: string[] | null | undefined },
      caller: Caller,
    ) {
      const created = await deps.repo.create({
        principal: canonicalPrincipal(body.principal),
        roles: body.roles,
        tenantIds: body.tenant_ids ?? null,
        createdBy: caller.principal.principal,
        now: clock(),
        onWritten: (tx, k) =>
          recordInTx("key.created", caller, {
            principal: k.principal,
            roles: k.roles,
            tenant_ids: k.tenant_ids,
          })(tx, k.key_id),
      });
      return created;
    },

    list: deps.repo.list,

    async revoke(keyId: string, caller: Caller) {
      const revoked = await deps.repo.revoke(keyId, clock(), recordInTx("key.revoked", caller, {}));
      // Forget cached authentications even when it was already revoked: a retry must leave none.
      await deps.forgetKey(keyId);
      if (!revoked) throw new AppError("NOT_FOUND", `key ${keyId} not found or already revoked`);
      return { key_id: keyId, revoked: true };
    },

    /**
     * Start-up: the configured bootstrap key becomes an admin key (a restart with the same key
     * changes nothing, a different one rotates it, a revoked one stays revoked); on a fresh
     * installation with no key configured, one is minted and returned so main.ts prints it once.
     */
    async bootstrap(
      configuredKey: string | undefined,
    ): Promise<{ printed: string | null; warning: string | null }> {
      if (configuredKey) {
        const existing = await deps.repo.find(BOOTSTRAP_KEY_ID);
        if (existing?.revoked && existing.secret_hash === hashKey(configuredKey)) {
          // Someone revoked it on purpose (an incident): a restart must not bring it back.
          return {
            printed: null,
            warning: "RESIDENCY_BOOTSTRAP_ADMIN_KEY was revoked; it stays revoked (set a new one)",
          };
        }
        if (existing && !existing.revoked && existing.secret_hash === hashKey(configuredKey)) {
          return { printed: null, warning: null };
        }
        await deps.forgetKey(BOOTSTRAP_KEY_ID);
        await mintAdmin({ keyId: BOOTSTRAP_KEY_ID, key: configuredKey }); // new or rotated
        return { printed: null, warning: null };
      }
      // Only a fresh installation gets a generated key: revoking every key is not a way back in.
      if ((await deps.repo.count()) > 0) return { printed: null, warning: null };
      return { printed: (await mintAdmin()).key, warning: null };
    },
  };
}

export type KeyAdmin = ReturnType<typeof createKeyAdmin>;
