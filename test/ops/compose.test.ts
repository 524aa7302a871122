// Docker does not run on the machines that test this project, so the compose stack and the image
// are checked as files: the compose file against the Compose Specification's own JSON schema
// (test/fixtures/compose-spec.json, from compose-spec/compose-spec, Apache-2.0), and the promises
// the README makes about them.

import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

type Service = {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
  volumes?: string[];
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

const text = readFileSync("docker-compose.yml", "utf8");
const compose = parse(text, { merge: true }) as Compose;
const services = Object.entries(compose.services);

describe("docker-compose.yml", () => {
  it("is valid against the Compose Specification schema", () => {
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    // The schema names draft-07 by an https URL Ajv does not know; Ajv's default dialect is draft-07.
    const { $schema: _dialect, ...schema } = JSON.parse(
      readFileSync("test/fixtures/compose-spec.json", "utf8"),
    );
    const validate = ajv.compile(schema);
    const valid = validate(parse(text, { merge: true }));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it("pins every image to a version (no latest, no bare name)", () => {
    for (const [name, service] of services) {
      if (!service.image) continue;
      const [, tag] = service.image.split(":");
      expect(tag, `${name}: ${service.image}`).toBeTruthy();
      expect(tag, `${name}: ${service.image}`).not.toBe("latest");
      if (!service.build) expect(tag, `${name}: ${service.image}`).toMatch(/\d/);
    }
  });

  it("publishes no host port that a local Postgres, Redis, or `make run` already holds", () => {
    const taken = new Set(["5432", "6379", "8080", "3000", "9000", "9090"]);
    const hostPorts = services.flatMap(([, s]) => (s.ports ?? []).map((p) => p.split(":")[0]!));
    expect(hostPorts.filter((p) => taken.has(p))).toEqual([]);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it("depends only on services it defines, and names only declared volumes", () => {
    const names = new Set(Object.keys(compose.services));
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, service] of services) {
      const deps = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(names.has(dep), `${name} → ${dep}`).toBe(true);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0]!;
        if (!source.startsWith(".")) expect(declared.has(source), `${name}: ${volume}`).toBe(true);
      }
    }
  });

  it("runs a still-published S3-compatible server in every region, reachable from the host at the endpoint the service signs for", () => {
    const infra = JSON.parse(readFileSync("config/infrastructure.compose.json", "utf8")) as {
      regions: Record<string, { storage: { endpoint: string } }>;
    };
    const residency = compose.services["residency-1"]!;
    expect(residency.environment?.INFRASTRUCTURE_CONFIG).toBe("config/infrastructure.compose.json");
    expect(JSON.stringify(compose)).not.toMatch(/minio\//);
    for (const [region, { storage }] of Object.entries(infra.regions)) {
      const gateway = compose.services[`s3-${region}`];
      expect(gateway?.image, region).toMatch(/^versity\/versitygw:v\d/);
      const url = new URL(storage.endpoint);
      expect(url.hostname).toBe("localhost");
      expect(gateway?.ports).toContain(`${url.port}:7070`);
    }
    expect(Object.keys(infra.regions)).toHaveLength(7);
  });
});

describe("Dockerfile and .dockerignore", () => {
  const dockerfile = readFileSync("Dockerfile", "utf8");

  it("builds on a supported Node LTS, pinned", () => {
    const from = /^FROM node:(\d+)\.(\d+)\.(\d+)-/m.exec(dockerfile);
    expect(from, "FROM node:<major.minor.patch>-…").not.toBeNull();
    // 20 reached end of life in April 2026; 22 and 24 are the supported LTS lines.
    expect([22, 24]).toContain(Number(from![1]));
  });

  it("gives the embedded database a writable volume owned by the service's user", () => {
    expect(dockerfile).toMatch(/chown node:node \/app\/data/);
    expect(dockerfile).toMatch(/VOLUME \/app\/data/);
    expect(dockerfile).toMatch(/RESIDENCY_DATA_DIR=\/app\/data/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it("keeps the build context small: no git, node_modules, local data or tests", () => {
    const ignored = readFileSync(".dockerignore", "utf8")
      .split("\n")
      .map((l) => l.trim());
    for (const entry of [".git", "node_modules", "data", "test", "coverage"])
      expect(ignored).toContain(entry);
  });
});
