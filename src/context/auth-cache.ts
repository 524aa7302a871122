import { AppError, isAppError } from "../errors.ts";
import { createInvalidator, type TenantCache } from "./cache.ts";
import { KEYS_SCOPE } from "./generations.ts";
import { hashKey, type KeysRepo, type Principal } from "./keys-repo.ts";

// Every request authenticates; a database round trip each time would dominate the decision path.
// Principals are cached by the key's hash (never the key) and dropped everywhere on revocation.

const KEYS = KEYS_SCOPE;

export function createCachedAuthenticate(deps: {
  repo: Pick<KeysRepo, "authenticate">;
  cache: TenantCache;
  onInvalidateError?: (err: Error) => void;
}) {
  const invalidator = createInvalidator(deps.cache, deps.onInvalidateError);
  return {
    async authenticate(key: string): Promise<Principal | null> {
      const id = hashKey(key);
      const cached = await deps.cache.get<{ principal: Principal | null }>(KEYS, id);
      if (cached.value) return cached.value.principal;
      let principal: Principal | null;
      try {
        principal = await deps.repo.authenticate(key);
      } catch (err) {
        // Not knowing whether a key is still valid is not a "no": 503, never 401 or a guess.
        throw isAppError(err)
          ? err
          : new AppError("STORE_UNAVAILABLE", "key store unavailable", { cause: err });
      }
      // Unknown keys are not cached: a key created a moment later must work at once.
      if (principal) await deps.cache.set(KEYS, id, { principal }, cached.generation);
      return principal;
    },
    /** Never throws: the revocation is committed; a failed shared invalidation is retried. */
    forgetKey: async (_keyId: string) => invalidator.invalidate(KEYS),
    close: () => invalidator.close(),
  };
}
