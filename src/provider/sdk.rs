//! Construction of AWS SDK clients: one HTTPS client (rustls with ring), timeouts, retries, and
//! the one rule for which endpoint each service is called at ([`effective_endpoint`]).
//!
//! Every client is given its endpoint explicitly, and the SDK configuration is built here rather
//! than by aws-config's loader, so nothing is taken from `~/.aws/config` or `AWS_PROFILE` behind
//! the user's back: no `endpoint_url` or `[services]` section, no FIPS or dual-stack switch.
//! Callers bind what they store to the same [`Endpoints`] they call, so a secret only ever goes
//! back to the endpoint that issued it.
//!
//! Nothing here runs on the cached path except endpoint resolution: a runtime and clients are only
//! built once a network call is known to be needed.

use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

use super::ProviderError;
use crate::endpoint::{self, EndpointError};

/// How long to wait for a TCP/TLS connection before giving up on an attempt.
const CONNECT_TIMEOUT_SECS: u64 = 5;
/// How long one attempt may wait for the response.
const ATTEMPT_TIMEOUT_SECS: u64 = 15;
/// Upper bound for one operation, retries included.
const OPERATION_TIMEOUT_SECS: u64 = 45;
/// Attempts per operation (first try plus three retries), with jittered exponential backoff on
/// throttling, 5xx and transient network errors: the SDK's standard retry mode.
const MAX_ATTEMPTS: u32 = 4;
/// The most of one response body that is read. Every answer atmos-auth asks for is a few KiB (a
/// full ListAccounts page is about 20 KiB); the SDK itself reads whatever it is sent, so an
/// endpoint that streams without end would otherwise fill the memory within its timeout.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Caps every response body at [`MAX_RESPONSE_BYTES`]: reading past it fails, and the call
/// ends with "a response that could not be read".
#[derive(Debug)]
struct BoundedResponses;

impl Intercept for BoundedResponses {
    fn name(&self) -> &'static str {
        "BoundedResponses"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.response_mut().take_body();
        *context.response_mut().body_mut() =
            SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_RESPONSE_BYTES));
        Ok(())
    }
}

/// Endpoint override variables, as every AWS SDK reads them, and atmos-auth's own timeout one.
pub mod env {
    /// Per-attempt timeout (a duration such as `2s`) instead of the built-in 15 s: for slow
    /// links, and for tests that check what a hung endpoint does without waiting a minute.
    pub const HTTP_TIMEOUT: &str = "ATMOS_HTTP_TIMEOUT";
    pub const ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
    pub const ENDPOINT_URL_SSO: &str = "AWS_ENDPOINT_URL_SSO";
    pub const ENDPOINT_URL_SSO_OIDC: &str = "AWS_ENDPOINT_URL_SSO_OIDC";
    pub const ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";

    /// Every variable [`super::effective_endpoint`] reads.
    pub const ENDPOINT_VARS: [&str; 4] = [
        ENDPOINT_URL,
        ENDPOINT_URL_SSO,
        ENDPOINT_URL_SSO_OIDC,
        ENDPOINT_URL_STS,
    ];
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

    /// AWS's own endpoint for the service in `region`, as the SDK's endpoint rules give it
    /// (partition-aware: `amazonaws.com.cn` in China, and so on), without FIPS or dual-stack.
    fn aws_default(self, region: &str) -> String {
        let resolved = match self {
            Self::SsoOidc => {
                use aws_sdk_ssooidc::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
                let params = Params::builder().region(region).build();
                params
                    .ok()
                    .map(|p| ready(DefaultResolver::new().resolve_endpoint(&p)).ok())
            }
            Self::SsoPortal => {
                use aws_sdk_sso::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
                let params = Params::builder().region(region).build();
                params
                    .ok()
                    .map(|p| ready(DefaultResolver::new().resolve_endpoint(&p)).ok())
            }
            Self::Sts => {
                use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
                let params = Params::builder().region(region).build();
                params
                    .ok()
                    .map(|p| ready(DefaultResolver::new().resolve_endpoint(&p)).ok())
            }
        };
        match resolved.flatten() {
            Some(endpoint) => endpoint.url().to_owned(),
            // Only a region that is no valid host name gets here; the call made with this URL
            // then fails with a clear network error, and nothing is ever stored under it.
            None => format!("https://{}.{}.amazonaws.com", self.host_prefix(), region),
        }
    }

    fn host_prefix(self) -> &'static str {
        match self {
            Self::SsoOidc => "oidc",
            Self::SsoPortal => "portal.sso",
            Self::Sts => "sts",
        }
    }
}

/// The output of a future that is ready at once. The SDK's default endpoint resolvers compute
/// their answer before returning their future: no I/O, nothing to wait for.
fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("the SDK's default endpoint resolvers answer at once"),
    }
}

/// The endpoint `service` is called at, for a provider in `region` whose `spec.endpoint_url` is
/// `configured`: `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, else `configured`, else
/// AWS's own endpoint for the region, spelt out so that it can be part of a cache key. Empty
/// variables count as unset; `lookup` reads a variable.
///
/// This is the only place that decides where a call goes.
pub fn effective_endpoint(
    service: Service,
    region: &str,
    configured: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> String {
    [service.endpoint_var(), env::ENDPOINT_URL]
        .into_iter()
        .find_map(|var| lookup(var).filter(|value| !value.is_empty()))
        .or_else(|| configured.map(str::to_owned))
        .unwrap_or_else(|| service.aws_default(region))
}

/// A variable of the process environment; non-UTF-8 values count as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The effective endpoint of every service for one provider (or one plan's STS calls).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub sso_oidc: String,
    pub sso_portal: String,
    pub sts: String,
}

