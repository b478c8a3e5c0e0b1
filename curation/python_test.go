package curation_test

import (
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/stretchr/testify/assert"
)

func TestPythonValues(t *testing.T) {
	for _, tc := range []struct {
		name             string
		edit             lmsys.Edit
		wantOld, wantNew map[string]any
	}{
		{
			name:    "several queries moved: no single query_id or source cluster",
			edit:    lmsys.Edit{EditType: curation.TypeMove, OldValue: map[string]any{"parts": []any{"assignments"}}, NewValue: map[string]any{"cluster_id": 3.0, "query_ids": []any{1.0, 2.0}, "from_clusters": []any{1.0, 2.0}}},
			wantOld: map[string]any{"parts": []any{"assignments"}},
			wantNew: map[string]any{"cluster_id": 3.0, "query_ids": []any{1.0, 2.0}, "from_clusters": []any{1.0, 2.0}},
		},
		{
			name:    "an orphan moved: no source cluster",
			edit:    lmsys.Edit{EditType: curation.TypeMove, OldValue: map[string]any{"parts": []any{"assignments"}}, NewValue: map[string]any{"cluster_id": 3.0, "query_ids": []any{7.0}, "from_clusters": []any{}}},
			wantOld: map[string]any{"parts": []any{"assignments"}, "query_id": int64(7)},
			wantNew: map[string]any{"cluster_id": 3.0, "query_ids": []any{7.0}, "from_clusters": []any{}, "query_id": int64(7)},
		},
		{
			name: "a k-way split: no single new cluster",
			edit: lmsys.Edit{EditType: curation.TypeSplit, OldValue: map[string]any{"parts": []any{"assignments"}, "query_ids": []any{4.0, 5.0, 6.0}},
				NewValue: map[string]any{"cluster_id": 1.0, "new_cluster_ids": []any{8.0, 9.0}}},
			wantOld: map[string]any{"parts": []any{"assignments"}, "query_ids": []any{4.0, 5.0, 6.0}, "cluster_id": 1},
			wantNew: map[string]any{"cluster_id": 1.0, "new_cluster_ids": []any{8.0, 9.0}, "queries_moved": 3},
		},
		{
			name:    "a rename of a cluster that had no title",
			edit:    lmsys.Edit{EditType: curation.TypeRename, OldValue: map[string]any{"parts": []any{"titles"}, "titles": []any{map[string]any{"cluster_id": 1.0, "existed": false}}}, NewValue: map[string]any{"title": "New"}},
			wantOld: map[string]any{"parts": []any{"titles"}, "titles": []any{map[string]any{"cluster_id": 1.0, "existed": false}}},
			wantNew: map[string]any{"title": "New"},
		},
		{
			name:    "the Python tool's split keeps its keys",
			edit:    lmsys.Edit{EditType: curation.TypeSplit, OldValue: map[string]any{"cluster_id": 1.0, "query_ids": []any{4.0}}, NewValue: map[string]any{"new_cluster_id": 9.0, "queries_moved": 1.0}},
			wantOld: map[string]any{"cluster_id": 1.0, "query_ids": []any{4.0}},
			wantNew: map[string]any{"new_cluster_id": 9.0, "queries_moved": 1.0},
		},
		{
			name:    "a value that does not decode is returned as it is",
			edit:    lmsys.Edit{EditType: curation.TypeMerge, OldValue: map[string]any{"parts": "assignments"}, NewValue: map[string]any{"target": 2.0}},
			wantOld: map[string]any{"parts": "assignments"},
			wantNew: map[string]any{"target": 2.0},
		},
		{
			name:    "an undo is returned as it is",
			edit:    lmsys.Edit{EditType: curation.TypeUndo, NewValue: map[string]any{"undoes": 3.0}},
			wantNew: map[string]any{"undoes": 3.0},
		},
		{
			name: "no values",
			edit: lmsys.Edit{EditType: curation.TypeRename},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := map[string]any{}
			for k, v := range tc.edit.NewValue {
				before[k] = v
			}
			gotOld, gotNew := curation.PythonValues(tc.edit)
			assert.Equal(t, tc.wantOld, gotOld)
			assert.Equal(t, tc.wantNew, gotNew)
			if tc.edit.NewValue != nil {
				assert.Equal(t, before, tc.edit.NewValue, "the edit is not modified")
			}
		})
	}
}
