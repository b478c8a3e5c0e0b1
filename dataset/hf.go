package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
)

// DefaultHubDataset is the Hugging Face dataset loaded when no source is given.
const DefaultHubDataset = "lmsys/lmsys-chat-1m"

// ErrHubAuth reports that the Hugging Face hub refused a request (HTTP 401 or 403):
// the token is missing or wrong, or the dataset's terms were not accepted.
var ErrHubAuth = errors.New("hugging face hub refused access")

// Hub downloads dataset files from the Hugging Face hub (or a mirror speaking its
// HTTP API) into a local cache.
type Hub struct {
	// Endpoint is the hub's base URL: $HF_ENDPOINT, else https://huggingface.co.
	Endpoint string
	// Token is sent as a bearer token: $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN,
	// $HUGGINGFACE_TOKEN, else the token file the HF CLI writes ($HF_TOKEN_PATH, else
	// $HF_HOME/token). Empty sends none.
	Token string
	// TokenFrom says where Token came from, for error messages.
	TokenFrom string
	// CacheDir holds downloaded files: $HF_HOME/lmsys-go, where HF_HOME defaults to
	// $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface.
	CacheDir string
	// HTTP is the client used; nil means one with a 30-minute overall timeout.
	HTTP *http.Client
	// Attempts bounds the tries per download, each resuming where the last one
	// stopped; 0 means 5.
	Attempts int
	// Progress, when set, receives download progress (stage "download", bytes).
	Progress lmsys.ProgressFunc
}

// hfHome returns $HF_HOME or its default.
func hfHome() string {
	if h := os.Getenv("HF_HOME"); h != "" {
		return h
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "huggingface")
	}
	return filepath.Join(home, ".cache", "huggingface")
}

// NewHub returns a Hub configured from the environment, as the hub's own tools are.
func NewHub() *Hub {
	h := &Hub{Endpoint: "https://huggingface.co", CacheDir: filepath.Join(hfHome(), "lmsys-go")}
	if e := os.Getenv("HF_ENDPOINT"); e != "" {
		h.Endpoint = strings.TrimRight(e, "/")
	}
	for _, name := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_TOKEN"} {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			h.Token, h.TokenFrom = v, "$"+name
			return h
		}
	}
	tokenFile := os.Getenv("HF_TOKEN_PATH")
	if tokenFile == "" {
		tokenFile = filepath.Join(hfHome(), "token")
	}
	if b, err := os.ReadFile(tokenFile); err == nil && strings.TrimSpace(string(b)) != "" {
		h.Token, h.TokenFrom = strings.TrimSpace(string(b)), tokenFile
	}
	return h
}

func (h *Hub) client() *http.Client {
	if h.HTTP != nil {
		return h.HTTP
	}
	return &http.Client{Timeout: 30 * time.Minute}
}

var repoPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)

// checkRepo validates an "owner/name" dataset id.
func checkRepo(repo string) error {
	if !repoPattern.MatchString(repo) || strings.Contains(repo, "..") {
		return fmt.Errorf("%w: %q is not a Hugging Face dataset id (owner/name)", lmsys.ErrInvalidInput, repo)
	}
	return nil
}

// authError explains a 401/403 answer.
func (h *Hub) authError(repo string, status int) error {
	page := h.Endpoint + "/datasets/" + repo
	how := "no token was sent: create a read token at " + h.Endpoint + "/settings/tokens and set HF_TOKEN=hf_… (or run `huggingface-cli login`)"
	if h.Token != "" {
		how = "the token from " + h.TokenFrom + " was refused: check that it is valid and that its account accepted the terms"
	}
	return fmt.Errorf("%w: HTTP %d for dataset %s. If it is gated, log in and accept its terms at %s; %s",
		ErrHubAuth, status, repo, page, how)
}

func (h *Hub) get(ctx context.Context, repo, u string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	req.Header.Set("User-Agent", "lmsys-go")
	resp, err := h.client().Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		resp.Body.Close()
		return nil, h.authError(repo, resp.StatusCode)
	}
	return resp, nil
}

// HubFile is one file of a hub dataset repository.
type HubFile struct {
	Path string `json:"path"`
	// Size in bytes; 0 when the listing did not say.
	Size int64 `json:"size"`
}

