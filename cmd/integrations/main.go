// Command integrations renders and checks integration scripts; see internal/cli.
package main

import (
	"os"

	"github.com/openintegrations/integrations/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
