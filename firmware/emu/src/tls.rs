//! TLS to the broker: rustls with the `ring` provider, verifying the broker against a CA file.
//!
//! The firmware verifies the broker certificate (mbedTLS `VERIFY_REQUIRED`) against its CA list,
//! and uses the server name for SNI and host name checks; this edge does the same with `--ca FILE`.
//! Without `--ca` there is no trust anchor at all, so `mqtts://` requires it.
//!
//! [`TlsVerify::Insecure`] (`ovms-emu --insecure`) accepts any broker certificate: the chain and
//! the host name are not checked (the handshake signatures still are). It exists for benches with
//! throw-away certificates and for the conformance suite's mutation test, which proves that the
//! "wrong CA is refused" scenario fails when verification is off. The firmware never does this.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// The TLS client setup failed (before any connection is attempted).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The CA file could not be read or holds no PEM certificate.
    #[error("CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// `mqtts://` was asked for without `--ca`.
    #[error("mqtts:// needs --ca FILE (the PEM certificate of the CA that signed the broker's certificate)")]
    NoCa,
    /// The client certificate or key file (mutual TLS) could not be used.
    #[error("client certificate {path}: {reason}")]
    ClientAuth {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// How the broker's certificate is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsVerify {
    /// Against the CA file, with the host name (what the firmware does).
    #[default]
    Verify,
    /// Not at all: any certificate is accepted (`--insecure`).
    Insecure,
}

/// A client certificate chain and its private key, both PEM files (mutual TLS, as firmware
/// 3.3.006+ does with `/store/tls/serverv3_client.crt` and `.key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAuthFiles {
    /// PEM certificate chain (leaf first).
    pub cert: std::path::PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
}

/// A rustls client configuration trusting exactly the certificates in `ca_file` (PEM, one or
/// more), presenting `client_auth` when given.
pub fn client_config(
    ca_file: &Path,
    client_auth: Option<&ClientAuthFiles>,
) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let path = ca_file.display().to_string();
    let ca_err = |reason: String| TlsSetupError::CaFile {
        path: path.clone(),
        reason,
    };
    let data = std::fs::read(ca_file).map_err(|e| ca_err(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(&data) {
        let cert = cert.map_err(|e| ca_err(format!("not a valid PEM file: {e}")))?;
        roots.add(cert).map_err(|e| {
            ca_err(format!(
                "certificate {} is not usable as a trust anchor: {e}",
                n + 1
            ))
        })?;
        n += 1;
    }
    if n == 0 {
        return Err(ca_err(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) found".into(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    finish(builder, client_auth)
}

/// A rustls client configuration that accepts any broker certificate ([`TlsVerify::Insecure`]),
/// presenting `client_auth` when given.
pub fn insecure_client_config(
    client_auth: Option<&ClientAuthFiles>,
) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AcceptAnyCertificate(provider.clone()));
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    finish(builder, client_auth)
}

fn finish(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
    client_auth: Option<&ClientAuthFiles>,
) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let config = match client_auth {
        None => builder.with_no_client_auth(),
        Some(files) => {
            let (chain, key) = load_client_auth(files)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsSetupError::ClientAuth {
                    path: files.key.display().to_string(),
                    reason: format!("does not match the certificate or is unsupported: {e}"),
                })?
        }
    };
    Ok(Arc::new(config))
}

/// [`TlsVerify::Insecure`]: every certificate and name is accepted; handshake signatures are
/// still checked with the provider's algorithms, so the session keys are genuine.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn load_client_auth(
    files: &ClientAuthFiles,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsSetupError> {
    let err = |p: &Path, reason: String| TlsSetupError::ClientAuth {
        path: p.display().to_string(),
        reason,
    };
    let data = std::fs::read(&files.cert).map_err(|e| err(&files.cert, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(&files.cert, format!("not a valid PEM file: {e}")))?;
    if chain.is_empty() {
        return Err(err(&files.cert, "no PEM certificate found".into()));
    }
    let data = std::fs::read(&files.key).map_err(|e| err(&files.key, e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&data)
        .map_err(|e| err(&files.key, format!("no usable PEM private key: {e}")))?;
    Ok((chain, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_ca_files_give_clear_errors() {
        let e = client_config(Path::new("/nonexistent/ca.pem"), None).unwrap_err();
        assert!(
            e.to_string().starts_with("CA file /nonexistent/ca.pem: "),
            "{e}"
        );
        let p = std::env::temp_dir().join(format!("ovms-emu-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&p, "hello\n").unwrap();
        let e = client_config(&p, None).unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        std::fs::remove_file(&p).unwrap();
    }
}
