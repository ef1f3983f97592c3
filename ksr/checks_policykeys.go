package ksr

// checkPolicyKeys: KSR-POLICY-KEYS.
func (v *validator) checkPolicyKeys() {
	on, sw := v.rp.CheckKeysMatchKSKOperatorPolicy, "request.check_keys_match_ksk_operator_policy"
	bs := v.req.Bundles
	if per := v.rp.NumKeysPerBundle; len(per) > 0 {
		if len(per) != len(bs) {
			v.fail(CheckPolicyKeys, on, sw, "KSR", "request.num_keys_per_bundle lists %d bundle slots, but the KSR has %d bundles", len(per), len(bs))
		} else {
			for i := range bs {
				if len(bs[i].Keys) != per[i] {
					v.fail(CheckPolicyKeys, on, sw, v.bundleWhere(i), "%s has %d keys; request.num_keys_per_bundle wants %d in slot %d", v.bundleRef(i), len(bs[i].Keys), per[i], i+1)
				}
			}
		}
	}
	if want := v.rp.NumDifferentKeysInAllBundles; len(want) > 0 && !want.Allows(len(v.keys)) {
		v.fail(CheckPolicyKeys, on, sw, "KSR", "the KSR has %d distinct keys; request.num_different_keys_in_all_bundles is %s", len(v.keys), want)
	}
	ttl := v.p.KeyTTL()
	for _, ki := range v.keys {
		if ki.key.TTL != ttl {
			b := &bs[ki.bundle]
			v.fail(CheckPolicyKeys, on, sw, keyWhere(ki.bundle, b, ki.key), "%s: %s has TTL %d; the policy's key TTL (request.dns_ttl, or ksk.ttl when 0) is %d", v.bundleRef(ki.bundle), keyRef(ki.key), ki.key.TTL, ttl)
		}
	}
}
