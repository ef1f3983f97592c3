//go:build !ksk_faultinject

package secmem

// disabled is false in every build but the fault injection test build.
func disabled() bool { return false }
