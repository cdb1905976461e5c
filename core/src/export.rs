//! Export of the filtered history as CSV or NDJSON, streamed page by page (part of the
//! use-case layer: `impl Service`). Every door (API `format=`, the web app's download
//! links, the CLI `export`) writes the same bytes for the same filters.

use futures_util::Stream;

use crate::model::ActionTrace;
use crate::service::Service;
use crate::store::{HistoryQuery, StoreError};

/// Traces read per store call while exporting.
pub const EXPORT_PAGE: usize = 500;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One row per trace with the columns of [`CSV_COLUMNS`] (RFC 4180 quoting).
    Csv,
    /// One trace per line, each its full JSON document (what `import` reads).
    Ndjson,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s {
            "csv" => Some(ExportFormat::Csv),
            "ndjson" => Some(ExportFormat::Ndjson),
            _ => None,
        }
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Ndjson => "application/x-ndjson",
        }
    }

    pub fn extension(&self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson => "ndjson",
        }
    }
}

/// The CSV header row's columns.
pub const CSV_COLUMNS: [&str; 16] = [
    "action_id",
    "action_timestamp",
    "namespace",
    "kind",
    "name",
    "alert_name",
    "severity",
    "signature",
    "action_type",
    "execution_status",
    "execution_duration_ms",
    "effectiveness_score",
    "workflow_id",
    "correlation_id",
    "cluster_name",
    "execution_error",
];

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). A field
/// starting with `=`, `+`, `-` or `@` gets a leading `'` so spreadsheets do not run it
/// as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// One CSV line (with its `\n`) of `t`.
pub fn csv_row(t: &ActionTrace) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let severity = serde_json::to_value(t.alert.severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let fields = [
        t.action_id.clone(),
        t.action_timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        t.resource.namespace.clone(),
        t.resource.kind.clone(),
        t.resource.name.clone(),
        t.alert.name.clone(),
        severity,
        t.signature.clone(),
        t.action_type.clone(),
        t.execution_status.as_str().to_string(),
        t.execution_duration_ms
            .map(|d| d.to_string())
            .unwrap_or_default(),
        t.effectiveness_score()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        opt(&t.workflow_id),
        opt(&t.correlation_id),
        opt(&t.cluster_name),
        opt(&t.execution_error),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// The text of one page of traces in `format`.
fn chunk(format: ExportFormat, traces: &[ActionTrace]) -> Result<String, StoreError> {
    let mut out = String::new();
    for t in traces {
        match format {
            ExportFormat::Csv => out.push_str(&csv_row(t)),
            ExportFormat::Ndjson => {
                out.push_str(
                    &serde_json::to_string(t)
                        .map_err(|e| StoreError::Internal(format!("trace to JSON: {e}")))?,
                );
                out.push('\n');
            }
        }
    }
    Ok(out)
}

impl Service {
    /// Every trace matching `query`'s filters (newest first, from its `after` position if
    /// set; its `limit` is ignored), as text chunks in `format`: the CSV header first,
    /// then one chunk per [`EXPORT_PAGE`] traces. A store error ends the stream with it.
    pub fn export(
        &self,
        query: HistoryQuery,
        format: ExportFormat,
    ) -> impl Stream<Item = Result<String, StoreError>> + Send + 'static {
        let service = self.clone();
        let q = HistoryQuery {
            limit: EXPORT_PAGE,
            ..query
        };
        // State: the next query, or None when done; whether the header is out.
        futures_util::stream::try_unfold(
            (Some(q), format == ExportFormat::Ndjson),
            move |(q, header_done)| {
                let service = service.clone();
                async move {
                    if !header_done {
                        let mut h = CSV_COLUMNS.join(",");
                        h.push('\n');
                        return Ok(Some((h, (q, true))));
                    }
                    let Some(mut q) = q else {
                        return Ok(None);
                    };
                    let page = service.history_page(&q).await?;
                    let text = chunk(format, &page.items)?;
                    let next = page.next.map(|n| {
                        q.after = Some(n);
                        q
                    });
                    Ok(Some((text, (next, true))))
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{base_time, sample_trace};
    use crate::model::ExecutionStatus;
    use crate::oracle::MemStore;
    use crate::patterns::AnalysisConfig;
    use futures_util::{FutureExt, StreamExt};
    use std::sync::Arc;

    fn collect(s: &Service, q: HistoryQuery, f: ExportFormat) -> String {
        let chunks: Vec<Result<String, StoreError>> = s
            .export(q, f)
            .collect::<Vec<_>>()
            .now_or_never()
            .expect("MemStore answers at once");
        chunks.into_iter().map(|c| c.expect("chunk")).collect()
    }

    #[test]
    fn exports_every_page_as_csv_and_ndjson() {
        let mut traces = Vec::new();
        for i in 0..(EXPORT_PAGE as i64 + 7) {
            let mut t = sample_trace(
                &format!("x-{i:04}"),
                if i % 2 == 0 { "prod" } else { "dev" },
                "HighMemoryUsage",
                "api",
                "restart_pod",
                ExecutionStatus::Completed,
                base_time() + chrono::Duration::minutes(i),
            );
            if i == 4 {
                t.execution_error = Some("=cmd, \"quoted\"\nline".into());
            }
            traces.push(t);
        }
        let store = MemStore::new();
        crate::Store::put_traces(&store, &traces)
            .now_or_never()
            .unwrap()
            .unwrap();
        let s = Service::new(Arc::new(store), AnalysisConfig::default());
        let all = HistoryQuery::default();
        let nd = collect(&s, all.clone(), ExportFormat::Ndjson);
        let lines: Vec<&str> = nd.lines().collect();
        assert_eq!(lines.len(), EXPORT_PAGE + 7, "every trace, across pages");
        let first: ActionTrace = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first.action_id, format!("x-{:04}", EXPORT_PAGE + 6));
        let prod = HistoryQuery {
            namespace: Some("prod".into()),
            ..all
        };
        let csv = collect(&s, prod, ExportFormat::Csv);
        let mut rows = csv.split_inclusive('\n');
        assert_eq!(rows.next().unwrap().trim_end(), CSV_COLUMNS.join(","));
        assert!(csv.contains("\"'=cmd, \"\"quoted\"\"\nline\""), "{csv}");
        assert_eq!(csv.matches("x-").count(), (EXPORT_PAGE + 7).div_ceil(2));
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
