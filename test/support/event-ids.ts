// What an audit event id (and so a decision id) looks like: an RFC 9562 version 7 UUID, its first
// 48 bits the Unix millisecond it was made in (src/audit/event-id.ts).

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The millisecond a version 7 id carries. */
export const msOfEventId = (id: string): number => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
