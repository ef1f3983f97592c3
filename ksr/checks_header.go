package ksr

import (
	"strings"

	"github.com/miekg/dns"
)

// checkHeader: KSR-DOMAIN and the format part of KSR-ID.
func (v *validator) checkHeader() {
	ok := false
	for _, d := range v.rp.AcceptableDomains {
		if dns.CanonicalName(d) == v.zone {
			ok = true
			break
		}
	}
	if !ok {
		v.errorf(CheckDomain, "KSR domain", "KSR domain %q is not one of request.acceptable_domains %v", v.d.Domain, v.rp.AcceptableDomains)
	}
	if !validID(v.d.ID) {
		v.errorf(CheckID, "KSR id", "KSR id %q must be 1 to 128 letters, digits, '-', '.', '_' or ':' (a UUID in the root zone)", v.d.ID)
	}
}

// checkBundleIDs: KSR-BUNDLE-UNIQUE within the KSR.
func (v *validator) checkBundleIDs() {
	seen := map[string]int{}
	for i := range v.req.Bundles {
		b := &v.req.Bundles[i]
		if !validID(b.ID) {
			v.errorf(CheckBundleUnique, v.bundleWhere(i), "%s: bundle id must be 1 to 128 letters, digits, '-', '.', '_' or ':'", v.bundleRef(i))
		}
		key := strings.ToLower(b.ID)
		if j, dup := seen[key]; dup {
			v.errorf(CheckBundleUnique, v.bundleWhere(i), "%s has the same id as bundle #%d: bundle ids must be unique", v.bundleRef(i), j+1)
			continue
		}
		seen[key] = i
	}
}

// checkBundleCount: KSR-BUNDLE-COUNT.
func (v *validator) checkBundleCount() {
	n := len(v.req.Bundles)
	if n == 0 {
		v.errorf(CheckBundleCount, "KSR", "the KSR has no bundles")
		return
	}
	if !v.rp.NumBundles.Allows(n) {
		v.errorf(CheckBundleCount, "KSR", "the KSR has %d bundles; request.num_bundles is %s", n, v.rp.NumBundles)
	}
}
