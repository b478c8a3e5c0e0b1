package curation

import (
	"maps"

	"github.com/lmsys-go/lmsys"
)

// PythonValues returns copies of an edit's old and new values with the keys the Python
// tool (jxnl/lmsys-query-analysis) records for the same edit type added where they are
// absent, so its viewer and scripts read this library's edits:
//
//	move_query  old {cluster_id, query_id}, new {cluster_id, query_id} (one query from one cluster)
//	rename      old {title, description}, new {title, description}
//	merge       old {source_clusters}, new {target_cluster, queries_moved}
//	split       old {cluster_id, query_ids}, new {new_cluster_id (one new cluster), queries_moved}
//	delete      old {cluster_id, query_count}, new {orphaned, moved_to}
//	tag         old {coherence_score, quality, flags, notes} (when the cluster had metadata)
//
// The values are derived from what the edit stores (its snapshot and new value); a key
// already present, as in an edit the Python tool wrote, is kept. Other edit types, and
// values that do not decode, are returned unchanged. e itself is not modified.
func PythonValues(e lmsys.Edit) (oldValue, newValue map[string]any) {
	oldValue, newValue = maps.Clone(e.OldValue), maps.Clone(e.NewValue)
	var snap snapshot
	var nv struct {
		ClusterID     *int    `json:"cluster_id"`
		QueryIDs      []int64 `json:"query_ids"`
		FromClusters  []int   `json:"from_clusters"`
		Sources       []int   `json:"sources"`
		Target        *int    `json:"target"`
		MovedQueries  *int    `json:"moved_queries"`
		NewClusterIDs []int   `json:"new_cluster_ids"`
		Queries       *int    `json:"queries"`
		MovedTo       *int    `json:"moved_to"`
		Orphaned      bool    `json:"orphaned"`
	}
	if (e.OldValue != nil && fromMap(e.OldValue, &snap) != nil) || (e.NewValue != nil && fromMap(e.NewValue, &nv) != nil) {
		return oldValue, newValue
	}
	if oldValue == nil {
		oldValue = map[string]any{}
	}
	if newValue == nil {
		newValue = map[string]any{}
	}
	add := func(m map[string]any, k string, v any) {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	switch e.EditType {
	case TypeMove:
		if len(nv.FromClusters) == 1 {
			add(oldValue, "cluster_id", nv.FromClusters[0])
		}
		if len(nv.QueryIDs) == 1 {
			add(oldValue, "query_id", nv.QueryIDs[0])
			add(newValue, "query_id", nv.QueryIDs[0])
		}
	case TypeRename:
		if len(snap.Titles) == 1 && snap.Titles[0].Existed {
			add(oldValue, "title", snap.Titles[0].Title)
			add(oldValue, "description", snap.Titles[0].Description)
		}
	case TypeMerge:
		if nv.Sources != nil {
			add(oldValue, "source_clusters", nv.Sources)
		}
		if nv.Target != nil {
			add(newValue, "target_cluster", *nv.Target)
		}
		if nv.MovedQueries != nil {
			add(newValue, "queries_moved", *nv.MovedQueries)
		}
	case TypeSplit:
		if nv.ClusterID != nil {
			add(oldValue, "cluster_id", *nv.ClusterID)
		}
		if len(nv.NewClusterIDs) == 1 {
			add(newValue, "new_cluster_id", nv.NewClusterIDs[0])
		}
		if snap.Parts != nil {
			add(newValue, "queries_moved", len(snap.QueryIDs))
		}
	case TypeDelete:
		if nv.ClusterID != nil {
			add(oldValue, "cluster_id", *nv.ClusterID)
		}
		if nv.Queries != nil {
			add(oldValue, "query_count", *nv.Queries)
		}
		add(newValue, "orphaned", nv.Orphaned)
		add(newValue, "moved_to", nv.MovedTo)
	case TypeTag:
		if len(snap.Metadata) == 1 {
			m := snap.Metadata[0]
			var flags []string
			if len(m.Flags) > 0 {
				flags = m.Flags
			}
			add(oldValue, "coherence_score", m.Coherence)
			add(oldValue, "quality", nullString(m.Quality))
			add(oldValue, "flags", flags)
			add(oldValue, "notes", nullString(m.Notes))
		}
	}
	if len(oldValue) == 0 && e.OldValue == nil {
		oldValue = nil
	}
	if len(newValue) == 0 && e.NewValue == nil {
		newValue = nil
	}
	return oldValue, newValue
}

// nullString is nil for "", else s.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
