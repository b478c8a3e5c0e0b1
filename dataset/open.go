package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmsys-go/lmsys"
)

// File formats a FileSource reads.
const (
	FormatAuto    = ""
	FormatParquet = "parquet"
	FormatJSONL   = "jsonl"
	FormatJSON    = "json"
	FormatCSV     = "csv"
	FormatTSV     = "tsv"
)

// FileSource streams a local file. The format comes from Format, else from the file
// name's extension (.parquet, .jsonl/.ndjson, .json, .csv, .tsv, each optionally
// followed by .gz), else from its first bytes. Gzip compression is recognised by its
// magic bytes whatever the name says.
type FileSource struct {
	Path    string
	Format  string
	Mapping Mapping
	// Dataset overrides DatasetName; empty means the file's base name without
	// extensions.
	Dataset string
}

// OpenFile returns a FileSource for path after checking that the file can be read.
func OpenFile(path string, m Mapping) (*FileSource, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: source file: %v", lmsys.ErrInvalidInput, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%w: source %s is a directory, not a file", lmsys.ErrInvalidInput, path)
	}
	return &FileSource{Path: path, Mapping: m}, nil
}

// Name returns the file path.
func (s *FileSource) Name() string { return s.Path }

// DatasetName returns Dataset or the file's base name without extensions.
func (s *FileSource) DatasetName() string {
	if s.Dataset != "" {
		return s.Dataset
	}
	base := filepath.Base(s.Path)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

// formatFromName guesses a format from a file name.
func formatFromName(name string) string {
	name = strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	switch filepath.Ext(name) {
	case ".parquet", ".pq":
		return FormatParquet
	case ".jsonl", ".ndjson":
		return FormatJSONL
	case ".json":
		return FormatJSON
	case ".csv":
		return FormatCSV
	case ".tsv":
		return FormatTSV
	}
	return FormatAuto
}

// sniffFormat guesses a format from the first bytes of a (decompressed) file.
func sniffFormat(head []byte) string {
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	if bytes.HasPrefix(head, []byte("PAR1")) {
		return FormatParquet
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(t) == 0:
		return FormatJSONL
	case t[0] == '[':
		return FormatJSON
	case t[0] == '{' || t[0] == '"':
		return FormatJSONL
	}
	return FormatCSV
}

func isGzip(head []byte) bool { return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b }

// Records streams the file's rows.
func (s *FileSource) Records(ctx context.Context) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		f, err := os.Open(s.Path)
		if err != nil {
			yield(Record{}, fmt.Errorf("%w: %v", lmsys.ErrInvalidInput, err))
			return
		}
		defer f.Close()
		br := bufio.NewReaderSize(f, 1<<20)
		head, _ := br.Peek(4)
		var r io.Reader = br
		gz := isGzip(head)
		if gz {
			zr, err := gzip.NewReader(br)
			if err != nil {
				yield(Record{}, fmt.Errorf("%w: %s: bad gzip data: %v", lmsys.ErrInvalidInput, s.Path, err))
				return
			}
			defer zr.Close()
			zb := bufio.NewReaderSize(zr, 1<<20)
			head, _ = zb.Peek(512)
			r = zb
		} else {
			head, _ = br.Peek(512)
		}
		format := s.Format
		if format == FormatAuto {
			format = formatFromName(s.Path)
		}
		if sniffed := sniffFormat(head); format == FormatAuto || sniffed == FormatParquet {
			format = sniffed
		}
		if format != FormatParquet && format != FormatCSV && format != FormatTSV {
			// JSON readers do not expect a byte-order mark.
			if b, ok := r.(*bufio.Reader); ok {
				if p, _ := b.Peek(3); bytes.Equal(p, []byte("\ufeff")) {
					_, _ = b.Discard(3)
				}
			}
		}
		switch format {
		case FormatParquet:
			if gz {
				// Parquet needs random access: decompress to a temporary file first.
				tmp, err := os.CreateTemp("", "lmsys-*.parquet")
				if err != nil {
					yield(Record{}, err)
					return
				}
				defer os.Remove(tmp.Name())
				defer tmp.Close()
				if _, err := io.Copy(tmp, r); err != nil {
					yield(Record{}, fmt.Errorf("%w: %s: decompressing: %v", lmsys.ErrInvalidInput, s.Path, err))
					return
				}
				st, _ := tmp.Stat()
				for rec, err := range parquetRecords(ctx, tmp, st.Size(), s.Path, s.Mapping) {
					if !yield(rec, err) {
						return
					}
				}
				return
			}
			st, err := f.Stat()
			if err != nil {
				yield(Record{}, err)
				return
			}
			for rec, err := range parquetRecords(ctx, f, st.Size(), s.Path, s.Mapping) {
				if !yield(rec, err) {
					return
				}
			}
		case FormatJSONL:
			for rec, err := range jsonlRecords(ctx, r, s.Path, s.Mapping) {
				if !yield(rec, err) {
					return
				}
			}
		case FormatJSON:
			for rec, err := range jsonArrayRecords(ctx, r, s.Path, s.Mapping) {
				if !yield(rec, err) {
					return
				}
			}
		case FormatCSV, FormatTSV:
			comma := ','
			if format == FormatTSV {
				comma = '\t'
			}
			for rec, err := range csvRecords(ctx, r, s.Path, s.Mapping, comma) {
				if !yield(rec, err) {
					return
				}
			}
		default:
			yield(Record{}, fmt.Errorf("%w: unknown format %q (want parquet, jsonl, json, csv or tsv)", lmsys.ErrInvalidInput, format))
		}
	}
}

// ReaderSource streams an in-memory or piped log of a given format (not Parquet,
// which needs random access).
type ReaderSource struct {
	// Label names the source in positions and errors.
	Label   string
	Format  string
	Reader  io.Reader
	Mapping Mapping
	Dataset string
}

// Name returns Label.
func (s *ReaderSource) Name() string { return s.Label }

// DatasetName returns Dataset, or Label when Dataset is empty.
func (s *ReaderSource) DatasetName() string {
	if s.Dataset != "" {
		return s.Dataset
	}
	return s.Label
}

// Records streams the rows; it can be iterated once.
func (s *ReaderSource) Records(ctx context.Context) iter.Seq2[Record, error] {
	switch s.Format {
	case FormatJSON:
		return jsonArrayRecords(ctx, s.Reader, s.Label, s.Mapping)
	case FormatCSV:
		return csvRecords(ctx, s.Reader, s.Label, s.Mapping, ',')
	case FormatTSV:
		return csvRecords(ctx, s.Reader, s.Label, s.Mapping, '\t')
	case FormatJSONL, FormatAuto:
		return jsonlRecords(ctx, s.Reader, s.Label, s.Mapping)
	}
	return func(yield func(Record, error) bool) {
		yield(Record{}, fmt.Errorf("%w: format %q cannot be read from a stream", lmsys.ErrInvalidInput, s.Format))
	}
}

// Total returns the number of rows of a Parquet file, read from its footer; other
// formats report an error (their row count is unknown until read). Load uses it to
// size progress reports.
func (s *FileSource) Total(ctx context.Context) (int64, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "PAR1" {
		return 0, fmt.Errorf("%s: row count unknown before reading", s.Path)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	pf, err := openParquet(f, st.Size())
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not a readable Parquet file: %v", lmsys.ErrInvalidInput, s.Path, err)
	}
	return pf.NumRows(), nil
}
