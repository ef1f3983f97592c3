package secmem

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProtectChild runs Protect in a child process (it cannot be undone)
// and reads back the core limit and the dumpable flag from /proc.
func TestProtectChild(t *testing.T) {
	if os.Getenv("SECMEM_CHILD") == "1" {
		st, err := Protect()
		if err != nil || !st.CoreLimitZero || !st.NotDumpable {
			os.Stdout.WriteString("protect failed\n")
			os.Exit(1)
		}
		limits, _ := os.ReadFile("/proc/self/limits")
		status, _ := os.ReadFile("/proc/self/status")
		os.Stdout.Write(limits)
		os.Stdout.Write(status)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProtectChild$")
	cmd.Env = append(os.Environ(), "SECMEM_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var core string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Max core file size") {
			core = strings.Join(strings.Fields(l), " ")
		}
	}
	if core != "Max core file size 0 0 bytes" {
		t.Errorf("core limit after Protect: %q", core)
	}
}

func TestLock(t *testing.T) {
	b := []byte("a secret to pin in RAM")
	locked := Lock(b)
	t.Logf("mlock: %v", locked)
	Unlock(b)
	if Lock(nil) {
		t.Error("Lock(nil) reported success")
	}
}
