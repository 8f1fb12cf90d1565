//! TLS for the tests: a certificate authority made by the test (rcgen), a server certificate for
//! `127.0.0.1` and `localhost` signed by it, both written as PEM files for `serve --tls-cert
//! --tls-key`, and client configurations that trust that authority only (or another one, to
//! see a wrong authority refused).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::CertificateDer;

/// A certificate authority and a server certificate it signed.
#[derive(Debug)]
pub struct TestCa {
    /// The authority's certificate, PEM (what a client is told to trust).
    pub ca_pem: String,
    ca_der: CertificateDer<'static>,
    /// The server's certificate chain file.
    pub cert: PathBuf,
    /// The server's private key file.
    pub key: PathBuf,
}

impl TestCa {
    /// Makes an authority named `name` and a server certificate, written into `folder`.
    pub fn new(folder: &Path, name: &str) -> Self {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test authority"));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("the CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("a server key");
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server params");
        server_params
            .distinguished_name
            .push(DnType::CommonName, "itinera test server");
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("the server certificate");

        let cert = folder.join(format!("{name}-server.pem"));
        let key = folder.join(format!("{name}-server.key"));
        std::fs::write(&cert, server_cert.pem()).expect("write the certificate");
        std::fs::write(&key, server_key.serialize_pem()).expect("write the key");
        Self {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            cert,
            key,
        }
    }

    /// The authority's certificate written as a PEM file in `folder` (for `SSL_CERT_FILE` or
    /// Node's `NODE_EXTRA_CA_CERTS`).
    pub fn write_ca(&self, folder: &Path) -> PathBuf {
        let path = folder.join("test-ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write the CA");
        path
    }

    /// A client configuration that trusts this authority only.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("a root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }
}
