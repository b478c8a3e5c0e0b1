package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("run x: %w", lmsys.ErrNotFound), 404, "not_found"},
		{fmt.Errorf("bad: %w", lmsys.ErrInvalidInput), 400, "invalid_input"},
		{fmt.Errorf("space: %w", lmsys.ErrSpaceMismatch), 400, "space_mismatch"},
		{fmt.Errorf("undo: %w", lmsys.ErrConflict), 409, "conflict"},
		{fmt.Errorf("none: %w", lmsys.ErrEmpty), 422, "empty"},
		{fmt.Errorf("llm: %w", lmsys.ErrProvider), 502, "provider"},
		{fmt.Errorf("x: %w", context.Canceled), 503, "cancelled"},
		{&http.MaxBytesError{Limit: 1}, 413, "body_too_large"},
		{errors.New("disk on fire at /secret/path"), 500, "internal"},
	} {
		status, code := classify(tc.err)
		assert.Equal(t, tc.status, status, tc.err.Error())
		assert.Equal(t, tc.code, code)
	}
	// A 500 never shows its cause to the client.
	s := &server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("GET", "/api/x", nil), errors.New("disk on fire at /secret/path"))
	assert.Equal(t, 500, rec.Code)
	assert.NotContains(t, rec.Body.String(), "secret")
	assert.JSONEq(t, `{"error":{"type":"InternalServerError","message":"internal error (logged on the server)"},
		"detail":{"error":{"type":"InternalServerError","message":"internal error (logged on the server)"}},"code":"internal"}`, rec.Body.String())
}

func FuzzQueryInts(f *testing.F) {
	for _, s := range []string{"1,2,3", " 4 , 5 ", "", ",,", "x", "99999999999999999999", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := httptest.NewRequest("GET", "/?ids="+url.QueryEscape(s), nil)
		ids, err := queryInts(r, "ids")
		if err != nil {
			status, code := classify(err)
			assert.Equal(t, http.StatusUnprocessableEntity, status)
			assert.Equal(t, "validation_error", code)
			assert.Nil(t, ids)
		}
	})
}
