// A principal is the name approvals are counted by ("distinct approvers, never the requester"), so
// one person must have exactly one spelling of it: `Alice`, `alice ` and `a\u200Blice` are the
// same approver. Names are stored in this form when a key is created, and compared in it.

/** Control and format characters (NUL, newlines, zero-width and bidi marks): refused in a name. */
export const PRINCIPAL_REFUSED = /[\p{Cc}\p{Cf}]/u;

/** The one spelling of a principal name: NFKC, spaces collapsed and trimmed, lower case. */
export function canonicalPrincipal(name: string): string {
  return name
    .replace(/[\p{Cc}\p{Cf}]/gu, "")
    .normalize("NFKC")
    .replace(/\s+/gu, " ")
    .trim()
    .toLowerCase()
    .normalize("NFKC");
}
