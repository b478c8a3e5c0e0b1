package owner

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGone(t *testing.T) {
	host, _ := os.Hostname()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run()) // exited and reaped: its pid names no process
	tests := []struct {
		owner string
		gone  bool
	}{
		{Self(), false},
		{fmt.Sprintf("%s:%d", host, os.Getppid()), false},
		{fmt.Sprintf("%s:%d", host, cmd.Process.Pid), true},
		{"another-host:1", false},
		{"no colon", false},
		{host + ":x", false},
		{host + ":0", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.gone, Gone(tt.owner), tt.owner)
	}
}
