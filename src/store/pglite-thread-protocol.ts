// The messages between db-pglite-thread.ts and the thread that owns the database.

export type ThreadRequest =
  | { id: number; op: "query" | "txquery"; sql: string; params: unknown[]; tx: number }
  | { id: number; op: "exec"; sql: string; tx?: undefined }
  | { id: number; op: "begin" | "commit" | "rollback"; tx: number }
  | { id: number; op: "close"; tx?: undefined };
export type ThreadReply =
  | { id: number; result: unknown; error?: undefined }
  | { id: number; error: { message: string; fields: Record<string, unknown> }; result?: undefined };
