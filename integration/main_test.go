package integration

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
)

// env is shared by the tests of this package; each test uses its own order
// ids and SKUs, so they run in parallel.
var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start(testenv.Options{PaymentTimeout: 8 * time.Second, StallTimeout: 15 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration environment:", err)
		os.Exit(1)
	}
	code := m.Run()
	env.Close()
	os.Exit(code)
}
