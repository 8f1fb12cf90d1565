//! The TLS settings of `wss://` connections: rustls with the ring provider, trusting the
//! platform's roots (the system store where a library can read it: on Linux the files
//! `SSL_CERT_FILE` or `SSL_CERT_DIR` name, else the distribution's bundle; Mozilla's roots on
//! Android and iOS) or, when the app pins one, its own certificate authority only.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::ItineraError;

/// A client configuration that trusts `pinned_ca_pem` only, or the platform's roots.
pub(crate) fn client_config(
    pinned_ca_pem: Option<&str>,
) -> Result<Arc<rustls::ClientConfig>, ItineraError> {
    let mut roots = rustls::RootCertStore::empty();
    match pinned_ca_pem {
        Some(pem) => {
            let certificates: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<Result<_, _>>()
                    .map_err(|error| ItineraError::Invalid {
                        reason: format!("the pinned certificate authority is not PEM: {error}"),
                    })?;
            if certificates.is_empty() {
                return Err(ItineraError::Invalid {
                    reason: "the pinned certificate authority holds no certificate".into(),
                });
            }
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|error| ItineraError::Invalid {
                        reason: format!("the pinned certificate authority is refused: {error}"),
                    })?;
            }
        }
        None => platform_roots(&mut roots)?,
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ItineraError::Other {
            reason: format!("TLS is unavailable: {error}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(not(any(target_os = "android", target_os = "ios")))]
fn platform_roots(roots: &mut rustls::RootCertStore) -> Result<(), ItineraError> {
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let reasons: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        return Err(ItineraError::Other {
            reason: format!(
                "no trusted certificate authority found on this system ({})",
                reasons.join("; ")
            ),
        });
    }
    Ok(())
}

#[cfg(any(target_os = "android", target_os = "ios"))]
fn platform_roots(roots: &mut rustls::RootCertStore) -> Result<(), ItineraError> {
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_authority_that_is_not_pem_is_refused_with_a_reason() {
        let err = client_config(Some("not a certificate")).expect_err("refused");
        assert!(err.to_string().contains("no certificate"), "{err}");
    }
}
