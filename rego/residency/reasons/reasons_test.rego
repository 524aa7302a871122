package residency.reasons_test

import data.residency.reasons

_meta := {"title": "A title", "custom": {"code": "X_CODE", "decided_by": "framework", "field": "primary_region"}}

test_finding_falls_back_to_title if {
	reasons.finding(_meta, "gdpr") == {"code": "X_CODE", "decided_by": "framework", "framework": "gdpr", "message": "A title"}
}

test_finding_uses_custom_message if {
	meta := object.union(_meta, {"custom": {"message": "custom words"}})
	reasons.finding(meta, null).message == "custom words"
}

test_about_prefixes_region if {
	found := reasons.finding(_meta, null)
	reasons.about(found, "eu-west").message == "eu-west: A title"
	reasons.about(found, "eu-west").code == "X_CODE"
}

test_worded_replaces_message if {
	reasons.worded(reasons.finding(_meta, null), "new").message == "new"
}

test_attributed if {
	r := reasons.attributed(reasons.finding(_meta, "gdpr"), "break_glass", "Y_CODE", "m")
	r == {"code": "Y_CODE", "decided_by": "break_glass", "framework": "gdpr", "message": "m"}
}

test_violation if {
	reasons.violation(_meta, null, "m") == {"code": "X_CODE", "field": "primary_region", "framework": null, "message": "m"}
}
