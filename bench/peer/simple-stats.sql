-- The simple indexed SQL of the PostgreSQL peer benchmark: the plainest query that
-- computes what pattern analysis needs per action type for one signature (alert on a
-- resource) in a window: attempts, completed, failed, rolled back, in progress, assessed
-- count and mean effectiveness. The driver (bench/peer/driver) creates the index after
-- the COPY (timed apart), runs VACUUM ANALYZE so the query is an index-only scan, and
-- sends the query as a prepared statement with $1..$4 = namespace, kind, name, alert name
-- and $5 = window start.
--
-- @index
CREATE INDEX peer_signature_stats ON resource_action_traces
    (action_history_id, alert_name, action_timestamp)
    INCLUDE (action_type, execution_status, effectiveness_score);
-- @query
SELECT t.action_type,
       count(*) FILTER (WHERE t.execution_status IN ('completed', 'failed', 'rolled-back')) AS attempts,
       count(*) FILTER (WHERE t.execution_status = 'completed') AS completed,
       count(*) FILTER (WHERE t.execution_status = 'failed') AS failed,
       count(*) FILTER (WHERE t.execution_status = 'rolled-back') AS rolled_back,
       count(*) FILTER (WHERE t.execution_status IN ('pending', 'executing')) AS in_progress,
       count(t.effectiveness_score) AS assessed,
       avg(t.effectiveness_score)::float8 AS mean_effectiveness
FROM resource_references r
JOIN action_histories h ON h.resource_id = r.id
JOIN resource_action_traces t ON t.action_history_id = h.id
WHERE r.namespace = $1 AND r.kind = $2 AND r.name = $3
  AND t.alert_name = $4
  AND t.action_timestamp >= $5
GROUP BY t.action_type
