package semantic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeChroma is an in-memory server for the part of Chroma's HTTP API v2 the
// client uses, written from Chroma's documented wire format. It is strict where
// Chroma is: unknown JSON fields, mismatched list lengths, empty metadata maps,
// unknown include values and unknown collections are errors.
type fakeChroma struct {
	mu        sync.Mutex
	tenants   map[string]map[string]bool // tenant → databases
	colls     map[string]*fakeColl       // id → collection
	failNext  int                        // answer this many requests with 500 first
	garbage   bool                       // answer queries with invalid JSON
	requests  []string
	lastQuery map[string]any
}

type fakeColl struct {
	id, name, tenant, db string
	metadata             map[string]any
	dim                  int
	recs                 map[string]fakeRec
}

type fakeRec struct {
	emb  []float32
	meta map[string]any
	doc  *string
}

func newFakeChroma() *fakeChroma {
	return &fakeChroma{tenants: map[string]map[string]bool{"default_tenant": {"default_database": true}}, colls: map[string]*fakeColl{}}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func chromaErr(w http.ResponseWriter, code int, kind, msg string) {
	writeJSON(w, code, map[string]string{"error": kind, "message": msg})
}

func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (f *fakeChroma) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/tenants/{tenant}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := f.tenants[r.PathValue("tenant")]; !ok {
			chromaErr(w, 404, "NotFoundError", "tenant not found")
			return
		}
		writeJSON(w, 200, map[string]string{"name": r.PathValue("tenant")})
	})
	mux.HandleFunc("POST /api/v2/tenants", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Name string }
		if err := decodeStrict(r, &body); err != nil || body.Name == "" {
			chromaErr(w, 400, "InvalidArgumentError", "bad tenant")
			return
		}
		f.tenants[body.Name] = map[string]bool{}
		writeJSON(w, 200, map[string]any{})
	})
	mux.HandleFunc("GET /api/v2/tenants/{tenant}/databases/{db}", func(w http.ResponseWriter, r *http.Request) {
		if !f.tenants[r.PathValue("tenant")][r.PathValue("db")] {
			chromaErr(w, 404, "NotFoundError", "database not found")
			return
		}
		writeJSON(w, 200, map[string]string{"id": "00000000-0000-0000-0000-000000000001", "name": r.PathValue("db"), "tenant": r.PathValue("tenant")})
	})
	mux.HandleFunc("POST /api/v2/tenants/{tenant}/databases", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Name string }
		dbs, ok := f.tenants[r.PathValue("tenant")]
		if err := decodeStrict(r, &body); err != nil || body.Name == "" || !ok {
			chromaErr(w, 400, "InvalidArgumentError", "bad database")
			return
		}
		dbs[body.Name] = true
		writeJSON(w, 200, map[string]any{})
	})
	const db = "/api/v2/tenants/{tenant}/databases/{db}"
	mux.HandleFunc("POST "+db+"/collections", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Name          string         `json:"name"`
			Metadata      map[string]any `json:"metadata"`
			Configuration map[string]any `json:"configuration"`
			GetOrCreate   bool           `json:"get_or_create"`
		}
		if err := decodeStrict(r, &body); err != nil || body.Name == "" {
			chromaErr(w, 400, "InvalidArgumentError", fmt.Sprint("bad collection: ", err))
			return
		}
		if c := f.byName(r, body.Name); c != nil {
			if !body.GetOrCreate {
				chromaErr(w, 409, "UniqueConstraintError", "collection exists")
				return
			}
			writeJSON(w, 200, c.model())
			return
		}
		c := &fakeColl{id: fmt.Sprintf("6b1c2a8e-0000-4000-8000-%012d", len(f.colls)+1), name: body.Name,
			tenant: r.PathValue("tenant"), db: r.PathValue("db"), metadata: body.Metadata, recs: map[string]fakeRec{}}
		f.colls[c.id] = c
		writeJSON(w, 200, c.model())
	})
	mux.HandleFunc("GET "+db+"/collections", func(w http.ResponseWriter, r *http.Request) {
		var out []map[string]any
		for _, c := range f.colls {
			if c.tenant == r.PathValue("tenant") && c.db == r.PathValue("db") {
				out = append(out, c.model())
			}
		}
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("GET "+db+"/collections/{name}", func(w http.ResponseWriter, r *http.Request) {
		c := f.byName(r, r.PathValue("name"))
		if c == nil {
			chromaErr(w, 404, "NotFoundError", "Collection "+r.PathValue("name")+" does not exist")
			return
		}
		writeJSON(w, 200, c.model())
	})
	mux.HandleFunc("GET "+db+"/collections/{id}/count", func(w http.ResponseWriter, r *http.Request) {
		if c := f.byID(w, r); c != nil {
			writeJSON(w, 200, len(c.recs))
		}
	})
	mux.HandleFunc("POST "+db+"/collections/{id}/upsert", func(w http.ResponseWriter, r *http.Request) {
		c := f.byID(w, r)
		if c == nil {
			return
		}
		var body struct {
			IDs        []string         `json:"ids"`
			Embeddings [][]float32      `json:"embeddings"`
			Metadatas  []map[string]any `json:"metadatas"`
			Documents  []*string        `json:"documents"`
			URIs       []*string        `json:"uris"`
		}
		if err := decodeStrict(r, &body); err != nil {
			chromaErr(w, 400, "InvalidArgumentError", err.Error())
			return
		}
		n := len(body.IDs)
		if len(body.Embeddings) != n || body.Metadatas != nil && len(body.Metadatas) != n || body.Documents != nil && len(body.Documents) != n {
			chromaErr(w, 400, "InvalidArgumentError", "list lengths differ")
			return
		}
		for i, e := range body.Embeddings {
			if c.dim == 0 {
				c.dim = len(e)
			}
			if len(e) != c.dim {
				chromaErr(w, 400, "InvalidArgumentError", fmt.Sprintf("Collection expecting embedding with dimension of %d, got %d", c.dim, len(e)))
				return
			}
			if body.Metadatas != nil && body.Metadatas[i] != nil && len(body.Metadatas[i]) == 0 {
				chromaErr(w, 400, "InvalidArgumentError", "Expected metadata to be a non-empty dict")
				return
			}
		}
		for i, id := range body.IDs {
			rec := fakeRec{emb: body.Embeddings[i]}
			if body.Metadatas != nil {
				rec.meta = body.Metadatas[i]
			}
			if body.Documents != nil {
				rec.doc = body.Documents[i]
			}
			c.recs[id] = rec
		}
		writeJSON(w, 200, map[string]any{})
	})
	mux.HandleFunc("POST "+db+"/collections/{id}/delete", func(w http.ResponseWriter, r *http.Request) {
		c := f.byID(w, r)
		if c == nil {
			return
		}
		var body struct {
			IDs   []string       `json:"ids"`
			Where map[string]any `json:"where"`
		}
		if err := decodeStrict(r, &body); err != nil {
			chromaErr(w, 400, "InvalidArgumentError", err.Error())
			return
		}
		for _, id := range body.IDs {
			delete(c.recs, id)
		}
		writeJSON(w, 200, map[string]any{})
	})
	mux.HandleFunc("POST "+db+"/collections/{id}/query", func(w http.ResponseWriter, r *http.Request) {
		c := f.byID(w, r)
		if c == nil {
			return
		}
		if f.garbage {
			w.Write([]byte("{not json"))
			return
		}
		var body struct {
			QueryEmbeddings [][]float32    `json:"query_embeddings"`
			NResults        int            `json:"n_results"`
			Where           map[string]any `json:"where"`
			WhereDocument   map[string]any `json:"where_document"`
			IDs             []string       `json:"ids"`
			Include         []string       `json:"include"`
		}
		raw := map[string]any{}
		buf := new(bytes.Buffer)
		buf.ReadFrom(r.Body)
		json.Unmarshal(buf.Bytes(), &raw)
		f.lastQuery = raw
		dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			chromaErr(w, 400, "InvalidArgumentError", err.Error())
			return
		}
		for _, inc := range body.Include {
			switch inc {
			case "documents", "embeddings", "metadatas", "distances", "uris":
			default:
				chromaErr(w, 400, "InvalidArgumentError", "bad include "+inc)
				return
			}
		}
		var idset map[string]bool
		if body.IDs != nil {
			idset = map[string]bool{}
			for _, id := range body.IDs {
				idset[id] = true
			}
		}
		out := map[string]any{"include": body.Include}
		var allIDs [][]string
		var allD [][]float32
		var allM [][]map[string]any
		var allDoc [][]*string
		for _, q := range body.QueryEmbeddings {
			if len(q) != c.dim {
				chromaErr(w, 400, "InvalidArgumentError", "query dimension")
				return
			}
			type cand struct {
				id string
				d  float32
			}
			var cs []cand
			for id, rec := range c.recs {
				if idset != nil && !idset[id] {
					continue
				}
				ok, err := fakeWhere(body.Where, rec.meta)
				if err != nil {
					chromaErr(w, 400, "InvalidArgumentError", err.Error())
					return
				}
				if ok {
					cs = append(cs, cand{id, cosineDistance(q, rec.emb)})
				}
			}
			sort.Slice(cs, func(i, j int) bool { return cs[i].d < cs[j].d || cs[i].d == cs[j].d && cs[i].id < cs[j].id })
			if len(cs) > body.NResults {
				cs = cs[:body.NResults]
			}
			ids, ds, ms, docs := []string{}, []float32{}, []map[string]any{}, []*string{}
			for _, cd := range cs {
				ids = append(ids, cd.id)
				ds = append(ds, cd.d)
				ms = append(ms, c.recs[cd.id].meta)
				docs = append(docs, c.recs[cd.id].doc)
			}
			allIDs, allD, allM, allDoc = append(allIDs, ids), append(allD, ds), append(allM, ms), append(allDoc, docs)
		}
		out["ids"], out["distances"], out["metadatas"], out["documents"], out["embeddings"] = allIDs, allD, allM, allDoc, nil
		writeJSON(w, 200, out)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		if f.failNext > 0 {
			f.failNext--
			chromaErr(w, 500, "InternalError", "try again")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (c *fakeColl) model() map[string]any {
	m := map[string]any{"id": c.id, "name": c.name, "metadata": c.metadata, "tenant": c.tenant, "database": c.db,
		"configuration_json": map[string]any{}, "log_position": 0, "version": 0}
	if c.dim > 0 {
		m["dimension"] = c.dim
	} else {
		m["dimension"] = nil
	}
	return m
}

func (f *fakeChroma) byName(r *http.Request, name string) *fakeColl {
	for _, c := range f.colls {
		if c.name == name && c.tenant == r.PathValue("tenant") && c.db == r.PathValue("db") {
			return c
		}
	}
	return nil
}

func (f *fakeChroma) byID(w http.ResponseWriter, r *http.Request) *fakeColl {
	c := f.colls[r.PathValue("id")]
	if c == nil {
		chromaErr(w, 404, "NotFoundError", "collection not found")
	}
	return c
}

// fakeWhere evaluates Chroma's where: {k: v}, {k: {"$eq": v}}, {"$and": [...]}.
func fakeWhere(where map[string]any, meta map[string]any) (bool, error) {
	for k, v := range where {
		if k == "$and" {
			list, ok := v.([]any)
			if !ok || len(list) < 2 {
				return false, fmt.Errorf("$and needs a list of at least two expressions")
			}
			for _, e := range list {
				m, _ := e.(map[string]any)
				ok, err := fakeWhere(m, meta)
				if err != nil || !ok {
					return false, err
				}
			}
			continue
		}
		if strings.HasPrefix(k, "$") {
			return false, fmt.Errorf("unsupported operator %s", k)
		}
		want := v
		if op, ok := v.(map[string]any); ok {
			if len(op) != 1 || op["$eq"] == nil {
				return false, fmt.Errorf("unsupported where operator %v", op)
			}
			want = op["$eq"]
		}
		if len(where) > 1 {
			return false, fmt.Errorf("where with several keys must use $and")
		}
		if meta[k] != want {
			return false, nil
		}
	}
	return true, nil
}

func cosineDistance(a, b []float32) float32 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return float32(1 - d/math.Sqrt(na*nb))
}

func TestChromaAgainstFakeServer(t *testing.T) {
	ctx := context.Background()
	fake := newFakeChroma()
	srv := httptest.NewServer(fake.handler())
	defer srv.Close()
	c, err := NewChroma(ChromaOptions{BaseURL: srv.URL, Tenant: "acme", Database: "logs", BatchSize: 7})
	require.NoError(t, err)

	_, err = c.Count(ctx, "queries")
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	assert.Contains(t, fake.requests, "POST /api/v2/tenants", "missing tenant is created")
	assert.Contains(t, fake.requests, "POST /api/v2/tenants/acme/databases", "missing database is created")

	data := blobs(40, 8, 3, 5)
	data[3].Metadata = nil
	data[4].Document = ""
	require.NoError(t, c.Upsert(ctx, "queries", data))
	n, err := c.Count(ctx, "queries")
	require.NoError(t, err)
	assert.Equal(t, 40, n)
	upserts := 0
	for _, r := range fake.requests {
		if strings.HasSuffix(r, "/upsert") {
			upserts++
		}
	}
	assert.Equal(t, 6, upserts, "40 items in batches of 7")
	assert.Equal(t, "cosine", fake.colls[c.ids["queries"]].metadata["hnsw:space"])

	ref := NewExact()
	require.NoError(t, ref.Upsert(ctx, "queries", data))
	for _, f := range []lmsys.Filter{{}, {Where: map[string]string{"parity": "1"}},
		{Where: map[string]string{"parity": "0", "cluster": "1"}}, {IDs: []string{"v1", "v2", "v3", "v30"}}} {
		got, err := c.Search(ctx, "queries", data[2].Values, 5, f)
		require.NoError(t, err)
		want, err := ref.Search(ctx, "queries", data[2].Values, 5, f)
		require.NoError(t, err)
		require.Equal(t, hitIDs(want), hitIDs(got), "filter %+v", f)
		for i := range got {
			assert.InDelta(t, want[i].Distance, got[i].Distance, 1e-5)
			assert.Equal(t, want[i].Metadata, got[i].Metadata)
			assert.Equal(t, want[i].Document, got[i].Document)
		}
	}
	assert.Equal(t, map[string]any{"$and": []any{map[string]any{"cluster": map[string]any{"$eq": "1"}}, map[string]any{"parity": map[string]any{"$eq": "0"}}}},
		func() any {
			_, err := c.Search(ctx, "queries", data[2].Values, 5, lmsys.Filter{Where: map[string]string{"parity": "0", "cluster": "1"}})
			require.NoError(t, err)
			return fake.lastQuery["where"]
		}())
	hs, err := c.Search(ctx, "queries", data[2].Values, 5, lmsys.Filter{IDs: []string{}})
	require.NoError(t, err)
	assert.Empty(t, hs, "an empty id set matches nothing")

	require.NoError(t, c.Delete(ctx, "queries", []string{"v1", "v2", "nope"}))
	require.NoError(t, c.Delete(ctx, "other", []string{"v1"}), "unknown collection: nothing to delete")
	n, _ = c.Count(ctx, "queries")
	assert.Equal(t, 38, n)

	// A fresh client finds the existing collection by name.
	c2, err := NewChroma(ChromaOptions{BaseURL: srv.URL + "/", Tenant: "acme", Database: "logs"})
	require.NoError(t, err)
	n, err = c2.Count(ctx, "queries")
	require.NoError(t, err)
	assert.Equal(t, 38, n)
	info, err := c2.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, []CollectionInfo{{Name: "queries", Kind: "chroma", Count: 38, Dims: 8, Saved: true}}, info)
}

func TestChromaErrors(t *testing.T) {
	ctx := context.Background()
	fake := newFakeChroma()
	srv := httptest.NewServer(fake.handler())
	defer srv.Close()
	c, err := NewChroma(ChromaOptions{BaseURL: srv.URL, Retries: 2})
	require.NoError(t, err)
	data := blobs(5, 4, 2, 1)

	fake.failNext = 2
	require.NoError(t, c.Upsert(ctx, "c", data), "two 500s are retried")
	fake.failNext = 10
	_, err = c.Count(ctx, "c")
	assert.ErrorIs(t, err, lmsys.ErrProvider)
	assert.Contains(t, err.Error(), "HTTP 500")
	fake.failNext = 0

	err = c.Upsert(ctx, "c", []lmsys.Vector{{ID: "x", Values: []float32{1, 2, 3}}})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput, "server-side dimension error is a 400")
	assert.Contains(t, err.Error(), "dimension")
	before := len(fake.requests)
	err = c.Upsert(ctx, "c", []lmsys.Vector{{ID: "y", Values: []float32{1, 0, 0, 0}}, {ID: "z", Values: []float32{float32(math.NaN()), 0, 0, 0}}})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Equal(t, before, len(fake.requests), "a bad batch sends nothing")

	fake.garbage = true
	_, err = c.Search(ctx, "c", data[0].Values, 3, lmsys.Filter{})
	assert.ErrorIs(t, err, lmsys.ErrProvider)
	fake.garbage = false
	_, err = c.Search(ctx, "c", data[0].Values, 0, lmsys.Filter{})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)

	_, err = NewChroma(ChromaOptions{BaseURL: "localhost:8000"})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Search(cctx, "c", data[0].Values, 3, lmsys.Filter{})
	assert.ErrorIs(t, err, context.Canceled)
}
