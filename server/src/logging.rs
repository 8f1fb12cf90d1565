//! The server's log: `RUST_LOG`-style filters, text for people or one JSON object per line for
//! log collectors, on standard error, with colour only when that is a terminal.
//!
//! ```no_run
//! use itinera_server::logging::{LogFormat, init};
//!
//! // What `itinera-server --log "info,itinera_server::access=warn" --log-format json` does.
//! init(Some("info,itinera_server::access=warn"), LogFormat::Json)?;
//! # Ok::<(), String>(())
//! ```

use std::io::IsTerminal;

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// The filter when none is given.
pub const DEFAULT_FILTER: &str = "info";

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line of text per event.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the fields.
    Json,
}

/// The filter to apply: `filter` (`info`, `warn,itinera_server=debug`, …) or
/// [`DEFAULT_FILTER`], with automerge kept at WARN unless the filter names it.
///
/// automerge instruments `load_changes` at INFO with the whole change graph as a field: a
/// subscriber that enables it formats every change hash of a document on every load (about a
/// tenth of the server's CPU on records with long histories, in the benchmarks).
pub fn filter(filter: Option<&str>) -> Result<EnvFilter, String> {
    let text = filter
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .unwrap_or(DEFAULT_FILTER);
    let text = if text.contains("automerge") {
        text.to_owned()
    } else {
        format!("{text},automerge=warn")
    };
    EnvFilter::builder()
        .parse(&text)
        .map_err(|err| format!("bad log filter {text:?}: {err}"))
}

/// Installs the process's log subscriber.
pub fn init(filter_text: Option<&str>, format: LogFormat) -> Result<(), String> {
    let filter = filter(filter_text)?;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    let installed = match format {
        LogFormat::Text => builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|err| format!("could not install the logger: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_keep_automerge_quiet() {
        assert!(filter(None).is_ok());
        assert!(filter(Some("warn,itinera_server::access=info")).is_ok());
        assert!(
            filter(Some("info"))
                .expect("filter")
                .to_string()
                .contains("automerge=warn")
        );
        assert!(
            !filter(Some("automerge=debug"))
                .expect("filter")
                .to_string()
                .contains("automerge=warn")
        );
        assert!(filter(Some("info,=[")).is_err());
    }
}
