//! GitHub Actions OIDC: the job's ID token, fetched from the runner's token endpoint, for
//! `AssumeRoleWithWebIdentity`.
//!
//! Reads `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, which the runner
//! sets only when the workflow grants `permissions: id-token: write`, and `GITHUB_ACTIONS`, which
//! tells a job without that permission from a run outside Actions. They arrive in a `GithubEnv`,
//! so the logic never reads the process environment itself.
//!
//! The request token goes only over https (plain http only to loopback: the rule of `endpoint`)
//! and only in the `Authorization` header. Neither it nor
//! the ID token is logged, printed or written anywhere: the ID token leaves as a `Secret`, and no
//! error carries a response body that could hold either.

use std::fmt;
use std::time::{Duration, Instant};

use percent_encoding::utf8_percent_encode;
use serde::Deserialize;
use ureq::http::{HeaderValue, Uri};
use zeroize::Zeroizing;

use crate::endpoint::QUERY_VALUE;
use crate::secret::Secret;
use crate::tls::{self, TlsError};

/// Variables the runner sets.
pub mod env {
    pub const REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    pub const REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
    /// `true` in every GitHub Actions job.
    pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
}

/// TCP connect plus TLS handshake, per attempt.
const CONNECT_TIMEOUT_SECS: u64 = 10;
/// The whole fetch, retries and backoff included.
const TOTAL_TIMEOUT_SECS: u64 = 30;
/// Retries after the first attempt, on 429, 5xx and connection failures.
const MAX_RETRIES: u32 = 3;
/// First backoff; it doubles per retry and is jittered to between half and one and a half times.
const BASE_BACKOFF_MILLIS: u64 = 500;
/// An ID token is a few KiB; anything far larger is not an answer from the token endpoint.
const MAX_BODY_BYTES: u64 = 64 * 1024;
/// Longest error message from the endpoint that is shown to the user.
const MAX_DETAIL_CHARS: usize = 200;

/// The runner's variables, as read from the environment.
#[derive(Clone, Default)]
pub struct GithubEnv {
    pub request_url: Option<String>,
    pub request_token: Option<Secret<String>>,
    /// `GITHUB_ACTIONS=true`.
    pub in_actions: bool,
}

impl GithubEnv {
    pub fn from_process() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name| lookup(name).filter(|value| !value.is_empty());
        Self {
            request_url: read(env::REQUEST_URL),
            request_token: read(env::REQUEST_TOKEN).map(Secret::new),
            in_actions: read(env::GITHUB_ACTIONS).is_some_and(|value| value == "true"),
        }
    }
}

impl fmt::Debug for GithubEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubEnv")
            .field("request_url", &self.request_url)
            .field("request_token", &self.request_token)
            .field("in_actions", &self.in_actions)
            .finish()
    }
}

/// How hard to try: bounds, retries and backoff.
#[derive(Clone, Copy, Debug)]
pub struct FetchPolicy {
    pub connect_timeout: Duration,
    /// For the whole fetch, retries and backoff included.
    pub total_timeout: Duration,
    pub max_retries: u32,
    pub base_backoff: Duration,
    /// A number in `[0, 1)`; tests pass a constant.
    pub jitter: fn() -> f64,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(CONNECT_TIMEOUT_SECS),
            total_timeout: Duration::from_secs(TOTAL_TIMEOUT_SECS),
            max_retries: MAX_RETRIES,
            base_backoff: Duration::from_millis(BASE_BACKOFF_MILLIS),
            jitter: random_unit,
        }
    }
}

impl FetchPolicy {
    pub fn timeouts(&self) -> tls::Timeouts {
        tls::Timeouts {
            connect: self.connect_timeout,
            total: self.total_timeout,
        }
    }

    /// The pause before retry number `retry` (1-based).
    fn backoff(&self, retry: u32) -> Duration {
        let exponential = self.base_backoff * 2u32.saturating_pow(retry.saturating_sub(1));
        exponential.mul_f64(0.5 + (self.jitter)().clamp(0.0, 1.0))
    }
}

