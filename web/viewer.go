package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/internal/plural"
	"github.com/lmsys-go/lmsys/internal/snippet"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/lmsys-go/lmsys/search"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// views holds one parsed template per page.
type views struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"pct": func(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) },
	// bar returns the width of a size bar in percent of the largest (at least 1).
	"bar": func(n, maxN int) string {
		if maxN <= 0 {
			return "0"
		}
		return strconv.FormatFloat(max(1, 100*float64(n)/float64(maxN)), 'f', 1, 64)
	},
	// sizeClass buckets a share of the queries into five colour classes.
	"sizeClass": func(share float64) string {
		switch {
		case share >= 0.2:
			return "s5"
		case share >= 0.1:
			return "s4"
		case share >= 0.05:
			return "s3"
		case share >= 0.02:
			return "s2"
		}
		return "s1"
	},
	"snippet": snippet.Of,
	// runShare returns a label's share of the whole run, in percent.
	"runShare": func(run []LabelShare, label string) string {
		for _, l := range run {
			if l.Label == label {
				return strconv.FormatFloat(100*l.Share, 'f', 1, 64)
			}
		}
		return "0.0"
	},
	"json": func(v any) string {
		if v == nil {
			return ""
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	},
	"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"add":   func(a, b int) int { return a + b },
	"count": plural.Count,
	"deref": func(p *int) string {
		if p == nil {
			return "–"
		}
		return strconv.Itoa(*p)
	},
	// str prints an optional string ("" when null).
	"str": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	// dist prints an optional distance with three decimals ("–" when null).
	"dist": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return strconv.FormatFloat(*p, 'f', 3, 64)
	},
	"join":     strings.Join,
	"describe": describeEdit,
}

// describeEdit says in a few words what an edit did.
func describeEdit(e EditItem) string {
	nv := e.NewValue
	get := func(k string) string {
		if v, ok := nv[k]; ok && v != nil {
			switch x := v.(type) {
			case string:
				return x
			case []any:
				parts := make([]string, len(x))
				for i, p := range x {
					parts[i] = fmt.Sprint(p)
				}
				return strings.Join(parts, ", ")
			case float64:
				return strconv.FormatFloat(x, 'f', -1, 64)
			default:
				return fmt.Sprint(x)
			}
		}
		return ""
	}
	switch e.EditType {
	case curation.TypeRename:
		if t := get("title"); t != "" {
			return fmt.Sprintf("renamed to %q", t)
		}
		return "new description"
	case curation.TypeMove:
		return fmt.Sprintf("moved queries %s to cluster %s", get("query_ids"), get("cluster_id"))
	case curation.TypeMerge:
		return fmt.Sprintf("merged clusters %s into %s", get("sources"), get("target"))
	case curation.TypeSplit:
		return fmt.Sprintf("split off clusters %s", get("new_cluster_ids"))
	case curation.TypeDelete:
		if get("orphaned") == "true" {
			return fmt.Sprintf("deleted, %s queries orphaned", get("queries"))
		}
		return fmt.Sprintf("deleted, queries moved to %s", get("move_to"))
	case curation.TypeTag:
		var parts []string
		for _, k := range []string{"coherence_score", "quality", "flags", "notes"} {
			if v := get(k); v != "" {
				parts = append(parts, k+"="+v)
			}
		}
		return "tagged " + strings.Join(parts, " ")
	case curation.TypeFlag:
		return "flagged " + get("flag")
	case curation.TypeReassign:
		return fmt.Sprintf("reassigned orphans to cluster %s", get("cluster_id"))
	case curation.TypeUndo:
		return fmt.Sprintf("undid edit %s (%s)", get("undoes"), get("undone_type"))
	}
	return e.EditType
}

func mustViews() *views {
	v := &views{pages: map[string]*template.Template{}}
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == "layout.html" {
			continue
		}
		t := template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/tree.html", "templates/"+name))
		v.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return v
}

// page is what every template gets.
type page struct {
	Title    string
	Base     string
	ReadOnly bool
	NeedAuth bool
	Data     any
}

// basePath returns the prefix the handler is mounted under (what http.StripPrefix
// removed), so links work wherever the handler is mounted.
func basePath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		return ""
	}
	rest := r.URL.EscapedPath()
	if strings.HasSuffix(p, rest) {
		return strings.TrimSuffix(p[:len(p)-len(rest)], "/")
	}
	return ""
}

type viewFunc func(r *http.Request) (title string, data any, err error)

func (s *server) view(path, tmpl string, f viewFunc) {
	s.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		title, data, err := f(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, tmpl, title, data)
	})
}

