package ksr

// checkSafety: KSR-POLICY-SAFETY, for ZSKs, with the KSR's claimed
// PublishSafety and RetireSafety. Like kskm's signer (docs/
// claims-arguments-evidence.md, claim 1.3.1), it assumes that ZSKs roll at
// the cycle boundary: the keys in every bundle of the KSR sign from its
// first inception, a key only in the first bundles is post-published and
// stopped signing then, a key only in the last bundles is pre-published.
//
// Retire safety: a post-published key stays published at least
// RetireSafety after the first inception. Publish safety (with the
// previous SKR): a key that signs from the first inception was published
// in the previous SKR's trailing bundles at least PublishSafety before.
// kskm makes the corresponding checks for KSKs, between the previous and
// the new SKR, when it signs.
func (v *validator) checkSafety(resp *Response) {
	bs := v.req.Bundles
	if len(bs) == 0 {
		return
	}
	in := func(b *Bundle, id string) *Key {
		for j := range b.Keys {
			if b.Keys[j].Identifier == id {
				return &b.Keys[j]
			}
		}
		return nil
	}
	var current []*keyInfo
	for _, ki := range v.keys {
		all := true
		for i := range bs {
			if in(&bs[i], ki.key.Identifier) == nil {
				all = false
				break
			}
		}
		if all {
			current = append(current, ki)
		}
	}
	if len(current) == 0 {
		v.r.Warnf(CheckSafety, "KSR", "no ZSK is in every bundle, so the KSR does not roll its ZSK at the cycle boundary; publish and retire safety are not checked")
		return
	}
	zp := &v.req.ZSKPolicy
	start := bs[0].Inception

	on, sw := v.rp.CheckKeysRetireSafety, "request.check_keys_retire_safety"
	for j := range bs[0].Keys {
		k := &bs[0].Keys[j]
		m := 1
		for m < len(bs) && in(&bs[m], k.Identifier) != nil {
			m++
		}
		if m == len(bs) {
			continue // a current key
		}
		if d := bs[m].Inception.Sub(start); d < zp.RetireSafety {
			v.fail(CheckSafety, on, sw, keyWhere(0, &bs[0], k),
				"%s: post-published %s is withdrawn from %s, %s after the cycle starts (%s); the KSR's claimed RetireSafety is %s",
				v.bundleRef(0), keyRef(k), v.bundleRef(m), dur(d), start.Format(timeFormat), dur(zp.RetireSafety))
		}
	}

	if resp == nil || len(resp.Bundles) == 0 {
		return
	}
	on, sw = v.rp.CheckKeysPublishSafety, "request.check_keys_publish_safety"
	pb := resp.Bundles
	for _, ki := range current {
		k := ki.key
		i := len(pb) - 1
		if !publishes(&pb[i], k) {
			continue // KSR-CHAIN-KEYS reports it
		}
		for i > 0 && publishes(&pb[i-1], k) {
			i--
		}
		if d := start.Sub(pb[i].Inception); d < zp.PublishSafety {
			v.fail(CheckSafety, on, sw, keyWhere(0, &bs[0], k),
				"%s: %s signs from the cycle start (%s) but was published only from the previous SKR's %s, %s before; the KSR's claimed PublishSafety is %s",
				v.bundleRef(0), keyRef(k), start.Format(timeFormat), bundleRef(i, &pb[i]), dur(d), dur(zp.PublishSafety))
		}
	}
}
