package attest

import (
	"bytes"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// genLog returns a log of n entries (an open entry and n-1 steps, each with
// details and a file), built in memory with the canonical encoder.
func genLog(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	buf.Grow(n * 400)
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	var head Hash
	var line []byte
	for i := 0; i < n; i++ {
		e := Entry{Seq: int64(i), Time: t0.Add(time.Duration(i) * time.Millisecond), Type: TypeStep,
			Step: fmt.Sprintf("act%d.step%d", i/100, i%100), Actor: "ca:alice",
			Details: map[string]string{"result": "confirmed", "note": "KSR hash matched"},
			Files:   []FileRef{{Path: "ksr-root-2026-q2-0.xml", Role: Read, SHA256: head}},
			Prev:    head}
		if i == 0 {
			e.Type = TypeOpen
		}
		var err error
		line, err = appendEntry(line[:0], &e)
		if err != nil {
			tb.Fatal(err)
		}
		head = LineHash(line)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// BenchmarkVerify verifies a log of 1,000,000 entries per iteration.
func BenchmarkVerify(b *testing.B) {
	const n = 1_000_000
	log := genLog(b, n)
	b.SetBytes(int64(len(log)))
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		res, err := Verify(bytes.NewReader(log), VerifyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Entries != n {
			b.Fatalf("%d entries", res.Entries)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/1e6-entries")
	// CPU time, which a loaded machine does not inflate as it does wall time.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/1e6-entries")
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
