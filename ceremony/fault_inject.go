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

// fault kills the process when EnvFault names this point: a real,
// unannounced death, as a power cut would be.
func fault(step, phase string) {
	if os.Getenv(EnvFault) == step+":"+phase {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
