// Package mcpserver serves a store to MCP hosts (Claude Desktop, Cursor, any MCP
// client or agent loop) on the official Go SDK, github.com/modelcontextprotocol/go-sdk.
//
//	srv := mcpserver.New(mcpserver.Deps{Store: db, Search: svc}, mcpserver.Options{})
//	err := srv.Run(ctx, &mcp.StdioTransport{})
//
// # Tools
//
// The read tools mirror the library's read and analysis verbs: list_runs,
// list_clusters, inspect_cluster, search_queries, search_clusters, list_hierarchies,
// show_hierarchy, facets, trends, compare_periods, compare_runs, list_edits and
// export. classify runs the classifiers (the built-in ones offline; an LLM facet set
// or template only with a model and a cost cap, max_cost). With Options.AllowWrites
// the curation edits are added (move_queries, rename_cluster, merge_clusters,
// split_cluster, delete_cluster, tag_cluster, flag_cluster, reassign_orphans,
// undo_edit), each audited under Options.Editor; without it they are not listed and
// a call by name is refused with a message that says so. ReadTools and WriteTools
// name them; names, descriptions and input schemas are stable.
//
// Inputs are typed, with JSON schemas; a bad input (an unknown run, a cluster the run
// lacks, a limit out of range, an empty search text) is a tool error (IsError) whose
// message names the field and what is allowed. Outputs are the JSON of the HTTP API's
// answers (package web builds both, see web.API), as structured content and as text.
//
// # Paging and the byte cap
//
// Lists take page (from 1) and limit (Options.DefaultLimit, at most
// Options.MaxLimit); the queries of a cluster and export rows page by cursor too.
// Every result is cut to Options.MaxResultBytes of JSON (32 KiB by default): long
// strings are clipped, as little as fits the page (not below 200 characters), then
// the page's list loses items from its end, then other lists are halved, and the
// result carries "truncated": true and "truncation" (see Truncation) with the
// arguments that continue after the last item shown. The JSON is never cut
// mid-value.
//
// # Resources
//
// Runs and hierarchies are resources, lmsys://runs/{run_id} and
// lmsys://hierarchies/{hierarchy_id}, whose contents are the HTTP API's JSON of the
// run and the hierarchy; resources/list lists the runs newest first, each followed by
// its hierarchies.
//
// # Transports
//
// Serve the server over stdio (mcp.StdioTransport), over streamable HTTP with
// HTTPHandler (which applies the Host allowlist and bearer token of `lmsys serve`),
// or in process with Connect, which returns a client session: its ListTools and
// CallTool go through the same schemas and validation as a remote host's.
package mcpserver