func (s *server) render(w http.ResponseWriter, r *http.Request, status int, tmpl, title string, data any) {
	var buf bytes.Buffer
	p := page{Title: title, Base: basePath(r), ReadOnly: s.opts.ReadOnly, NeedAuth: s.opts.Token != "", Data: data}
	if err := s.views.pages[tmpl].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("web: render", "template", tmpl, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	script := "'self'"
	if tmpl == "map" {
		// regl, under the map's WebGL scatter plot, compiles its draw calls with new
		// Function; only that page allows it, and it still runs no inline script.
		script = "'self' 'unsafe-eval'"
	}
	h.Set("Content-Security-Policy", "default-src 'self'; script-src "+script+"; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := classify(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("web: page failed", "path", r.URL.Path, "err", err)
		msg = "internal error (logged on the server)"
	}
	s.render(w, r, status, "error", http.StatusText(status), map[string]any{"Status": status, "Code": code, "Message": msg})
}

func (s *server) registerViewer() {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	fileServer := http.StripPrefix("/static/", http.FileServerFS(static))
	s.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}))
	s.view("/{$}", "dashboard", s.viewDashboard)
	s.view("/runs/{run_id}", "run", s.viewRun)
	s.view("/clusters/{run_id}/{cluster_id}", "cluster", s.viewCluster)
	s.view("/runs/{run_id}/audit", "audit", s.viewAudit)
	s.mux.HandleFunc("GET /runs/{run_id}/map.png", s.mapPicture)
	s.view("/runs/{run_id}/orphaned", "orphaned", s.viewOrphaned)
	s.view("/runs/{run_id}/labels/{facet}", "label", s.viewLabel)
	s.view("/runs/{run_id}/map", "map", s.viewMap)
	s.view("/search", "search", s.viewSearch)
	s.view("/hierarchy/{hierarchy_run_id}", "hierarchy", s.viewHierarchy)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, fmt.Errorf("%w: no page %s", lmsys.ErrNotFound, r.URL.Path))
	})
}

// runSummary is one run on the dashboard.
type runSummary struct {
	RunItem
	Hierarchies []HierarchyRunItem
	SummaryRuns []SummaryRunItem
}

func (s *server) viewDashboard(r *http.Request) (string, any, error) {
	ctx := r.Context()
	st, err := s.deps.Store.Status(ctx)
	if err != nil {
		return "", nil, err
	}
	runs, err := s.deps.Store.ListRuns(ctx)
	if err != nil {
		return "", nil, err
	}
	out := make([]runSummary, 0, len(runs))
	for _, run := range runs {
		hs, err := s.hierarchyRuns(ctx, run.ID)
		if err != nil {
			return "", nil, err
		}
		srs, err := s.summaryRunItems(ctx, run.ID)
		if err != nil {
			return "", nil, err
		}
		out = append(out, runSummary{RunItem: runItem(run), Hierarchies: hs, SummaryRuns: srs})
	}
	return "Runs", map[string]any{"Status": st, "Runs": out}, nil
}

// summaryRunItems lists a run's summary runs, newest first.
func (s *server) summaryRunItems(ctx context.Context, runID string) ([]SummaryRunItem, error) {
	srs, err := s.deps.Store.SummaryRuns(ctx, runID)
	if err != nil {
		return nil, err
	}
	out := make([]SummaryRunItem, len(srs))
	for i, sr := range srs {
		out[i] = summaryRunItem(sr)
	}
	return out, nil
}

func (s *server) viewRun(r *http.Request) (string, any, error) {
	ctx := r.Context()
	ref, err := summaryRef(r)
	if err != nil {
		return "", nil, err
	}
	run, err := s.runDetail(ctx, r.PathValue("run_id"))
	if err != nil {
		return "", nil, err
	}
	cl, err := s.clusterPage(ctx, run.RunID, clusterOptions{ref: ref, counts: true, percentages: true, page: 1})
	if err != nil {
		return "", nil, err
	}
	maxN := 0
	for _, c := range cl.Items {
		maxN = max(maxN, c.NumQueries)
	}
	hs, err := s.hierarchyRuns(ctx, run.RunID)
	if err != nil {
		return "", nil, err
	}
	srs, err := s.summaryRunItems(ctx, run.RunID)
	if err != nil {
		return "", nil, err
	}
	hasMap, err := s.deps.Store.HasLayout(ctx, run.RunID)
	if err != nil {
		return "", nil, err
	}
	return "Run " + run.RunID, map[string]any{"Run": run, "List": cl, "Max": maxN, "Hierarchies": hs, "SummaryRuns": srs, "Ref": ref, "HasMap": hasMap}, nil
}

