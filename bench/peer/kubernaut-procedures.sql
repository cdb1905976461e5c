-- Kubernaut's pattern procedures, RESTATED for the PostgreSQL peer benchmark
-- (scripts/bench-peer.sh loads this file when KUBERNAUT_MIGRATIONS_DIR is not set).
--
-- NOT Kubernaut's code. Written for this benchmark from the documented rules of
-- Kubernaut's migration 003 (jordigilh/kubernaut, commit e95c592a) as docs/PATTERNS.md
-- and core/src/patterns/detectors.rs state them: the same function names, parameters and
-- result columns, the same rows counted and thresholds applied, and the same way of
-- evaluating them (window functions over the resource's actions in the window, and for
-- cascades two correlated look-ups per action), so that a call costs about what
-- Kubernaut's costs. Like Kubernaut's, every effectiveness mean counts an unassessed
-- action as 0, and every window ends at now() (the history must be loaded relative to
-- the real clock). docs/PERFORMANCE.md ("Peers: PostgreSQL") says which procedures each
-- published figure used; with a local checkout of Kubernaut's migrations, set
-- KUBERNAUT_MIGRATIONS_DIR and the benchmark loads those instead.

-- Scale oscillation: scale_deployment actions on the resource in the window. Each action
-- that follows another one asking for a replica count gets a direction (up, down, none);
-- a direction change is an action whose direction is up or down and differs from the
-- previous action's up or down. Reported from 2 changes.
CREATE OR REPLACE FUNCTION detect_scale_oscillation(
    p_namespace VARCHAR(63),
    p_kind VARCHAR(100),
    p_name VARCHAR(253),
    p_window_minutes INTEGER DEFAULT 120
)
RETURNS TABLE (
    direction_changes INTEGER,
    first_change TIMESTAMPTZ,
    last_change TIMESTAMPTZ,
    avg_effectiveness DECIMAL(4,3),
    duration_minutes DECIMAL(10,2),
    severity VARCHAR(20),
    action_sequence JSONB
) AS $fn$
BEGIN
    RETURN QUERY
    WITH scales AS (
        SELECT t.action_timestamp AS at,
               (t.action_parameters ->> 'replicas')::int AS replicas,
               lag((t.action_parameters ->> 'replicas')::int)
                   OVER (PARTITION BY h.resource_id ORDER BY t.action_timestamp) AS replicas_before,
               coalesce(t.effectiveness_score, 0) AS eff
        FROM resource_action_traces t
        JOIN action_histories h ON h.id = t.action_history_id
        JOIN resource_references r ON r.id = h.resource_id
        WHERE r.namespace = p_namespace AND r.kind = p_kind AND r.name = p_name
          AND t.action_type = 'scale_deployment'
          AND t.action_timestamp > now() - make_interval(mins => p_window_minutes)
    ),
    moves AS (
        SELECT s.at, s.replicas, s.eff,
               CASE WHEN s.replicas > s.replicas_before THEN 'up'
                    WHEN s.replicas < s.replicas_before THEN 'down'
                    ELSE 'none' END AS dir
        FROM scales s
        WHERE s.replicas_before IS NOT NULL
    ),
    turns AS (
        SELECT m.*, lag(m.dir) OVER (ORDER BY m.at) AS dir_before
        FROM moves m
    ),
    summary AS (
        SELECT count(*) FILTER (WHERE u.dir <> 'none' AND u.dir_before <> 'none'
                                  AND u.dir <> u.dir_before) AS changes,
               min(u.at) AS first_at,
               max(u.at) AS last_at,
               avg(u.eff) AS mean_eff,
               extract(epoch FROM max(u.at) - min(u.at)) / 60 AS span,
               jsonb_agg(jsonb_build_object('timestamp', u.at, 'replica_count', u.replicas,
                                            'direction', u.dir, 'effectiveness', u.eff)
                         ORDER BY u.at) AS seq
        FROM turns u
    )
    SELECT s.changes::INTEGER,
           s.first_at,
           s.last_at,
           s.mean_eff::DECIMAL(4,3),
           s.span::DECIMAL(10,2),
           (CASE WHEN s.changes >= 4 AND s.span <= 60 AND s.mean_eff < 0.5 THEN 'critical'
                 WHEN s.changes >= 3 AND s.span <= 120 AND s.mean_eff < 0.7 THEN 'high'
                 WHEN s.changes >= 2 AND s.span <= 180 THEN 'medium'
                 ELSE 'low' END)::VARCHAR(20),
           s.seq
    FROM summary s
    WHERE s.changes >= 2;
