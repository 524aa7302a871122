import type { Principal } from "../context/keys-repo.ts";
import type { Role } from "../domain/vocabulary.ts";
import { AppError } from "../errors.ts";

export type Authenticate = (key: string) => Promise<Principal | null>;

/** Bearer key → principal, or 401. Plain function: the fast routes and Express both call it. */
export async function authenticateHeader(
  header: string | undefined,
  authenticate: Authenticate,
): Promise<Principal> {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new AppError("UNAUTHENTICATED", "missing or malformed Authorization: Bearer <api key>");
  const principal = await authenticate(m[1]!);
  if (!principal) throw new AppError("UNAUTHENTICATED", "invalid or revoked API key");
  return principal;
}

export function hasRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.includes("admin") || roles.some((r) => principal.roles.includes(r));
}

export function requireRole(principal: Principal, roles: readonly Role[]): void {
  if (!hasRole(principal, roles)) {
    throw new AppError("FORBIDDEN", `requires one of the roles: ${roles.join(", ")}`);
  }
}

/** A key scoped to tenants sees and decides only for them — everywhere. */
export function requireTenant(principal: Principal, tenantId: string): void {
  if (principal.tenant_ids && !principal.tenant_ids.includes(tenantId)) {
    throw new AppError("FORBIDDEN", `this key is not scoped to tenant ${tenantId}`);
  }
}

/**
 * Global resources (keys, region health, bundles, the whole audit chain) belong to no tenant: only
 * a key scoped to no tenant may change or walk them — otherwise a key for one school could mint an
 * unscoped key, or move every tenant's rules.
 */
export function requireUnscoped(principal: Principal, what: string): void {
  if (principal.tenant_ids) throw new AppError("FORBIDDEN", `${what} needs a key not scoped to tenants`);
}

export function canSeeTenant(principal: Principal, tenantId: string | null): boolean {
  return !principal.tenant_ids || (tenantId !== null && principal.tenant_ids.includes(tenantId));
}
