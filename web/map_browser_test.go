package web

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hostileQuery = `<script>document.title="pwned"</script><img src=x onerror=alert(1)> how do I`

// mapStore builds a 20,001-query run of four clusters, one per quadrant of its
// stored map, with a hostile query alone at the map's centre. The odd count checks
// that every binary array of a page starts where a typed-array view can read it.
const mapPoints = 20001

func mapStore(t *testing.T) (*store.DB, string, []int64) {
	t.Helper()
	ctx := context.Background()
	db := testdb.SQLite(t)
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "map"})
	require.NoError(t, err)
	const n = mapPoints
	qs := make([]lmsys.Query, n)
	for i := range qs {
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: fmt.Sprintf("query %d of topic %d", i, i%4)}
	}
	qs[0].Text = hostileQuery
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	all, err := db.ListQueries(ctx, lmsys.QueryFilter{Limit: n})
	require.NoError(t, err)
	run := lmsys.Run{ID: "kmeans-4-20261201-000000", Algorithm: "kmeans", NumClusters: 4, Space: lmsys.Space{Provider: "local", Model: "lexical", Dims: 8},
		Status: lmsys.RunCompleted}
	require.NoError(t, db.CreateRun(ctx, run))
	rng := rand.New(rand.NewPCG(1, 2))
	l := store.Layout{RunID: run.ID, Seed: 1}
	var as []lmsys.Assignment
	ids := make([]int64, len(all))
	for i, q := range all {
		ids[i] = q.ID
		c := i % 4
		cx, cy := float32(-0.5+float64(c%2)), float32(0.5-float64(c/2))
		x, y := cx+float32(rng.NormFloat64()*0.03), cy+float32(rng.NormFloat64()*0.03)
		switch {
		case i == 0: // the hostile query, alone at the centre
			x, y = 0, 0
		case i >= 1 && i <= 4: // anchors at the corners fix the bounding box
			x, y = float32(1-2*((i-1)%2)), float32(1-2*((i-1)/2))
		}
		l.QueryIDs, l.X, l.Y = append(l.QueryIDs, q.ID), append(l.X, x), append(l.Y, y)
		as = append(as, lmsys.Assignment{RunID: run.ID, QueryID: q.ID, ClusterID: c})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	require.NoError(t, db.SaveLayout(ctx, l))
	return db, run.ID, ids
}

