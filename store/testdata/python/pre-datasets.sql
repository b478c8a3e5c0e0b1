CREATE TABLE clustering_runs (
	run_id VARCHAR NOT NULL, 
	algorithm VARCHAR NOT NULL, 
	parameters JSON, 
	description VARCHAR, 
	created_at DATETIME NOT NULL, 
	num_clusters INTEGER, 
	PRIMARY KEY (run_id)
);
CREATE TABLE cluster_edits (
	id INTEGER NOT NULL, 
	run_id VARCHAR, 
	cluster_id INTEGER, 
	edit_type VARCHAR NOT NULL, 
	editor VARCHAR NOT NULL, 
	timestamp DATETIME NOT NULL, 
	old_value JSON, 
	new_value JSON, 
	reason VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES clustering_runs (run_id) ON DELETE CASCADE
);
CREATE INDEX ix_cluster_edits_cluster_id ON cluster_edits (cluster_id);
CREATE INDEX ix_cluster_edits_edit_type ON cluster_edits (edit_type);
CREATE INDEX ix_cluster_edits_run_id ON cluster_edits (run_id);
CREATE INDEX ix_cluster_edits_timestamp ON cluster_edits (timestamp);
CREATE TABLE cluster_hierarchies (
	id INTEGER NOT NULL, 
	run_id VARCHAR, 
	hierarchy_run_id VARCHAR NOT NULL, 
	cluster_id INTEGER NOT NULL, 
	parent_cluster_id INTEGER, 
	level INTEGER NOT NULL, 
	children_ids JSON, 
	title VARCHAR, 
	description VARCHAR, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_hierarchy_run_cluster UNIQUE (hierarchy_run_id, cluster_id), 
	FOREIGN KEY(run_id) REFERENCES clustering_runs (run_id) ON DELETE CASCADE
);
CREATE INDEX ix_cluster_hierarchies_cluster_id ON cluster_hierarchies (cluster_id);
CREATE INDEX ix_cluster_hierarchies_hierarchy_run_id ON cluster_hierarchies (hierarchy_run_id);
CREATE INDEX ix_cluster_hierarchies_level ON cluster_hierarchies (level);
CREATE INDEX ix_cluster_hierarchies_parent_cluster_id ON cluster_hierarchies (parent_cluster_id);
CREATE TABLE cluster_metadata (
	id INTEGER NOT NULL, 
	run_id VARCHAR, 
	cluster_id INTEGER NOT NULL, 
	coherence_score INTEGER, 
	quality VARCHAR, 
	flags JSON, 
	notes VARCHAR, 
	last_edited DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_clustermetadata_run_cluster UNIQUE (run_id, cluster_id), 
	FOREIGN KEY(run_id) REFERENCES clustering_runs (run_id) ON DELETE CASCADE
);
CREATE INDEX ix_cluster_metadata_coherence_score ON cluster_metadata (coherence_score);
CREATE INDEX ix_cluster_metadata_quality ON cluster_metadata (quality);
CREATE INDEX ix_cluster_metadata_run_id ON cluster_metadata (run_id);
CREATE TABLE cluster_summaries (
	id INTEGER NOT NULL, 
	run_id VARCHAR, 
	cluster_id INTEGER NOT NULL, 
	summary_run_id VARCHAR NOT NULL, 
	alias VARCHAR, 
	title VARCHAR, 
	description VARCHAR, 
	summary VARCHAR, 
	num_queries INTEGER, 
	representative_queries JSON, 
	model VARCHAR, 
	parameters JSON, 
	generated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_clustersummary_run_cluster_summary UNIQUE (run_id, cluster_id, summary_run_id), 
	FOREIGN KEY(run_id) REFERENCES clustering_runs (run_id) ON DELETE CASCADE
);
CREATE INDEX ix_cluster_summaries_cluster_id ON cluster_summaries (cluster_id);
CREATE INDEX ix_cluster_summaries_run_id ON cluster_summaries (run_id);
CREATE INDEX ix_cluster_summaries_summary_run_id ON cluster_summaries (summary_run_id);
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
CREATE TABLE orphaned_queries (
	id INTEGER NOT NULL, 
	run_id VARCHAR, 
	query_id INTEGER, 
	original_cluster_id INTEGER, 
	orphaned_at DATETIME NOT NULL, 
	reason VARCHAR, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_orphanedquery_run_query UNIQUE (run_id, query_id), 
	FOREIGN KEY(run_id) REFERENCES clustering_runs (run_id) ON DELETE CASCADE, 
	FOREIGN KEY(query_id) REFERENCES queries (id) ON DELETE CASCADE
);
CREATE INDEX ix_orphaned_queries_query_id ON orphaned_queries (query_id);
CREATE INDEX ix_orphaned_queries_run_id ON orphaned_queries (run_id);
CREATE TABLE query_clusters (
	id INTEGER NOT NULL, 
	run_id VARCHAR, 
	query_id INTEGER, 
	cluster_id INTEGER NOT NULL, 
	confidence_score FLOAT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_querycluster_run_query UNIQUE (run_id, query_id), 
	FOREIGN KEY(run_id) REFERENCES clustering_runs (run_id) ON DELETE CASCADE, 
	FOREIGN KEY(query_id) REFERENCES queries (id) ON DELETE CASCADE
);
CREATE INDEX ix_query_clusters_cluster_id ON query_clusters (cluster_id);
CREATE INDEX ix_query_clusters_query_id ON query_clusters (query_id);
CREATE INDEX ix_query_clusters_run_id ON query_clusters (run_id);
