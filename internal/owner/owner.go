// Package owner names the process that started a long job ("host:pid"), so that a
// later process can tell a job whose process died (killed mid-stage) from one still
// running. The resumable stages record it: package local on the runs of an analysis,
// package classify on classification runs, so a re-run takes over a dead run's work
// instead of starting a second one beside a live one.
package owner

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Self returns this process's owner string, "host:pid".
func Self() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// Gone reports whether the process an owner string names is on this host and no
// longer alive. An owner on another host, or malformed, is never gone: only its own
// host can tell.
func Gone(o string) bool {
	host, pidText, ok := strings.Cut(o, ":")
	if me, _ := os.Hostname(); !ok || host != me {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return p.Signal(syscall.Signal(0)) != nil
}
