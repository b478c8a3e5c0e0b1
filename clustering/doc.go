// Package clustering groups embedding vectors: k-means (k-means++ seeding, Lloyd
// iterations over a blocked float32 distance kernel, several inits, spherical mode),
// mini-batch k-means that streams vectors from a Source without holding them all,
// HDBSCAN with PCA and noise reassignment, and the quality metrics used to judge a
// partition (silhouette, Davies–Bouldin, NMI, ARI, V-measure, homogeneity,
// completeness).
//
// KMeans and HDBSCAN implement lmsys.Clusterer. Every assignment carries a
// confidence in [0, 1]; HDBSCAN also reports GLOSH outlier scores.
package clustering
