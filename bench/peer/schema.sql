-- The PostgreSQL peer's schema when no checkout of Kubernaut's migrations is given
-- (scripts/bench-peer.sh; KUBERNAUT_MIGRATIONS_DIR loads Kubernaut's own 001-003 instead).
--
-- A restatement, written for this benchmark from the documented data model
-- (docs/PERFORMANCE.md, "Peers: PostgreSQL"): the three tables an action trace lives in,
-- with the columns Kubernaut's resource_action_traces has after its migrations 001-003
-- (jordigilh/kubernaut, commit e95c592a), partitioned by month on action_timestamp, and an
-- index set equivalent to the one those migrations leave (the same indexed columns, so
-- COPY maintains as many index entries and the procedures find the same access paths).
-- Index and constraint names are our own. Monthly partitions are created by the driver
-- for the months the generated history covers.

CREATE TABLE resource_references (
    id           BIGSERIAL PRIMARY KEY,
    resource_uid VARCHAR(36)  NOT NULL UNIQUE,
    api_version  VARCHAR(100) NOT NULL,
    kind         VARCHAR(100) NOT NULL,
    name         VARCHAR(253) NOT NULL,
    namespace    VARCHAR(63),
    created_at   TIMESTAMPTZ DEFAULT now(),
    deleted_at   TIMESTAMPTZ,
    last_seen    TIMESTAMPTZ DEFAULT now(),
    UNIQUE (namespace, kind, name)
);
CREATE INDEX peer_rr_kind      ON resource_references (kind);
CREATE INDEX peer_rr_namespace ON resource_references (namespace);
CREATE INDEX peer_rr_last_seen ON resource_references (last_seen);
CREATE INDEX peer_rr_uid       ON resource_references (resource_uid);

-- One per resource: its retention and analysis settings (defaults as documented).
CREATE TABLE action_histories (
    id                         BIGSERIAL PRIMARY KEY,
    resource_id                BIGINT NOT NULL UNIQUE REFERENCES resource_references (id) ON DELETE CASCADE,
    max_actions                INTEGER DEFAULT 1000,
    max_age_days               INTEGER DEFAULT 30,
    compaction_strategy        VARCHAR(20) DEFAULT 'pattern-aware',
    oscillation_window_minutes INTEGER DEFAULT 120,
    effectiveness_threshold    DECIMAL(3,2) DEFAULT 0.70,
    pattern_min_occurrences    INTEGER DEFAULT 3,
    total_actions              INTEGER DEFAULT 0,
    last_action_at             TIMESTAMPTZ,
    last_analysis_at           TIMESTAMPTZ,
    next_analysis_at           TIMESTAMPTZ,
    created_at                 TIMESTAMPTZ DEFAULT now(),
    updated_at                 TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX peer_ah_last_action   ON action_histories (last_action_at);
CREATE INDEX peer_ah_next_analysis ON action_histories (next_analysis_at);
CREATE INDEX peer_ah_resource      ON action_histories (resource_id);

-- One row per action taken on a resource.
CREATE TABLE resource_action_traces (
    id                              BIGSERIAL,
    action_history_id               BIGINT NOT NULL REFERENCES action_histories (id) ON DELETE CASCADE,
    action_id                       VARCHAR(64) NOT NULL,
    correlation_id                  VARCHAR(64),
    action_timestamp                TIMESTAMPTZ NOT NULL,
    execution_start_time            TIMESTAMPTZ,
    execution_end_time              TIMESTAMPTZ,
    execution_duration_ms           INTEGER,
    alert_name                      VARCHAR(200) NOT NULL,
    alert_severity                  VARCHAR(20) NOT NULL,
    alert_labels                    JSONB,
    alert_annotations               JSONB,
    alert_firing_time               TIMESTAMPTZ,
    model_used                      VARCHAR(100) NOT NULL,
    routing_tier                    VARCHAR(20),
    model_confidence                DECIMAL(4,3) NOT NULL,
    model_reasoning                 TEXT,
    alternative_actions             JSONB,
    action_type                     VARCHAR(50) NOT NULL,
    action_parameters               JSONB,
    resource_state_before           JSONB,
    resource_state_after            JSONB,
    execution_status                VARCHAR(20) DEFAULT 'pending',
    execution_error                 TEXT,
    kubernetes_operations           JSONB,
    effectiveness_score             DECIMAL(4,3),
    effectiveness_criteria          JSONB,
    effectiveness_assessed_at       TIMESTAMPTZ,
    effectiveness_assessment_method VARCHAR(20),
    effectiveness_notes             TEXT,
    follow_up_actions               JSONB,
    created_at                      TIMESTAMPTZ DEFAULT now(),
    updated_at                      TIMESTAMPTZ DEFAULT now(),
    PRIMARY KEY (id, action_timestamp),
    UNIQUE (action_id, action_timestamp)
) PARTITION BY RANGE (action_timestamp);

CREATE INDEX peer_rat_history_time ON resource_action_traces (action_history_id, action_timestamp);
CREATE INDEX peer_rat_type_time    ON resource_action_traces (action_type, action_timestamp);
CREATE INDEX peer_rat_model_time   ON resource_action_traces (model_used, action_timestamp);
CREATE INDEX peer_rat_alert_time   ON resource_action_traces (alert_name, action_timestamp);
CREATE INDEX peer_rat_in_flight    ON resource_action_traces (execution_status)
    WHERE execution_status IN ('pending', 'executing');
CREATE INDEX peer_rat_assessed     ON resource_action_traces (effectiveness_score)
    WHERE effectiveness_score IS NOT NULL;
CREATE INDEX peer_rat_correlation  ON resource_action_traces (correlation_id)
    WHERE correlation_id IS NOT NULL;
CREATE INDEX peer_rat_labels_gin   ON resource_action_traces USING GIN (alert_labels);
CREATE INDEX peer_rat_params_gin   ON resource_action_traces USING GIN (action_parameters);
CREATE INDEX peer_rat_state_gin    ON resource_action_traces USING GIN (resource_state_before);
-- The two the procedures' migration adds.
CREATE INDEX peer_rat_history_type_time ON resource_action_traces (action_history_id, action_type, action_timestamp DESC);
CREATE INDEX peer_rat_type_assessed     ON resource_action_traces (action_type, effectiveness_score, action_timestamp)
    WHERE effectiveness_score IS NOT NULL;