impl Endpoints {
    /// The endpoints for `region` and `spec.endpoint_url`, by [`effective_endpoint`].
    pub fn resolve(
        region: &str,
        configured: Option<&str>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let at = |service| effective_endpoint(service, region, configured, lookup);
        Self {
            sso_oidc: at(Service::SsoOidc),
            sso_portal: at(Service::SsoPortal),
            sts: at(Service::Sts),
        }
    }

    /// As [`Endpoints::resolve`], with the process environment.
    pub fn from_process(region: &str, configured: Option<&str>) -> Self {
        Self::resolve(region, configured, &process_env)
    }
}

/// Checks every `AWS_ENDPOINT_URL*` variable that is set. A provider's `spec.endpoint_url` is
/// checked when the configuration is loaded (`config::validator`), so the SDK clients never see
/// one that breaks the rule.
fn check_sdk_variables() -> Result<(), EndpointError> {
    for var in env::ENDPOINT_VARS {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            endpoint::check(&value.to_string_lossy()).map_err(|refusal| EndpointError {
                setting: format!("`{var}`"),
                refusal,
            })?;
        }
    }
    Ok(())
}

/// Shared SDK configuration for one region. Each client is made for explicit endpoints.
#[derive(Clone, Debug)]
pub struct Clients {
    sdk: SdkConfig,
}

impl Clients {
    /// Clients for `region`. Fails when an endpoint setting breaks the transport rule (plain http
    /// off loopback: see `endpoint`) or when `AWS_CA_BUNDLE` names an unusable file.
    pub fn new(region: &str) -> Result<Self, ProviderError> {
        check_sdk_variables()?;
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
        // Built directly, not with aws-config's loader: the loader reads `AWS_PROFILE` and
        // `~/.aws/config` (endpoint URLs, FIPS, credentials), and every setting that matters is
        // decided here. No credentials: every signed call passes its own.
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .http_client(http)
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .build();
        Ok(Self { sdk })
    }

    pub fn sso_oidc(&self, endpoints: &Endpoints) -> aws_sdk_ssooidc::Client {
        let config = aws_sdk_ssooidc::config::Builder::from(&self.sdk)
            .endpoint_url(&endpoints.sso_oidc)
            .interceptor(BoundedResponses)
            .build();
        aws_sdk_ssooidc::Client::from_conf(config)
    }

    pub fn sso_portal(&self, endpoints: &Endpoints) -> aws_sdk_sso::Client {
        let config = aws_sdk_sso::config::Builder::from(&self.sdk)
            .endpoint_url(&endpoints.sso_portal)
            .interceptor(BoundedResponses)
            .build();
        aws_sdk_sso::Client::from_conf(config)
    }

    /// An STS client signing with `credentials`.
    pub fn sts(
        &self,
        endpoints: &Endpoints,
        credentials: aws_sdk_sts::config::Credentials,
    ) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::config::Builder::from(&self.sdk)
            .credentials_provider(credentials)
            .endpoint_url(&endpoints.sts)
            .interceptor(BoundedResponses)
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    /// An STS client that signs nothing, for AssumeRoleWithWebIdentity.
    pub fn sts_unsigned(&self, endpoints: &Endpoints) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::config::Builder::from(&self.sdk)
            .endpoint_url(&endpoints.sts)
            .interceptor(BoundedResponses)
            .build();
        aws_sdk_sts::Client::from_conf(config)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn aws_defaults_are_spelt_out_per_region_and_partition() {
        let none = lookup(&[]);
        assert_eq!(
            Endpoints::resolve("eu-west-1", None, &none),
            Endpoints {
                sso_oidc: "https://oidc.eu-west-1.amazonaws.com".into(),
                sso_portal: "https://portal.sso.eu-west-1.amazonaws.com".into(),
                sts: "https://sts.eu-west-1.amazonaws.com".into(),
            }
        );
        assert_eq!(
            effective_endpoint(Service::Sts, "cn-north-1", None, &none),
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn service_variable_then_global_variable_then_provider_then_aws() {
        let configured = Some("https://vpce.example");
        let all = lookup(&[
            ("AWS_ENDPOINT_URL_STS", "https://sts.example"),
            ("AWS_ENDPOINT_URL", "https://all.example"),
        ]);
        let endpoints = Endpoints::resolve("us-east-1", configured, &all);
        assert_eq!(endpoints.sts, "https://sts.example");
        assert_eq!(endpoints.sso_portal, "https://all.example");
        let empty = lookup(&[("AWS_ENDPOINT_URL_SSO_OIDC", ""), ("AWS_ENDPOINT_URL", "")]);
        let endpoints = Endpoints::resolve("us-east-1", configured, &empty);
        assert_eq!(endpoints.sso_oidc, "https://vpce.example");
        assert_eq!(
            Endpoints::resolve("us-east-1", None, &empty).sso_oidc,
            "https://oidc.us-east-1.amazonaws.com"
        );
    }
}