/// Why the token endpoint's answer could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    NotJson,
    /// JSON, but not an object with a string `value`.
    NoValue,
    EmptyValue,
    TooLarge,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotJson => "it is not JSON",
            Self::NoValue => "it has no string `value`",
            Self::EmptyValue => "its `value` is empty",
            Self::TooLarge => "it is larger than 64 KiB",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GithubOidcError {
    #[error(
        "not running in a GitHub Actions job: `{}` is not set",
        env::REQUEST_URL
    )]
    NotInActions,

    #[error(
        "the workflow lacks `permissions: id-token: write` ({} not set)",
        backticked(missing)
    )]
    MissingPermission { missing: Vec<&'static str> },

    #[error(
        "`{}` is plain http to a host that is not loopback: `{url}`",
        env::REQUEST_URL
    )]
    InsecureUrl { url: String },

    #[error("`{}` is not a valid URL: `{url}`", env::REQUEST_URL)]
    InvalidUrl { url: String },

    #[error("`{}` cannot be sent in an HTTP header", env::REQUEST_TOKEN)]
    InvalidRequestToken,

    #[error(
        "the GitHub OIDC token endpoint `{host}` refused the request with HTTP {status}{}{}",
        detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default(),
        after(*attempts)
    )]
    Refused {
        host: String,
        status: u16,
        /// The endpoint's own message, only when short and free of anything token-like.
        detail: Option<String>,
        attempts: u32,
    },

    #[error(
        "the GitHub OIDC token endpoint `{host}` returned an answer that could not be read: {reason}"
    )]
    Malformed { host: String, reason: Malformed },

    #[error("the GitHub OIDC token request to `{host}` timed out{}", after(*attempts))]
    Timeout {
        host: String,
        attempts: u32,
        #[source]
        source: ureq::Error,
    },

    #[error("could not verify the TLS certificate of the GitHub OIDC token endpoint `{host}`")]
    Certificate {
        host: String,
        #[source]
        source: ureq::Error,
    },

    #[error("could not reach the GitHub OIDC token endpoint `{host}`{}", after(*attempts))]
    Network {
        host: String,
        attempts: u32,
        #[source]
        source: ureq::Error,
    },

    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl GithubOidcError {
    /// Outside a job, or a job set up without what the identity needs, is a usage error; the
    /// token service failing or refusing is upstream.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::NotInActions | Self::MissingPermission { .. } | Self::InsecureUrl { .. } => {
                crate::exit::USAGE
            }
            Self::InvalidUrl { .. }
            | Self::InvalidRequestToken
            | Self::Refused { .. }
            | Self::Malformed { .. }
            | Self::Timeout { .. }
            | Self::Certificate { .. }
            | Self::Network { .. }
            | Self::Tls(_) => crate::exit::UPSTREAM,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotInActions => {
                Some("this identity's provider only works inside a GitHub Actions job".to_owned())
            }
            Self::MissingPermission { .. } => Some(
                "grant the permission to the workflow or the job; once `permissions:` is set, \
                 every scope it omits is `none`, so list the others the job needs:\n\
                 \n    permissions:\
                 \n      id-token: write\
                 \n      contents: read\n\
                 \nworkflows run for pull requests from forks never get it"
                    .to_owned(),
            ),
            Self::InsecureUrl { .. } => Some(format!(
                "{}; check what sets `{}`",
                crate::endpoint::FIX,
                env::REQUEST_URL
            )),
            Self::InvalidUrl { .. } | Self::InvalidRequestToken => Some(format!(
                "the runner sets `{}` and `{}`; check that nothing in the job overrides them",
                env::REQUEST_URL,
                env::REQUEST_TOKEN
            )),
            Self::Refused {
                status: 401 | 403, ..
            } => Some(format!(
                "`{}` is issued per job and expires with it; request the token from the job that owns it",
                env::REQUEST_TOKEN
            )),
            Self::Refused { status, .. } if *status >= 500 => Some(
                "GitHub's token service failed; re-run the job, and see https://www.githubstatus.com"
                    .to_owned(),
            ),
            Self::Refused { .. } | Self::Malformed { .. } | Self::Timeout { .. } => None,
            Self::Certificate { .. } => Some(format!(
                "if a proxy intercepts TLS or the endpoint uses a private CA, point `{}` at its CA certificate (PEM)",
                tls::env::CA_BUNDLE
            )),
            Self::Network { .. } => None,
            Self::Tls(err) => err.hint(),
        }
    }
}

