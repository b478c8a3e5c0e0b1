package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/web"
)

// ExampleHandler mounts the API and viewer under /lmsys/ in a service's own mux.
func ExampleHandler() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "lmsys-example-")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	mux := http.NewServeMux()
	mux.Handle("/lmsys/", http.StripPrefix("/lmsys", web.Handler(web.Deps{Store: db}, web.Options{Token: "secret", PublicRead: true})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/lmsys/api/clustering/runs")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))

	resp, _ = http.Post(srv.URL+"/lmsys/api/clustering/kmeans", "application/json", nil)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output:
	// 200 {"items":[],"total":0,"page":1,"pages":0,"limit":50,"runs":[]}
	// 401 {"error":{"type":"Unauthorized","message":"this endpoint needs Authorization: Bearer \u003ctoken\u003e"},"detail":{"error":{"type":"Unauthorized","message":"this endpoint needs Authorization: Bearer \u003ctoken\u003e"}},"code":"unauthorized"}
}