// TestMapInBrowser opens the interactive map of a 20,001-point run in headless
// Chromium: the canvas is drawn, hovering the centre shows the hostile query as text,
// and a lasso around the upper-left cluster fills the move form, whose submission
// is an audited edit.
func TestMapInBrowser(t *testing.T) {
	t.Parallel()
	db, runID, _ := mapStore(t)
	srv := httptestServer(t, Handler(Deps{Store: db}, Options{Logger: discardLogger()}))
	ctx := newBrowser(t)
	var console []string
	var mu sync.Mutex
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			console = append(console, "exception: "+e.ExceptionDetails.Text+" "+fmt.Sprint(e.ExceptionDetails.Exception))
		case *runtime.EventConsoleAPICalled:
			for _, a := range e.Args {
				console = append(console, string(e.Type)+": "+string(a.Value)+a.Description)
			}
		}
	}))
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		start := time.Now()
		if err := chromedp.Do(sctx, steps...); err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("map-status") || {}).textContent + " | " + (document.querySelector("main") || document.body).innerText.slice(0, 300)`))
			t.Fatalf("%s: %v; the page says: %s; console: %s", what, err, state, strings.Join(console, "; "))
		}
		t.Logf("%s: %.2fs", what, time.Since(start).Seconds())
	}
	eval := func(expr string) any {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[any](expr))
		require.NoError(t, err, expr)
		return v
	}
	// Before the page's scripts run: record every Content-Security-Policy violation,
	// and the options the page gives regl-scatterplot.
	run("watch the page", chromedp.Action[chromedp.Void](func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.__csp = [];
			document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective + " " + e.blockedURI); });
			var wrapped;
			Object.defineProperty(window, "createScatterplot", { configurable: true,
				get: function () { return wrapped; },
				set: function (f) { wrapped = function (o) { window.__scatterOptions = o; return f(o); }; } });`})
		return chromedp.Void{}, err
	}))
	run("open the map", chromedp.Navigate(srv.URL+"/runs/"+runID+"/map"),
		poll(`document.getElementById("map").dataset.drawn === "1"`, 50*time.Second))
	assert.Equal(t, []any{}, eval(`window.__csp`), "the map page breaks none of its own policy")
	// From 10^6 points regl-scatterplot would build its index in a blob: worker, which
	// the policy refuses (the draw then never ends): the page must keep it on the page.
	assert.Equal(t, false, eval(`window.__scatterOptions.spatialIndexUseWorker`))
	assert.Contains(t, eval(`document.getElementById("map-status").textContent`), "20001 points, 4 groups")

	// The canvas holds drawn points: read its pixels back through a 2-D copy.
	painted := eval(`(function () {
		var c = document.getElementById("map"), o = document.createElement("canvas");
		o.width = c.width; o.height = c.height;
		var g = o.getContext("2d"); g.drawImage(c, 0, 0);
		var d = g.getImageData(0, 0, o.width, o.height).data, n = 0;
		for (var i = 0; i < d.length; i += 4) { if (d[i] < 240 || d[i+1] < 240 || d[i+2] < 240) { n++; } }
		return n;
	})()`)
	assert.Greater(t, painted.(float64), 2000.0, "non-background pixels on the map")
	assert.GreaterOrEqual(t, eval(`document.querySelectorAll("#map-labels .map-label").length`).(float64), 4.0, "groups are named")

	// Hover the centre: the hostile query shows as text, and nothing of it runs.
	pos := eval(`(function () { var m = window.lmsysMap, r = document.getElementById("map").getBoundingClientRect(),
		p = m.plot.getScreenPosition(m.index.get(m.ids[0])); return [r.left + p[0], r.top + p[1]]; })()`).([]any)
	x, y := pos[0].(float64), pos[1].(float64)
	run("hover", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x-3, y-3), chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y),
		poll(`document.getElementById("map-tip").textContent.indexOf("how do I") >= 0`, 20*time.Second))
	tip := eval(`document.getElementById("map-tip").textContent`).(string)
	assert.Contains(t, tip, `<script>document.title="pwned"</script>`, "shown as text")
	assert.Zero(t, eval(`document.querySelectorAll("#map-tip script, #map-tip img").length`))
	assert.NotEqual(t, "pwned", eval(`document.title`))

	// Lasso (shift-drag) around the upper-left cluster, then move its points.
	c := eval(`(function () { var m = window.lmsysMap, r = document.getElementById("map").getBoundingClientRect(),
		p = m.plot.getScreenPosition(m.index.get(m.ids[8])); return [r.left + p[0], r.top + p[1]]; })()`).([]any)
	cx, cy := c[0].(float64), c[1].(float64)
	shift := chromedp.ButtonModifiers(chromedp.ModifierShift)
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, cx+70, cy, shift),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, cx+70, cy, chromedp.ButtonLeft, shift)}
	for a := 0.0; a <= 2*math.Pi+0.2; a += math.Pi / 24 {
		steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, cx+70*math.Cos(a), cy+70*math.Sin(a), chromedp.ButtonLeft, shift))
	}
	steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, cx+70, cy, chromedp.ButtonLeft, shift),
		poll(`document.getElementById("map-selected").textContent !== "0"`, 20*time.Second))
	run("lasso", steps...)
	selected := eval(`document.getElementById("map-selected").textContent`).(string)
	ids := eval(`document.getElementById("map-move-ids").value`).(string)
	assert.Equal(t, "4999", selected, "the upper-left cluster's 5,001 points, less the hostile query and a corner anchor")
	assert.Len(t, strings.Split(ids, ", "), 4999)
	run("move", chromedp.SetValue(chromedp.CSS("#map-move-to"), "3"), chromedp.Click(chromedp.CSS("#map-move")),
		poll(`(function (o) { return o.textContent.length > 0 && o.textContent !== "…"; })(document.querySelector("#map-move-form output"))`, 20*time.Second))
	assert.Contains(t, eval(`document.querySelector("#map-move-form output").className`), "ok", eval(`document.querySelector("#map-move-form output").textContent`))
	t.Logf("move form says %v", eval(`document.querySelector("#map-move-form output").textContent`))
	sizes, err := db.ClusterSizes(context.Background(), runID)
	require.NoError(t, err)
	assert.Equal(t, 5000+4999, sizes[3])
	edits, err := db.Edits(context.Background(), store.EditFilter{RunID: runID})
	require.NoError(t, err)
	require.NotEmpty(t, edits, "the move is audited")
}

// poll waits until the expression is truthy in the page.
func poll(expr string, d time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[any](expr, chromedp.WithPollingTimeout(d))(ctx, t)
		return err
	})
}

