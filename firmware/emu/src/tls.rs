//! TLS to the broker: rustls with the `ring` provider, verifying the broker against a CA file.
//!
//! The firmware verifies the broker certificate (mbedTLS `VERIFY_REQUIRED`) against its CA list,
//! and uses the server name for SNI and host name checks; this edge does the same with `--ca FILE`.
//! Without `--ca` there is no trust anchor at all, so `mqtts://` requires it.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
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
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A rustls client configuration trusting exactly the certificates in `ca_file` (PEM, one or more).
pub fn client_config(ca_file: &Path) -> Result<Arc<ClientConfig>, TlsSetupError> {
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
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_ca_files_give_clear_errors() {
        let e = client_config(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            e.to_string().starts_with("CA file /nonexistent/ca.pem: "),
            "{e}"
        );
        let p = std::env::temp_dir().join(format!("ovms-emu-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&p, "hello\n").unwrap();
        let e = client_config(&p).unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        std::fs::remove_file(&p).unwrap();
    }
}
