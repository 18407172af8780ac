//! TLS trust for every HTTPS call the program makes: the public roots, plus the certificates of
//! the PEM file named by `AWS_CA_BUNDLE` when it is set (the AWS SDK convention, for
//! TLS-intercepting proxies and private endpoints).
//!
//! The bundle adds to the public roots and never replaces them. Nothing here disables
//! verification. The bundle is checked when it is loaded, because the SDK's TLS layer panics on
//! a certificate it cannot parse: a bad file must be a clear error, never a crash.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_smithy_http_client::tls::TrustStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

/// Variable names, as every AWS SDK reads them.
pub mod env {
    pub const CA_BUNDLE: &str = "AWS_CA_BUNDLE";
}

/// Connection bounds for an HTTP agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// The whole call: connect, request, response and body.
    pub total: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not read the CA bundle `{}` named by `AWS_CA_BUNDLE`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the CA bundle `{}` named by `AWS_CA_BUNDLE` is not valid PEM", path.display())]
    InvalidPem {
        path: PathBuf,
        #[source]
        source: pem::Error,
    },

    #[error("the CA bundle `{}` named by `AWS_CA_BUNDLE` holds no certificate", path.display())]
    NoCertificate { path: PathBuf },

    #[error(
        "certificate {number} of the CA bundle `{}` named by `AWS_CA_BUNDLE` cannot be used as a trust anchor",
        path.display()
    )]
    BadCertificate {
        path: PathBuf,
        /// 1-based position among the file's certificates.
        number: usize,
        #[source]
        source: rustls::Error,
    },
}

impl TlsError {
    pub fn hint(&self) -> Option<String> {
        Some(format!(
            "point `{}` at a PEM file of CA certificates (`-----BEGIN CERTIFICATE-----` blocks), or unset it",
            env::CA_BUNDLE
        ))
    }
}

/// The validated contents of a CA bundle file.
#[derive(Clone, Debug)]
pub struct CaBundle {
    pem: Vec<u8>,
    certificates: Vec<CertificateDer<'static>>,
}

impl CaBundle {
    /// The bundle named by `AWS_CA_BUNDLE`, or `None` when it is unset or empty.
    pub fn from_env() -> Result<Option<Self>, TlsError> {
        Self::from_var(std::env::var_os(env::CA_BUNDLE).as_deref())
    }

    /// The bundle named by a value of `AWS_CA_BUNDLE`.
    pub fn from_var(value: Option<&OsStr>) -> Result<Option<Self>, TlsError> {
        match value {
            Some(path) if !path.is_empty() => Self::load(Path::new(path)).map(Some),
            _ => Ok(None),
        }
    }

    /// Reads `path` and checks that every certificate in it can be a trust anchor.
    pub fn load(path: &Path) -> Result<Self, TlsError> {
        let pem = std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, pem)
    }

    fn parse(path: &Path, pem: Vec<u8>) -> Result<Self, TlsError> {
        // The same parser, and the same check, that the SDK's rustls layer applies later.
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TlsError::InvalidPem {
                path: path.to_owned(),
                source,
            })?;
        if certificates.is_empty() {
            return Err(TlsError::NoCertificate {
                path: path.to_owned(),
            });
        }
        let mut store = rustls::RootCertStore::empty();
        for (index, certificate) in certificates.iter().enumerate() {
            store
                .add(certificate.clone())
                .map_err(|source| TlsError::BadCertificate {
                    path: path.to_owned(),
                    number: index + 1,
                    source,
                })?;
        }
        Ok(Self { pem, certificates })
    }

    /// The file as read: PEM text holding at least one valid certificate.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }
}

/// A blocking HTTPS agent trusting the public (Mozilla) roots plus `AWS_CA_BUNDLE`.
pub fn ureq_agent(timeouts: Timeouts) -> Result<ureq::Agent, TlsError> {
    Ok(ureq_agent_with(CaBundle::from_env()?.as_ref(), timeouts))
}

/// A blocking HTTPS agent trusting the public (Mozilla) roots plus `bundle`.
pub fn ureq_agent_with(bundle: Option<&CaBundle>, timeouts: Timeouts) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};

    let roots = match bundle {
        None => RootCerts::WebPki,
        // ureq takes either its built-in roots or an explicit list, so the list repeats the
        // same Mozilla roots, as whole certificates, before the bundle's.
        Some(bundle) => webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()))
            .chain(
                bundle
                    .certificates()
                    .iter()
                    .map(|der| Certificate::from_der(der.as_ref()).to_owned()),
            )
            .into(),
    };
    ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .timeout_connect(Some(timeouts.connect))
        .timeout_global(Some(timeouts.total))
        .user_agent(concat!("atmos-auth/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// The SDK trust store: native roots plus `AWS_CA_BUNDLE`, or `None` when the variable is unset
/// (the SDK's default, native roots only, then applies).
pub fn sdk_trust_store() -> Result<Option<TrustStore>, TlsError> {
    Ok(CaBundle::from_env()?.as_ref().map(sdk_trust_store_with))
}

/// The SDK trust store: native roots plus `bundle`.
pub fn sdk_trust_store_with(bundle: &CaBundle) -> TrustStore {
    TrustStore::default().with_pem_certificate(bundle.pem())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh self-signed CA certificate, as PEM.
    fn ca_pem() -> String {
        let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    fn write(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, contents).unwrap();
        file
    }

    #[test]
    fn unset_or_empty_variable_means_no_bundle() {
        assert!(CaBundle::from_var(None).unwrap().is_none());
        assert!(CaBundle::from_var(Some(OsStr::new(""))).unwrap().is_none());
    }

    #[test]
    fn a_pem_bundle_loads_every_certificate() {
        let two = format!("# corporate roots\n{}\n{}", ca_pem(), ca_pem());
        let file = write(two.as_bytes());
        let bundle = CaBundle::from_var(Some(file.path().as_os_str()))
            .unwrap()
            .unwrap();
        assert_eq!(bundle.certificates().len(), 2);
        assert_eq!(bundle.pem(), two.as_bytes());
        // Building the agent and the SDK store must not panic.
        let _ = ureq_agent_with(
            Some(&bundle),
            Timeouts {
                connect: Duration::from_secs(1),
                total: Duration::from_secs(1),
            },
        );
        let _ = sdk_trust_store_with(&bundle);
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let err = CaBundle::load(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(matches!(err, TlsError::Read { .. }));
        assert_eq!(
            err.to_string(),
            "could not read the CA bundle `/nonexistent/ca.pem` named by `AWS_CA_BUNDLE`"
        );
        assert!(err.hint().unwrap().contains("AWS_CA_BUNDLE"));
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let file = write(b"not a certificate\n");
        let err = CaBundle::load(file.path()).unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err:?}");
        assert!(err.to_string().contains("holds no certificate"));
    }

    #[test]
    fn broken_base64_is_invalid_pem() {
        let file = write(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        let err = CaBundle::load(file.path()).unwrap_err();
        assert!(matches!(err, TlsError::InvalidPem { .. }), "{err:?}");
    }

    #[test]
    fn valid_pem_that_is_not_a_certificate_is_refused_by_position() {
        // Well-formed base64, but the DER inside is no X.509 certificate: the SDK would panic.
        let pem = format!(
            "{}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ca_pem()
        );
        let file = write(pem.as_bytes());
        let err = CaBundle::load(file.path()).unwrap_err();
        assert!(
            matches!(err, TlsError::BadCertificate { number: 2, .. }),
            "{err:?}"
        );
    }
}
