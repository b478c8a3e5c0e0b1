package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/snippet"
	"github.com/lmsys-go/lmsys/internal/vec"
	"github.com/lmsys-go/lmsys/store"
)

// Search modes.
const (
	ModeSemantic = "semantic"
	ModeFullText = "fulltext"
	ModeHybrid   = "hybrid"
)

// rrfK is the constant of reciprocal-rank fusion: a hit ranked r in a list scores 1/(rrfK+r).
const rrfK = 60

// QuerySearchOptions configures SearchQueries.
type QuerySearchOptions struct {
	// RunID names the run; its space picks the collection and its query_clusters the
	// membership. Only full-text search works without one.
	RunID string
	// NResults is the number of queries returned (50).
	NResults int
	// WithinClusters first finds the TopClusters clusters whose summaries are
	// nearest this text, then searches queries inside them.
	WithinClusters string
	// TopClusters is the number of clusters WithinClusters keeps (5).
	TopClusters int
	// ClusterIDs restricts the search to these clusters (with WithinClusters: the
	// nearest clusters among these).
	ClusterIDs []int
	// Facets names the counts computed over the results: "cluster", "language", "model".
	Facets []string
	// By "cluster" groups the results by cluster: it adds the cluster facet.
	By string
	// Mode is ModeSemantic (default), ModeFullText or ModeHybrid.
	Mode string
	// SummaryRef names the summary run (id or alias) whose titles and vectors are
	// used for clusters; empty means the latest.
	SummaryRef string
	// Label, "facet=value" (refusal=refused), keeps the hits a classifier gave that
	// label. The search ranks LabelDepth times NResults candidates (at least 200,
	// at most 5000) and keeps the labelled ones, so a rare label can return fewer
	// than NResults hits.
	Label string
}

// LabelDepth is how many candidates per result a label-filtered search ranks.
const LabelDepth = 10

// QueryResults is the answer of SearchQueries, in the seed tool's JSON shape.
type QueryResults struct {
	Text            string           `json:"text"`
	RunID           string           `json:"run_id"`
	AppliedClusters []AppliedCluster `json:"applied_clusters"`
	Results         []QueryHit       `json:"results"`
	Facets          Facets           `json:"facets"`
	// Queries holds the results' whole queries by id, as the search read them, for
	// callers that answer with more of each query than a hit carries.
	Queries map[int64]lmsys.Query `json:"-"`
}

