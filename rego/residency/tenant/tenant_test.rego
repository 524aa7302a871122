package residency.tenant_test

import data.residency.tenant

_input(policy) := {"policy": object.union(
	{"primary_region": "us-east", "allowed_regions": [], "prohibited_regions": [], "compliance_frameworks": []},
	policy,
)}

test_no_allow_list_means_every_legal_region if {
	count(tenant.permitted_regions) == 7 with input as _input({})
}

test_allow_list_with_primary if {
	tenant.permitted_regions == {"us-east", "us-west"} with input as _input({"allowed_regions": ["us-west"]})
}

test_prohibited_removed if {
	not "apac-east" in tenant.permitted_regions with input as _input({"prohibited_regions": ["apac-east"]})
}

test_t_within_l if {
	# gdpr removes the US primary and us-west
	tenant.permitted_regions == {"eu-west"} with input as _input({
		"compliance_frameworks": ["gdpr"], "primary_region": "eu-west",
		"allowed_regions": ["us-west"],
	})
}

test_eliminated_labels if {
	eliminated := tenant.eliminated with input as _input({
		"compliance_frameworks": ["gdpr"], "primary_region": "eu-west",
		"allowed_regions": ["eu-central", "apac-east"], "prohibited_regions": ["apac-east", "us-east"],
	})
	eliminated == {
		"us-east": "gdpr:no_transfer_mechanism",
		"us-west": "gdpr:no_transfer_mechanism",
		"apac-south": "gdpr:no_transfer_mechanism",
		"apac-east": "tenant:prohibited",
		"ca-central": "tenant:not_allowed",
	}
}

test_nothing_eliminated_without_policy if {
	tenant.eliminated == {} with input as {"policy": null}
}

test_finding_prohibited if {
	tenant.finding("apac-east").code == "DENY_TENANT_PROHIBITED" with input as _input({"prohibited_regions": ["apac-east"]})
}

test_finding_not_allowed if {
	tenant.finding("apac-east").code == "DENY_NOT_IN_TENANT_ALLOWED" with input as _input({"allowed_regions": ["us-west"]})
}

test_finding_empty_t if {
	found := tenant.finding("eu-west") with input as _input({
		"compliance_frameworks": ["gdpr"], "primary_region": "us-east",
		"allowed_regions": ["us-west"],
	})
	found.code == "DENY_EMPTY_INTERSECTION"
	found.decided_by == "tenant_policy"
}

test_allow_findings if {
	tenant.primary.code == "ALLOW_PRIMARY"
	tenant.permitted.code == "ALLOW_PERMITTED_REGION"
	tenant.prohibited.code == "DENY_TENANT_PROHIBITED"
	tenant.not_allowed.code == "DENY_NOT_IN_TENANT_ALLOWED"
}

test_ordered_is_t_sorted if {
	in_order := tenant.ordered with input as _input({
		"compliance_frameworks": ["gdpr"], "primary_region": "eu-west",
		"allowed_regions": ["eu-central", "apac-east", "us-west"], "prohibited_regions": ["apac-east"],
	})
	in_order == ["eu-central", "eu-west"]
	tenant.ordered == ["apac-east", "apac-south", "ca-central", "eu-central", "eu-west", "us-east", "us-west"] with input as _input({})
	tenant.ordered == [] with input as {"policy": null}
}

test_allow_list_without_primary if {
	tenant.ordered == ["us-west"] with input as {"policy": {"allowed_regions": ["us-west"]}}
}
