package web

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/lmsys-go/lmsys/store"
)

// The interactive map's data: a JSON description of the run's stored layout (its
// groups, their names and centroids) and the points themselves as binary pages of
// typed arrays, so a browser holds a million points without parsing a huge JSON.

// MapPageSize is the number of points in one binary page of a map.
const MapPageSize = 250000

// MapGroup is one colour of the map: a cluster, a hierarchy parent, a language or
// model, or a label of a facet.
type MapGroup struct {
	Index int    `json:"index"`
	Key   string `json:"key"`
	// ClusterID is set when the map is coloured by cluster.
	ClusterID *int    `json:"cluster_id,omitempty"`
	Title     string  `json:"title,omitempty"`
	Count     int     `json:"count"`
	X         float32 `json:"x"`
	Y         float32 `json:"y"`
}

// MapInfo answers GET /api/clustering/runs/{run_id}/map.
type MapInfo struct {
	RunID     string     `json:"run_id"`
	Color     string     `json:"color"`
	NumPoints int        `json:"num_points"`
	PageSize  int        `json:"page_size"`
	Pages     int        `json:"pages"`
	Groups    []MapGroup `json:"groups"`
	// Facets lists the classified facets the map can also be coloured by.
	Facets []string `json:"facets"`
	// Levels is the number of levels of the run's newest hierarchy above the
	// clusters (0 when it has none): color=level:1 … level:Levels.
	Levels int `json:"levels"`
	// Format describes a binary page of /map/points.
	Format string `json:"format"`
}

// mapData is a run's layout with each point's group, normalised to [-1, 1].
type mapData struct {
	info   MapInfo
	ids    []int64
	xy     []float32
	groups []int32
}

func (s *server) mapData(ctx context.Context, runID, color string) (mapData, error) {
	l, err := s.deps.Store.GetLayout(ctx, runID)
	if errors.Is(err, lmsys.ErrNotFound) {
		return mapData{}, fmt.Errorf("run %s has no map yet (lmsys map %s computes one): %w", runID, runID, lmsys.ErrNotFound)
	}
	if err != nil {
		return mapData{}, err
	}
	key := map[int64]string{}
	titles := map[string]string{}
	clusterOf := map[string]int{}
	switch {
	case color == "" || color == "cluster":
		color = "cluster"
		as, err := s.deps.Store.Assignments(ctx, runID, nil)
		if err != nil {
			return mapData{}, err
		}
		for _, a := range as {
			k := strconv.Itoa(a.ClusterID)
			key[a.QueryID] = k
			clusterOf[k] = a.ClusterID
		}
		_, sums, err := s.summaries(ctx, runID, "")
		if err != nil {
			return mapData{}, err
		}
		for id, sm := range sums {
			titles[strconv.Itoa(id)] = sm.Title
		}
	case strings.HasPrefix(color, "label:"):
		vs, err := layout.FacetValues(ctx, s.deps.Store, runID, strings.TrimPrefix(color, "label:"))
		if err != nil {
			return mapData{}, err
		}
		key = vs
	case strings.HasPrefix(color, "level:"):
		level, err := strconv.Atoi(strings.TrimPrefix(color, "level:"))
		if err != nil {
			return mapData{}, fmt.Errorf("%w: color %q: the level is a number", lmsys.ErrInvalidInput, color)
		}
		hs, err := s.deps.Store.Hierarchies(ctx, runID)
		if err != nil {
			return mapData{}, err
		}
		if len(hs) == 0 {
			return mapData{}, fmt.Errorf("%w: run %s has no hierarchy to colour by (lmsys merge-clusters %s builds one)", lmsys.ErrNotFound, runID, runID)
		}
		nodes, err := s.deps.Store.Hierarchy(ctx, hs[0])
		if err != nil {
			return mapData{}, err
		}
		ancestor, names, err := layout.LevelGroups(nodes, level)
		if err != nil {
			return mapData{}, err
		}
		as, err := s.deps.Store.Assignments(ctx, runID, nil)
		if err != nil {
			return mapData{}, err
		}
		for _, a := range as {
			g, ok := ancestor[a.ClusterID]
			if !ok {
				g = -1
			}
			key[a.QueryID] = strconv.Itoa(g)
		}
		for id, n := range names {
			titles[strconv.Itoa(id)] = n
		}
	case color == "language" || color == "model":
		vs, err := layout.FacetValues(ctx, s.deps.Store, runID, color)
		if err != nil {
			return mapData{}, err
		}
		for id, v := range vs {
			if v == "" {
				v = "(unknown)"
			}
			key[id] = v
		}
	default:
		return mapData{}, fmt.Errorf("%w: color %q: use cluster, level:N, language, model or label:FACET", lmsys.ErrInvalidInput, color)
	}
	return buildMapData(runID, color, l, key, titles, clusterOf), nil
}

