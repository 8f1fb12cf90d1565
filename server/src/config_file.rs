//! The TOML configuration file (`--config FILE` or `ITINERA_CONFIG`): the same settings as the
//! flags, for a service manager or a container to keep in one place.
//!
//! Precedence, highest first: a command-line flag, its environment variable, the file, the
//! built-in default. Every key is optional; an unknown key is an error, so that a typo does not
//! pass silently.
//!
//! ```
//! let file: itinera_server::config_file::ConfigFile = toml::from_str(r#"
//!     data = "/var/lib/itinera"
//!     log = "info,itinera_server::access=warn"
//!     log_format = "json"
//!     [serve]
//!     listen = "127.0.0.1:8080"
//!     workers = 4
//! "#)?;
//! assert_eq!(file.serve.workers, Some(4));
//! # Ok::<(), toml::de::Error>(())
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::logging::LogFormat;
use crate::operation_error::OperationError;

/// Everything the file may set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The data folder.
    pub data: Option<PathBuf>,
    /// The log filter (`RUST_LOG` syntax).
    pub log: Option<String>,
    /// `text` or `json`.
    pub log_format: Option<LogFormat>,
    /// The running server the admin commands talk to (`http://127.0.0.1:8080`).
    pub server: Option<String>,
    /// A file holding an admin token for those commands.
    pub admin_token_file: Option<PathBuf>,
    /// The settings of `serve`.
    #[serde(default)]
    pub serve: ServeSettings,
    /// The company's conventions the authority decides by.
    #[serde(default)]
    pub company: CompanyFileSettings,
}

/// The `[company]` table: the company's conventions (`serve --time-zone` and the flags beside it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyFileSettings {
    pub time_zone: Option<String>,
    pub invoice_series: Option<Vec<String>>,
    pub phone_region: Option<String>,
    pub backdate_limit_days: Option<i64>,
}

/// The `[serve]` table: the flags of `itinera-server serve`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSettings {
    pub listen: Option<SocketAddr>,
    pub idle_unload_ms: Option<u64>,
    pub max_frame_bytes: Option<usize>,
    pub max_outgoing_bytes: Option<usize>,
    pub ping_interval_ms: Option<u64>,
    pub client_timeout_ms: Option<u64>,
    pub max_documents_per_session: Option<usize>,
    pub max_messages_per_second: Option<u32>,
    pub max_body_bytes: Option<usize>,
    pub max_sessions_per_user: Option<usize>,
    pub behind_proxy: Option<bool>,
    pub tls_cert: Option<std::path::PathBuf>,
    pub tls_key: Option<std::path::PathBuf>,
    pub relaxed_durability: Option<bool>,
    pub workers: Option<usize>,
    pub store_cache_mb: Option<usize>,
}

impl ConfigFile {
    /// Reads and parses the file.
    pub fn load(path: &Path) -> Result<Self, OperationError> {
        let text = std::fs::read_to_string(path).map_err(OperationError::file(path))?;
        toml::from_str(&text).map_err(|err| {
            OperationError::Refused(format!(
                "the config file {} is invalid: {err}",
                path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_is_refused() {
        assert!(toml::from_str::<ConfigFile>("lisen = \"x\"").is_err());
        assert!(toml::from_str::<ConfigFile>("[serve]\nlisten = \"nope\"").is_err());
        let file: ConfigFile = toml::from_str("log_format = \"text\"").expect("parses");
        assert_eq!(file.log_format, Some(LogFormat::Text));
    }

    #[test]
    fn the_store_cache_is_set_in_mib_under_serve() {
        let file: ConfigFile = toml::from_str("[serve]\nstore_cache_mb = 16").expect("parses");
        assert_eq!(file.serve.store_cache_mb, Some(16));
        assert!(toml::from_str::<ConfigFile>("[serve]\nstore_cache_mb = -1").is_err());
    }

    #[test]
    fn the_shipped_example_parses() {
        let file: ConfigFile =
            toml::from_str(include_str!("../../deploy/itinera.toml")).expect("parses");
        assert_eq!(file.log_format, Some(LogFormat::Json));
        assert!(file.serve.listen.is_some());
    }
}
