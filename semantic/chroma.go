package semantic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
)

// ChromaOptions configures a Chroma client.
type ChromaOptions struct {
	// BaseURL is the server, e.g. "http://localhost:8000" (required).
	BaseURL string
	// Tenant and Database default to Chroma's "default_tenant" and "default_database";
	// both are created when missing.
	Tenant, Database string
	// Token, when set, is sent as "Authorization: Bearer <token>" (Chroma's token auth).
	Token string
	// HTTPClient defaults to a client with a 60 s timeout.
	HTTPClient *http.Client
	// BatchSize is the number of records per add/upsert request (1000).
	BatchSize int
	// Retries is how often a request failing with 429 or 5xx is retried (3).
	Retries int
}

// Chroma is a VectorIndex kept in a Chroma server, spoken to over its HTTP API v2
// (/api/v2/tenants/{tenant}/databases/{database}/collections/…) with net/http.
// Collections are created on first Upsert with cosine space, so distances match the
// local indexes (1 − cos). It is safe for concurrent use.
type Chroma struct {
	opts   ChromaOptions
	base   string
	client *http.Client
	mu     sync.Mutex
	ready  bool
	ids    map[string]string // collection name → Chroma collection id
}

var _ lmsys.VectorIndex = (*Chroma)(nil)

// NewChroma returns a client for the server at opts.BaseURL.
func NewChroma(opts ChromaOptions) (*Chroma, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: Chroma URL %q is not an http(s) URL", lmsys.ErrInvalidInput, opts.BaseURL)
	}
	if opts.Tenant == "" {
		opts.Tenant = "default_tenant"
	}
	if opts.Database == "" {
		opts.Database = "default_database"
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	} else if opts.Retries == 0 {
		opts.Retries = 3
	}
	c := &Chroma{opts: opts, base: strings.TrimRight(opts.BaseURL, "/") + "/api/v2", client: opts.HTTPClient, ids: map[string]string{}}
	if c.client == nil {
		c.client = &http.Client{Timeout: 60 * time.Second}
	}
	return c, nil
}

// chromaError is Chroma's error body.
type chromaError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// call sends one request (JSON body when in is not nil) and decodes a 2xx answer
// into out. 429 and 5xx are retried with backoff; 404 wraps lmsys.ErrNotFound,
// other 4xx lmsys.ErrInvalidInput, and an exhausted retry or an unreadable answer
// lmsys.ErrProvider.
func (c *Chroma) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("chroma %s %s: encoding request: %w", method, path, err)
		}
	}
	var last error
	for attempt := 0; attempt <= c.opts.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(100<<(attempt-1)) * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("chroma %s %s: %w", method, path, err)
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		if c.opts.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.opts.Token)
		}
		resp, err := c.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = err
			continue
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		if resp.StatusCode/100 == 2 {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%w: chroma %s %s: unreadable answer (%v): %.200q", lmsys.ErrProvider, method, path, err, data)
			}
			return nil
		}
		var ce chromaError
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &ce) == nil && (ce.Error != "" || ce.Message != "") {
			msg = strings.TrimSpace(ce.Error + ": " + ce.Message)
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		last = fmt.Errorf("HTTP %d: %s", resp.StatusCode, msg)
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: chroma %s %s: %v", lmsys.ErrNotFound, method, path, last)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			continue
		default:
			return fmt.Errorf("%w: chroma %s %s: %v", lmsys.ErrInvalidInput, method, path, last)
		}
	}
	return fmt.Errorf("%w: chroma %s %s failed after %d attempts: %v", lmsys.ErrProvider, method, path, c.opts.Retries+1, last)
}

func (c *Chroma) dbPath() string {
	return "/tenants/" + url.PathEscape(c.opts.Tenant) + "/databases/" + url.PathEscape(c.opts.Database)
}

