import { ApiError } from "./api.js";
import { h, notice } from "./dom.js";

/** A refusal or failure in words a person can act on. */
export function explain(err) {
  if (err instanceof ApiError) {
    if (err.status === 403) return notice(`Not allowed with this key: ${err.message}`, "error");
    if (err.status === 404) return notice(`Not found: ${err.message}`, "error");
    return notice(`${err.code}: ${err.message}`, "error");
  }
  return notice(`Something went wrong: ${err?.message ?? err}`, "error");
}

/** The key's roles allow one of `roles` (admin allows everything), as the service decides. */
export function hasRole(me, roles) {
  return me.roles.includes("admin") || roles.some((r) => me.roles.includes(r));
}

/**
 * When the key lacks the roles a screen reads with, say so instead of calling the API for a 403
 * (the service refuses anyway; this only saves the round trip). Returns true when refused.
 */
export function refuseUnless(main, me, title, roles, what) {
  if (hasRole(me, roles)) return false;
  main.replaceChildren(
    h("h1", title),
    notice(
      `Not allowed with this key: ${what} needs one of the roles ${roles.join(", ")}; this key has ${me.roles.join(", ")}.`,
      "error",
    ),
  );
  return true;
}

/** Runs an action from a button: disables it meanwhile, shows the outcome in `status`. */
export async function act(button, status, action) {
  button.disabled = true;
  status.replaceChildren(notice("Working…"));
  try {
    const message = await action();
    // An action that drew its own result into `status` returns nothing.
    if (message) status.replaceChildren(notice(message, "ok"));
  } catch (err) {
    status.replaceChildren(explain(err));
  } finally {
    button.disabled = false;
  }
}

/**
 * Every item of a listing, following next_cursor up to `maxPages` pages of 1000; `truncated` says
 * when more were left (a listing never ends silently short).
 */
export async function allPages(api, path, query = {}, maxPages = 10) {
  const items = [];
  let cursor;
  for (let page = 0; page < maxPages; page++) {
    const r = await api.get(path, { ...query, limit: 1000, cursor });
    items.push(...r.items);
    cursor = r.next_cursor;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

/**
 * A decision's id shortened for a table: its last 8 hex digits. Ids are time-ordered (UUID version 7),
 * so their first digits are the same for every decision made within a minute; the tail is random.
 */
export function shortId(id) {
  return id.slice(-8);
}

/** A notice that a listing was cut short, or nothing. */
export function truncatedNotice(listing) {
  return listing.truncated
    ? notice(`Showing the first ${listing.items.length}; narrow the filter to see the rest.`, "error")
    : null;
}

/** Tenants this key may pick: its scope, or (unscoped) those with a policy, when it may list them. */
export async function tenantsFor(api, me) {
  if (me.tenant_ids) return [...me.tenant_ids];
  if (!hasRole(me, ["policy_admin", "auditor"])) return null;
  const { items } = await allPages(api, "/api/v1/policies");
  return [...new Set(items.map((p) => p.tenant_id))].sort();
}

/** A tenant chooser: a select when the tenants are known, free text otherwise. */
export function tenantControl(tenants, { any = false, value = "" } = {}) {
  if (!tenants) return h("input", { type: "text", name: "tenant_id", value, placeholder: "tenant id" });
  return h(
    "select",
    { name: "tenant_id" },
    any ? h("option", { value: "" }, "All my tenants") : null,
    tenants.map((t) => h("option", { value: t, selected: t === value }, t)),
  );
}
