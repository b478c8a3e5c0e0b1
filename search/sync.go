package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/summarize"
)

// Report is what Verify (and Sync) found, and did, for one run.
type Report struct {
	RunID string      `json:"run_id"`
	Space lmsys.Space `json:"embedding_space"`
	// SummaryRunID is the summary run the cluster_summaries collection must hold
	// (the run's latest; empty when the run has no summaries).
	SummaryRunID string             `json:"summary_run_id"`
	Collections  []CollectionReport `json:"collections"`
	// InSync is true when no collection needed a repair.
	InSync bool `json:"in_sync"`
	// Repaired is true when repairs were asked for and made.
	Repaired bool `json:"repaired"`
}

// CollectionReport compares one collection with the store.
type CollectionReport struct {
	Collection string `json:"collection"`
	Kind       string `json:"kind"`
	// StoreCount is the number of items the store says the collection must hold:
	// queries with a vector of the space, or the run's titled summaries.
	StoreCount int `json:"store_count"`
	// IndexCount is the number of those items in the index (for cluster_summaries:
	// the run's items) before any repair.
	IndexCount int `json:"index_count"`
	// IndexDims is the dimension of the collection's vectors (0 when absent or empty).
	IndexDims int `json:"index_dimension"`
	// IDsCompared is false when the index cannot list its ids, so only counts were compared.
	IDsCompared bool `json:"ids_compared"`
	// Missing lists items in the store but not in the index.
	Missing Issue `json:"missing_in_index"`
	// Extra lists items in the index that the store does not have.
	Extra Issue `json:"extra_in_index"`
	// WrongSpace lists items whose vectors belong to another embedding space (the
	// whole collection when its dimension is not the space's).
	WrongSpace Issue `json:"wrong_space"`
	// Stale lists items whose indexed copy is older than, or differs from, the store
	// (a summary regenerated or renamed, a count changed by an edit).
	Stale Issue `json:"stale"`
	// Actions says what a repair did.
	Actions []string `json:"actions"`
	InSync  bool     `json:"in_sync"`
}

// Issue counts the items of one kind of difference and lists the first ones.
type Issue struct {
	Count int      `json:"count"`
	IDs   []string `json:"ids"`
}

// maxListed bounds the ids an Issue lists.
const maxListed = 50

func issue(ids []string) Issue {
	sort.Strings(ids)
	out := Issue{Count: len(ids), IDs: ids}
	if len(ids) > maxListed {
		out.IDs = ids[:maxListed]
	}
	if out.IDs == nil {
		out.IDs = []string{}
	}
	return out
}

// Sync makes the index hold exactly what the store says for the run's space: every
// query with a vector of the space, and the run's latest summaries (embedding those
// not embedded yet). It is Verify with repair.
func (s *Service) Sync(ctx context.Context, runID string) (Report, error) {
	return s.Verify(ctx, runID, true)
}

// Verify compares the run's two collections with the store: counts, ids missing or
// extra on either side, vectors of another space, summaries changed since they were
// indexed. With repair it fixes every difference it found, says what it did in each
// collection's Actions, and writes the index to disk.
func (s *Service) Verify(ctx context.Context, runID string, repair bool) (Report, error) {
	run, err := s.runSpace(ctx, runID)
	if err != nil {
		return Report{}, err
	}
	if repair {
		s.syncMu.Lock()
		defer s.syncMu.Unlock()
	}
	rep := Report{RunID: runID, Space: run.Space, InSync: true, Repaired: repair}
	qp, err := s.planQueries(ctx, run.Space)
	if err != nil {
		return rep, err
	}
	sp, err := s.planSummaries(ctx, run)
	if err != nil {
		return rep, err
	}
	rep.SummaryRunID = sp.summaryRunID
	if repair {
		if err := s.applyQueries(ctx, run.Space, qp); err != nil {
			return rep, err
		}
		if err := s.applySummaries(ctx, run, sp); err != nil {
			return rep, err
		}
		if err := s.flush(ctx); err != nil {
			return rep, err
		}
		s.markFresh(runID)
	}
	for _, c := range []*CollectionReport{&qp.CollectionReport, &sp.CollectionReport} {
		if c.Actions == nil {
			c.Actions = []string{}
		}
		rep.InSync = rep.InSync && c.InSync
		rep.Collections = append(rep.Collections, *c)
	}
	return rep, nil
}