END;
$fn$ LANGUAGE plpgsql STABLE SECURITY DEFINER;

-- Resource thrashing: increase_resources and scale_deployment actions on the resource in
-- the window; an action counts when it follows the previous one of them by less than 45
-- minutes, and is a transition when its type differs from that previous one's. Reported
-- from 1 transition.
CREATE OR REPLACE FUNCTION detect_resource_thrashing(
    p_namespace VARCHAR(63),
    p_kind VARCHAR(100),
    p_name VARCHAR(253),
    p_window_minutes INTEGER DEFAULT 120
)
RETURNS TABLE (
    thrashing_transitions INTEGER,
    total_actions INTEGER,
    first_action TIMESTAMPTZ,
    last_action TIMESTAMPTZ,
    avg_effectiveness DECIMAL(4,3),
    avg_time_gap_minutes DECIMAL(10,2),
    severity VARCHAR(20)
) AS $fn$
BEGIN
    RETURN QUERY
    WITH seq AS (
        SELECT t.action_timestamp AS at,
               t.action_type AS kind_now,
               t.effectiveness_score AS score,
               lag(t.action_type) OVER w AS kind_before,
               lag(t.action_timestamp) OVER w AS at_before
        FROM resource_action_traces t
        JOIN action_histories h ON h.id = t.action_history_id
        JOIN resource_references r ON r.id = h.resource_id
        WHERE r.namespace = p_namespace AND r.kind = p_kind AND r.name = p_name
          AND t.action_type IN ('increase_resources', 'scale_deployment')
          AND t.action_timestamp > now() - make_interval(mins => p_window_minutes)
        WINDOW w AS (PARTITION BY h.resource_id ORDER BY t.action_timestamp)
    ),
    close_pairs AS (
        SELECT q.at,
               coalesce(q.score, 0) AS eff,
               extract(epoch FROM q.at - q.at_before) / 60 AS gap,
               (q.kind_now <> q.kind_before) AS switched
        FROM seq q
        WHERE q.kind_before IS NOT NULL
          AND q.at - q.at_before < interval '45 minutes'
    ),
    summary AS (
        SELECT count(*) FILTER (WHERE c.switched) AS transitions,
               count(*) AS rows_kept,
               min(c.at) AS first_at,
               max(c.at) AS last_at,
               avg(c.eff) AS mean_eff,
               avg(c.gap) AS mean_gap
        FROM close_pairs c
    )
    SELECT s.transitions::INTEGER,
           s.rows_kept::INTEGER,
           s.first_at,
           s.last_at,
           s.mean_eff::DECIMAL(4,3),
           s.mean_gap::DECIMAL(10,2),
           (CASE WHEN s.transitions >= 3 AND s.mean_eff < 0.6 THEN 'critical'
                 WHEN s.transitions >= 2 AND s.mean_eff < 0.7 THEN 'high'
                 WHEN s.transitions >= 1 AND s.mean_gap < 15 THEN 'medium'
                 ELSE 'low' END)::VARCHAR(20)
    FROM summary s
    WHERE s.transitions >= 1;
END;
$fn$ LANGUAGE plpgsql STABLE SECURITY DEFINER;

