import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainHash, GENESIS_HASH } from "../../src/audit/canonical.ts";
import { CSV_COLUMNS, csvCellText, csvField, exportAuditLogs } from "../../src/audit/export.ts";
import type { AuditItem } from "../../src/audit/query.ts";
import type { AuditEventInput } from "../../src/audit/types.ts";
import type { Db } from "../../src/store/db.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { appendAll, decisionEvent, decisionEvents } from "./fixtures.ts";

const COUNT = 5000;
const AWKWARD_ACTOR = 'svc, "quoted"\nsecond line\r\nthird';
const FORMULA_ACTOR = '=HYPERLINK("http://evil.example","open me")';

// seq = i + 1. Every 100th record carries an actor that needs every kind of CSV quoting, the next
// one an empty-string actor (distinct from NULL), the one after a spreadsheet formula, and every
// 7th has no learner.
const seeds: AuditEventInput[] = Array.from({ length: COUNT }, (_, i) =>
  decisionEvent({
    tenant_id: `t${i % 5}`,
    learner_id: i % 7 === 0 ? null : `l${i % 11}`,
    actor:
      i % 100 === 0 ? AWKWARD_ACTOR : i % 100 === 1 ? "" : i % 100 === 2 ? FORMULA_ACTOR : "svc-gradebook",
    payload: { request: { operation_type: "read", note: 'a,"b"\n' }, decision: { allowed: i % 3 !== 0 } },
  }),
);

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/** A strict RFC 4180 reader: an unquoted empty field is null, a quoted one is "". */
function parseCsv(text: string): Array<Array<string | null>> {
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let i = 0;
  while (i < text.length) {
    let value: string | null;
    if (text[i] === '"') {
      value = "";
      i += 1;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) throw new Error("unterminated quoted field");
        value += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
    } else {
      let end = i;
      while (end < text.length && text[end] !== "," && text[end] !== "\r") end++;
      value = end === i ? null : text.slice(i, end);
      if (value !== null && /["\n]/.test(value)) throw new Error(`unquoted field needs quotes: ${value}`);
      i = end;
    }
    row.push(value);
    if (text[i] === ",") {
      i += 1;
    } else if (text.startsWith("\r\n", i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else {
      throw new Error(`expected , or CRLF at ${i}`);
    }
  }
  if (row.length > 0) throw new Error("last record lacks its CRLF");
  return rows;
}

describe("csvField", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["line\nbreak", '"line\nbreak"'],
    ["carriage\rreturn", '"carriage\rreturn"'],
    ["", '""'],
    ['=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
    ["+1", '"\'+1"'],
    ["-2+3", '"\'-2+3"'],
    ["@SUM(A1)", '"\'@SUM(A1)"'],
    ["\t=1", '"\'\t=1"'],
    ["\r=1", '"\'\r=1"'],
    ["a=b", "a=b"],
    ["'quoted", "'quoted"],
    ["'=1", `"''=1"`],
  ])("quotes %j as %j", (text, expected) => {
    expect(csvField(text)).toBe(expected);
  });

  it("csvCellText gives back the text of a neutralised cell and leaves others alone", () => {
    for (const text of ["=1+1", "-x", "@a", "+b", "\tc", "\rd", "plain", "'=already", "'x", ""]) {
      const cell = csvField(text);
      const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replaceAll('""', '"') : cell;
      expect(csvCellText(unquoted)).toBe(text);
    }
  });
});

describe.each(testBackends())("exportAuditLogs on $name", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create();
    await appendAll(db, seeds);
  }, 120_000);
  afterAll(() => db.close());

  it(`streams ${COUNT} records as JSON lines, one chunk per page, re-verifiable line by line`, async () => {
    const chunks = await collect(exportAuditLogs(db, { format: "jsonl" }));
    expect(chunks).toHaveLength(COUNT / 1000);
    const lines = chunks.join("").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(COUNT);

    let prev = GENESIS_HASH;
    for (const [i, line] of lines.entries()) {
      const item = JSON.parse(line) as AuditItem;
      expect(item.seq).toBe(i + 1);
      expect(item.prev_hash).toBe(prev);
      expect(chainHash(prev, item)).toBe(item.hash);
      prev = item.hash;
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ actor: AWKWARD_ACTOR, learner_id: null });
    expect(JSON.parse(lines[2]!)).toMatchObject({ actor: FORMULA_ACTOR }); // JSONL: byte-exact, as hashed
  });

  it(`streams ${COUNT} records as RFC 4180 CSV with a header and JSON payloads`, async () => {
    const chunks = await collect(exportAuditLogs(db, { format: "csv", pageSize: 700 }));
    expect(chunks).toHaveLength(1 + Math.ceil(COUNT / 700));
    const rows = parseCsv(chunks.join(""));
    expect(rows).toHaveLength(COUNT + 1);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);

    const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    let prev = GENESIS_HASH;
    for (const [i, row] of rows.slice(1).entries()) {
      expect(row).toHaveLength(CSV_COLUMNS.length);
      const seed = seeds[i]!;
      expect(row[column("seq")]).toBe(String(i + 1));
      // A formula is neutralised (a leading apostrophe); every other value is as stored.
      expect(row[column("actor")]).toBe(seed.actor === FORMULA_ACTOR ? `'${FORMULA_ACTOR}` : seed.actor);
      expect(row[column("learner_id")]).toBe(seed.learner_id);
      expect(JSON.parse(row[column("payload")]!)).toEqual(seed.payload);
      // The columns are enough to recompute the hash.
      const field = (name: (typeof CSV_COLUMNS)[number]) => {
        const cell = row[column(name)];
        return cell === null || cell === undefined ? null : csvCellText(cell);
      };
      const record = {
        seq: Number(field("seq")),
        event_id: field("event_id")!,
        type: field("type")!,
        occurred_at: field("occurred_at")!,
        tenant_id: field("tenant_id"),
        learner_id: field("learner_id"),
        actor: field("actor"),
        request_id: field("request_id"),
        bundle_revision: field("bundle_revision"),
        policy_id: field("policy_id"),
        policy_version: field("policy_version") === null ? null : Number(field("policy_version")),
        payload: JSON.parse(field("payload")!),
      };
      expect(field("prev_hash")).toBe(prev);
      expect(chainHash(prev, record)).toBe(field("hash"));
      prev = field("hash")!;
    }
  });

  it("applies the query filters", async () => {
    const filters = { tenant_ids: ["t1", "t2", "t3"], tenant_id: "t2", allowed: false };
    const lines = (await collect(exportAuditLogs(db, { format: "jsonl", filters })))
      .join("")
      .split("\n")
      .slice(0, -1);
    const expected = seeds.flatMap((s, i) => (s.tenant_id === "t2" && i % 3 === 0 ? [i + 1] : []));
    expect(lines.map((line) => (JSON.parse(line) as AuditItem).seq)).toEqual(expected);

    const none = await collect(exportAuditLogs(db, { format: "csv", filters: { tenant_ids: [] } }));
    expect(none).toEqual([`${CSV_COLUMNS.join(",")}\r\n`]);
  });

  it("reads a page only when the consumer asks for the next chunk", async () => {
    let queries = 0;
    const counting: Pick<Db, "query"> = {
      query: (sql, params) => {
        queries += 1;
        return db.query(sql, params);
      },
    };
    const chunks = exportAuditLogs(counting, { format: "jsonl", pageSize: 100 });
    expect(queries).toBe(0);
    const first = await chunks.next();
    expect(first.value.split("\n")).toHaveLength(101);
    expect(queries).toBe(2); // the head, then one page
    await chunks.next();
    expect(queries).toBe(3);
    await chunks.return(undefined);
  });

  it("refuses bad filters before yielding anything", async () => {
    const chunks = exportAuditLogs(db, { format: "csv", filters: { from: "last tuesday" } });
    await expect(chunks.next()).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  // Last: it appends to the shared log.
  it("is a snapshot: records appended during the export are left for the next one", async () => {
    const chunks = exportAuditLogs(db, { format: "jsonl" });
    const first = await chunks.next();
    await appendAll(db, decisionEvents(10));
    const rest = await collect({ [Symbol.asyncIterator]: () => chunks });
    const lines = [first.value as string, ...rest].join("").split("\n").slice(0, -1);
    expect(lines).toHaveLength(COUNT);
  });
});
