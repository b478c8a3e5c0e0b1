package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/summarize"
)

// The summary endpoints: summary runs, one cluster's summary, summarising over HTTP,
// and the cache of a run's summaries that the cluster pages share.

// summaryTTL bounds how long a cached summary run is trusted without a change the
// server can see (a resumed summarize by another process changes no audited state).
const summaryTTL = 5 * time.Second

// summaryEntry is one cached summary run: its summaries by cluster, and the newest
// edit of the run when they were read.
type summaryEntry struct {
	sums     map[int]lmsys.Summary
	lastEdit int64
	at       time.Time
}

// summaryCache keeps the summaries of recently viewed summary runs: reading the 200
// summaries of a run costs milliseconds, and every cluster page needs one of them.
// An entry is dropped when the run has an edit newer than the entry (edits are
// audited, so edits by other processes are seen too), after summaryTTL, and by this
// server's own edits and summarize runs.
type summaryCache struct {
	mu sync.Mutex
	m  map[string]*summaryEntry
}

func (c *summaryCache) get(key string) *summaryEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *summaryCache) put(key string, e *summaryEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 64 {
		c.m = map[string]*summaryEntry{}
	}
	c.m[key] = e
}

// reset drops every entry.
func (c *summaryCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// summaries returns a run's summaries by cluster (ref: id or alias, empty: latest); a
// run without summaries gives an empty map when ref is empty. The map is shared:
// callers must not modify it.
func (s *server) summaries(ctx context.Context, runID, ref string) (string, map[int]lmsys.Summary, error) {
	srID, err := s.deps.Store.ResolveSummaryRun(ctx, runID, ref)
	if err != nil {
		if errors.Is(err, lmsys.ErrNotFound) && ref == "" {
			return "", map[int]lmsys.Summary{}, nil
		}
		return "", nil, err
	}
	key := runID + "\x00" + srID
	last, err := s.deps.Store.LatestEdit(ctx, runID)
	if err != nil {
		return "", nil, err
	}
	if e := s.sumCache.get(key); e != nil && time.Since(e.at) < summaryTTL && e.lastEdit == last {
		return srID, e.sums, nil
	}
	ss, err := s.deps.Store.Summaries(ctx, runID, srID)
	if err != nil {
		return "", nil, err
	}
	out := make(map[int]lmsys.Summary, len(ss))
	for _, x := range ss {
		out[x.ClusterID] = x
	}
	s.sumCache.put(key, &summaryEntry{sums: out, lastEdit: last, at: time.Now()})
	return srID, out, nil
}

// SummarizeRequest is the body of POST /api/summaries/.
type SummarizeRequest struct {
	RunID string `json:"run_id"`
	// Model is an LLM provider/model; empty or "offline" uses the offline c-TF-IDF summarizer.
	Model        string `json:"model"`
	Alias        string `json:"alias"`
	SummaryRunID string `json:"summary_run_id"`
	MaxQueries   int    `json:"max_queries"`
	Resume       bool   `json:"resume"`
	ClusterID    *int   `json:"cluster_id"`
	Concurrency  int    `json:"concurrency"`
}

func (s *server) apiSummarize(r *http.Request) (any, error) {
	req := SummarizeRequest{RunID: r.URL.Query().Get("run_id"), MaxQueries: 100, Concurrency: 4}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.RunID == "" {
		return nil, badRequest("run_id is required (query parameter or body)")
	}
	if req.MaxQueries < 1 || req.Concurrency < 1 {
		return nil, badRequest("max_queries and concurrency must be positive")
	}
	ctx := r.Context()
	if _, err := s.deps.Store.GetRun(ctx, req.RunID); err != nil {
		return nil, err
	}
	var sm lmsys.Summarizer
	if req.Model == "" || req.Model == "offline" || req.Model == summarize.OfflineModel {
		sm = &summarize.Offline{}
	} else {
		client, err := llm.Open(req.Model, llm.WithConcurrency(req.Concurrency), llm.WithCache(s.deps.Store.LLMCache()))
		if err != nil {
			return nil, err
		}
		if sm, err = summarize.NewLLM(client, summarize.LLMOptions{}); err != nil {
			return nil, err
		}
	}
	res, err := summarize.Run(ctx, s.deps.Store, req.RunID, sm, summarize.RunOptions{SummaryRunID: req.SummaryRunID, Alias: req.Alias,
		Resume: req.Resume, ClusterID: req.ClusterID, Prepare: summarize.PrepareOptions{MaxQueries: req.MaxQueries}})
	s.sumCache.reset()
	if err != nil {
		return nil, err
	}
	if s.deps.Search != nil {
		// New titles change what cluster search finds; bring the index in step now.
		if err := s.deps.Search.ReindexClusters(context.WithoutCancel(ctx), req.RunID, nil); err != nil {
			s.log.Warn("web: re-index summaries", "run", req.RunID, "err", err)
		}
	}
	return created{res}, nil
}

func (s *server) apiSummaryRuns(r *http.Request) (any, error) {
	ctx := r.Context()
	p := newParams(r)
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	runs, err := s.runIDs(ctx, p.str("run_id"))
	if err != nil {
		return nil, err
	}
	items := []SummaryRunItem{}
	for _, id := range runs {
		srs, err := s.deps.Store.SummaryRuns(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, sr := range srs {
			items = append(items, summaryRunItem(sr))
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].GeneratedAt.After(items[j].GeneratedAt) })
	return paginate(items, page, limit), nil
}

func (s *server) apiSummary(r *http.Request) (any, error) {
	ctx := r.Context()
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	srID := r.PathValue("summary_run_id")
	runs, err := s.runIDs(ctx, r.URL.Query().Get("run_id"))
	if err != nil {
		return nil, err
	}
	for _, runID := range runs {
		srs, err := s.deps.Store.SummaryRuns(ctx, runID)
		if err != nil {
			return nil, err
		}
		for _, sr := range srs {
			if sr.SummaryRunID != srID {
				continue
			}
			ss, err := s.deps.Store.Summaries(ctx, runID, srID)
			if err != nil {
				return nil, err
			}
			for _, x := range ss {
				if x.ClusterID == cid {
					item := clusterItem(runID, cid, x.NumQueries, 0, x, true)
					item.QueryCount, item.Share = nil, 0
					return SummaryItem{ClusterItem: item, Model: x.Model, Coherence: x.Coherence, Mixed: x.Mixed, Error: x.Error, GeneratedAt: x.GeneratedAt}, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("cluster summary not found (cluster %d, summary run %s): %w", cid, srID, lmsys.ErrNotFound)
}