// ensureDatabase creates the tenant and database when they do not exist yet.
func (c *Chroma) ensureDatabase(ctx context.Context) error {
	if c.ready {
		return nil
	}
	tp := "/tenants/" + url.PathEscape(c.opts.Tenant)
	if err := c.call(ctx, http.MethodGet, tp, nil, nil); errors.Is(err, lmsys.ErrNotFound) {
		if err := c.call(ctx, http.MethodPost, "/tenants", map[string]string{"name": c.opts.Tenant}, nil); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := c.call(ctx, http.MethodGet, c.dbPath(), nil, nil); errors.Is(err, lmsys.ErrNotFound) {
		if err := c.call(ctx, http.MethodPost, tp+"/databases", map[string]string{"name": c.opts.Database}, nil); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	c.ready = true
	return nil
}

// chromaCollection is the part of Chroma's Collection model this client reads.
type chromaCollection struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Metadata  map[string]any `json:"metadata"`
	Dimension *int           `json:"dimension"`
}

// collectionID resolves a collection name to its id, creating the collection (with
// cosine space) when create is set; otherwise an unknown name is lmsys.ErrNotFound.
func (c *Chroma) collectionID(ctx context.Context, name string, create bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ids[name]; ok {
		return id, nil
	}
	if err := c.ensureDatabase(ctx); err != nil {
		return "", err
	}
	var col chromaCollection
	var err error
	if create {
		err = c.call(ctx, http.MethodPost, c.dbPath()+"/collections", map[string]any{
			"name": name, "metadata": map[string]any{"hnsw:space": "cosine"}, "get_or_create": true,
		}, &col)
	} else {
		err = c.call(ctx, http.MethodGet, c.dbPath()+"/collections/"+url.PathEscape(name), nil, &col)
	}
	if err != nil {
		return "", err
	}
	if col.ID == "" {
		return "", fmt.Errorf("%w: chroma returned collection %q without an id", lmsys.ErrProvider, name)
	}
	c.ids[name] = col.ID
	return col.ID, nil
}

func (c *Chroma) collPath(id string) string { return c.dbPath() + "/collections/" + url.PathEscape(id) }

// chromaRecords is the body of add and upsert.
type chromaRecords struct {
	IDs        []string            `json:"ids"`
	Embeddings [][]float32         `json:"embeddings"`
	Metadatas  []map[string]string `json:"metadatas,omitempty"`
	Documents  []*string           `json:"documents,omitempty"`
}

// Upsert writes items in batches of BatchSize with Chroma's upsert. The whole batch
// is validated first, so a bad item sends nothing; a failing request can still
// leave earlier batches written (Chroma has no transactions), which a retry of the
// same Upsert repairs.
func (c *Chroma) Upsert(ctx context.Context, collection string, items []lmsys.Vector) error {
	if err := checkCollection(collection); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	if _, err := validateItems(collection, items, 0); err != nil {
		return err
	}
	for _, it := range items {
		for i, x := range it.Values {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: collection %q item %q has a non-finite value at position %d", lmsys.ErrInvalidInput, collection, it.ID, i)
			}
		}
	}
	id, err := c.collectionID(ctx, collection, true)
	if err != nil {
		return err
	}
	for lo := 0; lo < len(items); lo += c.opts.BatchSize {
		batch := items[lo:min(lo+c.opts.BatchSize, len(items))]
		rec := chromaRecords{IDs: make([]string, len(batch)), Embeddings: make([][]float32, len(batch))}
		hasMeta, hasDoc := false, false
		for _, it := range batch {
			hasMeta = hasMeta || len(it.Metadata) > 0
			hasDoc = hasDoc || it.Document != ""
		}
		if hasMeta {
			rec.Metadatas = make([]map[string]string, len(batch))
		}
		if hasDoc {
			rec.Documents = make([]*string, len(batch))
		}
		for i, it := range batch {
			rec.IDs[i], rec.Embeddings[i] = it.ID, it.Values
			if hasMeta {
				rec.Metadatas[i] = cloneMeta(it.Metadata) // nil for none: Chroma refuses {}
			}
			if hasDoc && it.Document != "" {
				rec.Documents[i] = &batch[i].Document
			}
		}
		if err := c.call(ctx, http.MethodPost, c.collPath(id)+"/upsert", rec, nil); err != nil {
			return fmt.Errorf("upserting into chroma collection %q (items %d–%d): %w", collection, lo, lo+len(batch)-1, err)
		}
	}
	return nil
}

// chromaWhere translates an equality filter into Chroma's where syntax.
func chromaWhere(where map[string]string) map[string]any {
	if len(where) == 0 {
		return nil
	}
	if len(where) == 1 {
		for k, v := range where {
			return map[string]any{k: v}
		}
	}
	keys := make([]string, 0, len(where))
	for k := range where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	and := make([]any, len(keys))
	for i, k := range keys {
		and[i] = map[string]any{k: map[string]any{"$eq": where[k]}}
	}
	return map[string]any{"$and": and}
}

// chromaQueryResult is Chroma's QueryResponse: one inner list per query embedding.
type chromaQueryResult struct {
	IDs       [][]string         `json:"ids"`
	Distances [][]*float32       `json:"distances"`
	Metadatas [][]map[string]any `json:"metadatas"`
	Documents [][]*string        `json:"documents"`
}

