import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRooms, importsOf } from "../../scripts/dependency-rules.ts";

// `make lint` fails on a broken room rule: each rule of .dependency-cruiser.cjs is broken on
// purpose in a copy of src/, and the check names it; the tree as committed passes.

describe("room rules (make lint)", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "rooms-"));
    cpSync(resolve("src"), join(root, "src"), { recursive: true });
    cpSync(resolve(".dependency-cruiser.cjs"), join(root, ".dependency-cruiser.cjs"));
    symlinkSync(resolve("node_modules"), join(root, "node_modules"), "dir");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("hold for the committed tree", async () => {
    expect(await checkRooms(".")).toEqual([]);
  });

  it("each deliberate violation fails with its rule's name", async () => {
    const plant = (path: string, text: string) => writeFileSync(join(root, "src", path), text);
    plant("http/planted-driver.ts", 'import type { Pool } from "pg";\nexport type P = Pool;\n');
    plant(
      "decision/planted-wasm.ts",
      'import { loadPolicy } from "@open-policy-agent/opa-wasm";\nexport const l = loadPolicy;\n',
    );
    plant(
      "engine/planted-leaf.ts",
      'import { latestRecords } from "../audit/query.ts";\nexport const l = latestRecords;\n',
    );
    plant(
      "context/planted-up.ts",
      'import { createDecide } from "../decision/decide.ts";\nexport const d = createDecide;\n',
    );
    plant(
      "store/planted-room.ts",
      'import type { AuditRecord } from "../audit/types.ts";\nexport type R = AuditRecord;\n',
    );
    plant("domain/planted-room.ts", 'import type { Db } from "../store/db.ts";\nexport type D = Db;\n');
    plant(
      "admin/planted-http.ts",
      'import { createApp } from "../http/app.ts";\nexport const a = createApp;\n',
    );
    plant("bundles/planted-redis.ts", 'import { Redis } from "ioredis";\nexport const r = Redis;\n');
    plant(
      "context/planted-aws.ts",
      'import type { S3Client } from "@aws-sdk/client-s3";\nexport type S = S3Client;\n',
    );
    plant("context/planted-a.ts", 'import { b } from "./planted-b.ts";\nexport const a = () => b;\n');
    plant("context/planted-b.ts", 'import { a } from "./planted-a.ts";\nexport const b = () => a;\n');
    // Allowed, for contrast: another leaf's types, and its declared run-time interface.
    plant(
      "engine/planted-ok.ts",
      'import type { AuditRecord } from "../audit/types.ts";\nimport { auditEvent } from "../audit/index.ts";\nexport type R = AuditRecord;\nexport const e = auditEvent;\n',
    );

    const broken = (await checkRooms(root)).map((v) => `${v.rule.name} ${v.from}`);
    expect(broken.sort()).toEqual(
      [
        "aws-only-in-endpoints src/context/planted-aws.ts",
        "domain-is-shared-and-plain src/domain/planted-room.ts",
        "flow-is-one-way src/context/planted-up.ts",
        "http-has-no-drivers src/http/planted-driver.ts",
        "leaf-rooms-stay-apart src/engine/planted-leaf.ts",
        "no-cycles src/context/planted-a.ts",
        "opa-wasm-only-in-engine src/decision/planted-wasm.ts",
        "postgres-only-in-store src/http/planted-driver.ts",
        "redis-client-built-by-main src/bundles/planted-redis.ts",
        "store-is-the-floor src/store/planted-room.ts",
        "use-cases-do-not-serve-http src/admin/planted-http.ts",
      ].sort(),
    );
  });

  it("tells type-only imports from run-time ones", () => {
    expect(
      importsOf(
        [
          'import type { A } from "./a.ts";',
          'import { type B, type C } from "./b.ts";',
          'import { type D, e } from "./d.ts";',
          'import {\n  f,\n  type G,\n} from "./f.ts";',
          'export type { H } from "./h.ts";',
          'export { i } from "./i.ts";',
          'import "./side-effect.ts";',
          'const w = new Worker(new URL("./worker.ts", import.meta.url));',
          '// import { nope } from "./comment.ts";',
        ].join("\n"),
      ),
    ).toEqual([
      { specifier: "./a.ts", typeOnly: true },
      { specifier: "./b.ts", typeOnly: true },
      { specifier: "./d.ts", typeOnly: false },
      { specifier: "./f.ts", typeOnly: false },
      { specifier: "./h.ts", typeOnly: true },
      { specifier: "./i.ts", typeOnly: false },
      { specifier: "./side-effect.ts", typeOnly: false },
      { specifier: "./worker.ts", typeOnly: false },
    ]);
  });
});
