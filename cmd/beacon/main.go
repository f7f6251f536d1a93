// Command beacon is Beacon's single binary; internal/cli holds its commands.
package main

import (
	"os"

	"github.com/beaconplg/beacon/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
