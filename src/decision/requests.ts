import type {
  AccessOperation,
  DataClassification,
  InferenceOperation,
  Purpose,
  RegionCode,
} from "../domain/vocabulary.ts";

// What the use cases accept. http/ parses the wire into these (its zod schemas are checked against
// them at compile time), so the decision room never depends on the HTTP layer.

export type AccessRequest = {
  tenant_id: string;
  learner_id?: string | undefined;
  operation_type: AccessOperation;
  resource_type: string;
  resource_id: string;
  requested_region?: RegionCode | undefined;
  purpose?: Purpose | undefined;
  override_id?: string | undefined;
  data_locations?: RegionCode[] | undefined;
};

export type InferenceRequest = {
  tenant_id: string;
  model_type: string;
  learner_id?: string | undefined;
  operation_type: InferenceOperation;
  purpose?: Purpose | undefined;
  data_classification?: DataClassification | undefined;
  requested_region?: RegionCode | undefined;
};

export type PresignRequest = {
  tenant_id: string;
  learner_id?: string | undefined;
  operation: "read" | "write";
  key: string;
  expires_in: number;
  requested_region?: RegionCode | undefined;
  resource_type?: string | undefined;
  purpose?: Purpose | undefined;
  override_id?: string | undefined;
};
