package ceremony

import (
	"fmt"
	"strings"
)

// Resolvers states what validating resolvers will see of the SKRs this
// ceremony signs, from what its steps do: the KSK in operation signing
// (no change), a KSK made in the ceremony signing at once (validators
// must install its trust anchor by hand: RFC 5011 cannot carry it), the
// KSK in operation revoking itself, or a planned RFC 5011 rollover. The
// disaster recovery rehearsal checks each statement against
// internal/rfc5011's simulation of the SKRs it signs.
func (p *Plan) Resolvers() []string {
	var signs []*Step
	var newKSK, restored, anchor, plan, destroyed string
	for _, ps := range p.Steps {
		st := ps.Step
		if st.Skipped() {
			continue
		}
		switch st.Type {
		case TypeSign:
			signs = append(signs, st)
		case TypeSignerConfig:
			newKSK = st.Label
		case TypeKeyRestore:
			restored = st.Label
		case TypeTrustAnchor:
			anchor = st.Out
		case TypeRolloverPlan:
			plan = st.Out
		case TypeKeyDestroy:
			destroyed = st.Label
		}
	}
	var out []string
	if len(signs) == 0 {
		out = append(out, "This ceremony signs no SKR: validators see no change from it.")
	}
	for _, st := range signs {
		switch {
		case newKSK != "" && plan != "":
			out = append(out, fmt.Sprintf("A planned RFC 5011 rollover to the KSK made here (%s) starts with this SKR (schema %s; the rollover configuration and its schedule: %s): RFC 5011 resolvers that trust the KSK in operation accept the new KSK 30 days (the add hold-down) after it is first published and follow the rollover without a failure; resolvers with a static trust anchor must install the new one before it signs alone.", newKSK, st.Schema, plan))
		case newKSK != "":
			s := fmt.Sprintf("A KSK made in this ceremony (%s) signs at once (schema %s): RFC 5011 resolvers that trust only the KSK in operation cannot validate this SKR — no key they trust signs the new KSK, so its 30-day add hold-down never starts — and fail from its first bundle until their operators install the trust anchor this ceremony writes", newKSK, st.Schema)
			if anchor != "" {
				s += " (" + anchor + ")"
			}
			s += "; a resolver configured with that trust anchor validates at once."
			if strings.Contains(st.Schema, "revoke") && st.Schema != "post-revoke" {
				s += " The KSK in operation is published revoked and signs its own revocation, so RFC 5011 resolvers stop trusting it (RFC 5011 §2.1)."
			}
			out = append(out, s)
		default:
			s := fmt.Sprintf("The KSK in operation signs (schema %s", st.Schema)
			if restored != "" {
				s += ", restored from its backup as " + restored
			}
			out = append(out, s+"): trust anchors do not change, and validators keep validating.")
		}
	}
	if destroyed != "" {
		out = append(out, fmt.Sprintf("The key %s is destroyed: no later SKR can carry its signature.", destroyed))
	}
	return out
}
