// The one SQL surface every room uses. Two drivers implement it — embedded PGlite and a `pg`
// pool — so the same migrations and queries run on both (tests run on both).

export type Row = Record<string, unknown>;

export type QueryResult<T extends Row = Row> = { rows: T[]; rowCount: number };

export type QueryOptions = {
  /**
   * A name for a statement run again and again with the same text (the audit writer's): Postgres
   * then parses and plans it once per connection and re-executes the plan — planning over the audit
   * partitions cost more than running the statements. The embedded store ignores it.
   */
  named?: string;
  /**
   * The transaction's last statement: no statement may follow it, and the transaction commits
   * right after it — an error thrown later by the transaction's function no longer undoes it. The
   * embedded store sends that COMMIT without waiting for the statement (a hop between threads
   * fewer; a failed statement rolls the transaction back); Postgres sends it once the statement has
   * answered (in the same round trip it would need a simple query without a named plan, which costs
   * more than the trip: docs/decisions/0015, third pass).
   */
  commits?: boolean;
};

export type Queryable = {
  query<T extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<T>>;
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