-- Ineffective loops: per action type on the resource in the window, how often it was
-- repeated and how effective it was. Reported from 2 repetitions when a severity rule
-- holds; the trend, from 3 repetitions, is (last score - first score) / max(first, 0.1).
CREATE OR REPLACE FUNCTION detect_ineffective_loops(
    p_namespace VARCHAR(63),
    p_kind VARCHAR(100),
    p_name VARCHAR(253),
    p_window_minutes INTEGER DEFAULT 120
)
RETURNS TABLE (
    action_type VARCHAR(50),
    repetition_count INTEGER,
    avg_effectiveness DECIMAL(4,3),
    effectiveness_stddev DECIMAL(4,3),
    first_occurrence TIMESTAMPTZ,
    last_occurrence TIMESTAMPTZ,
    span_minutes DECIMAL(10,2),
    severity VARCHAR(20),
    effectiveness_trend DECIMAL(6,3),
    effectiveness_scores DECIMAL(4,3)[],
    timestamps TIMESTAMPTZ[]
) AS $fn$
BEGIN
    RETURN QUERY
    WITH per_type AS (
        SELECT t.action_type AS kind,
               count(*) AS n,
               avg(coalesce(t.effectiveness_score, 0)) AS mean_eff,
               coalesce(stddev(coalesce(t.effectiveness_score, 0)), 0) AS sd_eff,
               min(t.action_timestamp) AS first_at,
               max(t.action_timestamp) AS last_at,
               array_agg(coalesce(t.effectiveness_score, 0) ORDER BY t.action_timestamp) AS scores,
               array_agg(t.action_timestamp ORDER BY t.action_timestamp) AS ats
        FROM resource_action_traces t
        JOIN action_histories h ON h.id = t.action_history_id
        JOIN resource_references r ON r.id = h.resource_id
        WHERE r.namespace = p_namespace AND r.kind = p_kind AND r.name = p_name
          AND t.action_timestamp > now() - make_interval(mins => p_window_minutes)
        GROUP BY t.action_type
        HAVING count(*) >= 2
    ),
    rated AS (
        SELECT p.*,
               CASE WHEN p.n >= 5 AND p.mean_eff < 0.3 THEN 'critical'
                    WHEN p.n >= 4 AND p.mean_eff < 0.5 THEN 'high'
                    WHEN p.n >= 3 AND p.mean_eff < 0.6 THEN 'medium'
                    WHEN p.mean_eff < 0.4 THEN 'low'
                    ELSE 'none' END AS sev,
               CASE WHEN p.n >= 3
                    THEN (p.scores[cardinality(p.scores)] - p.scores[1]) / greatest(p.scores[1], 0.1)
                    ELSE 0 END AS trend
        FROM per_type p
    )
    SELECT x.kind,
           x.n::INTEGER,
           x.mean_eff::DECIMAL(4,3),
           x.sd_eff::DECIMAL(4,3),
           x.first_at,
           x.last_at,
           (extract(epoch FROM x.last_at - x.first_at) / 60)::DECIMAL(10,2),
           x.sev::VARCHAR(20),
           x.trend::DECIMAL(6,3),
           x.scores::DECIMAL(4,3)[],
           x.ats
    FROM rated x
    WHERE x.sev <> 'none'
    ORDER BY array_position(ARRAY['critical', 'high', 'medium', 'low'], x.sev), x.mean_eff;
END;
$fn$ LANGUAGE plpgsql STABLE SECURITY DEFINER;

