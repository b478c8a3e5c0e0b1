// Package search answers questions over a clustering run: which clusters are about
// a text (SearchClusters), which queries are (SearchQueries: semantic, full-text or
// hybrid, restricted to clusters, with facets), and whether the vector index agrees
// with the store (Verify, Sync, Info).
//
// # Collections
//
// The store is the system of record; the vector index is derived data, rebuildable at
// any time. Every embedding space has two collections, named as the seed tool names
// its Chroma collections (lmsys.Space.Collection):
//
//   - "queries": one item per query that has a vector of the space in the store's
//     embeddings table, id "query_<id>", metadata query_id, model, language,
//     conversation_id and space.
//   - "cluster_summaries": one item per cluster of each run in the space that has a
//     title in the run's latest summary run, id "cluster_<run_id>_<cluster_id>",
//     metadata run_id, cluster_id, title, description, num_queries, summary_run_id,
//     alias, generated_at (the summary's), doc_hash and space, document
//     "title\n\ndescription". Its vector embeds summarize.Document(title,
//     description, keywords); those vectors are cached in the embeddings table (by
//     text hash, through embed.Cached), so re-indexing never re-embeds an unchanged
//     summary.
//
// A run resolves its space from the store (lmsys.Run.Space) and only ever searches
// that space's collections. Cluster membership is never stored in the index: it is
// joined from the store's query_clusters table for the run at search time, so
// curation edits that move queries take effect immediately.
//
// # Keeping the index in step
//
// The first search of a run in a Service checks the run's collections (summary items
// are compared field by field with the store, the queries collection by count and
// dimension) and syncs what is missing or stale, reporting progress. Later searches of
// that run in the same Service trust the queries collection, while cluster search
// still compares the summaries it returns with the store and re-indexes the run's
// summaries when they differ (a summary run or an edit made by another process). Sync
// does the full comparison and
// repair; Verify reports differences (counts, ids missing or extra on either side,
// vectors of another space, summaries changed since they were indexed) and repairs
// them when asked.
//
// Curation edits change summaries and cluster existence, not vectors of queries. A
// long-lived caller (a server) re-indexes the clusters an edit touched from the
// curation OnChange hook, which also keeps this Service's view fresh:
//
//	cur := curation.New(db, curation.Options{OnChange: func(ctx context.Context, run string, ids []int) {
//		if err := svc.ReindexClusters(ctx, run, ids); err != nil {
//			log.Printf("re-index clusters %v of %s: %v", ids, run, err)
//		}
//	}})
//
// A process without the hook (or whose hook failed) needs nothing more: the next
// Service to search the run compares its summary items with the store and re-indexes
// the changed ones, and Verify after Sync reports nothing to repair.
//
// # Distances
//
// Every distance is the cosine distance 1 − cos between the search text's embedding
// and an item's vector (0 identical, 1 unrelated), except in full-text mode, where
// there may be no embedding at all: there it is 1 − score/best (score is BM25 on
// SQLite, ts_rank on PostgreSQL; 0 for the best match). Hybrid results are ranked by
// reciprocal-rank fusion of the full-text and semantic lists (score Σ 1/(60 + rank)),
// and report the cosine distance of each hit, computed from the query's stored vector
// when the hit came from the full-text list only (1 when it has no vector in the
// run's space).
package search
