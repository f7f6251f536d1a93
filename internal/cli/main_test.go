package cli

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestMain lets a test run this binary as `beacon` itself: with
// BEACON_TEST_ARGS set, the process is the command, not the tests. The
// durability test uses it to kill a real server process.
func TestMain(m *testing.M) {
	if args := os.Getenv("BEACON_TEST_ARGS"); args != "" {
		os.Exit(Main(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	root, err := os.MkdirTemp("", "beacon-cli-worlds-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	demoWorlds.root, driverWorlds.root = root, root
	code := m.Run()
	_ = os.RemoveAll(root)
	os.Exit(code)
}
