package store_test

import (
	"context"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSearchSubstring(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "ds", Source: "test"})
		require.NoError(t, err)
		texts := []string{"写一个关于时间旅行者的故事", "时间管理的方法", "时间", "用Python写一个爬虫", "50% off 时间_sale", "plain english"}
		qs := make([]lmsys.Query, len(texts))
		for i, s := range texts {
			qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: s, Text: s}
		}
		_, err = db.InsertQueries(ctx, qs)
		require.NoError(t, err)
		all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		id := map[string]int64{}
		for _, q := range all {
			id[q.Text] = q.ID
		}

		assert.True(t, store.NeedsSubstring("时间"))
		assert.True(t, store.NeedsSubstring("タイム"))
		assert.False(t, store.NeedsSubstring("alarm clock"))
		assert.False(t, store.NeedsSubstring("будильник"))

		// "时间" begins three tokens (时间, 时间管理的方法, 时间 of 时间_sale): the index finds
		// those, the substring the run that holds it inside.
		hits, err := db.SearchText(ctx, "时间", lmsys.QueryFilter{}, 10)
		require.NoError(t, err)
		assert.Len(t, hits, 3)
		ids, n, err := db.SearchSubstring(ctx, "时间", lmsys.QueryFilter{}, 0, 0)
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		assert.Equal(t, []int64{id["写一个关于时间旅行者的故事"]}, ids, "without the index's hits")
		ids, n, err = db.SearchSubstring(ctx, "的", lmsys.QueryFilter{}, 1, 1)
		require.NoError(t, err)
		assert.EqualValues(t, 2, n)
		assert.Equal(t, []int64{id["时间管理的方法"]}, ids, "by id, limit and offset")
		// LIKE wildcards in the text are literal.
		_, n, err = db.SearchSubstring(ctx, "间_s", lmsys.QueryFilter{}, 0, 0)
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		_, n, err = db.SearchSubstring(ctx, "写%爬", lmsys.QueryFilter{}, 0, 0)
		require.NoError(t, err)
		assert.Zero(t, n)
		// Any case for ASCII, as LIKE: "PYTHON" inside a run of Han letters.
		ids, _, err = db.SearchSubstring(ctx, "PYTHON写", lmsys.QueryFilter{}, 0, 0)
		require.NoError(t, err)
		assert.Equal(t, []int64{id["用Python写一个爬虫"]}, ids)
		// A run that does not exist selects nothing.
		_, n, err = db.SearchSubstring(ctx, "时间", lmsys.QueryFilter{RunID: "nope"}, 0, 0)
		require.NoError(t, err)
		assert.Zero(t, n)
		_, _, err = db.SearchSubstring(ctx, " ", lmsys.QueryFilter{}, 0, 0)
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	})
}
