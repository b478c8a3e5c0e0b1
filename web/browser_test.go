package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowser drives the viewer in headless Chromium: dashboard, hierarchy (expand
// all), search, a cluster and its second page of queries, a rename through the form
// (with the bearer token pasted in the header), and the rename in the audit page. It
// saves a screenshot of each page in $LMSYS_SCREENSHOT_DIR (default a temporary one).
func TestBrowser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const token = "browser-token"
	srv := f.server(t, Options{Token: token, PublicRead: true}) // pages are read by navigation, without the token
	shots := os.Getenv("LMSYS_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	ctx := newBrowser(t)
	var alerted atomic.Bool
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*cdppage.EventJavascriptDialogOpening); ok {
			alerted.Store(true)
		}
	}))

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		defer scancel()
		start := time.Now()
		require.NoError(t, chromedp.Do(sctx, steps...), what)
		t.Logf("%s: %.2fs", what, time.Since(start).Seconds())
	}
	eval := func(expr string) any {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[any](expr))
		require.NoError(t, err, expr)
		return v
	}
	shot := func(name string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		defer scancel()
		b, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644))
	}

	// Dashboard.
	do("dashboard", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#runs")))
	assert.Contains(t, eval(`document.querySelector('#runs').textContent`), f.runID)
	shot("1-dashboard")

	// Hierarchy: collapsed at first, everything open after "Expand all", totals shown.
	do("hierarchy", chromedp.Click(chromedp.CSS("a.hier")), chromedp.WaitVisible(chromedp.CSS("#expand-all")))
	assert.EqualValues(t, 0, eval(`document.querySelectorAll('#hierarchy details[open]').length`))
	do("expand", chromedp.Click(chromedp.CSS("#expand-all")))
	total := eval(`document.querySelectorAll('#hierarchy details').length`)
	assert.NotZero(t, total)
	assert.Equal(t, total, eval(`document.querySelectorAll('#hierarchy details[open]').length`))
	assert.EqualValues(t, 12, eval(`document.querySelectorAll('#hierarchy .leaf').length`))
	do("treemap", poll(`document.getElementById("treemap").dataset.drawn === "1"`, 20*time.Second))
	assert.Greater(t, eval(`document.querySelectorAll('#treemap rect').length`).(float64),
		eval(`document.querySelectorAll('#hierarchy > ul > li, #hierarchy > details').length`).(float64), "the top level and its children")
	assert.Contains(t, eval(`document.querySelector('#totals').textContent`), "leaves")
	shot("2-hierarchy")
	do("collapse", chromedp.Click(chromedp.CSS("#collapse-all")))
	assert.EqualValues(t, 0, eval(`document.querySelectorAll('#hierarchy details[open]').length`))

	// Search (hybrid within the run).
	do("search", chromedp.Navigate(srv.URL+"/search"), chromedp.WaitVisible(chromedp.CSS("#search-form")),
		chromedp.SendKeys(chromedp.CSS("#search-text"), "python script"),
		chromedp.SetValue(chromedp.CSS("#search-run"), f.runID),
		chromedp.SetValue(chromedp.CSS("#search-mode"), "hybrid"),
		chromedp.Submit(chromedp.CSS("#search-form")),
		chromedp.WaitVisible(chromedp.CSS("#results")))
	assert.NotZero(t, eval(`document.querySelectorAll('#results tbody tr').length`))
	shot("3-search")

	// The run page, then its largest cluster, then the second page of its queries.
	do("run", chromedp.Navigate(srv.URL+"/runs/"+f.runID), chromedp.WaitVisible(chromedp.CSS("#clusters")),
		poll(`document.getElementById("sizes-chart").dataset.drawn === "1"`, 20*time.Second))
	assert.EqualValues(t, 1, eval(`document.querySelectorAll('#sizes-chart canvas').length`), "the sizes chart is drawn")
	shot("4-run")
	do("cluster", chromedp.Click(chromedp.CSS("#clusters a.cluster-link")), chromedp.WaitVisible(chromedp.CSS("#queries")),
		poll(`document.getElementById("facet-charts").dataset.drawn === "1"`, 20*time.Second))
	assert.GreaterOrEqual(t, eval(`document.querySelectorAll('#facet-charts canvas').length`).(float64), 1.0, "language and model bars")
	n := int(eval(`Number(document.querySelector('#num-queries').textContent)`).(float64))
	require.Greater(t, n, PageSize)
	assert.EqualValues(t, PageSize, eval(`document.querySelectorAll('#queries tbody tr').length`))
	shot("5-cluster")
	next := eval(`document.querySelector('#next-page').href`).(string)
	assert.Contains(t, next, "page=2")
	do("next page", chromedp.Navigate(next), chromedp.WaitVisible(chromedp.CSS("#queries")))
	assert.EqualValues(t, min(n-PageSize, PageSize), eval(`document.querySelectorAll('#queries tbody tr').length`))
	shot("6-cluster-page-2")

	// Rename through the form: first without a token (refused), then with it.
	title := fmt.Sprintf("Renamed in the browser %d", time.Now().UnixNano()%1000)
	do("rename without token", chromedp.SetValue(chromedp.CSS("#rename-title"), title), chromedp.Click(chromedp.CSS("#rename-form button[type=submit]")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#rename-form output').textContent.includes('token')`))
	do("rename", chromedp.SendKeys(chromedp.CSS("#token-input"), token), chromedp.Click(chromedp.CSS("#token-form button[type=submit]")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#token-state').textContent === 'token set'`),
		chromedp.SetValue(chromedp.CSS("#rename-title"), title), chromedp.Click(chromedp.CSS("#rename-form button[type=submit]")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#rename-form output').textContent.startsWith('done')`),
		// The form reloads the page after 400 ms; let it, then load it again to be sure.
		chromedp.Sleep(700*time.Millisecond))
	here := eval(`location.href`).(string)
	do("reload", chromedp.Navigate(here), chromedp.WaitVisible(chromedp.CSS("#cluster-title")))
	assert.Equal(t, title, eval(`document.querySelector('#cluster-title').textContent`))
	shot("7-cluster-renamed")

	// The audit page lists the rename.
	do("audit", chromedp.Navigate(srv.URL+"/runs/"+f.runID+"/audit"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	assert.Contains(t, eval(`document.querySelector('#audit').textContent`), fmt.Sprintf("renamed to %q", title))
	shot("8-audit")

	// The cluster holding a <script> prompt shows it as text and runs nothing.
	do("xss", chromedp.Navigate(fmt.Sprintf("%s/clusters/%s/%d", srv.URL, f.runID, f.xssClust)), chromedp.WaitVisible(chromedp.CSS("#queries")))
	for p := 2; !strings.Contains(eval(`document.body.innerText`).(string), "<script>alert(1)</script>") && p < 10; p++ {
		do("xss page", chromedp.Navigate(fmt.Sprintf("%s/clusters/%s/%d?page=%d", srv.URL, f.runID, f.xssClust, p)), chromedp.WaitVisible(chromedp.CSS("#queries")))
	}
	assert.Contains(t, eval(`document.body.innerText`), "<script>alert(1)</script>")
	assert.EqualValues(t, 0, eval(`Array.from(document.scripts).filter(s => !s.src).length`), "no inline script on the page")
	assert.False(t, alerted.Load(), "a prompt's script ran")
	t.Logf("screenshots in %s", shots)
}

// newBrowser starts headless Chromium for one test (skipping it when Chromium is not
// installed, outside CI) and returns its context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs %s for the browser test (apt-get install -y chromium): %v", chromiumPath, err)
		}
		t.Skipf("browser test skipped: %s not installed (apt-get install -y chromium); it always runs in CI", chromiumPath)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		// WebGL (the map) on the CPU: ANGLE over SwiftShader, with no GPU process needed.
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium's own temporary files (its shared memory, with
		// disable-dev-shm-usage) outlive a killed browser: keep them in a directory
		// the test removes, not in /tmp.
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first Run starts the browser; it must not carry a timeout.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	return ctx
}