// AppliedCluster is a cluster the search was restricted to. Distance is that of its
// summary to the WithinClusters text (or, for ClusterIDs alone, to the search text);
// null when the cluster has no indexed summary or the search is full-text only.
type AppliedCluster struct {
	ClusterID   int      `json:"cluster_id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NumQueries  int      `json:"num_queries"`
	Distance    *float32 `json:"distance"`
}

// QueryHit is one query found. ClusterID is its cluster in the run (null without a run).
type QueryHit struct {
	QueryID   int64   `json:"query_id"`
	Distance  float32 `json:"distance"`
	Snippet   string  `json:"snippet"`
	Model     string  `json:"model"`
	Language  string  `json:"language"`
	ClusterID *int    `json:"cluster_id"`
}

// Facets counts the results. A facet that was not asked for is nil and left out of
// the JSON; one asked for is a list, empty when there are no results.
type Facets struct {
	Clusters []ClusterFacet `json:"clusters"`
	Language []lmsys.Count  `json:"language"`
	Model    []lmsys.Count  `json:"model"`
}

// MarshalJSON writes the facets that were asked for.
func (f Facets) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	add := func(key string, v any, present bool) error {
		if !present {
			return nil
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", key)
		j, err := json.Marshal(v)
		b.Write(j)
		return err
	}
	if err := add("clusters", f.Clusters, f.Clusters != nil); err != nil {
		return nil, err
	}
	if err := add("language", f.Language, f.Language != nil); err != nil {
		return nil, err
	}
	if err := add("model", f.Model, f.Model != nil); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ClusterFacet counts the results in one cluster.
type ClusterFacet struct {
	ClusterID int       `json:"cluster_id"`
	Count     int64     `json:"count"`
	Meta      FacetMeta `json:"meta"`
}

// FacetMeta describes a cluster in a facet.
type FacetMeta struct {
	Title string `json:"title"`
}

// scoredID is one candidate query: a cosine distance (semantic) or a score (full text).
type scoredID struct {
	id    int64
	value float64
}

// SearchQueries finds the queries nearest text (or matching it, in full-text mode),
// restricted to the run, to clusters found by WithinClusters or named by ClusterIDs,
// with facets over the results.
//
// It is a pipeline of named steps over one querySearch: resolve the run, the query
// vector and the clusters searched (resolve), rank candidate queries (candidates),
// learn each candidate's cluster in the run (clusters), load the queries and their
// distances (hydrate), then count the facets (facets). Each step makes at most one
// store round-trip of its own, and none when an earlier step already learnt what it
// needs (the clusters of candidates the semantic search had to look up, the titles of
// clusters named by ClusterIDs).
func (s *Service) SearchQueries(ctx context.Context, text string, o QuerySearchOptions) (QueryResults, error) {
	text, err := checkText(text)
	if err != nil {
		return QueryResults{}, err
	}
	o, facets, err := checkQueryOptions(o)
	if err != nil {
		return QueryResults{}, err
	}
	p := &querySearch{s: s, text: text, o: o, facets: facets,
		res: QueryResults{Text: text, RunID: o.RunID, AppliedClusters: []AppliedCluster{}, Results: []QueryHit{}}}
	for _, step := range []func(context.Context) error{p.resolve, p.candidates, p.clusters, p.hydrate, p.facetCounts} {
		if err := step(ctx); err != nil {
			return p.res, err
		}
	}
	return p.res, nil
}

// querySearch is the state one SearchQueries call passes from step to step.
type querySearch struct {
	s      *Service
	text   string
	o      QuerySearchOptions
	facets map[string]bool
	res    QueryResults

	run      lmsys.Run
	q        []float32             // the text's vector (nil in full-text mode)
	titles   map[int]lmsys.Summary // cluster summaries learnt so far
	restrict []int                 // clusters searched; nil: the whole run
	ranked   []scoredID            // candidates, best first
	member   map[int64]int         // cluster of each candidate in the run, where known
	semDist  map[int64]float64     // hybrid: the semantic list's distances
	byID     map[int64]lmsys.Query // hydrated queries
}

// resolve loads the run and makes sure its index is fresh, embeds the text, and
// settles the clusters the search is restricted to (AppliedClusters).
func (p *querySearch) resolve(ctx context.Context) error {
	s, o := p.s, p.o
	var err error
	if o.RunID != "" {
		if p.run, err = s.runSpace(ctx, o.RunID); err != nil {
			return err
		}
	}
	if o.Mode != ModeFullText || o.WithinClusters != "" {
		if err := s.ensureFresh(ctx, p.run); err != nil {
			return err
		}
	}
	if o.Mode != ModeFullText {
		if p.q, err = s.embedText(ctx, p.run.Space, p.text); err != nil {
			return err
		}
	}
	switch {
	case o.WithinClusters != "":
		return p.withinClusters(ctx)
	case o.ClusterIDs != nil:
		return p.namedClusters(ctx)
	}
	return nil
}

// withinClusters restricts the search to the TopClusters clusters whose summaries are
// nearest the WithinClusters text.
func (p *querySearch) withinClusters(ctx context.Context) error {
	s, o := p.s, p.o
	wt, err := checkText(o.WithinClusters)
	if err != nil {
		return fmt.Errorf("within-clusters: %w", err)
	}
	wq, err := s.embedText(ctx, p.run.Space, wt)
	if err != nil {
		return err
	}
	hits, err := s.searchClusters(ctx, p.run, wq, ClusterSearchOptions{TopK: o.TopClusters, SummaryRef: o.SummaryRef, ClusterIDs: o.ClusterIDs})
	if err != nil {
		return err
	}
	p.restrict = []int{}
	for _, h := range hits {
		d := h.Distance
		p.res.AppliedClusters = append(p.res.AppliedClusters, AppliedCluster{ClusterID: h.ClusterID, Title: h.Title,
			Description: h.Description, NumQueries: h.NumQueries, Distance: &d})
		p.restrict = append(p.restrict, h.ClusterID)
	}
	return nil
}

// namedClusters restricts the search to ClusterIDs, each of which must exist in the
// run; their distances to the text come from their summaries' vectors when the latest
// summaries are indexed.
func (p *querySearch) namedClusters(ctx context.Context) error {
	s, o, run := p.s, p.o, p.run
	var err error
	if p.titles, err = s.clusterLabels(ctx, run.ID, o.SummaryRef, o.ClusterIDs); err != nil {
		return err
	}
	sizes, err := s.db.SizesOf(ctx, run.ID, o.ClusterIDs)
	if err != nil {
		return err
	}
	dist := map[int]float32{}
	if p.q != nil && len(p.titles) > 0 && o.SummaryRef == "" {
		hits, err := s.searchClusters(ctx, run, p.q, ClusterSearchOptions{TopK: len(o.ClusterIDs), SummaryRef: o.SummaryRef, ClusterIDs: o.ClusterIDs})
		if err != nil {
			return err
		}
		for _, h := range hits {
			dist[h.ClusterID] = h.Distance
		}
	}
	for _, c := range o.ClusterIDs {
		sm, has := p.titles[c]
		if _, ok := sizes[c]; !ok && !has {
			return fmt.Errorf("cluster %d of run %q: %w", c, run.ID, lmsys.ErrNotFound)
		}
		ac := AppliedCluster{ClusterID: c, Title: sm.Title, Description: sm.Description, NumQueries: sizes[c]}
		if d, ok := dist[c]; ok {
			ac.Distance = &d
		}
		p.res.AppliedClusters = append(p.res.AppliedClusters, ac)
	}
	p.restrict = slices.Clone(o.ClusterIDs)
	return nil
}

// candidates ranks up to NResults queries, best first: by cosine distance
// (semantic), by full-text score turned into a distance-like value in [0, 1]
// (full text), or by reciprocal-rank fusion of both (hybrid).
func (p *querySearch) candidates(ctx context.Context) error {
	s, o := p.s, p.o
	if p.restrict != nil && len(p.restrict) == 0 {
		return nil
	}
	var err error
	if o.Label != "" {
		o.NResults = min(max(LabelDepth*o.NResults, 200), 5000)
	}
	switch o.Mode {
	case ModeSemantic:
		p.ranked, p.member, err = s.semanticHits(ctx, p.run, p.q, o.NResults, p.restrict)
	case ModeFullText:
		if p.ranked, p.member, err = s.textHits(ctx, p.text, o.RunID, o.NResults, p.restrict); err != nil {
			return err
		}
		best := 0.0
		if len(p.ranked) > 0 {
			best = p.ranked[0].value
		}
		for i := range p.ranked {
			if best > 0 {
				p.ranked[i].value = 1 - p.ranked[i].value/best
			} else {
				p.ranked[i].value = 0
			}
		}
	case ModeHybrid:
		depth := max(2*o.NResults, 50)
		sem, member, err := s.semanticHits(ctx, p.run, p.q, depth, p.restrict)
		if err != nil {
			return err
		}
		txt, _, err := s.textHits(ctx, p.text, o.RunID, depth, p.restrict)
		if err != nil {
			return err
		}
		p.semDist = make(map[int64]float64, len(sem))
		for _, h := range sem {
			p.semDist[h.id] = h.value
		}
		p.member = member
		p.ranked = fuse(o.NResults, sem, txt)
	}
	if err != nil {
		return err
	}
	if o.Label != "" {
		if err := p.keepLabelled(ctx); err != nil {
			return err
		}
	}
	p.ranked = p.ranked[:min(len(p.ranked), p.o.NResults)]
	return nil
}

// keepLabelled keeps the candidates that carry the label the search is filtered by
// (for a list facet, a list holding that item: lmsys.LabelMatches), reading the
// labels of the candidates alone.
func (p *querySearch) keepLabelled(ctx context.Context) error {
	facet, value, err := lmsys.ParseLabel(p.o.Label)
	if err != nil {
		return err
	}
	ids := make([]int64, len(p.ranked))
	for i, h := range p.ranked {
		ids[i] = h.id
	}
	list, err := p.s.db.IsListFacet(ctx, facet)
	if err != nil {
		return err
	}
	allowed := map[int64]bool{}
	for start := 0; start < len(ids); start += 900 {
		ls, err := p.s.db.Labels(ctx, lmsys.LabelFilter{Facet: facet, QueryIDs: ids[start:min(start+900, len(ids))]})
		if err != nil {
			return err
		}
		for _, l := range ls {
			if lmsys.LabelMatches(l.Value, value, list) {
				allowed[l.QueryID] = true
			}
		}
	}
	kept := p.ranked[:0]
	for _, h := range p.ranked {
		if allowed[h.id] {
			kept = append(kept, h)
		}
	}
	p.ranked = kept
	return nil
}

// clusters learns the cluster in the run of each candidate the candidates step did
// not place: one query for all of them (none in a server, which holds the run's
// members in memory), none when every candidate is placed.
func (p *querySearch) clusters(ctx context.Context) error {
	if p.o.RunID == "" {
		return nil
	}
	var unknown []int64
	for _, h := range p.ranked {
		if _, ok := p.member[h.id]; !ok {
			unknown = append(unknown, h.id)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	var found map[int64]int
	if p.s.opts.TextIndex || p.s.opts.Background {
		// A server: the run's members are held in memory (runMembers) across searches.
		m, err := p.s.runMembers(ctx, p.run.ID)
		if err != nil {
			return err
		}
		found = make(map[int64]int, len(unknown))
		for _, id := range unknown {
			if c, ok := m.clusterOf(id); ok {
				found[id] = c
			}
		}
	} else {
		var err error
		if found, err = clusterOf(ctx, p.s.db, p.run.ID, unknown); err != nil {
			return err
		}
	}
	if p.member == nil {
		p.member = found
		return nil
	}
	for id, c := range found {
		p.member[id] = c
	}
	return nil
}

// hydrate loads the candidate queries in one store read, turns hybrid scores into
// cosine distances and builds the results; a candidate the store no longer has is
// dropped.
func (p *querySearch) hydrate(ctx context.Context) error {
	ids := make([]int64, len(p.ranked))
	for i, h := range p.ranked {
		ids[i] = h.id
	}
	var qs []lmsys.Query
	if len(ids) > 0 {
		var err error
		if qs, err = p.s.db.ListQueries(ctx, lmsys.QueryFilter{IDs: ids}); err != nil {
			return err
		}
	}
	p.byID = make(map[int64]lmsys.Query, len(qs))
	for _, qq := range qs {
		p.byID[qq.ID] = qq
	}
	if p.o.Mode == ModeHybrid {
		if err := p.s.hybridDistances(ctx, p.run.Space, p.q, p.ranked, p.semDist, p.byID); err != nil {
			return err
		}
	}
	for _, h := range p.ranked {
		qq, ok := p.byID[h.id]
		if !ok {
			continue
		}
		hit := QueryHit{QueryID: h.id, Distance: float32(h.value), Snippet: snippet.Of(qq.Text, 200), Model: qq.Model, Language: qq.Language}
		if c, ok := p.member[h.id]; ok {
			hit.ClusterID = &c
		}
		p.res.Results = append(p.res.Results, hit)
	}
	p.res.Queries = p.byID
	return nil
}

// facetCounts counts the results by the facets asked for; the cluster facet's titles
// are read only for clusters whose summaries an earlier step has not loaded.
func (p *querySearch) facetCounts(ctx context.Context) error {
	if p.facets["cluster"] {
		var missing []int
		for _, h := range p.res.Results {
			if h.ClusterID == nil {
				continue
			}
			if _, ok := p.titles[*h.ClusterID]; !ok {
				missing = append(missing, *h.ClusterID)
			}
		}
		if len(missing) > 0 {
			more, err := p.s.clusterLabels(ctx, p.run.ID, p.o.SummaryRef, missing)
			if err != nil {
				return err
			}
			if p.titles == nil {
				p.titles = more
			} else {
				maps.Copy(p.titles, more)
			}
		}
	}
	p.res.Facets = facetsOf(p.res.Results, p.facets, p.titles)
	return nil
}

// clusterLabels returns the summaries (title, description, size) of some clusters of a
// run from its summary run ref (latest when empty; none when the run has no summaries).
func (s *Service) clusterLabels(ctx context.Context, runID, ref string, clusters []int) (map[int]lmsys.Summary, error) {
	out := map[int]lmsys.Summary{}
	if len(clusters) == 0 {
		return out, nil
	}
	sr, err := s.db.ResolveSummaryRun(ctx, runID, ref)
	if errors.Is(err, lmsys.ErrNotFound) && ref == "" {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	cs := slices.Clone(clusters)
	slices.Sort(cs)
	cs = slices.Compact(cs)
	rows, err := s.db.Gorm().WithContext(ctx).Raw(`SELECT cluster_id, COALESCE(title, ''), COALESCE(description, ''), COALESCE(num_queries, 0)
		FROM cluster_summaries WHERE run_id = ? AND summary_run_id = ? AND cluster_id IN ?`, runID, sr, cs).Rows()
	if err != nil {
		return nil, fmt.Errorf("search: cluster titles of %s: %w", runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sm lmsys.Summary
		if err := rows.Scan(&sm.ClusterID, &sm.Title, &sm.Description, &sm.NumQueries); err != nil {
			return nil, err
		}
		sm.RunID, sm.SummaryRunID = runID, sr
		out[sm.ClusterID] = sm
	}
	return out, rows.Err()
}

// checkQueryOptions fills defaults and rejects bad options; it returns the facets asked for.
func checkQueryOptions(o QuerySearchOptions) (QuerySearchOptions, map[string]bool, error) {
	o.Mode = strings.ToLower(strings.TrimSpace(o.Mode))
	switch o.Mode {
	case "":
		o.Mode = ModeSemantic
	case ModeSemantic, ModeFullText, ModeHybrid:
	default:
		return o, nil, fmt.Errorf("%w: search mode %q is not semantic, fulltext or hybrid", lmsys.ErrInvalidInput, o.Mode)
	}
	if o.NResults < 0 || o.TopClusters < 0 {
		return o, nil, fmt.Errorf("%w: n-results and top-clusters must be positive", lmsys.ErrInvalidInput)
	}
	if o.NResults == 0 {
		o.NResults = 50
	}
	if o.Label != "" {
		if _, _, err := lmsys.ParseLabel(o.Label); err != nil {
			return o, nil, err
		}
	}
	if o.TopClusters == 0 {
		o.TopClusters = 5
	}
	facets := map[string]bool{}
	for _, f := range o.Facets {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "cluster", "clusters":
			facets["cluster"] = true
		case "language", "languages":
			facets["language"] = true
		case "model", "models":
			facets["model"] = true
		case "":
		default:
			return o, nil, fmt.Errorf("%w: facet %q is not cluster, language or model", lmsys.ErrInvalidInput, f)
		}
	}
	switch strings.ToLower(strings.TrimSpace(o.By)) {
	case "":
	case "cluster", "clusters":
		facets["cluster"] = true
		o.By = "cluster"
	default:
		return o, nil, fmt.Errorf("%w: --by %q is not cluster", lmsys.ErrInvalidInput, o.By)
	}
	if o.ClusterIDs != nil {
		seen := map[int]bool{}
		var ids []int
		for _, c := range o.ClusterIDs {
			if !seen[c] {
				seen[c] = true
				ids = append(ids, c)
			}
		}
		o.ClusterIDs = ids
		if len(ids) == 0 {
			o.ClusterIDs = nil
		}
	}
	if o.RunID == "" {
		switch {
		case o.Mode != ModeFullText:
			return o, nil, fmt.Errorf("%w: %s search needs a run id (the run names the embedding space); full-text search works without one", lmsys.ErrInvalidInput, o.Mode)
		case o.WithinClusters != "" || o.ClusterIDs != nil || facets["cluster"]:
			return o, nil, fmt.Errorf("%w: clusters (within-clusters, cluster ids, the cluster facet, by cluster) need a run id", lmsys.ErrInvalidInput)
		}
	}
	return o, facets, nil
}

// clusterOf returns the cluster of each of ids in the run (ids not in the run are absent).
func clusterOf(ctx context.Context, db *store.DB, runID string, ids []int64) (map[int64]int, error) {
	out := make(map[int64]int, len(ids))
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		rows, err := db.Gorm().WithContext(ctx).Raw(`SELECT query_id, cluster_id FROM query_clusters WHERE run_id = ? AND query_id IN ?`, runID, part).Rows()
		if err != nil {
			return nil, fmt.Errorf("search: clusters of queries in %s: %w", runID, err)
		}
		for rows.Next() {
			var q int64
			var c int
			if err := rows.Scan(&q, &c); err != nil {
				rows.Close()
				return nil, err
			}
			out[q] = c
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("search: clusters of queries in %s: %w", runID, err)
		}
	}
	return out, nil
}

// members returns the item ids of the queries in the run's clusters (all clusters when nil).
func members(ctx context.Context, db *store.DB, runID string, clusters []int) ([]string, error) {
	stmt := `SELECT query_id FROM query_clusters WHERE run_id = ?`
	args := []any{runID}
	if clusters != nil {
		stmt += ` AND cluster_id IN ?`
		args = append(args, clusters)
	}
	rows, err := db.Gorm().WithContext(ctx).Raw(stmt, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("search: members of %s: %w", runID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, queryItemID(id))
	}
	return out, rows.Err()
}

// semanticHits returns up to n queries of the run nearest q (in the restricted
// clusters when restrict is not nil), with cosine distances. When it had to learn the
// clusters of the hits to keep the run's members (a run holding most of the space),
// it returns them too; otherwise the map is nil.
func (s *Service) semanticHits(ctx context.Context, run lmsys.Run, q []float32, n int, restrict []int) ([]scoredID, map[int64]int, error) {
	coll := run.Space.Collection(KindQueries)
	total, err := s.index.Count(ctx, coll)
	if isNotFound(err) || total == 0 {
		return []scoredID{}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	search := func(k int, f lmsys.Filter) ([]lmsys.Hit, error) {
		hs, err := s.index.Search(ctx, coll, q, k, f)
		if err != nil {
			return nil, fmt.Errorf("search: queries of %s: %w", run.ID, err)
		}
		return hs, nil
	}
	toScored := func(hs []lmsys.Hit, keep map[int64]int) []scoredID {
		out := make([]scoredID, 0, len(hs))
		for _, h := range hs {
			id, ok := parseQueryItemID(h.ID)
			if !ok {
				continue
			}
			if keep != nil {
				if _, in := keep[id]; !in {
					continue
				}
			}
			out = append(out, scoredID{id, float64(h.Distance)})
			if len(out) == n {
				break
			}
		}
		return out
	}
	if restrict != nil {
		ids, err := members(ctx, s.db, run.ID, restrict)
		if err != nil || len(ids) == 0 {
			return []scoredID{}, nil, err
		}
		hs, err := search(min(n, len(ids)), lmsys.Filter{IDs: ids})
		if err != nil {
			return nil, nil, err
		}
		return toScored(hs, nil), nil, nil
	}
	inRun, err := s.runSize(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	if inRun == 0 {
		return []scoredID{}, nil, nil
	}
	if 2*inRun < total {
		// The run holds a small part of the space: name its members.
		ids, err := members(ctx, s.db, run.ID, nil)
		if err != nil {
			return nil, nil, err
		}
		hs, err := search(min(n, len(ids)), lmsys.Filter{IDs: ids})
		if err != nil {
			return nil, nil, err
		}
		return toScored(hs, nil), nil, nil
	}
	// The run holds most of the space: search a little deeper than n and keep members.
	k := min(total, n*total/inRun+n/4+10)
	for {
		hs, err := search(k, lmsys.Filter{})
		if err != nil {
			return nil, nil, err
		}
		ids := make([]int64, 0, len(hs))
		for _, h := range hs {
			if id, ok := parseQueryItemID(h.ID); ok {
				ids = append(ids, id)
			}
		}
		in, err := clusterOf(ctx, s.db, run.ID, ids)
		if err != nil {
			return nil, nil, err
		}
		out := toScored(hs, in)
		if len(out) >= n || k >= total {
			return out, in, nil
		}
		k = min(total, 4*k)
	}
}

// textHits returns up to n queries matching text (of the run when runID is set, of the
// restricted clusters when restrict is not nil), best first, with their scores.
//
// The in-memory text index (Options.TextIndex) answers whole-run searches; it also
// returns the cluster of each hit in the run, which it had to look up anyway.
func (s *Service) textHits(ctx context.Context, text, runID string, n int, restrict []int) ([]scoredID, map[int64]int, error) {
	var hits []store.TextHit
	if restrict == nil && s.opts.TextIndex {
		ix, err := s.readyText(ctx)
		if err != nil {
			return nil, nil, err
		}
		if ix != nil {
			out, member, ok, err := s.indexTextHits(ctx, ix, text, runID, n)
			if err != nil || ok {
				return out, member, err
			}
		}
	}
	if restrict == nil {
		hs, err := s.db.SearchText(ctx, text, lmsys.QueryFilter{RunID: runID}, n)
		if err != nil {
			return nil, nil, err
		}
		hits = hs
	} else {
		// Scores are comparable across clusters (one index, one ranking function).
		for _, c := range restrict {
			hs, err := s.db.SearchText(ctx, text, lmsys.QueryFilter{RunID: runID, ClusterID: &c}, n)
			if err != nil {
				return nil, nil, err
			}
			hits = append(hits, hs...)
		}
		sort.SliceStable(hits, func(i, j int) bool {
			if hits[i].Score != hits[j].Score {
				return hits[i].Score > hits[j].Score
			}
			return hits[i].QueryID < hits[j].QueryID
		})
		hits = hits[:min(n, len(hits))]
	}
	out := make([]scoredID, len(hits))
	for i, h := range hits {
		out[i] = scoredID{h.QueryID, h.Score}
	}
	return out, nil, nil
}

// fuse merges ranked lists by reciprocal-rank fusion and returns the best n, the
// fused score in value (higher is better).
func fuse(n int, lists ...[]scoredID) []scoredID {
	score := map[int64]float64{}
	var order []int64
	for _, l := range lists {
		for r, h := range l {
			if _, ok := score[h.id]; !ok {
				order = append(order, h.id)
			}
			score[h.id] += 1 / float64(rrfK+r+1)
		}
	}
	out := make([]scoredID, len(order))
	for i, id := range order {
		out[i] = scoredID{id, score[id]}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].value != out[j].value {
			return out[i].value > out[j].value
		}
		return out[i].id < out[j].id
	})
	return out[:min(n, len(out))]
}

// hybridDistances replaces the fused scores of ranked by cosine distances: the
// semantic list's where it has one, else computed from the query's stored vector
// (1 when it has none in space).
func (s *Service) hybridDistances(ctx context.Context, space lmsys.Space, q []float32, ranked []scoredID, sem map[int64]float64, byID map[int64]lmsys.Query) error {
	var hashes []string
	for _, h := range ranked {
		if _, ok := sem[h.id]; !ok {
			if qq, ok := byID[h.id]; ok {
				hashes = append(hashes, lmsys.TextHash(qq.Text))
			}
		}
	}
	var vecs map[string][]float32
	if len(hashes) > 0 {
		var err error
		if vecs, err = s.db.GetEmbeddings(ctx, space, hashes); err != nil {
			return err
		}
	}
	for i, h := range ranked {
		if d, ok := sem[h.id]; ok {
			ranked[i].value = d
			continue
		}
		ranked[i].value = 1
		if qq, ok := byID[h.id]; ok {
			if v, ok := vecs[lmsys.TextHash(qq.Text)]; ok {
				ranked[i].value = vec.CosineDistance(q, v)
			}
		}
	}
	return nil
}

// facetsOf counts the results by the facets asked for.
func facetsOf(hits []QueryHit, want map[string]bool, titles map[int]lmsys.Summary) Facets {
	var f Facets
	if want["cluster"] {
		counts := map[int]int64{}
		for _, h := range hits {
			if h.ClusterID != nil {
				counts[*h.ClusterID]++
			}
		}
		f.Clusters = make([]ClusterFacet, 0, len(counts))
		for c, n := range counts {
			f.Clusters = append(f.Clusters, ClusterFacet{ClusterID: c, Count: n, Meta: FacetMeta{Title: titles[c].Title}})
		}
		sort.Slice(f.Clusters, func(i, j int) bool {
			if f.Clusters[i].Count != f.Clusters[j].Count {
				return f.Clusters[i].Count > f.Clusters[j].Count
			}
			return f.Clusters[i].ClusterID < f.Clusters[j].ClusterID
		})
	}
	count := func(key func(QueryHit) string) []lmsys.Count {
		m := map[string]int64{}
		for _, h := range hits {
			k := key(h)
			if k == "" {
				k = "(unknown)"
			}
			m[k]++
		}
		out := make([]lmsys.Count, 0, len(m))
		for k, n := range m {
			out = append(out, lmsys.Count{Key: k, Count: n})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Count != out[j].Count {
				return out[i].Count > out[j].Count
			}
			return out[i].Key < out[j].Key
		})
		return out
	}
	if want["language"] {
		f.Language = count(func(h QueryHit) string { return h.Language })
	}
	if want["model"] {
		f.Model = count(func(h QueryHit) string { return h.Model })
	}
	return f
}

// runSize returns the number of queries assigned in a run, counted once per Service: it
// only chooses how semanticHits searches (a stale count costs time, never results).
func (s *Service) runSize(ctx context.Context, runID string) (int, error) {
	s.mu.Lock()
	n, ok := s.sizes[runID]
	s.mu.Unlock()
	if ok {
		return n, nil
	}
	if err := s.db.Gorm().WithContext(ctx).Raw(`SELECT COUNT(*) FROM query_clusters WHERE run_id = ?`, runID).Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("search: size of %s: %w", runID, err)
	}
	s.mu.Lock()
	s.sizes[runID] = n
	s.mu.Unlock()
	return n, nil
}
