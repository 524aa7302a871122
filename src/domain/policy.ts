import type { DataClassification, Framework, RegionCode } from "./vocabulary.ts";

/** A mechanism naming one catalog provider: it covers that provider's inference only (SPEC §11.A2.2). */
export type ProviderMechanism = {
  provider: string;
  regions: RegionCode[];
  reference?: string | undefined;
  assessed_at?: string | undefined;
};

/** A bare region covers the tenant's storage/search importer there; an item, one provider. */
export type MechanismItem = RegionCode | ProviderMechanism;

export type TransferMechanisms = {
  dpf?: RegionCode[];
  uk_extension?: RegionCode[];
  scc_tia?: MechanismItem[];
  idta?: MechanismItem[];
  appi_equivalent_measures?: MechanismItem[];
  qc_pia?: MechanismItem[];
  pipeda_contract?: boolean;
  anpd_scc?: boolean;
  appi_consent?: boolean;
};

export type Consents = {
  school_authorization?: boolean;
  parental_consent?: boolean;
  ai_training_consent?: boolean;
};

/** The §2 fields as a policy admin wrote them (after schema validation). */
export type PolicyDocument = {
  tenant_id: string;
  learner_id?: string | null;
  primary_region?: RegionCode | null;
  allowed_regions?: RegionCode[] | null;
  prohibited_regions?: RegionCode[] | null;
  compliance_frameworks?: Framework[] | null;
  data_classification?: DataClassification | null;
  allow_cross_region_failover?: boolean | null;
  failover_regions?: RegionCode[] | null;
  data_retention_days?: number | null;
  transfer_mechanisms?: TransferMechanisms | null;
  consents?: Consents | null;
  learner_age?: number | null;
  min_learner_age?: number | null;
  dpdp_education_exemption?: boolean | null;
  override_permitted?: boolean | null;
  emergency_contact?: string | null;
};

export type StoredPolicy = {
  policy_id: string;
  version: number;
  tenant_id: string;
  learner_id: string | null;
  is_active: boolean;
  created_at: string;
  updated_at: string;
  created_by: string;
  document: PolicyDocument;
};

/** Learner merged over tenant, defaults applied: what the bundle evaluates. */
export type EffectivePolicy = {
  tenant_id: string;
  learner_id: string | null;
  primary_region: RegionCode | null;
  allowed_regions: RegionCode[];
  prohibited_regions: RegionCode[];
  compliance_frameworks: Framework[];
  data_classification: DataClassification;
  allow_cross_region_failover: boolean;
  failover_regions: RegionCode[];
  data_retention_days: number | null;
  transfer_mechanisms: Required<TransferMechanisms>;
  consents: Required<Consents>;
  learner_age: number | null;
  min_learner_age: number | null;
  dpdp_education_exemption: boolean;
  override_permitted: boolean;
  emergency_contact: string | null;
};

export type Provenance = "tenant" | "learner" | "merged" | "default";
