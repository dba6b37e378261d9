//! Test certificates generated with rcgen: a CA and a server certificate for localhost,
//! 127.0.0.1 and 10.0.2.2 (the QEMU user-network host address), written as PEM files.

use super::BrokerError;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};

/// Paths of the generated PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// CA certificate (give this to clients).
    pub ca_cert: PathBuf,
    /// Server certificate signed by the CA.
    pub server_cert: PathBuf,
    /// Server private key (PKCS#8).
    pub server_key: PathBuf,
}

/// The subject alternative names of the server certificate.
pub const SERVER_SANS: [&str; 3] = ["localhost", "127.0.0.1", "10.0.2.2"];

fn cert_err(e: rcgen::Error) -> BrokerError {
    BrokerError::Certificates(e.to_string())
}

/// Generates a fresh CA named `common_name` and a server certificate into `dir`.
pub fn generate_tls_files(dir: &Path, common_name: &str) -> Result<TlsFiles, BrokerError> {
    let ca_key = KeyPair::generate().map_err(cert_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(cert_err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(cert_err)?;
    let sans: Vec<String> = SERVER_SANS.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).map_err(cert_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_cert = params.signed_by(&server_key, &issuer).map_err(cert_err)?;

    let files = TlsFiles {
        ca_cert: dir.join("ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
    };
    write(&files.ca_cert, ca_cert.pem())?;
    write(&files.server_cert, server_cert.pem())?;
    write(&files.server_key, server_key.serialize_pem())?;
    Ok(files)
}

fn write(path: &Path, text: String) -> Result<(), BrokerError> {
    std::fs::write(path, text).map_err(|source| BrokerError::Io {
        context: format!("writing {}", path.display()),
        source,
    })
}
