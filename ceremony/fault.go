//go:build !ksk_faultinject

package ceremony

// fault is a point where a test build (tag ksk_faultinject) can kill the
// process; in a normal build it does nothing.
func fault(string, string) {}
