package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// fakeHub speaks the parts of the Hugging Face hub API the Hub uses: the tree
// listing (paginated), the dataset info with siblings, and resolve URLs that
// redirect to a CDN path serving Range requests.
type fakeHub struct {
	t      *testing.T
	token  string
	repo   string
	files  map[string][]byte // path → content
	noTree bool              // answer 404 on the tree API (siblings fallback)
	// dropFirst makes the first full download of these paths break halfway.
	dropFirst map[string]bool
	mu        sync.Mutex
	requests  []string
	ranges    []string
}

func (h *fakeHub) log(r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = append(h.requests, r.URL.Path)
	if rg := r.Header.Get("Range"); rg != "" {
		h.ranges = append(h.ranges, r.URL.Path+" "+rg)
	}
}

func (h *fakeHub) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.log(r)
	p := r.URL.Path
	authorized := r.Header.Get("Authorization") == "Bearer "+h.token
	switch {
	case p == "/api/datasets/"+h.repo+"/tree/main/data":
		if h.noTree {
			http.Error(w, `{"error":"Entry not found"}`, http.StatusNotFound)
			return
		}
		require.Equal(h.t, "true", r.URL.Query().Get("recursive"))
		// Two pages: the first lists a README and the first shard, with a Link to the rest.
		page := r.URL.Query().Get("cursor")
		var entries []map[string]any
		if page == "" {
			entries = append(entries, map[string]any{"type": "file", "path": "data/README.md", "size": 10})
			entries = append(entries, h.entry("data/train-00000-of-00002.parquet"))
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/datasets/%s/tree/main/data?recursive=true&cursor=2>; rel="next"`, r.Host, h.repo))
		} else {
			entries = append(entries, map[string]any{"type": "directory", "path": "data/sub"}, h.entry("data/train-00001-of-00002.parquet"))
		}
		_ = json.NewEncoder(w).Encode(entries)
	case p == "/api/datasets/"+h.repo:
		var sib []map[string]any
		for name := range h.files {
			sib = append(sib, map[string]any{"rfilename": name})
		}
		sib = append(sib, map[string]any{"rfilename": ".gitattributes"})
		_ = json.NewEncoder(w).Encode(map[string]any{"id": h.repo, "siblings": sib})
	case strings.HasPrefix(p, "/datasets/"+h.repo+"/resolve/main/"):
		if !authorized {
			http.Error(w, "Access to dataset "+h.repo+" is restricted. You must be authenticated to access it.", http.StatusUnauthorized)
			return
		}
		name := strings.TrimPrefix(p, "/datasets/"+h.repo+"/resolve/main/")
		if _, ok := h.files[name]; !ok {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "/cdn/"+name+"?signature=abc", http.StatusFound)
	case strings.HasPrefix(p, "/cdn/"):
		name := strings.TrimPrefix(p, "/cdn/")
		data, ok := h.files[name]
		if !ok || r.URL.Query().Get("signature") != "abc" {
			http.NotFound(w, r)
			return
		}
		h.mu.Lock()
		drop := h.dropFirst[name] && r.Header.Get("Range") == ""
		if drop {
			delete(h.dropFirst, name)
		}
		h.mu.Unlock()
		if drop {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			require.NoError(h.t, err)
			conn.Close()
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	default:
		http.NotFound(w, r)
	}
}

func (h *fakeHub) entry(name string) map[string]any {
	return map[string]any{"type": "file", "path": name, "size": 1234, "lfs": map[string]any{"size": len(h.files[name]), "oid": "x"}}
}

func newFakeHub(t *testing.T) (*fakeHub, *httptest.Server) {
	fh := &fakeHub{t: t, token: "hf_test_token", repo: "lmsys/lmsys-chat-1m", files: map[string][]byte{
		// The first shard in pyarrow's layout (as the real hub serves), the second in parquet-go's.
		"data/train-00000-of-00002.parquet": writeLMSYSParquet(t, true, lmsysConvs(300, 0), 100),
		"data/train-00001-of-00002.parquet": writeLMSYSParquet(t, false, lmsysConvs(200, 300), 100),
	}, dropFirst: map[string]bool{"data/train-00001-of-00002.parquet": true}}
	srv := httptest.NewServer(fh)
	t.Cleanup(srv.Close)
	return fh, srv
}

func testHub(srv *httptest.Server, token string, cache string) *Hub {
	return &Hub{Endpoint: srv.URL, Token: token, TokenFrom: "$HF_TOKEN", CacheDir: cache, HTTP: srv.Client()}
}

func TestHubEndToEnd(t *testing.T) {
	fh, srv := newFakeHub(t)
	cache := t.TempDir()
	src := &HubSource{Hub: testHub(srv, fh.token, cache), Repo: fh.repo}
	assert.Equal(t, "lmsys-chat-1m", src.DatasetName())
	assert.Equal(t, "hf:lmsys/lmsys-chat-1m", src.Name())

	// A small limit reads only the first shard.
	st := newMemStore()
	stats, err := Load(context.Background(), src, st, LoadOptions{Limit: 100})
	require.NoError(t, err)
	assert.Equal(t, int64(100), stats.Inserted)
	assert.Equal(t, 1, fh.count("/cdn/"), "only the first shard is downloaded")
	assert.Equal(t, "question number 0?", st.queries[0].Text)

	// The whole dataset: the second shard's connection drops halfway and resumes with Range.
	stats, err = Load(context.Background(), src, st, LoadOptions{})
	require.NoError(t, err)
	recs, rowErrs := 0, 0
	for _, c := range lmsysConvs(500, 0) {
		if len(c.roles) > 1 && (c.roles[0] == "user" || c.roles[1] == "user") {
			recs++
		} else {
			rowErrs++
		}
	}
	assert.Equal(t, int64(recs), stats.Queries)
	assert.Equal(t, int64(recs-100), stats.Inserted)
	assert.Equal(t, int64(rowErrs), stats.Skipped[ReasonNoUserTurn])
	full := fh.files["data/train-00001-of-00002.parquet"]
	resume := fmt.Sprintf("data/train-00001-of-00002.parquet bytes=%d-", len(full)/2)
	assert.Equal(t, []string{"/datasets/lmsys/lmsys-chat-1m/resolve/main/" + resume, "/cdn/" + resume}, fh.ranges,
		"the resume asks for the missing half, and the Range header survives the redirect")
	got, err := os.ReadFile(filepath.Join(cache, "datasets", "lmsys", "lmsys-chat-1m", "data", "train-00001-of-00002.parquet"))
	require.NoError(t, err)
	assert.Equal(t, full, got)
	last := st.queries[len(st.queries)-1]
	assert.Equal(t, "question number 499?", last.Text)
	assert.Equal(t, "conv-00499", last.ConversationID)

	// Cached files are not downloaded again.
	before := fh.count("/cdn/")
	stats, err = Load(context.Background(), src, st, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(0), stats.Inserted)
	assert.Equal(t, before, fh.count("/cdn/"))
}

func TestHubUnauthorized(t *testing.T) {
	fh, srv := newFakeHub(t)
	for _, token := range []string{"", "hf_wrong"} {
		src := &HubSource{Hub: testHub(srv, token, t.TempDir()), Repo: fh.repo}
		_, err := Load(context.Background(), src, newMemStore(), LoadOptions{})
		require.ErrorIs(t, err, ErrHubAuth)
		msg := err.Error()
		assert.Contains(t, msg, "HTTP 401")
		assert.Contains(t, msg, srv.URL+"/datasets/lmsys/lmsys-chat-1m")
		assert.Contains(t, msg, "accept its terms")
		if token == "" {
			assert.Contains(t, msg, "set HF_TOKEN")
		} else {
			assert.Contains(t, msg, "token from $HF_TOKEN was refused")
		}
	}
}

func TestHubSiblingsFallbackAndErrors(t *testing.T) {
	fh, srv := newFakeHub(t)
	fh.noTree = true
	fh.dropFirst = nil
	h := testHub(srv, fh.token, t.TempDir())
	files, err := h.ParquetFiles(context.Background(), fh.repo)
	require.NoError(t, err)
	assert.Equal(t, []HubFile{{Path: "data/train-00000-of-00002.parquet"}, {Path: "data/train-00001-of-00002.parquet"}}, files)
	p, err := h.Download(context.Background(), fh.repo, files[0])
	require.NoError(t, err)
	b, _ := os.ReadFile(p)
	assert.Equal(t, fh.files[files[0].Path], b)

	_, err = h.ParquetFiles(context.Background(), "nobody/nothing")
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	_, err = h.ParquetFiles(context.Background(), "../etc")
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = h.Download(context.Background(), fh.repo, HubFile{Path: "data/missing.parquet"})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	h.Attempts = 2
	_, err = h.Download(context.Background(), fh.repo, HubFile{Path: files[1].Path, Size: 99})
	assert.ErrorIs(t, err, lmsys.ErrProvider)
	assert.ErrorContains(t, err, "listing says 99")
}

func TestNewHubFromEnvironment(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_ENDPOINT", "https://mirror.example/")
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HUGGING_FACE_HUB_TOKEN", "")
	t.Setenv("HUGGINGFACE_TOKEN", "")
	t.Setenv("HF_TOKEN_PATH", "")
	h := NewHub()
	assert.Equal(t, "https://mirror.example", h.Endpoint)
	assert.Equal(t, filepath.Join(home, "lmsys-go"), h.CacheDir)
	assert.Empty(t, h.Token)
	require.NoError(t, os.WriteFile(filepath.Join(home, "token"), []byte("hf_from_file\n"), 0o600))
	h = NewHub()
	assert.Equal(t, "hf_from_file", h.Token)
	t.Setenv("HUGGINGFACE_TOKEN", "hf_env")
	assert.Equal(t, "hf_env", NewHub().Token)
	t.Setenv("HF_TOKEN", "hf_first")
	assert.Equal(t, "hf_first", NewHub().Token)
}
