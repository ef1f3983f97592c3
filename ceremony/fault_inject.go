//go:build ksk_faultinject

package ceremony

import (
	"os"
	"syscall"
)

// EnvFault names the step and phase at which a test build kills itself
// with SIGKILL: "ACT.STEP:PHASE", PHASE being before (the step), started (recorded as
// started), effect (a keygen or sign step's effect made, not yet recorded)
// or done (recorded as done).
const EnvFault = "KSK_CEREMONY_FAULT"

// EnvFaultSignal, set to "abort", makes the fault SIGABRT instead of
// SIGKILL: with GOTRACEBACK=crash the Go runtime then dumps core, where
// the process may, so that a test can look for secrets in the core.
const EnvFaultSignal = "KSK_CEREMONY_FAULT_SIGNAL"

// fault kills the process when EnvFault names this point: a real,
// unannounced death, as a power cut would be.
func fault(step, phase string) {
	if os.Getenv(EnvFault) == step+":"+phase {
		sig := syscall.SIGKILL
		if os.Getenv(EnvFaultSignal) == "abort" {
			sig = syscall.SIGABRT
		}
		_ = syscall.Kill(os.Getpid(), sig)
		select {}
	}
}
