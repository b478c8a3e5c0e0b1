package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/snippet"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/store"
)

// The search endpoints: query and cluster search with facets, the index information,
// and the verification and sync of a run's vector index.

var errNoSearch = &httpError{http.StatusServiceUnavailable, "unavailable", "search is not configured on this server (no vector index)"}

func (s *server) apiSearchInfo(r *http.Request) (any, error) {
	if s.deps.Search == nil {
		return nil, errNoSearch
	}
	cols, err := s.deps.Search.Info(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"collections": cols}, nil
}

func (s *server) apiVerify(r *http.Request) (any, error) {
	if s.deps.Search == nil {
		return nil, errNoSearch
	}
	if _, err := s.deps.Store.GetRun(r.Context(), r.PathValue("run_id")); err != nil {
		return nil, err
	}
	return s.deps.Search.Verify(r.Context(), r.PathValue("run_id"), false)
}

func (s *server) apiSync(r *http.Request) (any, error) {
	if s.deps.Search == nil {
		return nil, errNoSearch
	}
	if err := decode(r, &struct{}{}); err != nil {
		return nil, err
	}
	if _, err := s.deps.Store.GetRun(r.Context(), r.PathValue("run_id")); err != nil {
		return nil, err
	}
	return s.deps.Search.Verify(r.Context(), r.PathValue("run_id"), true)
}

// SearchHit is one query found (the Python tool's QuerySearchResult): the query, its
// cluster in the run searched, and its distance (semantic: cosine distance;
// full-text: 0 for the best match rising to 1; hybrid: cosine distance). QueryID,
// Snippet, Model, Language and ClusterID are ours.
type SearchHit struct {
	Query     QueryItem     `json:"query"`
	Clusters  []ClusterInfo `json:"clusters"`
	Distance  *float64      `json:"distance"`
	QueryID   int64         `json:"query_id"`
	Snippet   string        `json:"snippet"`
	Model     string        `json:"model"`
	Language  string        `json:"language"`
	ClusterID *int          `json:"cluster_id"`
}

// FacetBucket is one value of a facet (the Python tool's FacetBucket): its key (a
// cluster id or a value), the results holding it and their share in percent.
type FacetBucket struct {
	Key        any            `json:"key"`
	Count      int64          `json:"count"`
	Percentage *float64       `json:"percentage"`
	Meta       map[string]any `json:"meta"`
	ClusterID  *int           `json:"cluster_id,omitempty"`
}

// SearchFacets are the facets asked for (null when not).
type SearchFacets struct {
	Clusters []FacetBucket `json:"clusters"`
	Language []FacetBucket `json:"language"`
	Model    []FacetBucket `json:"model"`
}

// SearchPage is a page of queries found (the Python tool's SearchQueriesResponse),
// plus the text and run searched. Full-text searches count every match in Total;
// semantic and hybrid searches count the hits ranked (at most page·limit).
type SearchPage struct {
	ListPage[SearchHit]
	Facets          *SearchFacets `json:"facets"`
	AppliedClusters []ClusterHit  `json:"applied_clusters"`
	Text            string        `json:"text"`
	RunID           string        `json:"run_id"`
	Mode            string        `json:"mode"`
}

// searchRequest is a parsed query search.
type searchRequest struct {
	text        string
	opts        search.QuerySearchOptions
	page, limit int
}

func parseSearch(r *http.Request) (searchRequest, error) {
	p := newParams(r)
	text := p.str("text")
	if text == "" {
		text = p.str("q")
	}
	if strings.TrimSpace(text) == "" {
		return searchRequest{}, validation("query parameter text is required")
	}
	o := search.QuerySearchOptions{RunID: p.str("run_id"), WithinClusters: p.str("within_clusters"), Facets: queryList(r, "facets"), By: p.str("by"), Label: p.str("label"),
		Mode: p.oneOf("mode", search.ModeFullText, search.ModeSemantic, search.ModeFullText, search.ModeHybrid)}
	o.TopClusters = p.intIn("top_clusters", 10, 1, 50)
	page, limit := p.page(50)
	if p.has("n_results") && !p.has("limit") {
		limit = p.intIn("n_results", 50, 1, 1000)
	}
	var err error
	if o.ClusterIDs, err = queryInts(r, "cluster_ids"); err != nil {
		p.fail(err)
	}
	if o.SummaryRef, err = summaryRef(r); err != nil {
		return searchRequest{}, err
	}
	if p.err != nil {
		return searchRequest{}, p.err
	}
	return checkSearch(searchRequest{text: text, opts: o, page: page, limit: limit})
}