type treeEntry struct {
	Type string `json:"type"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	LFS  *struct {
		Size int64 `json:"size"`
	} `json:"lfs"`
}

var nextLink = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// ParquetFiles lists the Parquet files of a dataset repository, sorted by path: those
// under data/ from the tree API (following its pagination), else every .parquet file
// among the repository's siblings.
func (h *Hub) ParquetFiles(ctx context.Context, repo string) ([]HubFile, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	var files []HubFile
	u := h.Endpoint + "/api/datasets/" + repo + "/tree/main/data?recursive=true"
	treeOK := true
	for u != "" {
		resp, err := h.get(ctx, repo, u, nil)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", repo, err)
		}
		if resp.StatusCode == http.StatusNotFound && len(files) == 0 {
			resp.Body.Close()
			treeOK = false
			break
		}
		var entries []treeEntry
		err = decodeJSONResponse(resp, &entries)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", repo, err)
		}
		for _, e := range entries {
			if e.Type == "file" && strings.HasSuffix(e.Path, ".parquet") {
				size := e.Size
				if e.LFS != nil && e.LFS.Size > 0 {
					size = e.LFS.Size
				}
				files = append(files, HubFile{Path: e.Path, Size: size})
			}
		}
		u = ""
		if m := nextLink.FindStringSubmatch(resp.Header.Get("Link")); m != nil {
			u = m[1]
		}
	}
	if !treeOK || len(files) == 0 {
		resp, err := h.get(ctx, repo, h.Endpoint+"/api/datasets/"+repo, nil)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", repo, err)
		}
		if resp.StatusCode == http.StatusNotFound {
			resp.Body.Close()
			return nil, fmt.Errorf("%w: dataset %s does not exist on %s", lmsys.ErrNotFound, repo, h.Endpoint)
		}
		var info struct {
			Siblings []struct {
				RFilename string `json:"rfilename"`
				Size      int64  `json:"size"`
			} `json:"siblings"`
		}
		if err := decodeJSONResponse(resp, &info); err != nil {
			return nil, fmt.Errorf("listing %s: %w", repo, err)
		}
		for _, s := range info.Siblings {
			if strings.HasSuffix(s.RFilename, ".parquet") {
				files = append(files, HubFile{Path: s.RFilename, Size: s.Size})
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: dataset %s has no Parquet files", lmsys.ErrNotFound, repo)
	}
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			return nil, fmt.Errorf("%w: hub listed an unsafe path %q", lmsys.ErrProvider, f.Path)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func decodeJSONResponse(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%w: HTTP %d from %s: %s", lmsys.ErrProvider, resp.StatusCode, resp.Request.URL.Path, strings.TrimSpace(string(b)))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("%w: unreadable answer from %s: %v", lmsys.ErrProvider, resp.Request.URL.Path, err)
	}
	return nil
}

// CachePath returns where Download stores a file of repo.
func (h *Hub) CachePath(repo string, f HubFile) string {
	return filepath.Join(h.CacheDir, "datasets", filepath.FromSlash(repo), filepath.FromSlash(f.Path))
}

// Download fetches one file of a dataset repository into the cache and returns its
// path; a complete cached copy is used as it is. The download goes to a ".partial"
// file and resumes with an HTTP Range request after a broken connection (in this
// call, or in an earlier run); redirects are followed; the final size is checked
// against the listing (or Content-Length) before the file is moved into place.
func (h *Hub) Download(ctx context.Context, repo string, f HubFile) (string, error) {
	if err := checkRepo(repo); err != nil {
		return "", err
	}
	dest := h.CachePath(repo, f)
	if st, err := os.Stat(dest); err == nil && (f.Size == 0 || st.Size() == f.Size) {
		return dest, nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	partial := dest + ".partial"
	u := h.Endpoint + "/datasets/" + repo + "/resolve/main/" + (&url.URL{Path: f.Path}).EscapedPath()
	attempts := h.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	var lastErr error
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 200 * time.Millisecond):
			}
		}
		done, err := h.downloadOnce(ctx, repo, u, partial, f)
		if err == nil && done {
			if err := os.Rename(partial, dest); err != nil {
				return "", err
			}
			return dest, nil
		}
		if err != nil {
			if errors.Is(err, ErrHubAuth) || errors.Is(err, lmsys.ErrNotFound) || ctx.Err() != nil {
				return "", err
			}
			lastErr = err
		}
	}
	return "", fmt.Errorf("%w: downloading %s from %s: gave up after %d attempts: %v", lmsys.ErrProvider, f.Path, repo, attempts, lastErr)
}

// downloadOnce makes one request, appending to partial; it reports whether the file
// is complete.
func (h *Hub) downloadOnce(ctx context.Context, repo, u, partial string, f HubFile) (bool, error) {
	var off int64
	if st, err := os.Stat(partial); err == nil {
		off = st.Size()
	}
	if f.Size > 0 && off == f.Size {
		return true, nil
	}
	if f.Size > 0 && off > f.Size {
		off = 0
		_ = os.Remove(partial)
	}
	header := http.Header{}
	if off > 0 {
		header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := h.get(ctx, repo, u, header)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var total int64 = -1
	flags := os.O_CREATE | os.O_WRONLY
	switch resp.StatusCode {
	case http.StatusOK:
		flags |= os.O_TRUNC
		off = 0
		total = resp.ContentLength
	case http.StatusPartialContent:
		cr := resp.Header.Get("Content-Range") // bytes start-end/total
		var start, end int64
		var tot string
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/%s", &start, &end, &tot); err != nil || start != off {
			_ = os.Remove(partial)
			return false, fmt.Errorf("%w: bad Content-Range %q for a resume at %d", lmsys.ErrProvider, cr, off)
		}
		flags |= os.O_APPEND
		if n, err := strconv.ParseInt(tot, 10, 64); err == nil {
			total = n
		}
	case http.StatusRequestedRangeNotSatisfiable:
		_ = os.Remove(partial)
		return false, fmt.Errorf("%w: the hub refused to resume at byte %d; starting over", lmsys.ErrProvider, off)
	case http.StatusNotFound:
		return false, fmt.Errorf("%w: %s has no file %s", lmsys.ErrNotFound, repo, f.Path)
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return false, fmt.Errorf("%w: HTTP %d downloading %s: %s", lmsys.ErrProvider, resp.StatusCode, f.Path, strings.TrimSpace(string(b)))
	}
	if f.Size > 0 {
		if total >= 0 && total != f.Size {
			return false, fmt.Errorf("%w: %s is %d bytes on the hub but its listing says %d", lmsys.ErrProvider, f.Path, total, f.Size)
		}
		total = f.Size
	}
	out, err := os.OpenFile(partial, flags, 0o644)
	if err != nil {
		return false, err
	}
	n, copyErr := io.Copy(out, &progressReader{r: resp.Body, done: off, total: total, report: h.Progress})
	if err := out.Close(); err != nil && copyErr == nil {
		copyErr = err
	}
	if copyErr != nil {
		return false, fmt.Errorf("download of %s broke after %d bytes: %w", f.Path, off+n, copyErr)
	}
	if total >= 0 && off+n != total {
		if off+n > total {
			_ = os.Remove(partial)
		}
		return false, fmt.Errorf("download of %s ended at %d of %d bytes", f.Path, off+n, total)
	}
	return true, nil
}

type progressReader struct {
	r           io.Reader
	done, total int64
	report      lmsys.ProgressFunc
	last        int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.report != nil && (p.done-p.last >= 4<<20 || err == io.EOF) {
		p.last = p.done
		p.report.Report("download", p.done, max(p.total, 0))
	}
	return n, err
}

// HubSource streams a dataset of the Hugging Face hub: its Parquet files are listed,
// then downloaded (into the Hub's cache) and read one at a time, so a load that stops
// early never fetches the later files.
type HubSource struct {
	Hub     *Hub
	Repo    string
	Mapping Mapping
	// Dataset overrides DatasetName.
	Dataset string
}

// NewHubSource returns a source for repo ("owner/name"; empty means
// DefaultHubDataset) with a Hub configured from the environment.
func NewHubSource(repo string, m Mapping) *HubSource {
	if repo == "" {
		repo = DefaultHubDataset
	}
	return &HubSource{Hub: NewHub(), Repo: repo, Mapping: m}
}

// Name returns "hf:owner/name".
func (s *HubSource) Name() string { return "hf:" + s.Repo }

// DatasetName returns Dataset, or the repository's name ("lmsys-chat-1m").
func (s *HubSource) DatasetName() string {
	if s.Dataset != "" {
		return s.Dataset
	}
	return path.Base(s.Repo)
}

// Records streams the rows of every Parquet file in path order.
func (s *HubSource) Records(ctx context.Context) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		files, err := s.Hub.ParquetFiles(ctx, s.Repo)
		if err != nil {
			yield(Record{}, err)
			return
		}
		for _, f := range files {
			p, err := s.Hub.Download(ctx, s.Repo, f)
			if err != nil {
				yield(Record{}, err)
				return
			}
			fh, err := os.Open(p)
			if err != nil {
				yield(Record{}, err)
				return
			}
			st, err := fh.Stat()
			if err != nil {
				fh.Close()
				yield(Record{}, err)
				return
			}
			for rec, err := range parquetRecords(ctx, fh, st.Size(), s.Repo+"/"+f.Path, s.Mapping) {
				if !yield(rec, err) {
					fh.Close()
					return
				}
			}
			fh.Close()
		}
	}
}
