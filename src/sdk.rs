//! Construction of AWS SDK clients: one HTTPS client (rustls with ring), timeouts, retries, and
//! endpoint overrides that follow the SDK conventions.
//!
//! Nothing here runs on the cached path: a runtime and clients are only built once a network
//! call is known to be needed.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::tls::TlsError;

/// How long to wait for a TCP/TLS connection before giving up on an attempt.
const CONNECT_TIMEOUT_SECS: u64 = 5;
/// How long one attempt may wait for the response.
const ATTEMPT_TIMEOUT_SECS: u64 = 15;
/// Upper bound for one operation, retries included.
const OPERATION_TIMEOUT_SECS: u64 = 45;
/// Attempts per operation (first try plus three retries), with jittered exponential backoff on
/// throttling, 5xx and transient network errors: the SDK's standard retry mode.
const MAX_ATTEMPTS: u32 = 4;

/// Endpoint override variables, as every AWS SDK reads them, and atmos-auth's own timeout one.
pub mod env {
    /// Per-attempt timeout (a duration such as `2s`) instead of the built-in 15 s: for slow
    /// links, and for tests that check what a hung endpoint does without waiting a minute.
    pub const HTTP_TIMEOUT: &str = "ATMOS_HTTP_TIMEOUT";
    pub const ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
    pub const ENDPOINT_URL_SSO: &str = "AWS_ENDPOINT_URL_SSO";
    pub const ENDPOINT_URL_SSO_OIDC: &str = "AWS_ENDPOINT_URL_SSO_OIDC";
    pub const ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
}

/// A service atmos-auth talks to, with the variable that overrides its endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    SsoOidc,
    SsoPortal,
    Sts,
}

impl Service {
    fn endpoint_var(self) -> &'static str {
        match self {
            Self::SsoOidc => env::ENDPOINT_URL_SSO_OIDC,
            Self::SsoPortal => env::ENDPOINT_URL_SSO,
            Self::Sts => env::ENDPOINT_URL_STS,
        }
    }
}

/// Shared SDK configuration for one region, plus the provider's own endpoint override
/// (`spec.endpoint_url`), which applies only where no environment variable names one.
#[derive(Clone, Debug)]
pub struct Clients {
    sdk: SdkConfig,
    endpoint_url: Option<String>,
}

impl Clients {
    /// Clients for `region`. Fails only when `AWS_CA_BUNDLE` names an unusable file.
    pub async fn new(region: &str, endpoint_url: Option<&str>) -> Result<Self, TlsError> {
        let mut http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        if let Some(store) = crate::tls::sdk_trust_store()? {
            let context = tls::TlsContext::builder()
                .with_trust_store(store)
                .build()
                .expect("a TLS context with only a trust store always builds");
            http = http.tls_context(context);
        }
        let http = http.build_https();
        let attempt = attempt_timeout();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS).min(attempt))
            .operation_attempt_timeout(attempt)
            .operation_timeout(Duration::from_secs(OPERATION_TIMEOUT_SECS).max(attempt))
            .build();
        // The loader reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>; credentials are
        // never taken from the ambient environment: every signed call passes its own.
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .no_credentials()
            .http_client(http)
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .load()
            .await;
        Ok(Self {
            sdk,
            endpoint_url: endpoint_url.map(str::to_owned),
        })
    }

    /// The provider's endpoint for `service`, unless the environment overrides it.
    fn endpoint_for(&self, service: Service) -> Option<&str> {
        let overridden = [service.endpoint_var(), env::ENDPOINT_URL]
            .iter()
            .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
        if overridden {
            None
        } else {
            self.endpoint_url.as_deref()
        }
    }

    pub fn sso_oidc(&self) -> aws_sdk_ssooidc::Client {
        let mut config = aws_sdk_ssooidc::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint_for(Service::SsoOidc) {
            config = config.endpoint_url(url);
        }
        aws_sdk_ssooidc::Client::from_conf(config.build())
    }

    pub fn sso_portal(&self) -> aws_sdk_sso::Client {
        let mut config = aws_sdk_sso::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint_for(Service::SsoPortal) {
            config = config.endpoint_url(url);
        }
        aws_sdk_sso::Client::from_conf(config.build())
    }

    /// An STS client signing with `credentials`.
    pub fn sts(&self, credentials: aws_sdk_sts::config::Credentials) -> aws_sdk_sts::Client {
        let mut config =
            aws_sdk_sts::config::Builder::from(&self.sdk).credentials_provider(credentials);
        if let Some(url) = self.endpoint_for(Service::Sts) {
            config = config.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(config.build())
    }

    /// An STS client that signs nothing, for AssumeRoleWithWebIdentity.
    pub fn sts_unsigned(&self) -> aws_sdk_sts::Client {
        let mut config = aws_sdk_sts::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint_for(Service::Sts) {
            config = config.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(config.build())
    }
}

/// The per-attempt timeout: `ATMOS_HTTP_TIMEOUT` when set to a duration within bounds.
fn attempt_timeout() -> Duration {
    let default = Duration::from_secs(ATTEMPT_TIMEOUT_SECS);
    let Some(value) = std::env::var_os(env::HTTP_TIMEOUT) else {
        return default;
    };
    let text = value.to_string_lossy();
    match crate::config::duration::parse(&text, crate::config::duration::HTTP_ATTEMPT) {
        Ok(timeout) => timeout,
        Err(problem) => {
            tracing::warn!("ignoring {}: {problem}", env::HTTP_TIMEOUT);
            default
        }
    }
}

/// A single-threaded runtime for the network part of one command.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
