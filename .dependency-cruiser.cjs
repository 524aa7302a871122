// The rooms of docs/architecture.md as rules. `make lint` checks them with dependency-cruiser
// (scripts/dependency-rules.ts feeds it the import graph; see docs/decisions/0013-rooms-checked.md).

const LEAVES = "context|engine|bundles|endpoints|audit";
const ABOVE = "http|decision|admin|cli";
/**
 * How the runner hands over an `import type` (or an import of `{ type X }` members only): as a
 * require(), so a rule can tell a type's arrow (a compile-time contract) from a run-time one.
 */
const TYPE_ONLY = ["require"];

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "No module cycle, and so no room cycle: every arrow points down the flow.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "http-has-no-drivers",
      comment: "http/ speaks HTTP only: no database, cache, wasm or cloud client, not even as a type.",
      severity: "error",
      from: { path: "^src/http/" },
      to: { path: "node_modules/(pg|ioredis|@electric-sql|@open-policy-agent|@aws-sdk)/" },
    },
    {
      name: "postgres-only-in-store",
      comment: "pg and PGlite are store/'s driver; the other rooms use its Db interface.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/store/" },
      to: { path: "node_modules/(pg|@electric-sql)/" },
    },
    {
      name: "opa-wasm-only-in-engine",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/engine/" },
      to: { path: "node_modules/@open-policy-agent/" },
    },
    {
      name: "aws-only-in-endpoints",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/endpoints/" },
      to: { path: "node_modules/@aws-sdk/" },
    },
    {
      name: "redis-client-built-by-main",
      comment:
        "ioredis is context/'s driver. bundles/ (pub/sub) and service.ts hold the client main.ts built, as a type.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/context/", "^src/main\\.[jt]s$"] },
      to: { path: "node_modules/ioredis/", dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: "leaf-rooms-stay-apart",
      comment:
        "A leaf room reaches another only through its declared interface: index.ts at run time, any of its types.",
      severity: "error",
      from: { path: `^src/(${LEAVES})/` },
      to: {
        path: `^src/(${LEAVES})/`,
        pathNot: ["^src/$1/", `^src/(${LEAVES})/index\\.[jt]s$`],
        dependencyTypesNot: TYPE_ONLY,
      },
    },
    {
      name: "flow-is-one-way",
      comment: "Leaf rooms and store/ never import the rooms above them, nor the composition root.",
      severity: "error",
      from: { path: `^src/(${LEAVES}|store)/` },
      to: { path: [`^src/(${ABOVE})/`, "^src/(service|main|config)\\.[jt]s$"] },
    },
    {
      name: "store-is-the-floor",
      comment: "store/ (Db, clients, migrations) imports no room.",
      severity: "error",
      from: { path: "^src/store/" },
      to: { path: `^src/(${LEAVES}|${ABOVE}|domain)/` },
    },
    {
      name: "domain-is-shared-and-plain",
      comment: "domain/ (the shared kernel: vocabulary, policy documents, the policy contract) imports no room.",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { path: "^src/", pathNot: ["^src/domain/", "^src/errors\\.[jt]s$"] },
    },
    {
      name: "use-cases-do-not-serve-http",
      severity: "error",
      from: { path: "^src/(decision|admin)/" },
      to: { path: "^src/(http|cli)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
  },
};