// checkSearch checks the options of a parsed query search against each other and
// sets the number of results to rank.
func checkSearch(sr searchRequest) (searchRequest, error) {
	o := &sr.opts
	if o.RunID == "" && o.Mode != search.ModeFullText {
		return searchRequest{}, badRequest("run_id required for %s search (the run names the embedding space); mode fulltext works without one", o.Mode)
	}
	if o.RunID == "" && (o.WithinClusters != "" || len(o.ClusterIDs) > 0 || o.By != "") {
		return searchRequest{}, badRequest("within_clusters, cluster_ids and by need run_id")
	}
	if o.By != "" && o.By != "cluster" {
		return searchRequest{}, badRequest("by %q: only 'cluster' is supported", o.By)
	}
	o.NResults = min(sr.page*sr.limit, 1000)
	if (sr.page-1)*sr.limit >= 1000 {
		return searchRequest{}, validation("page %d of %d results reaches past the 1000 best matches", sr.page, sr.limit)
	}
	return sr, nil
}

// searchPage runs a query search and answers one page of it.
func (s *server) searchPage(ctx context.Context, sr searchRequest) (SearchPage, error) {
	if s.deps.Search == nil {
		return SearchPage{}, errNoSearch
	}
	o := sr.opts
	if o.RunID != "" && o.Mode == search.ModeFullText {
		if _, err := s.deps.Store.GetRun(ctx, o.RunID); errors.Is(err, lmsys.ErrNotFound) {
			// The Python tool joins the run's assignments: nothing matches.
			return SearchPage{ListPage: newPage([]SearchHit(nil), 0, sr.page, sr.limit), AppliedClusters: []ClusterHit{}, Text: sr.text, RunID: o.RunID, Mode: o.Mode}, nil
		}
	}
	res, err := s.deps.Search.SearchQueries(ctx, sr.text, o)
	if err != nil {
		return SearchPage{}, err
	}
	total := int64(len(res.Results))
	start := (sr.page - 1) * sr.limit
	hits := res.Results[min(start, len(res.Results)):min(start+sr.limit, len(res.Results))]
	if o.Mode == search.ModeFullText && len(o.ClusterIDs) == 0 && o.WithinClusters == "" {
		f := lmsys.QueryFilter{RunID: o.RunID}
		if total, err = s.deps.Search.CountText(ctx, sr.text, o.RunID); err != nil {
			return SearchPage{}, err
		}
		if store.NeedsSubstring(sr.text) {
			// Words inside runs of Han, Thai … letters: the substring matches the index
			// misses follow its ranked hits, as the Python tool's substring search finds them.
			from := max(start, int(total))
			extra, n, err := s.deps.Store.SearchSubstring(ctx, sr.text, f, max(start+sr.limit-from, 0), from-int(total))
			if err != nil {
				return SearchPage{}, err
			}
			if len(extra) > 0 {
				if hits, err = s.substringHits(ctx, o.RunID, hits, extra); err != nil {
					return SearchPage{}, err
				}
			}
			total += n
		}
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.QueryID
	}
	// The search read its results' queries already; only substring hits need reading.
	byID := map[int64]lmsys.Query{}
	var missing []int64
	for _, id := range ids {
		if q, ok := res.Queries[id]; ok {
			byID[id] = q
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		qs, err := s.deps.Store.ListQueries(ctx, lmsys.QueryFilter{IDs: missing})
		if err != nil {
			return SearchPage{}, err
		}
		for _, q := range qs {
			byID[q.ID] = q
		}
	}
	var titles map[int]lmsys.Summary
	if o.RunID != "" {
		if _, titles, err = s.summaries(ctx, o.RunID, o.SummaryRef); err != nil {
			return SearchPage{}, err
		}
	}
	items := make([]SearchHit, 0, len(hits))
	for _, h := range hits {
		q, ok := byID[h.QueryID]
		if !ok {
			continue
		}
		d := float64(h.Distance)
		hit := SearchHit{Query: queryItem(q), Clusters: []ClusterInfo{}, Distance: &d, QueryID: h.QueryID, Snippet: h.Snippet, Model: h.Model,
			Language: h.Language, ClusterID: h.ClusterID}
		if h.ClusterID != nil {
			hit.Clusters = append(hit.Clusters, ClusterInfo{RunID: o.RunID, ClusterID: *h.ClusterID, Title: nullable(titles[*h.ClusterID].Title)})
		}
		items = append(items, hit)
	}
	out := SearchPage{ListPage: newPage(items, total, sr.page, sr.limit), Facets: searchFacets(res.Facets, len(res.Results)), AppliedClusters: []ClusterHit{},
		Text: res.Text, RunID: res.RunID, Mode: o.Mode}
	for _, a := range res.AppliedClusters {
		ac := ClusterHit{RunID: o.RunID, ClusterID: a.ClusterID, Title: nullable(a.Title), Description: nullable(a.Description), NumQueries: a.NumQueries}
		if a.Distance != nil {
			d := float64(*a.Distance)
			ac.Distance = &d
		}
		out.AppliedClusters = append(out.AppliedClusters, ac)
	}
	return out, nil
}

// substringHits appends the queries ids (found by substring) to hits, each at the
// greatest distance, 1, with its cluster in the run.
func (s *server) substringHits(ctx context.Context, runID string, hits []search.QueryHit, ids []int64) ([]search.QueryHit, error) {
	qs, err := s.deps.Store.ListQueries(ctx, lmsys.QueryFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	cluster := map[int64]int{}
	if runID != "" {
		rows, err := s.deps.Store.Gorm().WithContext(ctx).Raw(`SELECT query_id, cluster_id FROM query_clusters WHERE run_id = ? AND query_id IN ?`, runID, ids).Rows()
		if err != nil {
			return nil, fmt.Errorf("web: clusters of substring matches: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var q int64
			var c int
			if err := rows.Scan(&q, &c); err != nil {
				return nil, err
			}
			cluster[q] = c
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(hits)
	sort.Slice(qs, func(i, j int) bool { return qs[i].ID < qs[j].ID })
	for _, q := range qs {
		h := search.QueryHit{QueryID: q.ID, Distance: 1, Snippet: snippet.Of(q.Text, 200), Model: q.Model, Language: q.Language}
		if c, ok := cluster[q.ID]; ok {
			h.ClusterID = &c
		}
		out = append(out, h)
	}
	return out, nil
}

// searchFacets converts the search service's facets over n results.
func searchFacets(f search.Facets, n int) *SearchFacets {
	if f.Clusters == nil && f.Language == nil && f.Model == nil {
		return nil
	}
	share := func(c int64) *float64 {
		if n == 0 {
			return nil
		}
		p := percent(int(c), n)
		return &p
	}
	out := &SearchFacets{}
	if f.Clusters != nil {
		out.Clusters = []FacetBucket{}
		for _, c := range f.Clusters {
			id := c.ClusterID
			out.Clusters = append(out.Clusters, FacetBucket{Key: c.ClusterID, Count: c.Count, Percentage: share(c.Count), Meta: map[string]any{"title": c.Meta.Title}, ClusterID: &id})
		}
	}
	counts := func(cs []lmsys.Count) []FacetBucket {
		if cs == nil {
			return nil
		}
		out := []FacetBucket{}
		for _, c := range cs {
			out = append(out, FacetBucket{Key: c.Key, Count: c.Count, Percentage: share(c.Count)})
		}
		return out
	}
	out.Language, out.Model = counts(f.Language), counts(f.Model)
	return out
}

func (s *server) apiSearchQueries(r *http.Request) (any, error) {
	sr, err := parseSearch(r)
	if err != nil {
		return nil, err
	}
	return s.searchPage(r.Context(), sr)
}

// ClusterHit is one cluster found, or one a query search was restricted to (the
// Python tool's ClusterSearchResult); Distance is the cosine distance of its summary
// to the search text (semantic) or null (full-text).
type ClusterHit struct {
	RunID        string   `json:"run_id"`
	ClusterID    int      `json:"cluster_id"`
	Title        *string  `json:"title"`
	Description  *string  `json:"description"`
	Summary      *string  `json:"summary"`
	NumQueries   int      `json:"num_queries"`
	Distance     *float64 `json:"distance"`
	SummaryRunID string   `json:"summary_run_id,omitempty"`
}

// ClusterSearchPage is the clusters found (the Python tool's SearchClustersResponse).
type ClusterSearchPage struct {
	ListPage[ClusterHit]
	Text  string `json:"text"`
	RunID string `json:"run_id"`
	Mode  string `json:"mode"`
}

func (s *server) apiSearchClusters(r *http.Request) (any, error) {
	p := newParams(r)
	text := p.str("text")
	if text == "" {
		text = p.str("q")
	}
	if strings.TrimSpace(text) == "" {
		return nil, validation("query parameter text is required")
	}
	cs := ClusterSearch{Text: text, RunID: p.str("run_id"), Mode: p.oneOf("mode", search.ModeFullText, search.ModeSemantic, search.ModeFullText)}
	cs.Limit = p.intIn("n_results", 20, 1, 100)
	if p.has("top_k") && !p.has("n_results") {
		cs.Limit = p.intIn("top_k", 20, 1, 1000)
	}
	cs.Page = p.intIn("page", 1, 1, -1)
	ids, err := queryInts(r, "cluster_ids")
	if err != nil {
		p.fail(err)
	}
	cs.ClusterIDs = ids
	if cs.SummaryRef, err = summaryRef(r); err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	return s.clusterSearch(r.Context(), cs)
}

// ClusterSearch is a cluster search as GET /api/search/clusters takes it: Limit is
// its n_results (the clusters returned, all on one page).
type ClusterSearch struct {
	Text       string
	RunID      string
	Mode       string
	Limit      int
	Page       int
	ClusterIDs []int
	SummaryRef string
}

// clusterSearch finds the clusters of a cluster search.
func (s *server) clusterSearch(ctx context.Context, cs ClusterSearch) (ClusterSearchPage, error) {
	text, runID, n, ids, ref := cs.Text, cs.RunID, cs.Limit, cs.ClusterIDs, cs.SummaryRef
	out := ClusterSearchPage{Text: text, RunID: runID, Mode: cs.Mode}
	var hits []ClusterHit
	var err error
	if cs.Mode == search.ModeSemantic {
		if runID == "" {
			return ClusterSearchPage{}, badRequest("run_id required for semantic search")
		}
		if s.deps.Search == nil {
			return ClusterSearchPage{}, errNoSearch
		}
		res, err := s.deps.Search.SearchClusters(ctx, text, search.ClusterSearchOptions{RunID: runID, TopK: n, ClusterIDs: ids, SummaryRef: ref})
		if err != nil {
			return ClusterSearchPage{}, err
		}
		srID, sums, err := s.summaries(ctx, runID, ref)
		if err != nil {
			return ClusterSearchPage{}, err
		}
		for _, h := range res.Results {
			d := float64(h.Distance)
			hits = append(hits, ClusterHit{RunID: runID, ClusterID: h.ClusterID, Title: nullable(h.Title), Description: nullable(h.Description),
				Summary: nullable(sums[h.ClusterID].Summary), NumQueries: h.NumQueries, Distance: &d, SummaryRunID: srID})
		}
	} else if hits, err = s.clusterText(ctx, text, runID, ref, ids, n); err != nil {
		return ClusterSearchPage{}, err
	}
	out.ListPage = newPage(hits, int64(len(hits)), cs.Page, n)
	out.Pages = 1
	return out, nil
}

// clusterText finds clusters whose title or description contains text (any case),
// in one run or every run, in the summary run ref (the latest when empty), largest
// first; at most n.
func (s *server) clusterText(ctx context.Context, text, runID, ref string, ids []int, n int) ([]ClusterHit, error) {
	runs, err := s.runIDs(ctx, runID)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(strings.TrimSpace(text))
	hits := []ClusterHit{}
	for _, id := range runs {
		srID, sums, err := s.summaries(ctx, id, ref)
		if errors.Is(err, lmsys.ErrNotFound) {
			continue // a run without this summary run, or an unknown run
		}
		if err != nil {
			return nil, err
		}
		sizes, err := s.deps.Store.ClusterSizes(ctx, id)
		if err != nil {
			return nil, err
		}
		for cid, sm := range sums {
			if len(ids) > 0 && !containsInt(ids, cid) {
				continue
			}
			if !strings.Contains(strings.ToLower(sm.Title), needle) && !strings.Contains(strings.ToLower(sm.Description), needle) {
				continue
			}
			hits = append(hits, ClusterHit{RunID: id, ClusterID: cid, Title: nullable(sm.Title), Description: nullable(sm.Description),
				Summary: nullable(sm.Summary), NumQueries: sizes[cid], SummaryRunID: srID})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].NumQueries != hits[j].NumQueries {
			return hits[i].NumQueries > hits[j].NumQueries
		}
		if hits[i].RunID != hits[j].RunID {
			return hits[i].RunID < hits[j].RunID
		}
		return hits[i].ClusterID < hits[j].ClusterID
	})
	return hits[:min(n, len(hits))], nil
}
