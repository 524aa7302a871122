package residency.regions_test

import data.residency.regions

test_seven_regions if {
	regions.codes == {"us-east", "us-west", "eu-west", "eu-central", "apac-south", "apac-east", "ca-central"}
}

test_known if {
	regions.known("ca-central")
	not regions.known("mars-1")
}

test_every_region_has_its_facts if {
	every code, region in data.reference.regions {
		is_string(region.name)
		is_string(region.jurisdiction)
		is_string(region.aws_region)
		is_array(region.certifications)
		code in regions.codes
	}
}

test_health_defaults_to_healthy if {
	regions.health("eu-west") == "healthy" with input as {}
	regions.health("eu-west") == "healthy" with input as {"region_health": {"us-east": "unavailable"}}
	regions.health("eu-west") == "healthy" with input as {"region_health": null}
}

test_health_read_through if {
	regions.health("us-east") == "degraded" with input as {"region_health": {"us-east": "degraded"}}
}

test_unavailable_without_health if {
	regions.unavailable == set() with input as {}
	regions.unavailable == set() with input as {"region_health": ["unavailable"]}
}

test_unavailable if {
	regions.unavailable == {"us-east"} with input as {"region_health": {"us-east": "unavailable", "eu-west": "degraded"}}
}

test_unknown_finding if regions.unknown.code == "DENY_UNKNOWN_REGION"

test_ordered_is_the_sorted_catalog if {
	regions.ordered == sort([code | some code, _ in data.reference.regions])
}
