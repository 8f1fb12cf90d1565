//! TLS on the server's own listener (`serve --tls-cert FILE --tls-key FILE`), with rustls: the
//! certificate chain and private key are read from PEM files at start, and a problem with them
//! stops the start with a message naming the file. Behind a reverse proxy that terminates TLS,
//! leave them out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of the server's certificate chain and private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the certificate and key (a key that does not match the certificate).
    #[error("the certificate and key do not work together: {0}")]
    Config(#[from] rustls::Error),
}

impl TlsFiles {
    /// The rustls configuration of the listener: TLS 1.2 and 1.3 with the ring provider, no
    /// client certificates, HTTP/1.1 (WebSockets upgrade over it).
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let certs = certificates(&self.cert)?;
        let key = private_key(&self.key)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file_error = |reason: String| TlsError::File {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|err| file_error(err.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| file_error(err.to_string()))?;
    if certs.is_empty() {
        return Err(file_error("holds no PEM certificate".into()));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|err| TlsError::File {
        path: path.to_owned(),
        reason: format!("holds no usable private key ({err})"),
    })
}
