package check

import (
	"reflect"
	"testing"
)

func TestReport(t *testing.T) {
	var r Report
	if !r.Valid() {
		t.Fatal("empty report is not valid")
	}
	r.Warnf("W-1", "bundle 1", "note %d", 1)
	if !r.Valid() || r.Has("W-1") {
		t.Fatal("a warning made the report invalid")
	}
	r.Errorf("E-2", "", "bad")
	r.Errorf("E-1", "bundle 2", "bad")
	r.Errorf("E-2", "bundle 3", "bad")
	if r.Valid() || !r.Has("E-1") {
		t.Fatal("errors not reported")
	}
	if got, want := r.ErrorChecks(), []string{"E-1", "E-2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ErrorChecks = %v, want %v", got, want)
	}
	if got, want := r.Findings[2].String(), "error E-1 [bundle 2]: bad"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
}
