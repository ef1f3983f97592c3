package zonecheck

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Zone returns a minimal zone file around the records of a bundle, for the
// zone that owns them: the apex SOA and NS records, a delegation of "net"
// below the apex to two name servers, and glue A and AAAA records for the
// apex's and the delegation's name servers (for the root zone,
// a.root-servers.net. and a.gtld-servers.net.: both are below net., so
// both are glue). The bundle's records follow, as given. The rest is
// unsigned, for dnssec-signzone to sign.
func Zone(origin string, bundle []dns.RR) string {
	o := dns.CanonicalName(origin)
	child := "net." + o
	if o == "." {
		child = "net."
	}
	rootNS, tldNS := "a.root-servers."+child, "a.gtld-servers."+child
	var b strings.Builder
	fmt.Fprintf(&b, "; minimal zone %s around one bundle, written by ksk's internal/zonecheck\n", o)
	fmt.Fprintf(&b, "%s\t86400\tIN\tSOA\t%s nstld.verisign-grs.com. 2026010100 1800 900 604800 86400\n", o, rootNS)
	fmt.Fprintf(&b, "%s\t518400\tIN\tNS\t%s\n", o, rootNS)
	fmt.Fprintf(&b, "%s\t172800\tIN\tNS\t%s\n", child, tldNS)
	fmt.Fprintf(&b, "%s\t518400\tIN\tA\t198.41.0.4\n", rootNS)
	fmt.Fprintf(&b, "%s\t518400\tIN\tAAAA\t2001:503:ba3e::2:30\n", rootNS)
	fmt.Fprintf(&b, "%s\t172800\tIN\tA\t192.5.6.30\n", tldNS)
	fmt.Fprintf(&b, "%s\t172800\tIN\tAAAA\t2001:503:a83e::2:30\n", tldNS)
	for _, rr := range bundle {
		b.WriteString(rr.String())
		b.WriteString("\n")
	}
	return b.String()
}
