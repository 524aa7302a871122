// The one SQL surface every room uses. Two drivers implement it — embedded PGlite and a `pg`
// pool — so the same migrations and queries run on both (tests run on both).

export type Row = Record<string, unknown>;

export type QueryResult<T extends Row = Row> = { rows: T[]; rowCount: number };

export type Queryable = {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
};

export type Db = Queryable & {
  readonly kind: "pglite" | "postgres";
  /** Runs several statements at once (migrations). No parameters. */
  exec(sql: string): Promise<void>;
  /** BEGIN … COMMIT on one connection; ROLLBACK and rethrow on error. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

/** A repository hook run inside the write's transaction, after the write, before COMMIT. */
export type InTx<T> = (tx: Queryable, written: T) => Promise<unknown>;