// ReindexClusters brings the run's cluster_summaries items in step with the store
// after an edit (curation's OnChange hook): changed summaries are re-embedded and
// upserted, those of clusters that no longer have one are deleted. clusterIDs are the
// clusters the edit touched; the whole run's summaries are compared (they are few),
// so an earlier missed change is caught too.
func (s *Service) ReindexClusters(ctx context.Context, runID string, clusterIDs []int) error {
	run, err := s.runSpace(ctx, runID)
	if err != nil {
		return err
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	sp, err := s.planSummaries(ctx, run)
	if err != nil {
		return err
	}
	if err := s.applySummaries(ctx, run, sp); err != nil {
		return err
	}
	return s.flush(ctx)
}

// ensureFresh checks a run's collections once per Service before its first search:
// summaries field by field, queries by count and dimension, syncing what differs. With
// Options.Background the check and sync run in the background (see background.go).
func (s *Service) ensureFresh(ctx context.Context, run lmsys.Run) error {
	if s.opts.Background {
		return s.ensureFreshBackground(ctx, run)
	}
	return s.syncFresh(ctx, run, nil)
}

// syncFresh is ensureFresh in the calling goroutine; the progress of a sync it does is
// also reported to b when b is not nil.
func (s *Service) syncFresh(ctx context.Context, run lmsys.Run, b *build) error {
	s.mu.Lock()
	ok := s.fresh[run.ID]
	s.mu.Unlock()
	if ok {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if b != nil {
		s.current.Store(b)
		defer s.current.Store(nil)
	}
	s.mu.Lock()
	ok = s.fresh[run.ID]
	s.mu.Unlock()
	if ok {
		return nil
	}
	coll := run.Space.Collection(KindQueries)
	want, err := s.countStoreVectors(ctx, run.Space)
	if err != nil {
		return err
	}
	have, err := s.index.Count(ctx, coll)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("search: count %s: %w", coll, err)
	}
	dims := 0
	if d, ok := s.index.(dimser); ok && have > 0 {
		if dims, err = d.CollectionDims(ctx, coll); err != nil && !isNotFound(err) {
			return err
		}
	}
	dirty := false
	if int64(have) != want || (dims != 0 && dims != run.Space.Dims) {
		qp, err := s.planQueries(ctx, run.Space)
		if err != nil {
			return err
		}
		if err := s.applyQueries(ctx, run.Space, qp); err != nil {
			return err
		}
		dirty = true
	}
	sp, err := s.planSummaries(ctx, run)
	if err != nil {
		return err
	}
	if !sp.InSync {
		if err := s.applySummaries(ctx, run, sp); err != nil {
			return err
		}
		dirty = true
	}
	if dirty {
		if err := s.flush(ctx); err != nil {
			return err
		}
	}
	s.markFresh(run.ID)
	return nil
}

func (s *Service) markFresh(runID string) {
	s.mu.Lock()
	s.fresh[runID] = true
	s.mu.Unlock()
}

func (s *Service) flush(ctx context.Context) error {
	if f, ok := s.index.(flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("search: write index: %w", err)
		}
	}
	return nil
}

// ---- queries collection ----

type queryMeta struct {
	conv, model, lang string
}

// metadata is a query item's metadata; space is the space's String, passed in so a
// million items share one copy.
func (m queryMeta) metadata(id int64, space string) map[string]string {
	return map[string]string{"query_id": strconv.FormatInt(id, 10), "model": m.model, "language": m.lang,
		"conversation_id": m.conv, "space": space}
}

func (m queryMeta) matches(id int64, space lmsys.Space, meta map[string]string) bool {
	return meta["query_id"] == strconv.FormatInt(id, 10) && meta["model"] == m.model && meta["language"] == m.lang &&
		meta["conversation_id"] == m.conv && meta["space"] == space.String() && len(meta) == 5
}

type queryPlan struct {
	CollectionReport
	store   map[int64]queryMeta
	upsert  []int64  // store ids to (re)write
	remove  []string // index ids to delete
	dropAll bool
}

// countStoreVectors counts the queries with a vector of space.
func (s *Service) countStoreVectors(ctx context.Context, space lmsys.Space) (int64, error) {
	var n int64
	err := s.db.Gorm().WithContext(ctx).Raw(`SELECT COUNT(*) FROM queries q WHERE EXISTS
		(SELECT 1 FROM embeddings e WHERE e.space = ? AND e.text_hash = q.text_hash)`, space.String()).Row().Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("search: count vectors of %s: %w", space, err)
	}
	return n, nil
}

