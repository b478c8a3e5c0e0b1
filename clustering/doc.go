// Package clustering groups embedding vectors: k-means (k-means++ seeding, Lloyd
// iterations over a blocked float32 distance kernel, several inits, spherical mode),
// mini-batch k-means that streams vectors from a Source without holding them all,
// HDBSCAN with PCA and noise reassignment, and the quality metrics used to judge a
// partition (silhouette, Davies–Bouldin, NMI, ARI, V-measure, homogeneity,
// completeness).
//
// KMeans and HDBSCAN implement lmsys.Clusterer. Every assignment carries a
// confidence in [0, 1]; HDBSCAN also reports GLOSH outlier scores.
//
// In the pipeline it is the stage after embed: Run reads the vectors of the queries a
// RunSpec selects from the Store (the embeddings cached under one Space), clusters
// them, and records the run, its assignments and its centroids; summarize, hierarchy,
// search and curation then work on that stored run, never on the clusterer again.
package clustering
