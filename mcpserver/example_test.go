package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/web"
)

// exampleStore returns a store holding six queries in two clusters of run "run-1".
func exampleStore(ctx context.Context, dir string) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		return nil, err
	}
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "example"})
	if err != nil {
		return nil, err
	}
	texts := []string{"sort a list in python", "read a csv file", "fix my regex", "write a poem", "a story about a dragon", "a haiku on rain"}
	qs := make([]lmsys.Query, len(texts))
	for i, t := range texts {
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: t}
	}
	if _, err := db.InsertQueries(ctx, qs); err != nil {
		return nil, err
	}
	if err := db.CreateRun(ctx, lmsys.Run{ID: "run-1", Algorithm: "kmeans", NumClusters: 2, Status: lmsys.RunCompleted}); err != nil {
		return nil, err
	}
	var as []lmsys.Assignment
	for id := int64(1); id <= 6; id++ {
		as = append(as, lmsys.Assignment{RunID: "run-1", QueryID: id, ClusterID: int(id-1) / 3})
	}
	return db, db.SaveAssignments(ctx, as)
}

// An agent loop in the same process lists the tools and calls them by name through
// an in-memory client session, with the same schemas and validation a remote host
// gets; the answers are the HTTP API's JSON.
func ExampleConnect() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "lmsys-mcp-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := exampleStore(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	srv := mcpserver.New(mcpserver.Deps{Store: db}, mcpserver.Options{})
	cs, err := mcpserver.Connect(ctx, srv)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tools.Tools), "tools, first", tools.Tools[0].Name)

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolListClusters, Arguments: map[string]any{"run_id": "run-1"}})
	if err != nil {
		log.Fatal(err)
	}
	var page web.ClusterPage
	if err := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &page); err != nil {
		log.Fatal(err)
	}
	for _, c := range page.Items {
		fmt.Printf("cluster %d: %d queries (%.0f%%)\n", c.ClusterID, c.NumQueries, *c.Percentage)
	}

	// A bad input is a tool error that names the field.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolInspectCluster, Arguments: map[string]any{"run_id": "run-1", "cluster_id": 7}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.IsError, res.Content[0].(*mcp.TextContent).Text)

	// Without Options.AllowWrites the curation tools are refused.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolRenameCluster, Arguments: map[string]any{"run_id": "run-1", "cluster_id": 0, "title": "Code"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.IsError)
	// Output:
	// 14 tools, first classify
	// cluster 0: 3 queries (50%)
	// cluster 1: 3 queries (50%)
	// true cluster_id: run run-1 has no cluster 7 (list_clusters lists its clusters)
	// true
}
