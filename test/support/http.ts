import type { RequestListener } from "node:http";
import request from "supertest";

/** Small request helpers so suites read like the API calls they make. */
export function api(handler: RequestListener, key: string) {
  const auth = { authorization: `Bearer ${key}` };
  return {
    get: (path: string) => request(handler).get(path).set(auth),
    post: (path: string, body?: unknown) =>
      request(handler)
        .post(path)
        .set(auth)
        .send(body as object),
    put: (path: string, body?: unknown) =>
      request(handler)
        .put(path)
        .set(auth)
        .send(body as object),
    delete: (path: string) => request(handler).delete(path).set(auth),
  };
}

export type Api = ReturnType<typeof api>;

export const TENANT_POLICY = {
  tenant_id: "acme-edu",
  primary_region: "us-east",
  compliance_frameworks: ["ferpa"],
};

export const LEARNER_POLICY = {
  tenant_id: "acme-edu",
  learner_id: "student-123",
  primary_region: "us-east",
  allowed_regions: ["us-west", "ca-central"],
  compliance_frameworks: ["ferpa", "coppa"],
  data_classification: "educational",
  allow_cross_region_failover: true,
  data_retention_days: 2555,
};
