// The audit room's declared interface: what other rooms may import from it at run time (types come
// from types.ts). Writers build their events with `auditEvent`; bundle pruning asks `citedRevisions`; everything else is wired by
// service.ts.
export { citedRevisions } from "./citations.ts";
export { newEventId } from "./event-id.ts";
export { auditEvent } from "./events.ts";
