package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var jsonSeeds = []string{
	`{}`, `{"text":"a"}`, ` {"a" : [1, 2.5e3, -0, true, false, null, {"b":"\u00e9\n"}]} `, `{"a":"\ud83d\ude00"}`,
	`{"conversation":[{"role":"user","content":"hi"}],"openai_moderation":[{"flagged":true,"categories":{"x":true}}]}`,
	`{"a":01}`, `{"a":1.}`, `{"a":"\x"}`, `{"a" 1}`, `{"a":1,}`, `[1]`, `"str"`, `{"a":"b"}}`, "{\"a\":\"\xff\"}", `{"a":-}`,
	`{"messages":[{"role":"user","content":[{"type":"text","text":"p"}]}]}`, `{"conversations":[{"from":"human","value":"v"}]}`,
}

// FuzzScanObject checks the scanner against encoding/json: it accepts exactly the
// valid JSON objects, and decodes strings the same way.
func FuzzScanObject(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var members int
		err := scanObject(data, func(key, val []byte) error {
			members++
			if len(val) > 0 && val[0] == '"' && utf8.Valid(val) {
				got, err := decodeString(val)
				require.NoError(t, err)
				var want string
				require.NoError(t, json.Unmarshal(val, &want))
				require.Equal(t, want, got)
			}
			var k string
			require.NoError(t, json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &k))
			if utf8.Valid(key) {
				require.Equal(t, k, decodeKey(key))
			}
			return nil
		})
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		isObject := json.Valid(data) && len(trimmed) > 0 && trimmed[0] == '{'
		if isObject != (err == nil) {
			t.Fatalf("scanObject(%q) = %v, json.Valid says object=%v", data, err, isObject)
		}
		if errors.Is(err, errJSONDepth) {
			return
		}
	})
}

// FuzzJSONL feeds arbitrary bytes to the JSON Lines reader: it must never panic,
// and every row is either a record or a RowError.
func FuzzJSONL(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s + "\n" + s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := int64(bytes.Count(data, []byte{'\n'}) + 1)
		for r, err := range jsonlRecords(context.Background(), bytes.NewReader(data), "f", Mapping{}) {
			var re *RowError
			if err != nil {
				require.True(t, errors.As(err, &re), "fatal error %v", err)
				require.LessOrEqual(t, re.Pos.Line, lines)
				continue
			}
			require.LessOrEqual(t, r.Pos.Line, lines)
		}
	})
}

// FuzzJSONArray: valid arrays never end in a fatal error; nothing panics.
func FuzzJSONArray(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte("[" + s + "," + s + "]"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fatal error
		for _, err := range jsonArrayRecords(context.Background(), bytes.NewReader(data), "f", Mapping{}) {
			var re *RowError
			if err != nil && !errors.As(err, &re) {
				fatal = err
			}
		}
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		if json.Valid(data) && len(trimmed) > 0 && trimmed[0] == '[' && fatal != nil {
			t.Fatalf("valid array %q gave %v", data, fatal)
		}
	})
}

// FuzzCSV: nothing panics, and rows are numbered within the input.
func FuzzCSV(f *testing.F) {
	f.Add([]byte("text,id\nhello,1\n\"q\"\"x\",2\n"))
	f.Add([]byte("conversation\n\"[{\"\"role\"\":\"\"user\"\",\"\"content\"\":\"\"c\"\"}]\"\n"))
	f.Add([]byte("prompt,model,timestamp\na,b,2026-01-01\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range []Mapping{{}, {Text: "prompt", Timestamp: "timestamp"}} {
			for r, err := range csvRecords(context.Background(), bytes.NewReader(data), "f", m, ',') {
				if err == nil {
					require.GreaterOrEqual(t, r.Pos.Line, int64(2))
				}
			}
		}
	})
}

// FuzzParquet: arbitrary bytes never panic the Parquet reader.
func FuzzParquet(f *testing.F) {
	f.Add(writeLMSYSParquet(f, true, lmsysConvs(3, 0), 2))
	f.Add(writeLMSYSParquet(f, false, lmsysConvs(3, 0), 2))
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defer func() {
			if r := recover(); r != nil {
				// parquet-go itself may panic on corrupt metadata; parquetRecords must not.
				t.Fatalf("panic on %d bytes: %v", len(data), r)
			}
		}()
		n := 0
		for _, err := range parquetRecords(context.Background(), bytes.NewReader(data), int64(len(data)), "f", Mapping{}) {
			if n++; n > 100 || err != nil {
				break
			}
		}
	})
}