-- Cascading failures: for every action on the resource in the window, the distinct other
-- alerts on the resource from the action up to 30 minutes after it, and how often its own
-- alert fired again on the resource afterwards (each a look-up per action, as Kubernaut
-- evaluates them). Per action type: mean new alerts, share of actions whose alert came
-- back; reported for the types some of whose actions were followed by other alerts.
CREATE OR REPLACE FUNCTION detect_cascading_failures(
    p_namespace VARCHAR(63),
    p_kind VARCHAR(100),
    p_name VARCHAR(253),
    p_window_minutes INTEGER DEFAULT 120
)
RETURNS TABLE (
    action_type VARCHAR(50),
    total_actions INTEGER,
    avg_new_alerts DECIMAL(6,2),
    recurrence_rate DECIMAL(4,3),
    avg_effectiveness DECIMAL(4,3),
    actions_causing_cascades INTEGER,
    max_alerts_triggered INTEGER,
    severity VARCHAR(20)
) AS $fn$
BEGIN
    RETURN QUERY
    WITH acts AS (
        SELECT t.action_type AS kind,
               coalesce(t.effectiveness_score, 0) AS eff,
               (SELECT count(DISTINCT o.alert_name)
                FROM resource_action_traces o
                JOIN action_histories oh ON oh.id = o.action_history_id
                WHERE oh.resource_id = h.resource_id
                  AND o.action_timestamp BETWEEN t.action_timestamp
                                             AND t.action_timestamp + interval '30 minutes'
                  AND o.alert_name <> t.alert_name) AS new_alerts,
               (SELECT count(*)
                FROM resource_action_traces a
                JOIN action_histories ah ON ah.id = a.action_history_id
                WHERE ah.resource_id = h.resource_id
                  AND a.action_timestamp > t.action_timestamp
                  AND a.alert_name = t.alert_name) AS recurrences
        FROM resource_action_traces t
        JOIN action_histories h ON h.id = t.action_history_id
        JOIN resource_references r ON r.id = h.resource_id
        WHERE r.namespace = p_namespace AND r.kind = p_kind AND r.name = p_name
          AND t.action_timestamp > now() - make_interval(mins => p_window_minutes)
    ),
    per_type AS (
        SELECT a.kind,
               count(*) AS n,
               avg(a.new_alerts::float8) AS mean_new,
               avg(CASE WHEN a.recurrences > 0 THEN 1.0 ELSE 0.0 END) AS recur,
               avg(a.eff) AS mean_eff,
               count(*) FILTER (WHERE a.new_alerts > 0) AS causing,
               max(a.new_alerts) AS most_new
        FROM acts a
        GROUP BY a.kind
    )
    SELECT p.kind,
           p.n::INTEGER,
           p.mean_new::DECIMAL(6,2),
           p.recur::DECIMAL(4,3),
           p.mean_eff::DECIMAL(4,3),
           p.causing::INTEGER,
           p.most_new::INTEGER,
           (CASE WHEN p.mean_new > 2.0 AND p.recur > 0.5 THEN 'critical'
                 WHEN p.mean_new > 1.5 OR p.recur > 0.7 THEN 'high'
                 WHEN p.mean_new > 1.0 OR p.recur > 0.4 THEN 'medium'
                 ELSE 'low' END)::VARCHAR(20)
    FROM per_type p
    WHERE p.causing > 0
    ORDER BY p.mean_new DESC, p.recur DESC;
END;
$fn$ LANGUAGE plpgsql STABLE SECURITY DEFINER;

-- Effectiveness per action type on the resource between two times: assessed actions
-- only; success rate = completed share of them.
CREATE OR REPLACE FUNCTION get_action_effectiveness(
    p_namespace VARCHAR(63),
    p_kind VARCHAR(100),
    p_name VARCHAR(253),
    p_action_type VARCHAR(50) DEFAULT NULL,
    p_time_start TIMESTAMPTZ DEFAULT now() - interval '7 days',
    p_time_end TIMESTAMPTZ DEFAULT now()
)
RETURNS TABLE (
    action_type VARCHAR(50),
    sample_size INTEGER,
    avg_effectiveness DECIMAL(4,3),
    stddev_effectiveness DECIMAL(4,3),
    min_effectiveness DECIMAL(4,3),
    max_effectiveness DECIMAL(4,3),
    success_rate DECIMAL(4,3)
) AS $fn$
BEGIN
    RETURN QUERY
    SELECT t.action_type,
           count(*)::INTEGER,
           avg(t.effectiveness_score)::DECIMAL(4,3),
           stddev(t.effectiveness_score)::DECIMAL(4,3),
           min(t.effectiveness_score)::DECIMAL(4,3),
           max(t.effectiveness_score)::DECIMAL(4,3),
           avg((t.execution_status = 'completed')::int)::DECIMAL(4,3)
    FROM resource_action_traces t
    JOIN action_histories h ON h.id = t.action_history_id
    JOIN resource_references r ON r.id = h.resource_id
    WHERE r.namespace = p_namespace AND r.kind = p_kind AND r.name = p_name
      AND t.effectiveness_score IS NOT NULL
      AND t.action_timestamp BETWEEN p_time_start AND p_time_end
      AND (p_action_type IS NULL OR t.action_type = p_action_type)
    GROUP BY t.action_type
    ORDER BY 3 DESC;
END;
$fn$ LANGUAGE plpgsql STABLE SECURITY DEFINER;