/// Fetches the job's ID token for `audience`, over an agent that trusts `AWS_CA_BUNDLE`.
pub fn fetch_token(env: &GithubEnv, audience: &str) -> Result<Secret<String>, GithubOidcError> {
    let policy = FetchPolicy::default();
    // The variables are checked first: outside Actions, a bad CA bundle is not the news.
    let request = TokenRequest::new(env, audience)?;
    let agent = tls::ureq_agent(policy.timeouts())?;
    request.send(&agent, &policy)
}

/// The full token URL: the runner's URL, whose query usually holds `api-version` already, plus
/// `audience`.
pub fn token_url(request_url: &str, audience: &str) -> String {
    let separator = if !request_url.contains('?') {
        "?"
    } else if request_url.ends_with(['?', '&']) {
        ""
    } else {
        "&"
    };
    let audience = utf8_percent_encode(audience, QUERY_VALUE);
    format!("{request_url}{separator}audience={audience}")
}

/// A checked request, ready to send.
struct TokenRequest<'a> {
    url: String,
    host: String,
    token: &'a Secret<String>,
}

impl<'a> TokenRequest<'a> {
    fn new(env: &'a GithubEnv, audience: &str) -> Result<Self, GithubOidcError> {
        let (url, token) = match (&env.request_url, &env.request_token) {
            (Some(url), Some(token)) => (url, token),
            (None, None) if !env.in_actions => return Err(GithubOidcError::NotInActions),
            (url, token) => {
                let missing = [
                    (url.is_none(), env::REQUEST_URL),
                    (token.is_none(), env::REQUEST_TOKEN),
                ]
                .into_iter()
                .filter_map(|(is_missing, name)| is_missing.then_some(name))
                .collect();
                return Err(GithubOidcError::MissingPermission { missing });
            }
        };
        let host = check_url(url)?;
        Ok(Self {
            url: token_url(url, audience),
            host,
            token,
        })
    }

    fn send(
        &self,
        agent: &ureq::Agent,
        policy: &FetchPolicy,
    ) -> Result<Secret<String>, GithubOidcError> {
        let deadline = Instant::now() + policy.total_timeout;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let failure = match self.attempt(agent, remaining) {
                Ok(token) => return Ok(token),
                Err(failure) => failure,
            };
            let retry = failure.is_transient() && attempts <= policy.max_retries;
            let pause = policy.backoff(attempts);
            if !retry || Instant::now() + pause >= deadline {
                return Err(failure.into_error(&self.host, attempts));
            }
            tracing::debug!(
                attempt = attempts,
                status = failure.status(),
                pause_ms = pause.as_millis() as u64,
                "retrying the GitHub OIDC token request"
            );
            std::thread::sleep(pause);
        }
    }

    fn attempt(&self, agent: &ureq::Agent, remaining: Duration) -> Result<Secret<String>, Failure> {
        let authorization = Zeroizing::new(format!("bearer {}", self.token.expose()));
        let mut authorization =
            HeaderValue::from_str(&authorization).map_err(|_| Failure::BadToken)?;
        authorization.set_sensitive(true);
        let mut response = agent
            .get(&self.url)
            .config()
            .https_only(true)
            .http_status_as_error(false)
            // A redirect would drop the `Authorization` header anyway; the endpoint never sends one.
            .max_redirects(0)
            .timeout_global(Some(remaining))
            .build()
            .header("Authorization", authorization)
            .header("Accept", "application/json")
            .call()
            .map_err(Failure::Transport)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map(Zeroizing::new);
        let body = match body {
            Ok(body) => body,
            Err(ureq::Error::BodyExceedsLimit(_)) if (200..300).contains(&status) => {
                return Err(Failure::Malformed(Malformed::TooLarge));
            }
            Err(_) if !(200..300).contains(&status) => Zeroizing::new(Vec::new()),
            Err(err) => return Err(Failure::Transport(err)),
        };
        if !(200..300).contains(&status) {
            let detail = short_detail(&body, self.token);
            return Err(Failure::Status { status, detail });
        }
        parse_token(&body).map_err(Failure::Malformed)
    }
}

/// One failed attempt, before it is known whether it is the last.
enum Failure {
    Status { status: u16, detail: Option<String> },
    Transport(ureq::Error),
    Malformed(Malformed),
    BadToken,
}