// collectionState returns the number of vectors in a collection of the index and
// whether it exists, and records its dimension in rep (when the index reports one).
func (s *Service) collectionState(ctx context.Context, coll string, rep *CollectionReport) (n int, exists bool, err error) {
	n, err = s.index.Count(ctx, coll)
	if isNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("search: count %s: %w", coll, err)
	}
	if d, ok := s.index.(dimser); ok {
		if rep.IndexDims, err = d.CollectionDims(ctx, coll); err != nil {
			return 0, false, err
		}
	}
	return n, true, nil
}

// planQueries compares the space's queries collection with the store.
func (s *Service) planQueries(ctx context.Context, space lmsys.Space) (*queryPlan, error) {
	coll := space.Collection(KindQueries)
	p := &queryPlan{CollectionReport: CollectionReport{Collection: coll, Kind: KindQueries}, store: map[int64]queryMeta{}}
	rows, err := s.db.Gorm().WithContext(ctx).Raw(`SELECT q.id, q.conversation_id, COALESCE(q.model, ''), COALESCE(q.language, '')
		FROM queries q WHERE EXISTS (SELECT 1 FROM embeddings e WHERE e.space = ? AND e.text_hash = q.text_hash)`, space.String()).Rows()
	if err != nil {
		return nil, fmt.Errorf("search: list queries with vectors of %s: %w", space, err)
	}
	// Models and languages repeat: one copy of each (the index keeps them in every
	// item's metadata) instead of one per row, ~30 MB at a million queries.
	shared := map[string]string{}
	share := func(v string) string {
		if w, ok := shared[v]; ok {
			return w
		}
		if len(shared) < 1<<12 {
			shared[v] = v
		}
		return v
	}
	for rows.Next() {
		var id int64
		var m queryMeta
		if err := rows.Scan(&id, &m.conv, &m.model, &m.lang); err != nil {
			rows.Close()
			return nil, fmt.Errorf("search: list queries with vectors of %s: %w", space, err)
		}
		m.model, m.lang = share(m.model), share(m.lang)
		p.store[id] = m
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("search: list queries with vectors of %s: %w", space, err)
	}
	p.StoreCount = len(p.store)
	n, exists, err := s.collectionState(ctx, coll, &p.CollectionReport)
	if err != nil {
		return nil, err
	}
	p.IndexCount = n
	var missing, extra, wrong, stale []string
	seen := make(map[int64]bool, n)
	lister, canList := s.index.(ItemLister)
	switch {
	case exists && p.IndexDims != 0 && p.IndexDims != space.Dims:
		// Every vector is of another space: the collection is rebuilt.
		p.dropAll = true
		p.IndexCount = 0
		wrong = make([]string, 0, n)
		if canList {
			err = lister.ListItems(ctx, coll, func(id string, _ map[string]string) error {
				wrong = append(wrong, id)
				return nil
			})
			if err != nil {
				return nil, err
			}
		} else {
			for i := 0; i < n; i++ {
				wrong = append(wrong, "(unlisted)")
			}
		}
		p.IDsCompared = canList
	case exists && canList:
		p.IDsCompared = true
		p.IndexCount = 0
		err = lister.ListItems(ctx, coll, func(id string, meta map[string]string) error {
			qid, ok := parseQueryItemID(id)
			m, inStore := p.store[qid]
			switch {
			case !ok || !inStore:
				extra = append(extra, id)
				p.remove = append(p.remove, id)
			case meta["space"] != "" && meta["space"] != space.String():
				wrong = append(wrong, id)
				p.remove = append(p.remove, id)
				seen[qid] = true // re-written with its right vector
			case !m.matches(qid, space, meta):
				stale = append(stale, id)
				seen[qid] = true
				p.upsert = append(p.upsert, qid)
				p.IndexCount++
			default:
				seen[qid] = true
				p.IndexCount++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	case exists && n != p.StoreCount:
		// Without a listing only the counts can differ; a repair rewrites everything.
		p.IDsCompared = false
		for id := range p.store {
			missing = append(missing, queryItemID(id))
			p.upsert = append(p.upsert, id)
		}
	case exists:
		for id := range p.store {
			seen[id] = true
		}
	}
	if p.IDsCompared || !exists || p.dropAll {
		for id := range p.store {
			if !seen[id] {
				missing = append(missing, queryItemID(id))
				p.upsert = append(p.upsert, id)
			}
		}
	}
	slices.Sort(p.upsert)
	p.upsert = slices.Compact(p.upsert)
	p.Missing, p.Extra, p.WrongSpace, p.Stale = issue(missing), issue(extra), issue(wrong), issue(stale)
	p.InSync = len(p.upsert) == 0 && len(p.remove) == 0 && !p.dropAll
	return p, nil
}

// applyQueries carries out a query plan: drop or delete what is wrong, then stream the
// needed vectors from the store into the index.
func (s *Service) applyQueries(ctx context.Context, space lmsys.Space, p *queryPlan) error {
	if p.InSync {
		return nil
	}
	coll := p.Collection
	if p.dropAll {
		if d, ok := s.index.(dropper); ok {
			if err := d.Drop(ctx, coll); err != nil {
				return fmt.Errorf("search: drop %s: %w", coll, err)
			}
			p.Actions = append(p.Actions, fmt.Sprintf("dropped the collection: its %d-dimensional vectors are not of %s", p.IndexDims, space))
		} else {
			return fmt.Errorf("search: %s holds %d-dimensional vectors and the index cannot drop it: %w", coll, p.IndexDims, lmsys.ErrSpaceMismatch)
		}
	}
	if len(p.remove) > 0 {
		if err := s.index.Delete(ctx, coll, p.remove); err != nil {
			return fmt.Errorf("search: delete from %s: %w", coll, err)
		}
		p.Actions = append(p.Actions, fmt.Sprintf("deleted %d items (%d not in the store, %d of another space)", len(p.remove), p.Extra.Count, p.WrongSpace.Count))
	}
	// Wrong-space items still in the store are written again with their right vectors.
	for _, id := range p.remove {
		if qid, ok := parseQueryItemID(id); ok {
			if _, in := p.store[qid]; in {
				p.upsert = append(p.upsert, qid)
			}
		}
	}
	slices.Sort(p.upsert)
	p.upsert = slices.Compact(p.upsert)
	if len(p.upsert) == 0 {
		return nil
	}
	need := make(map[int64]bool, len(p.upsert))
	for _, id := range p.upsert {
		need[id] = true
	}
	if r, ok := s.index.(reserver); ok {
		if err := r.Reserve(ctx, coll, len(p.upsert)); err != nil {
			return fmt.Errorf("search: reserve room in %s: %w", coll, err)
		}
	}
	done, err := s.writeQueryVectors(ctx, space, p, need)
	if err != nil {
		return err
	}
	p.Actions = append(p.Actions, fmt.Sprintf("wrote %d query vectors from the store (%d missing, %d stale)", done, p.Missing.Count, p.Stale.Count))
	return nil
}

// vectorBatch is one upsert's items, their vectors copied into flat (the store's
// scan reuses its own buffer from page to page).
type vectorBatch struct {
	items []lmsys.Vector
	flat  []float32
}

// writeQueryVectors streams the vectors of the queries in need from the store into
// p's collection in batches of BatchSize and returns how many it wrote. The store is
// read on this goroutine while the previous batch is upserted on another, so an
// index that inserts on several goroutines (HNSW) does not sit idle while SQLite
// reads and decodes the next batch. Two batch buffers are reused throughout: the
// index must not keep an item's Values after its Upsert returns (no index here does).
func (s *Service) writeQueryVectors(ctx context.Context, space lmsys.Space, p *queryPlan, need map[int64]bool) (int64, error) {
	coll := p.Collection
	total := int64(len(p.upsert))
	stage := "index queries " + space.String()
	s.opts.Progress.Report(stage, 0, total)
	bs := s.opts.BatchSize
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *vectorBatch, 2)
	for range 2 {
		free <- &vectorBatch{items: make([]lmsys.Vector, 0, bs), flat: make([]float32, bs*space.Dims)}
	}
	full := make(chan *vectorBatch, 1)
	var done int64
	var werr error
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for b := range full {
			if werr == nil {
				if err := s.index.Upsert(ctx, coll, b.items); err != nil {
					werr = fmt.Errorf("search: upsert into %s: %w", coll, err)
					cancel()
				} else {
					done += int64(len(b.items))
					s.opts.Progress.Report(stage, done, total)
				}
			}
			clear(b.items)
			b.items = b.items[:0]
			free <- b
		}
	}()
	var cur *vectorBatch
	spaceName := space.String()
	f := lmsys.QueryFilter{AfterID: p.upsert[0] - 1}
	err := s.db.ScanQueryVectors(ctx, space, f, 5000, func(ids []int64, vecs [][]float32) error {
		for i, id := range ids {
			if !need[id] {
				continue
			}
			if cur == nil {
				select {
				case cur = <-free:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			d := space.Dims
			n := len(cur.items)
			v := cur.flat[n*d : (n+1)*d : (n+1)*d]
			copy(v, vecs[i])
			m := p.store[id]
			cur.items = append(cur.items, lmsys.Vector{ID: queryItemID(id), Values: v, Metadata: m.metadata(id, spaceName)})
			if len(cur.items) == bs {
				full <- cur
				cur = nil
			}
		}
		return nil
	})
	if err == nil && cur != nil && len(cur.items) > 0 {
		full <- cur
	}
	close(full)
	<-wrote
	if werr != nil {
		return done, werr
	}
	return done, err
}

// ---- cluster_summaries collection ----

type summaryPlan struct {
	CollectionReport
	summaryRunID string
	want         map[string]lmsys.Summary // item id → summary
	upsert       []string
	remove       []string
	dropAll      bool
}

// summaryDocument is the document stored with a summary item.
func summaryDocument(sm lmsys.Summary) string {
	if sm.Description == "" {
		return sm.Title
	}
	return sm.Title + "\n\n" + sm.Description
}

// embedText returns the text whose vector stands for a summary.
func summaryEmbedText(sm lmsys.Summary) string {
	return summarize.Document(sm.Title, sm.Description, sm.Keywords)
}

func summaryMetadata(sm lmsys.Summary, space lmsys.Space) map[string]string {
	return map[string]string{
		"run_id": sm.RunID, "cluster_id": strconv.Itoa(sm.ClusterID), "title": sm.Title, "description": sm.Description,
		"num_queries": strconv.Itoa(sm.NumQueries), "summary_run_id": sm.SummaryRunID, "alias": sm.Alias,
		"generated_at": sm.GeneratedAt.UTC().Format(time.RFC3339Nano), "doc_hash": lmsys.TextHash(summaryEmbedText(sm)),
		"space": space.String(),
	}
}

// latestSummaries returns the titled summaries of a run's summary run ref (latest when
// empty); no summaries at all is an empty list, not an error.
func (s *Service) latestSummaries(ctx context.Context, runID, ref string) ([]lmsys.Summary, error) {
	ss, err := s.db.Summaries(ctx, runID, ref)
	if errors.Is(err, lmsys.ErrNotFound) && ref == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := ss[:0]
	for _, sm := range ss {
		if strings.TrimSpace(sm.Title) != "" {
			out = append(out, sm)
		}
	}
	return out, nil
}

// planSummaries compares the run's items of the space's cluster_summaries collection
// with the run's latest summaries.
func (s *Service) planSummaries(ctx context.Context, run lmsys.Run) (*summaryPlan, error) {
	space := run.Space
	coll := space.Collection(KindSummaries)
	p := &summaryPlan{CollectionReport: CollectionReport{Collection: coll, Kind: KindSummaries}, want: map[string]lmsys.Summary{}}
	ss, err := s.latestSummaries(ctx, run.ID, "")
	if err != nil {
		return nil, err
	}
	for _, sm := range ss {
		p.want[clusterItemID(run.ID, sm.ClusterID)] = sm
		p.summaryRunID = sm.SummaryRunID
	}
	p.StoreCount = len(p.want)
	n, exists, err := s.collectionState(ctx, coll, &p.CollectionReport)
	if err != nil {
		return nil, err
	}
	var missing, extra, wrong, stale []string
	seen := map[string]bool{}
	lister, canList := s.index.(ItemLister)
	prefix := "cluster_" + run.ID + "_"
	ours := func(id string, meta map[string]string) bool {
		if r, ok := meta["run_id"]; ok {
			return r == run.ID
		}
		rest, ok := strings.CutPrefix(id, prefix)
		if !ok {
			return false
		}
		_, err := strconv.Atoi(rest)
		return err == nil
	}
	switch {
	case exists && p.IndexDims != 0 && p.IndexDims != space.Dims:
		p.dropAll = true
		p.IDsCompared = canList
		if canList {
			if err := lister.ListItems(ctx, coll, func(id string, _ map[string]string) error {
				wrong = append(wrong, id)
				return nil
			}); err != nil {
				return nil, err
			}
		}
	case exists && canList:
		p.IDsCompared = true
		err := lister.ListItems(ctx, coll, func(id string, meta map[string]string) error {
			if !ours(id, meta) {
				return nil
			}
			p.IndexCount++
			sm, inStore := p.want[id]
			switch {
			case !inStore:
				extra = append(extra, id)
				p.remove = append(p.remove, id)
			case meta["space"] != "" && meta["space"] != space.String():
				wrong = append(wrong, id)
				p.remove = append(p.remove, id)
				p.upsert = append(p.upsert, id)
				seen[id] = true
			case !sameMeta(meta, summaryMetadata(sm, space)):
				stale = append(stale, id)
				p.upsert = append(p.upsert, id)
				seen[id] = true
			default:
				seen[id] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	case exists:
		// Without a listing: summaries are few, so a repair rewrites them all.
		p.IndexCount = -1
		for id := range p.want {
			p.upsert = append(p.upsert, id)
			seen[id] = true
		}
	}
	for id := range p.want {
		if !seen[id] {
			missing = append(missing, id)
			p.upsert = append(p.upsert, id)
		}
	}
	slices.Sort(p.upsert)
	p.upsert = slices.Compact(p.upsert)
	p.Missing, p.Extra, p.WrongSpace, p.Stale = issue(missing), issue(extra), issue(wrong), issue(stale)
	p.InSync = len(missing)+len(extra)+len(wrong)+len(stale) == 0 && !p.dropAll
	if p.IndexCount < 0 {
		p.IndexCount = 0
		p.InSync = n == p.StoreCount
	}
	return p, nil
}

func sameMeta(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if got, ok := a[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// summaryVectors embeds the texts of summaries in space through the store's embedding
// cache, so an unchanged summary is never embedded twice.
func (s *Service) summaryVectors(ctx context.Context, space lmsys.Space, ss []lmsys.Summary) ([][]float32, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	e, err := s.embedder(space)
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(ss))
	for i, sm := range ss {
		texts[i] = summaryEmbedText(sm)
	}
	vs, err := embed.Cached(e, s.db).Embed(ctx, texts, lmsys.PurposeClustering)
	if err != nil {
		return nil, fmt.Errorf("search: embed %d cluster summaries: %w", len(ss), err)
	}
	return vs, nil
}

// applySummaries carries out a summary plan.
func (s *Service) applySummaries(ctx context.Context, run lmsys.Run, p *summaryPlan) error {
	if p.InSync && len(p.upsert) == 0 {
		return nil
	}
	coll := p.Collection
	if p.dropAll {
		d, ok := s.index.(dropper)
		if !ok {
			return fmt.Errorf("search: %s holds %d-dimensional vectors and the index cannot drop it: %w", coll, p.IndexDims, lmsys.ErrSpaceMismatch)
		}
		if err := d.Drop(ctx, coll); err != nil {
			return fmt.Errorf("search: drop %s: %w", coll, err)
		}
		p.Actions = append(p.Actions, fmt.Sprintf("dropped the collection: its %d-dimensional vectors are not of %s (other runs of the space re-index on their next search)", p.IndexDims, run.Space))
		p.upsert = p.upsert[:0]
		for id := range p.want {
			p.upsert = append(p.upsert, id)
		}
		sort.Strings(p.upsert)
	}
	if len(p.remove) > 0 {
		if err := s.index.Delete(ctx, coll, p.remove); err != nil {
			return fmt.Errorf("search: delete from %s: %w", coll, err)
		}
		p.Actions = append(p.Actions, fmt.Sprintf("deleted %d items (%d without a summary in the store, %d of another space)", len(p.remove), p.Extra.Count, p.WrongSpace.Count))
	}
	if len(p.upsert) == 0 {
		return nil
	}
	ss := make([]lmsys.Summary, len(p.upsert))
	for i, id := range p.upsert {
		ss[i] = p.want[id]
	}
	stage := "index summaries " + run.ID
	s.opts.Progress.Report(stage, 0, int64(len(ss)))
	vs, err := s.summaryVectors(ctx, run.Space, ss)
	if err != nil {
		return err
	}
	items := make([]lmsys.Vector, len(ss))
	for i, sm := range ss {
		items[i] = lmsys.Vector{ID: p.upsert[i], Values: vs[i], Metadata: summaryMetadata(sm, run.Space), Document: summaryDocument(sm)}
	}
	if err := s.index.Upsert(ctx, coll, items); err != nil {
		return fmt.Errorf("search: upsert into %s: %w", coll, err)
	}
	s.opts.Progress.Report(stage, int64(len(ss)), int64(len(ss)))
	p.Actions = append(p.Actions, fmt.Sprintf("wrote %d summaries of %s (%d missing, %d stale)", len(ss), p.summaryRunID, p.Missing.Count, p.Stale.Count))
	return nil
}
