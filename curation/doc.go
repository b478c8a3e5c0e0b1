// Package curation edits a clustering run by hand — move queries, rename, merge, split,
// delete, tag and flag clusters, reassign orphaned queries — with a complete audit
// trail and undo.
//
// Every operation of a Curator is one database transaction that changes assignments,
// summaries, metadata, centroids and hierarchies together and writes exactly one
// cluster_edits row (edit type, editor, time, old value, new value, reason). An
// operation that fails changes nothing. The transaction first locks the run's row
// (SELECT … FOR UPDATE on PostgreSQL; SQLite begins every write transaction
// IMMEDIATE), so two processes editing the same run serialise and neither loses the
// other's change.
//
// # What an edit records
//
// The old value of an edit is a snapshot of exactly what the edit changes (the moved
// queries' previous clusters and orphan rows, the clusters' summary rows, metadata,
// centroids and hierarchy nodes, depending on the operation); the new value describes
// what was done and holds a footprint: the queries whose membership changed, the
// clusters whose membership, summary, metadata or existence changed. Undo restores the
// snapshot, is itself audited (edit type "undo", new value "undoes": the edit id, old
// value: the state it replaced, so an undo can in turn be undone), and refuses with
// lmsys.ErrConflict when a later edit depends on the one being undone: a later edit that
// moved one of the same queries, changed the same summary or metadata, or merged,
// split or deleted one of the same clusters (or whose own snapshot would be undercut
// by it). Only the newest edit of such a chain can be undone, one after another.
//
// # Derived data
//
// Counts are derived and recomputed after every edit: summary num_queries of the
// touched clusters (in every summary run of the run) and hierarchy NumQueries of their
// leaves and every parent. Hierarchies are updated in place, not marked stale: a rename
// updates the cluster's level-0 title (and description); a merge or delete removes the
// source leaf from its parent's children (and drops a parent left childless, up the
// tree); a split adds the new cluster as a sibling of the split one. Every hierarchy
// of the run keeps the invariants hierarchy.Validate checks.
//
// The vector index (package semantic) is derived data owned by its callers: after
// every committed edit, Options.OnChange receives the run and the clusters whose
// membership, summary or existence changed, so a CLI or server can re-embed and
// re-index those summaries (and drop the entries of clusters that no longer exist).
package curation