impl Failure {
    fn is_transient(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            // A certificate that fails verification fails the same way next time.
            Self::Transport(err) if is_tls_failure(err) => false,
            Self::Transport(err) => matches!(
                err,
                ureq::Error::Io(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::HostNotFound
                    | ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve)
            ),
            Self::Malformed(_) | Self::BadToken => false,
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn into_error(self, host: &str, attempts: u32) -> GithubOidcError {
        let host = host.to_owned();
        match self {
            Self::Status { status, detail } => GithubOidcError::Refused {
                host,
                status,
                detail,
                attempts,
            },
            Self::Transport(source @ ureq::Error::Timeout(_)) => GithubOidcError::Timeout {
                host,
                attempts,
                source,
            },
            Self::Transport(source) if is_tls_failure(&source) => {
                GithubOidcError::Certificate { host, source }
            }
            Self::Transport(source) => GithubOidcError::Network {
                host,
                attempts,
                source,
            },
            Self::Malformed(reason) => GithubOidcError::Malformed { host, reason },
            Self::BadToken => GithubOidcError::InvalidRequestToken,
        }
    }
}

/// Checks the runner's URL and returns its host, for messages.
fn check_url(url: &str) -> Result<String, GithubOidcError> {
    let invalid = || GithubOidcError::InvalidUrl {
        url: url.to_owned(),
    };
    let uri: Uri = url.parse().map_err(|_| invalid())?;
    let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(invalid)?;
    match crate::endpoint::check(url) {
        Ok(()) => Ok(host.to_owned()),
        Err(crate::endpoint::Refusal::PlainHttp { .. }) => Err(GithubOidcError::InsecureUrl {
            url: url.to_owned(),
        }),
        Err(crate::endpoint::Refusal::NotHttp) => Err(invalid()),
    }
}

/// The ID token in `{"value": "<jwt>"}`.
fn parse_token(body: &[u8]) -> Result<Secret<String>, Malformed> {
    #[derive(Deserialize)]
    struct Answer {
        value: Option<Secret<String>>,
    }
    // serde_json's messages can quote the offending input, which may be the token itself: only
    // the category is kept.
    let answer: Answer = serde_json::from_slice(body).map_err(|err| match err.classify() {
        serde_json::error::Category::Data => Malformed::NoValue,
        _ => Malformed::NotJson,
    })?;
    match answer.value {
        None => Err(Malformed::NoValue),
        Some(value) if value.expose().is_empty() => Err(Malformed::EmptyValue),
        Some(value) => Ok(value),
    }
}

/// The endpoint's error message, if it is short, printable and cannot hold a credential.
fn short_detail(body: &[u8], token: &Secret<String>) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    // GitHub answers errors as JSON with a `message`; anything else is shown as it is.
    let message = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|json| json.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| text.to_owned());
    let message = message.trim();
    let token = token.expose();
    let withheld = message.is_empty()
        || message.chars().count() > MAX_DETAIL_CHARS
        || message.chars().any(crate::text::is_unsafe)
        // A JWT (the ID token) starts with base64 of `{"`.
        || message.contains("eyJ")
        || message.contains(token.as_str());
    (!withheld).then(|| message.to_owned())
}

/// A handshake that failed on TLS grounds (an untrusted certificate, mostly): ureq reports those
/// as I/O errors wrapping the rustls error.
fn is_tls_failure(err: &ureq::Error) -> bool {
    match err {
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => true,
        ureq::Error::Io(io) => io
            .get_ref()
            .is_some_and(|inner| inner.is::<rustls::Error>()),
        _ => false,
    }
}

fn backticked(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match names.len() {
        1 => format!("{} is", names[0]),
        _ => format!("{} are", names.join(" and ")),
    }
}

