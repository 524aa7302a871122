// The closed vocabularies of SPEC §1–§3. Zod schemas and the Rego bundle both rest on these;
// the bundle's own region data is checked against REGION_CODES at load time.

export const REGION_CODES = [
  "us-east",
  "us-west",
  "eu-west",
  "eu-central",
  "apac-south",
  "apac-east",
  "ca-central",
] as const;
export type RegionCode = (typeof REGION_CODES)[number];

export const FRAMEWORKS = [
  "gdpr",
  "ccpa",
  "ferpa",
  "coppa",
  "pipeda",
  "lgpd",
  "quebec_law25",
  "ns_piidpa",
  "dpdp",
  "appi",
  "uk_gdpr",
] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export const DATA_CLASSIFICATIONS = ["educational", "standard", "sensitive", "health"] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

export const ACCESS_OPERATIONS = [
  "read",
  "write",
  "delete",
  "replicate",
  "backup",
  "index",
  "export",
] as const;
export type AccessOperation = (typeof ACCESS_OPERATIONS)[number];

export const INFERENCE_OPERATIONS = ["inference", "embedding", "fine_tuning", "training"] as const;
export type InferenceOperation = (typeof INFERENCE_OPERATIONS)[number];

export const REGION_HEALTH = ["healthy", "degraded", "unavailable"] as const;
export type RegionHealth = (typeof REGION_HEALTH)[number];

export const ROLES = [
  "admin",
  "policy_admin",
  "service",
  "approver",
  "auditor",
  "operator",
  "bundle_publisher",
  "legal_admin",
] as const;
export type Role = (typeof ROLES)[number];

/** The closed purpose vocabulary of SPEC §11.A4 (exact, lower case; anything else is a 400). */
export const PURPOSES = [
  "instruction",
  "assessment",
  "admission",
  "placement",
  "proctoring",
  "progress_monitoring",
  "safety",
  "administration",
  "research",
  "profiling",
  "targeted_advertising",
  "emotion_recognition",
  "biometric_identification",
] as const;
export type Purpose = (typeof PURPOSES)[number];

// Ids come from other systems and end up in SQL parameters, S3 keys and log lines: keep them boring.
// "." and ".." are refused: ids become path segments (S3 key prefixes).
export const ID_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;
