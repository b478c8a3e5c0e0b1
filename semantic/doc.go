// Package semantic implements lmsys.VectorIndex: stores of normalised float32
// vectors in named collections that return the nearest items to a query with
// cosine distance 1 − cos.
//
//   - Exact compares the query with every vector (blocked AVX2 dot products into a
//     bounded heap, split across cores for large collections; a small id filter is
//     looked up directly). It is exact, and fast enough below some tens of thousands
//     of vectors.
//   - HNSW is an approximate index: a hierarchical navigable small world graph
//     (Malkov and Yashunin) per collection with the paper's level assignment,
//     greedy descent, beam search bounded by ef and neighbour-selection heuristic,
//     built in parallel; deletes are tombstones until a rebuild.
//   - Index holds one collection per name, picks Exact or HNSW by size (or as told)
//     and keeps each collection in a file of its own directory, so the CLI reuses
//     it between runs; Info lists the collections.
//   - Chroma keeps the vectors in a Chroma server, over its HTTP API v2.
//
// In the pipeline the index is derived data beside the Store: package search fills its
// collections from the embeddings and summaries the Store holds (the last stage of
// lmsys analyze, or verify sync --repair), answers semantic searches from them, and
// re-syncs them when the two disagree. The distance kernels are internal/vec's.
//
// # Collection files
//
// Exact and HNSW collections are saved in one format (SaveCollection,
// LoadCollection, Index.Flush), version 1, little-endian, strings as a uvarint
// length and UTF-8 bytes:
//
//	magic      8 bytes  "LMSYSVI1"
//	kind       uint8    0 = exact (no graph), 1 = HNSW
//	dims       uint32   vector dimension (0 only for an empty collection)
//	rows       uint32   stored rows, tombstones included
//	live       uint32   rows that are not tombstones
//	m          uint32   HNSW M (0 for exact)
//	efc        uint32   HNSW efConstruction (0 for exact)
//	entry      int64    HNSW entry node, −1 when empty or exact
//	maxLevel   uint32   HNSW top level (0 for exact)
//	vectors    rows × dims float32, row-major, unit length
//	rows       per row: dead uint8, id string, document string, metadata count
//	           (uvarint) and that many (key string, value string), keys sorted
//	graph      HNSW only, per row: level uint8, then per layer 0..level a count
//	           uint32 (≤ 2M on layer 0, ≤ M above) and that many uint32 neighbours
//	checksum   uint32   CRC-32C (Castagnoli) of every byte before it
//
// Loading checks every length, count and neighbour against the header and the file
// size before allocating, and the checksum at the end: a truncated or corrupted
// file is an error wrapping lmsys.ErrInvalidInput that names the file. Saving
// writes a temporary file and renames it, so a failed save keeps the old file.
package semantic
