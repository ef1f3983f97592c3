package ksr

import (
	"strconv"
	"time"
)

// checkCycle: KSR-BUNDLE-CYCLE-DURATION.
func (v *validator) checkCycle() {
	bs := v.req.Bundles
	if len(bs) < 2 {
		return
	}
	on, sw := v.rp.CheckCycleLength, "request.check_cycle_length"
	l := bs[len(bs)-1].Inception.Sub(bs[0].Inception)
	lo, hi := v.rp.MinCycleInceptionLength.Std(), v.rp.MaxCycleInceptionLength.Std()
	if l < lo || l > hi {
		v.fail(CheckCycleDuration, on, sw, "KSR",
			"the cycle from %s's inception to %s's is %s; request.min/max_cycle_inception_length allow %s to %s",
			v.bundleRef(0), v.bundleRef(len(bs)-1), dur(l), dur(lo), dur(hi))
	}
}

// checkIntervals: KSR-POLICY-BUNDLE-INTERVALS.
func (v *validator) checkIntervals() {
	on, sw := v.rp.CheckBundleIntervals, "request.check_bundle_intervals"
	lo, hi := v.rp.MinBundleInterval.Std(), v.rp.MaxBundleInterval.Std()
	for i := 1; i < len(v.req.Bundles); i++ {
		d := v.req.Bundles[i].Inception.Sub(v.req.Bundles[i-1].Inception)
		if d < lo || d > hi {
			v.fail(CheckBundleIntervals, on, sw, v.bundleWhere(i),
				"%s starts %s after bundle #%d; request.min/max_bundle_interval allow %s to %s",
				v.bundleRef(i), dur(d), i, dur(lo), dur(hi))
		}
	}
}

// checkValidity: KSR-POLICY-SIG-VALIDITY, against the KSR's claim
// (kskm's check, with its minimum compared against the minimum) and
// against the KSK policy (which kskm never applies).
func (v *validator) checkValidity() {
	on, sw := v.rp.SignatureValidityMatchZSKPolicy, "request.signature_validity_match_zsk_policy"
	zp, kp := &v.req.ZSKPolicy, &v.p.KSK
	for i := range v.req.Bundles {
		b := &v.req.Bundles[i]
		d := b.Expiration.Sub(b.Inception)
		where := v.bundleWhere(i)
		if d <= 0 {
			v.errorf(CheckSigValidity, where, "%s expires (%s) before it starts (%s)", v.bundleRef(i), b.Expiration.Format(timeFormat), b.Inception.Format(timeFormat))
			continue
		}
		if v.below(d, zp.MinSignatureValidity) {
			v.fail(CheckSigValidity, on, sw, where, "%s: validity %s is shorter than the KSR's claimed MinSignatureValidity %s", v.bundleRef(i), dur(d), dur(zp.MinSignatureValidity))
		}
		if v.above(d, zp.MaxSignatureValidity) {
			v.fail(CheckSigValidity, on, sw, where, "%s: validity %s is longer than the KSR's claimed MaxSignatureValidity %s", v.bundleRef(i), dur(d), dur(zp.MaxSignatureValidity))
		}
		if v.below(d, kp.MinSignatureValidity.Std()) {
			v.errorf(CheckSigValidity, where, "%s: validity %s is shorter than the KSK policy's ksk.min_signature_validity %s", v.bundleRef(i), dur(d), kp.MinSignatureValidity)
		}
		if v.above(d, kp.MaxSignatureValidity.Std()) {
			v.errorf(CheckSigValidity, where, "%s: validity %s is longer than the KSK policy's ksk.max_signature_validity %s", v.bundleRef(i), dur(d), kp.MaxSignatureValidity)
		}
	}
}

// overlapFindings reports an overlap d between an earlier and a later
// bundle against the claimed limits (controlled by on/sw) and the KSK
// policy's (always on).
func (v *validator) overlapFindings(id string, on bool, sw, where, what string, d time.Duration) {
	zp, kp := &v.req.ZSKPolicy, &v.p.KSK
	if d < 0 {
		v.errorf(id, where, "%s: there is a gap of %s, during which no signature would be valid", what, dur(-d))
		return
	}
	if v.below(d, zp.MinValidityOverlap) {
		v.fail(id, on, sw, where, "%s is %s, less than the KSR's claimed MinValidityOverlap %s", what, dur(d), dur(zp.MinValidityOverlap))
	}
	if v.above(d, zp.MaxValidityOverlap) {
		v.fail(id, on, sw, where, "%s is %s, more than the KSR's claimed MaxValidityOverlap %s", what, dur(d), dur(zp.MaxValidityOverlap))
	}
	if v.below(d, kp.MinValidityOverlap.Std()) {
		v.errorf(id, where, "%s is %s, less than the KSK policy's ksk.min_validity_overlap %s", what, dur(d), kp.MinValidityOverlap)
	}
	if v.above(d, kp.MaxValidityOverlap.Std()) {
		v.errorf(id, where, "%s is %s, more than the KSK policy's ksk.max_validity_overlap %s", what, dur(d), kp.MaxValidityOverlap)
	}
}

// checkOverlap: KSR-POLICY-SIG-OVERLAP.
func (v *validator) checkOverlap() {
	on, sw := v.rp.CheckBundleOverlap, "request.check_bundle_overlap"
	for i := 1; i < len(v.req.Bundles); i++ {
		prev, b := &v.req.Bundles[i-1], &v.req.Bundles[i]
		what := v.bundleRef(i) + "'s overlap with bundle #" + strconv.Itoa(i) + " (" + prev.ID + ")"
		v.overlapFindings(CheckSigOverlap, on, sw, v.bundleWhere(i), what, prev.Expiration.Sub(b.Inception))
	}
}

// checkHorizon: KSR-POLICY-SIG-HORIZON.
func (v *validator) checkHorizon() {
	on, sw := v.rp.SignatureCheckExpireHorizon, "request.signature_check_expire_horizon"
	horizon := time.Duration(v.rp.SignatureHorizonDays) * 24 * time.Hour
	for i := range v.req.Bundles {
		b := &v.req.Bundles[i]
		switch {
		case !b.Expiration.After(v.at):
			v.fail(CheckSigHorizon, on, sw, v.bundleWhere(i), "%s expired at %s, before the reference time %s (is the clock right? use --at for historical files)",
				v.bundleRef(i), b.Expiration.Format(timeFormat), v.at.Format(timeFormat))
		case b.Expiration.Sub(v.at) > horizon:
			v.fail(CheckSigHorizon, on, sw, v.bundleWhere(i), "%s expires at %s, more than request.signature_horizon_days (%d days) after the reference time %s",
				v.bundleRef(i), b.Expiration.Format(timeFormat), v.rp.SignatureHorizonDays, v.at.Format(timeFormat))
		}
	}
}
