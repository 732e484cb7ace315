package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Main runs the process's command line through Run and returns the exit code: the one
// program behind cmd/integrations and every test that runs the command as a process.
// SIGINT or SIGTERM cancels Run's context, so serve shuts down gracefully; once it is
// cancelled the default handling is back, so a second signal stops at once.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	defer stop()
	return Run(ctx, os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
}