func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestMapRoutes reads a map's description and its binary points, coloured by
// cluster and by a label, and checks the errors.
func TestMapRoutes(t *testing.T) {
	db, runID, ids := mapStore(t)
	h := Handler(Deps{Store: db}, Options{Logger: discardLogger()})
	code, m := callJSON(t, h, "GET", "/api/clustering/runs/"+runID+"/map", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, mapPoints, m["num_points"])
	assert.EqualValues(t, 1, m["pages"])
	groups := m["groups"].([]any)
	require.Len(t, groups, 4)
	for i, g := range groups {
		assert.EqualValues(t, map[bool]int{true: 5001, false: 5000}[i == 0], g.(map[string]any)["count"], "cluster 0 holds the odd point")
	}

	code, b := call(t, h, "GET", "/api/clustering/runs/"+runID+"/map/points?page=0", nil, "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, b, 20*mapPoints)
	const n = mapPoints
	at := func(i int) (float32, float32, int32, int64) {
		x := math.Float32frombits(binary.LittleEndian.Uint32(b[8*i:]))
		y := math.Float32frombits(binary.LittleEndian.Uint32(b[8*i+4:]))
		id := int64(math.Float64frombits(binary.LittleEndian.Uint64(b[8*n+8*i:])))
		g := int32(binary.LittleEndian.Uint32(b[16*n+4*i:]))
		return x, y, g, id
	}
	x, y, _, id := at(0)
	assert.Equal(t, ids[0], id)
	assert.InDelta(t, 0, x, 1e-6, "the centre stays the centre")
	assert.InDelta(t, 0, y, 1e-6)
	for i := range mapPoints {
		x, y, g, _ := at(i)
		require.True(t, x >= -1 && x <= 1 && y >= -1 && y <= 1, "point %d at (%v, %v) is in [-1, 1]", i, x, y)
		require.True(t, g >= 0 && g < 4)
	}

	// Coloured by a label: unlabelled points are a group of their own.
	cr := lmsys.ClassificationRun{ID: "classify-refusal-map", TemplateID: "refusal@1", TemplateHash: "h", ResultKey: "builtin:refusal@1",
		Provider: "builtin", Model: "refusal", Facets: []string{"refusal"}}
	require.NoError(t, db.CreateClassificationRun(context.Background(), cr))
	require.NoError(t, db.SaveLabels(context.Background(), []lmsys.Label{{QueryID: ids[0], Facet: "refusal", Value: "refused", ClassificationRunID: cr.ID, ResultKey: cr.ResultKey}}))
	code, m = callJSON(t, h, "GET", "/api/clustering/runs/"+runID+"/map?color=label:refusal", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []any{"refusal"}, m["facets"])
	keys := []string{}
	for _, g := range m["groups"].([]any) {
		keys = append(keys, g.(map[string]any)["key"].(string))
	}
	assert.Equal(t, []string{"(none)", "refused"}, keys)

	code, m = callJSON(t, h, "GET", "/api/clustering/runs/"+runID+"/map?color=language", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "(unknown)", m["groups"].([]any)[0].(map[string]any)["key"])
	code, _ = callJSON(t, h, "GET", "/api/clustering/runs/"+runID+"/map?color=level:1", nil, "")
	assert.Equal(t, http.StatusNotFound, code, "no hierarchy yet")

	// Coloured by the hierarchy's level 1: clusters 0, 1 under parent 10, 2, 3 under 11.
	hid := "hier-" + runID
	var nodes []lmsys.HierarchyNode
	for c := range 4 {
		nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: hid, RunID: runID, ClusterID: c, ParentClusterID: new(10 + c/2), Level: 0, Title: fmt.Sprint("leaf ", c)})
	}
	for p := 10; p <= 11; p++ {
		nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: hid, RunID: runID, ClusterID: p, Level: 1, Title: fmt.Sprint("parent ", p), ChildrenIDs: []int{2 * (p - 10), 2*(p-10) + 1}})
	}
	require.NoError(t, db.SaveHierarchy(context.Background(), nodes))
	code, m = callJSON(t, h, "GET", "/api/clustering/runs/"+runID+"/map?color=level:1", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, 1, m["levels"])
	titles := []string{}
	for _, g := range m["groups"].([]any) {
		titles = append(titles, g.(map[string]any)["title"].(string))
		assert.Contains(t, []float64{10000, 10001}, g.(map[string]any)["count"])
	}
	assert.ElementsMatch(t, []string{"parent 10", "parent 11"}, titles)

	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/clustering/runs/" + runID + "/map?color=size", http.StatusBadRequest},
		{"/api/clustering/runs/" + runID + "/map?color=level:x", http.StatusBadRequest},
		{"/api/clustering/runs/" + runID + "/map?color=level:5", http.StatusBadRequest},
		{"/api/clustering/runs/" + runID + "/map/points?page=1", http.StatusNotFound},
		{"/api/clustering/runs/" + runID + "/map/points?page=-1", http.StatusBadRequest},
		{"/api/clustering/runs/" + runID + "/map/points?page=x", http.StatusUnprocessableEntity},
		{"/api/clustering/runs/nope/map", http.StatusNotFound},
		{"/runs/nope/map", http.StatusNotFound},
	} {
		code, _ := call(t, h, "GET", tc.path, nil, "")
		assert.Equal(t, tc.code, code, tc.path)
	}
	code, b = call(t, h, "GET", "/runs/"+runID+"/map", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(b), "/static/vendor/regl-scatterplot.min.js")
	code, b = call(t, h, "GET", "/static/vendor/regl-scatterplot.min.js", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(b), "createScatterplot")
}
