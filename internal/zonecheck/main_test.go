package zonecheck_test

import (
	"os"
	"testing"

	"github.com/ksk-dev/ksk/hsm/softhsmtest"
)

func TestMain(m *testing.M) { os.Exit(softhsmtest.Main(m)) }
