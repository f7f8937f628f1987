package vaulttest

import (
	"os"
	"testing"

	"github.com/keyexec/keyexec/internal/testenv"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	StopShared()
	os.Exit(code)
}
