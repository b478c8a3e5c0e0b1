package main

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// progress draws one progress bar per stage on stderr when stderr is a terminal (and
// nothing otherwise, so logs and pipes stay clean). finish must be called at the end.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	stage string
	bar   *progressbar.ProgressBar
}

// newProgress returns a progress display for cmd's stderr.
func newProgress(cmd *cobra.Command) *progress {
	p := &progress{w: cmd.ErrOrStderr()}
	if f, ok := p.w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on = true
	}
	return p
}

// progressHook, when set, sees every progress report of every command before the
// display does. The analyze kill tests set it in their child process to stop it with
// SIGKILL at a chosen point of a chosen stage.
var progressHook func(lmsys.Progress)

// Func returns the lmsys.ProgressFunc that feeds the display.
func (p *progress) Func() lmsys.ProgressFunc {
	hook := progressHook
	if !p.on && hook == nil {
		return nil
	}
	return func(r lmsys.Progress) {
		if hook != nil {
			hook(r)
		}
		if !p.on {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.bar == nil || r.Stage != p.stage {
			if p.bar != nil {
				_ = p.bar.Finish()
				io.WriteString(p.w, "\n")
			}
			total := r.Total
			if total <= 0 {
				total = -1
			}
			p.stage = r.Stage
			p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(r.Stage),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetWidth(30))
		}
		_ = p.bar.Set64(r.Done)
	}
}

// finish closes the current bar.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		io.WriteString(p.w, "\n")
		p.bar = nil
	}
}