// buildMapData groups the layout's points by key (points without one go to a group
// "(none)"), orders groups by size, and normalises the coordinates to [-1, 1] with
// the aspect ratio kept.
func buildMapData(runID, color string, l store.Layout, key map[int64]string, titles map[string]string, clusterOf map[string]int) mapData {
	n := len(l.QueryIDs)
	counts := map[string]int{}
	sumX, sumY := map[string]float64{}, map[string]float64{}
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, id := range l.QueryIDs {
		k, ok := key[id]
		if !ok {
			k = "(none)"
		}
		counts[k]++
		x, y := float64(l.X[i]), float64(l.Y[i])
		sumX[k] += x
		sumY[k] += y
		minX, maxX, minY, maxY = math.Min(minX, x), math.Max(maxX, x), math.Min(minY, y), math.Max(maxY, y)
	}
	keys := layout.BySize(counts)
	cx, cy := (minX+maxX)/2, (minY+maxY)/2
	half := math.Max(maxX-minX, maxY-minY) / 2 * 1.05
	if half == 0 || math.IsInf(half, 0) {
		half = 1
	}
	norm := func(v, c float64) float32 { return float32((v - c) / half) }
	index := make(map[string]int32, len(keys))
	d := mapData{info: MapInfo{RunID: runID, Color: color, NumPoints: n, PageSize: MapPageSize, Pages: (n + MapPageSize - 1) / MapPageSize,
		Groups: make([]MapGroup, len(keys)), Facets: []string{},
		Format: "little-endian: n×2 float32 (x, y in [-1, 1]), then n float64 query ids, then n int32 group indexes; n is the X-Points header"}}
	for i, k := range keys {
		index[k] = int32(i)
		g := MapGroup{Index: i, Key: k, Title: titles[k], Count: counts[k],
			X: norm(sumX[k]/float64(counts[k]), cx), Y: norm(sumY[k]/float64(counts[k]), cy)}
		if c, ok := clusterOf[k]; ok {
			g.ClusterID = &c
		}
		d.info.Groups[i] = g
	}
	d.ids = l.QueryIDs
	d.xy = make([]float32, 2*n)
	d.groups = make([]int32, n)
	for i, id := range l.QueryIDs {
		k, ok := key[id]
		if !ok {
			k = "(none)"
		}
		d.xy[2*i], d.xy[2*i+1] = norm(float64(l.X[i]), cx), norm(float64(l.Y[i]), cy)
		d.groups[i] = index[k]
	}
	return d
}

func (s *server) apiMap(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	d, err := s.mapData(r.Context(), runID, r.URL.Query().Get("color"))
	if err != nil {
		return nil, err
	}
	fs, err := s.deps.Store.LabelFacets(r.Context())
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		d.info.Facets = append(d.info.Facets, f.Key)
	}
	if hs, err := s.deps.Store.Hierarchies(r.Context(), runID); err == nil && len(hs) > 0 {
		nodes, err := s.deps.Store.Hierarchy(r.Context(), hs[0])
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			d.info.Levels = max(d.info.Levels, n.Level)
		}
	}
	return d.info, nil
}

// mapPoints writes one binary page of a map's points (MapInfo.Format).
func (s *server) mapPoints(w http.ResponseWriter, r *http.Request) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := queryInt(r, "page", 0)
	if err == nil && page < 0 {
		err = fmt.Errorf("%w: page %d is negative", lmsys.ErrInvalidInput, page)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.mapData(r.Context(), runID, r.URL.Query().Get("color"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	from := page * MapPageSize
	if from > len(d.ids) || from == len(d.ids) && from > 0 {
		s.writeError(w, r, fmt.Errorf("%w: page %d of a map with %d pages", lmsys.ErrNotFound, page, d.info.Pages))
		return
	}
	to := min(from+MapPageSize, len(d.ids))
	n := to - from
	buf := make([]byte, 0, 20*n)
	for _, v := range d.xy[2*from : 2*to] {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	// The ids come before the groups so every array starts at a multiple of its
	// element size, as a typed-array view over the buffer needs, whatever n is.
	for _, id := range d.ids[from:to] {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(id)))
	}
	for _, g := range d.groups[from:to] {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(g))
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Points", strconv.Itoa(n))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(buf)
}

func (s *server) viewMap(r *http.Request) (string, any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return "", nil, err
	}
	// The page only needs to know the map exists: its points come from /map/points.
	has, err := s.deps.Store.HasLayout(r.Context(), runID)
	if err != nil {
		return "", nil, err
	}
	if !has {
		return "", nil, fmt.Errorf("run %s has no map yet (lmsys map %s computes one): %w", runID, runID, lmsys.ErrNotFound)
	}
	return "Map of " + runID, map[string]any{"RunID": runID, "Color": r.URL.Query().Get("color")}, nil
}
