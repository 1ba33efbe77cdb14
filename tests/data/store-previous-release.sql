-- A store as the previous release (bb50e5d) wrote it, dumped with sqlite3's iterdump: synthetic
-- answers, a revote, a consent and a reflection. tests/test_store_migrations.py migrates it.
BEGIN TRANSACTION;
CREATE TABLE consents (
	learner VARCHAR(200) NOT NULL, 
	consent BOOLEAN NOT NULL, 
	recorded_at DATETIME NOT NULL
);
INSERT INTO "consents" VALUES('synthetic-ana',1,'2026-12-07 19:48:33.287874');
CREATE TABLE dualrole_erasures (
	store VARCHAR(20) NOT NULL, 
	erasures INTEGER NOT NULL, 
	PRIMARY KEY (store)
);
CREATE TABLE dualrole_feedback (
	feedback_id VARCHAR(36) NOT NULL, 
	learner VARCHAR(200) NOT NULL, 
	response_id VARCHAR(36) NOT NULL, 
	case_id VARCHAR(60) NOT NULL, 
	case_version VARCHAR(64) NOT NULL, 
	rubric_id VARCHAR(60) NOT NULL, 
	rubric_version VARCHAR(64) NOT NULL, 
	levels JSON NOT NULL, 
	comment TEXT NOT NULL, 
	released_by VARCHAR(200) NOT NULL, 
	released_at DATETIME NOT NULL, 
	PRIMARY KEY (feedback_id)
);
CREATE TABLE dualrole_meta (
	"key" VARCHAR(40) NOT NULL, 
	value VARCHAR(200) NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "dualrole_meta" VALUES('schema_version','2');
CREATE TABLE dualrole_scores (
	score_id VARCHAR(36) NOT NULL, 
	response_id VARCHAR(36) NOT NULL, 
	learner VARCHAR(200) NOT NULL, 
	case_id VARCHAR(60) NOT NULL, 
	scorer VARCHAR(200) NOT NULL, 
	rubric_id VARCHAR(60) NOT NULL, 
	rubric_version VARCHAR(64) NOT NULL, 
	levels JSON NOT NULL, 
	comment TEXT NOT NULL, 
	scored_at DATETIME NOT NULL, 
	PRIMARY KEY (score_id)
);
CREATE TABLE reflections (
	reflection_id VARCHAR(36) NOT NULL, 
	learner VARCHAR(200) NOT NULL, 
	cohort VARCHAR(200) NOT NULL, 
	lesson VARCHAR(60) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	case_id VARCHAR(60), 
	text TEXT NOT NULL, 
	saved_at DATETIME NOT NULL, 
	PRIMARY KEY (reflection_id)
);
INSERT INTO "reflections" VALUES('00000000-0000-4000-8000-0000000000aa','synthetic-ana','synthetic-previous-release','01_confidentiality','reflection',NULL,'A synthetic reflection.','2026-12-01 09:30:00.000000');
CREATE TABLE responses (
	response_id VARCHAR(36) NOT NULL, 
	learner VARCHAR(200) NOT NULL, 
	cohort VARCHAR(200) NOT NULL, 
	case_id VARCHAR(60) NOT NULL, 
	case_version VARCHAR(64) NOT NULL, 
	option_id VARCHAR(60) NOT NULL, 
	stance VARCHAR(40) NOT NULL, 
	confidence INTEGER NOT NULL, 
	kitchener_expectations VARCHAR(10), 
	kitchener_obligations VARCHAR(10), 
	kitchener_power VARCHAR(10), 
	justification TEXT NOT NULL, 
	attempt INTEGER NOT NULL, 
	phase VARCHAR(10) NOT NULL, 
	started_at DATETIME, 
	submitted_at DATETIME NOT NULL, 
	client VARCHAR(20) NOT NULL, 
	consent BOOLEAN NOT NULL, 
	option_order VARCHAR(400), 
	reference_seen BOOLEAN, 
	stage VARCHAR(20), 
	PRIMARY KEY (response_id), 
	CONSTRAINT one_answer_per_attempt UNIQUE (learner, cohort, case_id, phase, attempt), 
	CONSTRAINT confidence_range CHECK (confidence BETWEEN 0 AND 100), 
	CONSTRAINT attempt_one_or_two CHECK (attempt IN (1, 2))
);
INSERT INTO "responses" VALUES('00000000-0000-4000-8000-000000000001','synthetic-ana','synthetic-previous-release','cosmetics','a8e646455a685042','decline_explore','decline_and_explore',60,NULL,NULL,NULL,'Written by the previous release, before the upgrade.',1,'practice',NULL,'2026-12-01 09:30:00.000000','lab',0,NULL,NULL,NULL);
INSERT INTO "responses" VALUES('00000000-0000-4000-8000-000000000002','synthetic-ana','synthetic-previous-release','cosmetics','a8e646455a685042','decline_only','decline',60,NULL,NULL,NULL,'Written by the previous release, before the upgrade.',2,'practice',NULL,'2026-12-01 09:30:00.000000','lab',0,NULL,NULL,NULL);
INSERT INTO "responses" VALUES('00000000-0000-4000-8000-000000000003','synthetic-ben','synthetic-previous-release','cosmetics','a8e646455a685042','decline_explore','decline_and_explore',60,NULL,NULL,NULL,'Written by the previous release, before the upgrade.',1,'practice',NULL,'2026-12-01 09:30:00.000000','lab',0,NULL,NULL,NULL);
CREATE INDEX ix_responses_cohort ON responses (cohort);
CREATE INDEX ix_responses_case_id ON responses (case_id);
CREATE INDEX ix_responses_learner ON responses (learner);
CREATE INDEX ix_responses_cohort_answers ON responses (case_id, cohort, phase, learner, attempt);
CREATE INDEX ix_consents_learner ON consents (learner);
CREATE INDEX ix_reflections_learner ON reflections (learner);
CREATE INDEX ix_dualrole_scores_learner ON dualrole_scores (learner);
CREATE INDEX ix_dualrole_scores_case_id ON dualrole_scores (case_id);
CREATE INDEX ix_dualrole_scores_response_id ON dualrole_scores (response_id);
CREATE INDEX ix_dualrole_feedback_learner ON dualrole_feedback (learner);
COMMIT;
