package web

import (
	"context"
	"net/http"

	"github.com/lmsys-go/lmsys"
)

// The query endpoints: the filtered query list, pages, and one query with its cluster
// assignments.

// Page says where a page of queries sits, as our earlier answers did. With a cursor
// (the last query id of the previous page) Page is 0; NextCursor is the cursor of the
// next page (0: none).
type Page struct {
	Page       int   `json:"page"`
	PageSize   int   `json:"page_size"`
	TotalPages int   `json:"total_pages"`
	Total      int64 `json:"total"`
	NextCursor int64 `json:"next_cursor,omitempty"`
}

// pageParams reads page (1-based) or cursor, and limit (1 to 100, default def).
func pageParams(p *params, def int) (page, limit int, cursor int64) {
	page, limit = p.page(def)
	if p.has("cursor") {
		c := p.intIn("cursor", 0, 0, -1)
		if p.has("page") {
			p.fail(validation("give page or cursor, not both"))
		}
		return 0, limit, int64(c)
	}
	return page, limit, 0
}

// listPage lists one page of the queries f selects.
func (s *server) listPage(ctx context.Context, f lmsys.QueryFilter, page, limit int, cursor int64) (QueryPage, Page, error) {
	f.Limit = limit
	if cursor > 0 || page == 0 {
		f.AfterID = cursor
	} else {
		f.Offset = (page - 1) * limit
	}
	qs, total, err := s.deps.Store.ListQueriesPage(ctx, f)
	if err != nil {
		return QueryPage{}, Page{}, err
	}
	qp := QueryPage{ListPage: newPage(queryItems(qs), total, page, limit)}
	p := Page{Page: page, PageSize: limit, Total: total, TotalPages: qp.Pages}
	if len(qs) == limit && (page == 0 || int64(page*limit) < total) {
		p.NextCursor = qs[len(qs)-1].ID
		qp.NextCursor = p.NextCursor
	}
	return qp, p, nil
}

func (s *server) apiQueries(r *http.Request) (any, error) {
	p := newParams(r)
	f := lmsys.QueryFilter{Dataset: p.str("dataset"), Model: p.str("model"), Language: p.str("language"), Contains: p.str("contains"), RunID: p.str("run_id"),
		Label: p.str("label")}
	if f.Label != "" {
		if _, _, err := lmsys.ParseLabel(f.Label); err != nil {
			return nil, err
		}
	}
	f.ClusterID = p.optInt("cluster_id")
	page, limit, cursor := pageParams(p, 100)
	if p.err != nil {
		return nil, p.err
	}
	if f.ClusterID != nil && f.RunID == "" {
		return nil, badRequest("cluster_id needs run_id")
	}
	qp, _, err := s.listPage(r.Context(), f, page, limit, cursor)
	return qp, err
}

func (s *server) apiQuery(r *http.Request) (any, error) {
	id, err := pathInt64(r, "query_id")
	if err != nil {
		return nil, err
	}
	v, err := s.cur.ViewQuery(r.Context(), id)
	if err != nil {
		return nil, err
	}
	out := QueryDetail{Query: queryItem(v.Query), Clusters: make([]ClusterInfo, len(v.Clusters))}
	for i, c := range v.Clusters {
		out.Clusters[i] = ClusterInfo{RunID: c.RunID, ClusterID: c.ClusterID, Title: nullable(c.Title), SummaryRunID: c.SummaryRunID, Orphaned: c.Orphaned}
		if !c.Orphaned {
			conf := c.Confidence
			out.Clusters[i].ConfidenceScore = &conf
		}
	}
	return out, nil
}
