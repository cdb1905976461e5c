//! Log output of the `kubernaut-context` binary: one line per event on standard error,
//! as text for a person at a terminal or as JSON objects for a log collector
//! (`--log-format`, `KUBERNAUT_CONTEXT_LOG_FORMAT`; docs/DEPLOY.md "Logs").
//!
//! Without `--log-format`, the format follows standard error: text when it is a
//! terminal, JSON otherwise (a pipe, a file, a container runtime's log). ANSI colours
//! only in text on a terminal, never in a file or a pipe.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// `--log-format`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    Text,
    /// One JSON object per line: timestamp, level, target, message and the event's fields
    /// at the top level.
    Json,
}

/// The format and colouring used for `requested` when the log stream is (or is not) a
/// terminal: (format, ansi).
pub fn resolve(requested: Option<LogFormat>, terminal: bool) -> (LogFormat, bool) {
    let format = requested.unwrap_or(if terminal {
        LogFormat::Text
    } else {
        LogFormat::Json
    });
    (format, format == LogFormat::Text && terminal)
}

/// Installs the global subscriber: standard error, filter from `RUST_LOG` (default
/// `info`).
pub fn init(requested: Option<LogFormat>) {
    let (format, ansi) = resolve(requested, std::io::stderr().is_terminal());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_follows_the_terminal_and_colour_needs_text_on_a_terminal() {
        assert_eq!(resolve(None, true), (LogFormat::Text, true));
        assert_eq!(resolve(None, false), (LogFormat::Json, false));
        assert_eq!(
            resolve(Some(LogFormat::Text), false),
            (LogFormat::Text, false)
        );
        assert_eq!(
            resolve(Some(LogFormat::Json), true),
            (LogFormat::Json, false)
        );
    }
}
