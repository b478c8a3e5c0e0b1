package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFoldAndValues(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		cols       int
		buf        []any
		want       bulkShape
		wantParams []any
		sqlite, pg string
	}{
		{
			name: "nothing shared", cols: 2,
			buf:  []any{int64(1), "a", int64(2), "b"},
			want: bulkShape{rows: 2}, wantParams: []any{int64(1), "a", int64(2), "b"},
			sqlite: "(?,?),(?,?)", pg: "($1,$2),($3,$4)",
		},
		{
			name: "shared and NULL columns", cols: 4,
			buf:  []any{int64(7), "a", nil, at, int64(7), "b", nil, at, int64(7), "c", nil, at},
			want: bulkShape{rows: 3, shared: 0b1001, nulled: 0b0100}, wantParams: []any{int64(7), "a", at, "b", "c"},
			sqlite: "(:c0,?,NULL,:c3),(:c0,?,NULL,:c3),(:c0,?,NULL,:c3)",
			pg:     "($1,$2,NULL,$3),($1,$4,NULL,$3),($1,$5,NULL,$3)",
		},
		{
			name: "byte slices and mixed types are never shared", cols: 3,
			buf:  []any{[]byte{1}, int64(1), "x", []byte{1}, int(1), "x"},
			want: bulkShape{rows: 2, shared: 0b100}, wantParams: []any{[]byte{1}, int64(1), "x", []byte{1}, int(1)},
			sqlite: "(?,?,:c2),(?,?,:c2)", pg: "($1,$2,$3),($4,$5,$3)",
		},
		{
			name: "a NULL in one row only", cols: 2,
			buf:  []any{nil, 1.5, "t", 1.5},
			want: bulkShape{rows: 2, shared: 0b10}, wantParams: []any{nil, 1.5, "t"},
			sqlite: "(?,:c1),(?,:c1)", pg: "($1,$2),($3,$2)",
		},
		{
			name: "one row is left alone", cols: 2,
			buf:  []any{nil, true},
			want: bulkShape{rows: 1}, wantParams: []any{nil, true},
			sqlite: "(?,?)", pg: "($1,$2)",
		},
		{
			name: "times in other zones differ", cols: 1,
			buf:  []any{at, at.In(time.FixedZone("x", 3600))},
			want: bulkShape{rows: 2}, wantParams: []any{at, at.In(time.FixedZone("x", 3600))},
			sqlite: "(?),(?)", pg: "($1),($2)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			buf := append([]any(nil), tc.buf...)
			sh, params := fold(buf, tc.cols)
			assert.Equal(t, tc.want, sh)
			assert.Equal(t, tc.wantParams, params)
			for _, v := range buf[len(params):] {
				assert.Nil(t, v, "values past the parameters are cleared")
			}
			assert.Equal(t, tc.sqlite, values(sh, tc.cols, false))
			assert.Equal(t, tc.pg, values(sh, tc.cols, true))
		})
	}
}

func TestInsertPreparedRejectsAnotherKindOfStore(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	defer db.Close()
	_, err = db.InsertPrepared(ctx, &PreparedQueries{n: 1, postgres: true})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = db.InsertPrepared(ctx, foreignBatch{})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	n, err := db.InsertPrepared(ctx, db.PrepareQueries(nil, nil))
	require.NoError(t, err)
	assert.Zero(t, n)
}

// foreignBatch is a lmsys.PreparedQueries that no store.DB prepared.
type foreignBatch struct{}

func (foreignBatch) Len() int { return 1 }
