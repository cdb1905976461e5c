//! `kubernaut-context export`: the filtered history as CSV or NDJSON on standard output
//! (or a file), streamed through `Service::export` like `GET /action-history?format=`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use context_core::export::ExportFormat;
use context_core::model::ExecutionStatus;
use context_core::service::Service;
use context_core::store::{HistoryQuery, TextMatch};
use futures_util::StreamExt;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Whole values, case-sensitive.
    Exact,
    /// Any part of the value, ignoring ASCII case.
    Contains,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub namespace: Option<String>,
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub alert: Option<String>,
    /// How --namespace, --kind, --name and --alert match.
    #[arg(long = "match", value_enum, default_value = "exact")]
    pub text_match: Match,
    #[arg(long)]
    pub signature: Option<String>,
    #[arg(long)]
    pub workflow: Option<String>,
    #[arg(long)]
    pub action_type: Option<String>,
    /// pending, executing, completed, failed or rolled-back.
    #[arg(long)]
    pub status: Option<String>,
    /// Only actions at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only actions before this time (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
}

fn time(flag: &str, v: &Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    v.as_deref()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.to_utc())
                .map_err(|e| format!("--{flag} {s:?}: not an RFC 3339 time ({e})"))
        })
        .transpose()
}

/// The query of these flags.
pub fn query(a: &ExportArgs) -> Result<HistoryQuery, String> {
    let status = a
        .status
        .as_deref()
        .map(|s| {
            ExecutionStatus::parse(s).ok_or_else(|| {
                format!("--status {s:?}: use pending, executing, completed, failed or rolled-back")
            })
        })
        .transpose()?;
    Ok(HistoryQuery {
        namespace: a.namespace.clone(),
        kind: a.kind.clone(),
        name: a.name.clone(),
        alert_name: a.alert.clone(),
        text_match: match a.text_match {
            Match::Exact => TextMatch::Exact,
            Match::Contains => TextMatch::Contains,
        },
        signature: a.signature.clone(),
        workflow_id: a.workflow.clone(),
        action_type: a.action_type.clone(),
        status,
        since: time("since", &a.since)?,
        until: time("until", &a.until)?,
        ..HistoryQuery::default()
    })
}

/// Writes the export; returns the number of bytes written.
pub async fn run(service: &Service, a: &ExportArgs) -> Result<u64, String> {
    let q = query(a)?;
    let format = match a.format {
        Format::Csv => ExportFormat::Csv,
        Format::Ndjson => ExportFormat::Ndjson,
    };
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut stream = std::pin::pin!(service.export(q, format));
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("export stopped: {e}"))?;
        match out.write_all(chunk.as_bytes()) {
            Ok(()) => bytes += chunk.len() as u64,
            // `| head`: the reader left; not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(bytes),
            Err(e) => return Err(format!("write: {e}")),
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("write: {e}")),
        _ => Ok(bytes),
    }
}