// Search runs Chroma's query with the filter's ids and where clause. An unknown
// collection is lmsys.ErrNotFound.
func (c *Chroma) Search(ctx context.Context, collection string, q []float32, k int, f lmsys.Filter) ([]lmsys.Hit, error) {
	if k <= 0 {
		return nil, fmt.Errorf("%w: k must be positive, got %d", lmsys.ErrInvalidInput, k)
	}
	if f.IDs != nil && len(f.IDs) == 0 {
		return nil, nil
	}
	id, err := c.collectionID(ctx, collection, false)
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"query_embeddings": [][]float32{q},
		"n_results":        k,
		"include":          []string{"metadatas", "documents", "distances"},
	}
	if w := chromaWhere(f.Where); w != nil {
		body["where"] = w
	}
	if f.IDs != nil {
		body["ids"] = f.IDs
	}
	var res chromaQueryResult
	if err := c.call(ctx, http.MethodPost, c.collPath(id)+"/query", body, &res); err != nil {
		return nil, fmt.Errorf("searching chroma collection %q: %w", collection, err)
	}
	if len(res.IDs) != 1 || len(res.Distances) != 1 {
		return nil, fmt.Errorf("%w: chroma query answered %d id lists and %d distance lists for one query", lmsys.ErrProvider, len(res.IDs), len(res.Distances))
	}
	ids, dists := res.IDs[0], res.Distances[0]
	if len(dists) != len(ids) || (len(res.Metadatas) == 1 && len(res.Metadatas[0]) != len(ids)) ||
		(len(res.Documents) == 1 && len(res.Documents[0]) != len(ids)) {
		return nil, fmt.Errorf("%w: chroma query answered lists of different lengths", lmsys.ErrProvider)
	}
	hits := make([]lmsys.Hit, len(ids))
	for i, hid := range ids {
		h := lmsys.Hit{ID: hid}
		if dists[i] != nil {
			h.Distance = *dists[i]
		}
		if len(res.Metadatas) == 1 && len(res.Metadatas[0][i]) > 0 {
			h.Metadata = make(map[string]string, len(res.Metadatas[0][i]))
			for mk, mv := range res.Metadatas[0][i] {
				h.Metadata[mk] = metaString(mv)
			}
		}
		if len(res.Documents) == 1 && res.Documents[0][i] != nil {
			h.Document = *res.Documents[0][i]
		}
		hits[i] = h
	}
	return hits, nil
}

// metaString renders a Chroma metadata value (string, number, bool) as a string.
func metaString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Delete removes ids from the collection; an unknown collection is ignored.
func (c *Chroma) Delete(ctx context.Context, collection string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	id, err := c.collectionID(ctx, collection, false)
	if errors.Is(err, lmsys.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for lo := 0; lo < len(ids); lo += c.opts.BatchSize {
		part := ids[lo:min(lo+c.opts.BatchSize, len(ids))]
		if err := c.call(ctx, http.MethodPost, c.collPath(id)+"/delete", map[string]any{"ids": part}, nil); err != nil {
			return fmt.Errorf("deleting from chroma collection %q: %w", collection, err)
		}
	}
	return nil
}

// Count returns the number of records in the collection; an unknown collection is
// lmsys.ErrNotFound.
func (c *Chroma) Count(ctx context.Context, collection string) (int, error) {
	id, err := c.collectionID(ctx, collection, false)
	if err != nil {
		return 0, err
	}
	var n int
	if err := c.call(ctx, http.MethodGet, c.collPath(id)+"/count", nil, &n); err != nil {
		return 0, fmt.Errorf("counting chroma collection %q: %w", collection, err)
	}
	return n, nil
}

// Info lists the database's collections with their counts and dimensions (the
// dimension is 0 when the server does not report one).
func (c *Chroma) Info(ctx context.Context) ([]CollectionInfo, error) {
	c.mu.Lock()
	err := c.ensureDatabase(ctx)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var cols []chromaCollection
	if err := c.call(ctx, http.MethodGet, c.dbPath()+"/collections", nil, &cols); err != nil {
		return nil, fmt.Errorf("listing chroma collections: %w", err)
	}
	out := make([]CollectionInfo, 0, len(cols))
	for _, col := range cols {
		var n int
		if err := c.call(ctx, http.MethodGet, c.collPath(col.ID)+"/count", nil, &n); err != nil {
			return nil, fmt.Errorf("counting chroma collection %q: %w", col.Name, err)
		}
		ci := CollectionInfo{Name: col.Name, Kind: "chroma", Count: n, Saved: true}
		if col.Dimension != nil {
			ci.Dims = *col.Dimension
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
