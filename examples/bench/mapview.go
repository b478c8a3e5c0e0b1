package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/web"
)

func init() {
	subcommands["mapview"] = subcommand{
		summary: "the viewer's interactive map of N points in headless Chromium: load time, and the frame time of panning",
		run:     runMapView,
	}
}

// runMapView builds a store with a run of n queries in k clusters and a stored map,
// serves the viewer, opens the map in headless Chromium (WebGL on SwiftShader, the
// CPU) and pans it frame by frame, timing each redraw.
func runMapView(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("mapview", flag.ContinueOnError)
	n := fs.Int("n", 1000000, "points on the map")
	k := fs.Int("k", 200, "clusters")
	frames := fs.Int("frames", 60, "pan steps timed")
	chromium := fs.String("chromium", "/usr/bin/chromium", "the Chromium binary")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long opening the map and panning may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 10 || *k < 1 {
		return errors.New("-n must be at least 10 and -k at least 1")
	}
	if _, err := os.Stat(*chromium); err != nil {
		return fmt.Errorf("-chromium %s: %w (apt-get install -y chromium)", *chromium, err)
	}
	dir, err := os.MkdirTemp("", "lmsys-mapview-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	db, runID, err := mapViewStore(ctx, filepath.Join(dir, "map.db"), *n, *k)
	if err != nil {
		return err
	}
	defer db.Close()
	r.Row("stage", "store", "points", *n, "clusters", *k, "seconds", since(start))

	srv := httptest.NewServer(web.Handler(web.Deps{Store: db}, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(*chromium), chromedp.Flag("headless", true), chromedp.NoSandbox,
		chromedp.Flag("use-angle", "swiftshader"), chromedp.Flag("enable-unsafe-swiftshader", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		return fmt.Errorf("start chromium: %w", err)
	}
	start = time.Now()
	tctx, tcancel := context.WithTimeout(bctx, *timeout)
	defer tcancel()
	err = chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/runs/"+runID+"/map"), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[any](`document.getElementById("map").dataset.drawn === "1"`, chromedp.WithPollingTimeout(*timeout), chromedp.WithPollingInterval(time.Second))(ctx, t)
		return err
	}))
	if err != nil {
		state, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.getElementById("map-status") || document.body).textContent`))
		return fmt.Errorf("open the map: %w (the page says: %s)", err, state)
	}
	r.Row("stage", "open", "points", *n, "seconds", since(start))

	// Each step moves the camera by 1 % of the view and waits for the redraw.
	script := fmt.Sprintf(`(async function () {
		var p = window.lmsysMap.plot, times = [];
		for (var i = 0; i < %d; i++) {
			var v = Array.from(p.get("cameraView")); v[12] += 0.01 * (i %% 20 < 10 ? 1 : -1);
			var t0 = performance.now();
			await new Promise(function (done) { var u = p.subscribe("draw", function () { p.unsubscribe(u); done(); }); p.set({ cameraView: v }); });
			times.push(performance.now() - t0);
		}
		times.sort(function (a, b) { return a - b; });
		return [times[Math.floor(times.length / 2)], times[Math.floor(times.length * 0.95)], times.reduce(function (a, b) { return a + b; }, 0) / times.length];
	})()`, *frames)
	res, err := chromedp.Run(tctx, chromedp.Evaluate[[]float64](script, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("pan: %w", err)
	}
	r.Row("stage", "pan", "points", *n, "frames", *frames, "frame_ms_p50", res[0], "frame_ms_p95", res[1], "frame_ms_mean", res[2])
	for _, f := range []string{"regl-scatterplot.min.js", "uPlot.iife.min.js"} {
		if st, err := os.Stat(filepath.Join("web", "static", "vendor", f)); err == nil {
			r.Row("asset", f, "kb", float64(st.Size())/1024)
		}
	}
	return nil
}

// mapViewStore writes a run of n queries in k clusters laid out as Gaussian blobs.
func mapViewStore(ctx context.Context, path string, n, k int) (*store.DB, string, error) {
	db, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		return nil, "", err
	}
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "mapview"})
	if err != nil {
		return nil, "", err
	}
	for from := 0; from < n; from += 50000 {
		qs := make([]lmsys.Query, 0, 50000)
		for i := from; i < min(from+50000, n); i++ {
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: fmt.Sprintf("generated query %d about topic %d", i, i%k)})
		}
		if _, err := db.InsertQueries(ctx, qs); err != nil {
			return nil, "", err
		}
	}
	run := lmsys.Run{ID: lmsys.NewRunID("kmeans", k, time.Now()), Algorithm: "kmeans", NumClusters: k,
		Space: lmsys.Space{Provider: "local", Model: "lexical", Dims: 8}, Status: lmsys.RunCompleted}
	if err := db.CreateRun(ctx, run); err != nil {
		return nil, "", err
	}
	rng := rand.New(rand.NewPCG(7, 7))
	centres := make([][2]float64, k)
	for c := range centres {
		a, d := rng.Float64()*2*math.Pi, math.Sqrt(rng.Float64())*10
		centres[c] = [2]float64{d * math.Cos(a), d * math.Sin(a)}
	}
	l := store.Layout{RunID: run.ID, Seed: 7}
	var as []lmsys.Assignment
	err = db.ScanQueries(ctx, lmsys.QueryFilter{Dataset: "mapview"}, 50000, func(qs []lmsys.Query) error {
		for _, q := range qs {
			c := int(q.ID) % k
			l.QueryIDs = append(l.QueryIDs, q.ID)
			l.X = append(l.X, float32(centres[c][0]+rng.NormFloat64()*0.4))
			l.Y = append(l.Y, float32(centres[c][1]+rng.NormFloat64()*0.4))
			as = append(as, lmsys.Assignment{RunID: run.ID, QueryID: q.ID, ClusterID: c})
		}
		if len(as) >= 50000 {
			if err := db.SaveAssignments(ctx, as); err != nil {
				return err
			}
			as = as[:0]
		}
		return nil
	})
	if err == nil {
		err = db.SaveAssignments(ctx, as)
	}
	if err == nil {
		err = db.SaveLayout(ctx, l)
	}
	return db, run.ID, err
}
