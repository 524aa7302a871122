// The audited decision both HTTP benchmarks send (bench/http.ts, bench/vs-opa.ts): a learner of
// tenant "bench" reading a document, asking for eu-central.
export const DECISION_BODY = JSON.stringify({
  tenant_id: "bench",
  learner_id: "learner-1",
  operation_type: "read",
  resource_type: "document",
  resource_id: "doc-1",
  requested_region: "eu-central",
});
