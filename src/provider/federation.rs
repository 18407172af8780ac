//! The AWS federation endpoint: trades role credentials for a console sign-in token
//! (`getSigninToken`), for `console`. The credentials travel in the query string, so the endpoint
//! must pass the transport rule (`endpoint::check`) and plain http is sent to no proxy.

use std::time::Duration;

use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::endpoint::EndpointError;

/// AWS's federation endpoint for the `aws` partition.
const FEDERATION_URL: &str = "https://signin.aws.amazon.com/federation";
/// Overrides the federation endpoint (tests, partitions other than `aws`).
const FEDERATION_URL_ENV: &str = "ATMOS_CONSOLE_FEDERATION_URL";
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("the federation endpoint `{endpoint}` refused the sign-in")]
    Refused {
        endpoint: String,
        #[source]
        source: ureq::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Endpoint(EndpointError),
    #[error("the federation endpoint `{endpoint}` answered without a sign-in token")]
    NoToken { endpoint: String },
}

impl FederationError {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Tls(_) | Self::Endpoint(_) => crate::exit::USAGE,
            Self::Refused { .. } | Self::NoToken { .. } => crate::exit::UPSTREAM,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Endpoint(error) => Some(error.hint()),
            Self::Refused { .. } | Self::Tls(_) | Self::NoToken { .. } => None,
        }
    }
}

/// The federation endpoint to use: `ATMOS_CONSOLE_FEDERATION_URL`, else AWS's, checked against
/// the transport rule before anything is sent to it.
pub fn endpoint() -> Result<String, FederationError> {
    let endpoint = std::env::var(FEDERATION_URL_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| FEDERATION_URL.into());
    // The session (secret key and token) goes in the query: never in the clear off this host.
    crate::endpoint::check(&endpoint).map_err(|refusal| {
        FederationError::Endpoint(EndpointError {
            setting: format!("`{FEDERATION_URL_ENV}`"),
            refusal,
        })
    })?;
    Ok(endpoint)
}

/// A sign-in token for `credentials` from `endpoint` (as `endpoint()` returned it), for a
/// console session of `duration` (the federation endpoint's default when `None`).
pub fn sign_in_token(
    endpoint: &str,
    credentials: &Credentials,
    duration: Option<Duration>,
) -> Result<Zeroizing<String>, FederationError> {
    let session = Zeroizing::new(
        serde_json::json!({
            "sessionId": credentials.access_key_id,
            "sessionKey": credentials.secret_access_key.expose(),
            "sessionToken": credentials.session_token.expose(),
        })
        .to_string(),
    );
    let agent = crate::tls::ureq_agent(crate::tls::Timeouts {
        connect: HTTP_TIMEOUT,
        total: HTTP_TIMEOUT,
    })?;
    let mut request = agent.get(endpoint);
    if crate::endpoint::is_plain_http(endpoint) {
        // Loopback only (checked by `endpoint()`), and straight there: a proxy would carry the
        // session off this machine in the clear.
        request = request.config().proxy(None).build();
    }
    let mut request = request
        .query("Action", "getSigninToken")
        .query("Session", session.as_str());
    if let Some(duration) = duration {
        request = request.query("SessionDuration", duration.as_secs().to_string());
    }
    let refused = |source| FederationError::Refused {
        endpoint: endpoint.to_owned(),
        source,
    };
    let body = Zeroizing::new(
        request
            .call()
            .map_err(refused)?
            .body_mut()
            .read_to_string()
            .map_err(refused)?,
    );
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    answer["SigninToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(|token| Zeroizing::new(token.to_owned()))
        .ok_or_else(|| FederationError::NoToken {
            endpoint: endpoint.to_owned(),
        })
}