// mapPicture draws the run's stored map (`lmsys map RUN`) as a PNG, a colour per
// cluster, named by the latest summary run.
func (s *server) mapPicture(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	runID := r.PathValue("run_id")
	l, err := s.deps.Store.GetLayout(ctx, runID)
	if err != nil {
		if errors.Is(err, lmsys.ErrNotFound) {
			err = fmt.Errorf("run %s has no map yet (lmsys map %s computes one): %w", runID, runID, lmsys.ErrNotFound)
		}
		s.renderError(w, r, err)
		return
	}
	pts, groups, _, err := layout.ByCluster(ctx, s.deps.Store, l)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	_, sums, err := s.summaries(ctx, runID, "")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	names := make(map[int]string, len(sums))
	for id, sm := range sums {
		names[id] = sm.Title
	}
	var buf bytes.Buffer
	if err := layout.Draw(&buf, pts, groups, layout.Picture{Format: "png", Width: 1000, Height: 700, Names: names}); err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(buf.Bytes())
}

func (s *server) viewCluster(r *http.Request) (string, any, error) {
	ctx := r.Context()
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return "", nil, err
	}
	ref, err := summaryRef(r)
	if err != nil {
		return "", nil, err
	}
	p := newParams(r)
	pg, limit, cursor := pageParams(p, PageSize)
	if p.err != nil {
		return "", nil, p.err
	}
	d, err := s.clusterDetail(ctx, r.PathValue("run_id"), cid, ref, pg, limit, cursor)
	if err != nil {
		return "", nil, err
	}
	hist, err := s.cur.ClusterEdits(ctx, d.RunID, cid) // clusterDetail found the cluster
	if err != nil {
		return "", nil, err
	}
	title := fmt.Sprintf("Cluster %d", cid)
	if d.Cluster.Title != nil {
		title = *d.Cluster.Title
	}
	next := 0
	if d.Queries.Page > 0 && d.Queries.Page < d.Queries.Pages {
		next = d.Queries.Page + 1
	}
	labels, err := s.clusterLabels(ctx, d.RunID, cid)
	if err != nil {
		return "", nil, err
	}
	return title, map[string]any{"D": d, "History": editItems(hist), "Prev": pg - 1, "Next": next, "Ref": ref, "Labels": labels}, nil
}

func (s *server) viewAudit(r *http.Request) (string, any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return "", nil, err
	}
	f, err := auditFilter(newParams(r))
	if err != nil {
		return "", nil, err
	}
	es, err := s.cur.Audit(r.Context(), runID, f)
	if err != nil {
		return "", nil, err
	}
	return "Audit log of " + runID, map[string]any{"RunID": runID, "Edits": editItems(es), "Types": curation.EditTypes, "Filter": f}, nil
}

func (s *server) viewOrphaned(r *http.Request) (string, any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return "", nil, err
	}
	os, err := s.orphans(r.Context(), runID)
	if err != nil {
		return "", nil, err
	}
	return "Orphaned queries of " + runID, map[string]any{"RunID": runID, "Orphans": os}, nil
}

func (s *server) viewSearch(r *http.Request) (string, any, error) {
	ctx := r.Context()
	runs, err := s.deps.Store.ListRuns(ctx)
	if err != nil {
		return "", nil, err
	}
	q := r.URL.Query()
	data := map[string]any{"Runs": runs, "Text": q.Get("text"), "RunID": q.Get("run_id"), "Mode": q.Get("mode"), "Label": q.Get("label"),
		"Modes": []string{search.ModeSemantic, search.ModeFullText, search.ModeHybrid}}
	if data["Mode"] == "" {
		data["Mode"] = search.ModeFullText
		if q.Get("run_id") != "" {
			data["Mode"] = search.ModeHybrid
		}
	}
	if strings.TrimSpace(q.Get("text")) == "" {
		return "Search", data, nil
	}
	// Reuse the API's validation and defaults.
	r2 := r.Clone(ctx)
	vals := r2.URL.Query()
	vals.Set("mode", data["Mode"].(string))
	if vals.Get("run_id") != "" {
		vals.Set("facets", "cluster")
	}
	r2.URL.RawQuery = vals.Encode()
	sr, err := parseSearch(r2)
	var res SearchPage
	if err == nil {
		res, err = s.searchPage(ctx, sr)
	}
	if err != nil {
		if status, _ := classify(err); status == http.StatusBadRequest || status == http.StatusUnprocessableEntity || status == http.StatusServiceUnavailable || status == http.StatusNotFound {
			data["Error"] = err.Error()
			return "Search", data, nil
		}
		return "", nil, err
	}
	data["Results"] = res
	if runID := q.Get("run_id"); runID != "" && s.deps.Search != nil && data["Mode"] != search.ModeFullText {
		if cr, err := s.deps.Search.SearchClusters(ctx, q.Get("text"), search.ClusterSearchOptions{RunID: runID, TopK: 5}); err == nil {
			data["Clusters"] = cr
		}
	}
	return "Search: " + q.Get("text"), data, nil
}

func (s *server) viewHierarchy(r *http.Request) (string, any, error) {
	d, err := s.hierarchyDetail(r.Context(), r.PathValue("hierarchy_run_id"), true)
	if err != nil {
		return "", nil, err
	}
	return "Hierarchy " + d.HierarchyRunID, d, nil
}