fn after(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

/// A number in `[0, 1)` without a random-number dependency: `RandomState` is seeded randomly
/// per process and its keys change per instance.
fn random_unit() -> f64 {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(0u8);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENTINEL: &str = "sentinel-request-token-5c1d";

    fn actions(url: &str) -> GithubEnv {
        GithubEnv {
            request_url: Some(url.to_owned()),
            request_token: Some(Secret::from(SENTINEL)),
            in_actions: true,
        }
    }

    fn error(env: &GithubEnv) -> GithubOidcError {
        match TokenRequest::new(env, "sts.amazonaws.com") {
            Ok(_) => panic!("expected an error"),
            Err(err) => err,
        }
    }

    #[test]
    fn audience_joins_an_existing_query() {
        assert_eq!(
            token_url(
                "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0",
                "sts.amazonaws.com"
            ),
            "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0&audience=sts.amazonaws.com"
        );
    }

    #[test]
    fn audience_starts_a_query_when_there_is_none() {
        assert_eq!(
            token_url("https://example.com/idtoken", "sts.amazonaws.com"),
            "https://example.com/idtoken?audience=sts.amazonaws.com"
        );
        assert_eq!(
            token_url("https://example.com/idtoken?", "a"),
            "https://example.com/idtoken?audience=a"
        );
        assert_eq!(
            token_url("https://example.com/idtoken?x=1&", "a"),
            "https://example.com/idtoken?x=1&audience=a"
        );
    }

    #[test]
    fn audience_is_percent_encoded() {
        assert_eq!(
            token_url("https://example.com/t?v=1", "https://github.com/my org&x=y"),
            "https://example.com/t?v=1&audience=https%3A%2F%2Fgithub.com%2Fmy%20org%26x%3Dy"
        );
    }

    #[test]
    fn http_url_is_refused_before_any_request() {
        let err = error(&actions("http://example.com/idtoken?api-version=2.0"));
        assert!(
            matches!(err, GithubOidcError::InsecureUrl { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "`ACTIONS_ID_TOKEN_REQUEST_URL` is plain http to a host that is not loopback: `http://example.com/idtoken?api-version=2.0`"
        );
        assert!(err.hint().unwrap().starts_with("use an `https://` URL"));
        // Upper case schemes too.
        let err = error(&actions("HTTP://example.com/idtoken"));
        assert!(
            matches!(err, GithubOidcError::InsecureUrl { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_url_without_scheme_or_host_is_invalid() {
        for url in [
            "example.com/idtoken",
            "ftp://example.com/x",
            "https://",
            "not a url",
        ] {
            let err = error(&actions(url));
            assert!(
                matches!(err, GithubOidcError::InvalidUrl { .. }),
                "{url}: {err:?}"
            );
        }
    }

    #[test]
    fn https_url_is_accepted_and_keeps_its_host() {
        let env = actions("https://Token.Example.com:8443/idtoken?api-version=2.0");
        let request = TokenRequest::new(&env, "sts.amazonaws.com").unwrap();
        assert_eq!(request.host, "Token.Example.com");
        assert!(
            request
                .url
                .ends_with("?api-version=2.0&audience=sts.amazonaws.com")
        );
    }

    #[test]
    fn outside_actions_says_so() {
        let err = error(&GithubEnv::default());
        assert!(matches!(err, GithubOidcError::NotInActions));
        assert_eq!(
            err.to_string(),
            "not running in a GitHub Actions job: `ACTIONS_ID_TOKEN_REQUEST_URL` is not set"
        );
        assert_eq!(
            err.hint().unwrap(),
            "this identity's provider only works inside a GitHub Actions job"
        );
    }

    #[test]
    fn in_actions_without_the_variables_asks_for_the_permission() {
        let env = GithubEnv {
            in_actions: true,
            ..GithubEnv::default()
        };
        let err = error(&env);
        assert_eq!(
            err.to_string(),
            "the workflow lacks `permissions: id-token: write` (`ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` are not set)"
        );
        let hint = err.hint().unwrap();
        assert!(
            hint.contains("    permissions:\n      id-token: write\n      contents: read\n"),
            "{hint}"
        );
    }

    #[test]
    fn one_variable_alone_means_actions_without_the_other() {
        // Without GITHUB_ACTIONS, a single variable still shows this is a job.
        let env = GithubEnv {
            request_url: Some("https://example.com/t".to_owned()),
            ..GithubEnv::default()
        };
        let err = error(&env);
        assert_eq!(
            err.to_string(),
            "the workflow lacks `permissions: id-token: write` (`ACTIONS_ID_TOKEN_REQUEST_TOKEN` is not set)"
        );
    }

    #[test]
    fn env_lookup_reads_the_three_variables_and_ignores_empty_values() {
        let env = GithubEnv::from_lookup(|name| match name {
            "ACTIONS_ID_TOKEN_REQUEST_URL" => Some("https://example.com/t".to_owned()),
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN" => Some(String::new()),
            "GITHUB_ACTIONS" => Some("true".to_owned()),
            _ => None,
        });
        assert_eq!(env.request_url.as_deref(), Some("https://example.com/t"));
        assert!(env.request_token.is_none());
        assert!(env.in_actions);
        let env = GithubEnv::from_lookup(|name| (name == "GITHUB_ACTIONS").then(|| "1".into()));
        assert!(!env.in_actions);
    }

    #[test]
    fn debug_never_shows_the_request_token() {
        let env = actions("https://example.com/t");
        let debug = format!("{env:?}");
        assert!(!debug.contains(SENTINEL), "{debug}");
        assert_eq!(
            debug,
            "GithubEnv { request_url: Some(\"https://example.com/t\"), request_token: Some(<redacted>), in_actions: true }"
        );
        let request = TokenRequest::new(&env, "a").unwrap();
        assert!(!request.url.contains(SENTINEL));
    }

    #[test]
    fn answer_is_parsed_and_malformed_answers_are_typed() {
        let token = parse_token(br#"{"count": 1, "value": "eyJhbGciOi.x.y"}"#).unwrap();
        assert_eq!(token.expose(), "eyJhbGciOi.x.y");
        assert_eq!(format!("{token:?}"), "<redacted>");
        assert_eq!(parse_token(b"<html>").unwrap_err(), Malformed::NotJson);
        assert_eq!(parse_token(b"").unwrap_err(), Malformed::NotJson);
        assert_eq!(parse_token(b"{}").unwrap_err(), Malformed::NoValue);
        assert_eq!(
            parse_token(br#"{"value": 5}"#).unwrap_err(),
            Malformed::NoValue
        );
        assert_eq!(
            parse_token(br#""eyJ.secret""#).unwrap_err(),
            Malformed::NoValue
        );
        assert_eq!(
            parse_token(br#"{"value": ""}"#).unwrap_err(),
            Malformed::EmptyValue
        );
    }

    #[test]
    fn error_detail_is_short_and_never_a_credential() {
        let token = Secret::from(SENTINEL);
        assert_eq!(
            short_detail(br#"{"message": "Bad credentials"}"#, &token).as_deref(),
            Some("Bad credentials")
        );
        assert_eq!(
            short_detail(b"Unauthorized", &token).as_deref(),
            Some("Unauthorized")
        );
        let echoed = format!("invalid token {SENTINEL}");
        assert_eq!(short_detail(echoed.as_bytes(), &token), None);
        assert_eq!(short_detail(b"token eyJhbGciOi", &token), None);
        assert_eq!(short_detail(&[b'x'; 500], &token), None);
        assert_eq!(short_detail(b"two\nlines", &token), None);
        assert_eq!(short_detail(b"", &token), None);
    }

    #[test]
    fn refused_display_includes_status_detail_and_attempts() {
        let err = Failure::Status {
            status: 503,
            detail: Some("busy".to_owned()),
        }
        .into_error("example.com", 4);
        assert_eq!(
            err.to_string(),
            "the GitHub OIDC token endpoint `example.com` refused the request with HTTP 503: busy (after 4 attempts)"
        );
        assert!(err.hint().unwrap().contains("githubstatus"));
    }

    #[test]
    fn backoff_doubles_and_is_jittered_within_bounds() {
        let policy = FetchPolicy {
            jitter: || 0.5,
            ..FetchPolicy::default()
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(500));
        assert_eq!(policy.backoff(3), Duration::from_millis(2000));
        for _ in 0..100 {
            let unit = random_unit();
            assert!((0.0..1.0).contains(&unit));
        }
    }
}

/// Property tests: no answer from the token endpoint makes the parser panic, and none of its
/// errors quotes the body. Cases: 256 by default, `PROPTEST_CASES=N` for a longer run.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn parse_token_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_token(&body);
        }

        #[test]
        fn parse_token_never_echoes_the_body(value in "[a-zA-Z0-9._-]{8,40}", shape in 0..4u8) {
            let body = match shape {
                0 => format!("{{\"value\":{value}}}"),
                1 => format!("{{\"value\":[\"{value}\"]}}"),
                2 => format!("{{\"value\":\"{value}"),
                _ => format!("{{\"count\":1,\"value\":\"{value}\","),
            };
            if let Err(error) = parse_token(body.as_bytes()) {
                let shown = format!("{error:?}");
                prop_assert!(!shown.contains(&value), "{}", shown);
            }
        }
    }
}
