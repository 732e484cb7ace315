package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/openintegrations/integrations/internal/cli"
)

// openTTY opens a new pseudo-terminal and returns its terminal side.
func openTTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

// render and check with no file and a terminal on stdin say they need input (exit 2)
// instead of waiting for typing.
func TestTerminalStdinIsRefused(t *testing.T) {
	tty := openTTY(t)
	tests := [][]string{
		{"render", "--operation", "create"},
		{"check", "--dialect", "snowflake", "-"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Run(context.Background(), args, nil, tty, &stdout, &stderr)
			if code != cli.ExitUsage || !strings.Contains(stderr.String(), "stdin is a terminal") {
				t.Errorf("exit %d, stderr %q; want exit 2 saying stdin is a terminal", code, stderr.String())
			}
		})
	}
}
