CREATE TABLE queries (
	id INTEGER NOT NULL, 
	conversation_id VARCHAR NOT NULL, 
	model VARCHAR NOT NULL, 
	query_text VARCHAR NOT NULL, 
	language VARCHAR, 
	timestamp DATETIME, 
	extra_metadata JSON, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_queries_conversation_id ON queries (conversation_id);
CREATE INDEX ix_queries_language ON queries (language);
CREATE INDEX ix_queries_model ON queries (model);
CREATE TABLE clustering_runs (
	run_id VARCHAR NOT NULL, 
	algorithm VARCHAR NOT NULL, 
	parameters JSON, 
	description VARCHAR, 
	created_at DATETIME NOT NULL, 
	num_clusters INTEGER, 
	PRIMARY KEY (run_id)
);
CREATE TABLE query_clusters (
	id INTEGER NOT NULL, 
	run_id VARCHAR NOT NULL, 
	query_id INTEGER NOT NULL, 
	cluster_id INTEGER NOT NULL, 
	confidence_score FLOAT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES clustering_runs (run_id), 
	FOREIGN KEY(query_id) REFERENCES queries (id)
);
CREATE INDEX ix_query_clusters_cluster_id ON query_clusters (cluster_id);
CREATE INDEX ix_query_clusters_query_id ON query_clusters (query_id);
CREATE INDEX ix_query_clusters_run_id ON query_clusters (run_id);
CREATE TABLE cluster_summaries (
	id INTEGER NOT NULL, 
	run_id VARCHAR NOT NULL, 
	cluster_id INTEGER NOT NULL, 
	title VARCHAR, 
	description VARCHAR, 
	summary VARCHAR, 
	num_queries INTEGER, 
	representative_queries JSON, 
	generated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_clustersummary_run_cluster UNIQUE (run_id, cluster_id), 
	FOREIGN KEY(run_id) REFERENCES clustering_runs (run_id) ON DELETE CASCADE
);
CREATE INDEX ix_cluster_summaries_cluster_id ON cluster_summaries (cluster_id);
CREATE INDEX ix_cluster_summaries_run_id ON cluster_summaries (run_id);
