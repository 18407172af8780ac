//! `atmos-auth console`: sign in to the AWS web console as an identity, through the AWS
//! federation endpoint (`getSigninToken`, then a `login` URL).
//!
//! The printed URL carries a sign-in token valid for 15 minutes, never the credentials.

use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::Zeroizing;

use super::{Context, region_of};
use crate::endpoint::EndpointError;
use crate::error::{Error, exit};
use crate::provider::sso::LoginPolicy;

const FEDERATION_URL: &str = "https://signin.aws.amazon.com/federation";
/// Overrides the federation endpoint (tests, partitions other than `aws`).
const FEDERATION_URL_ENV: &str = "ATMOS_CONSOLE_FEDERATION_URL";
const CONSOLE_URL: &str = "https://console.aws.amazon.com";
const ISSUER: &str = "atmos-auth";
/// The federation endpoint accepts console sessions of 15 minutes to 12 hours.
const MIN_SESSION: Duration = Duration::from_secs(15 * 60);
const MAX_SESSION: Duration = Duration::from_secs(12 * 60 * 60);
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("console session length must be between 15m and 12h")]
    Duration,
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

pub fn run(
    context: &Context,
    identity: Option<&str>,
    destination: Option<&str>,
    print_only: bool,
    duration: Option<Duration>,
) -> Result<i32, Error> {
    if duration.is_some_and(|d| !(MIN_SESSION..=MAX_SESSION).contains(&d)) {
        return Err(ConsoleError::Duration.into());
    }
    let endpoint = std::env::var(FEDERATION_URL_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| FEDERATION_URL.into());
    // The session (secret key and token) goes in the query: never in the clear off this host.
    crate::endpoint::check(&endpoint).map_err(|refusal| {
        ConsoleError::Endpoint(EndpointError {
            setting: format!("`{FEDERATION_URL_ENV}`"),
            refusal,
        })
    })?;
    let identity = context.identity(identity)?;
    let credentials = context.resolver().resolve(identity, LoginPolicy::Never)?;
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
    })
    .map_err(ConsoleError::from)?;
    let mut request = agent
        .get(&endpoint)
        .query("Action", "getSigninToken")
        .query("Session", session.as_str());
    if let Some(duration) = duration {
        request = request.query("SessionDuration", duration.as_secs().to_string());
    }
    let refused = |source| ConsoleError::Refused {
        endpoint: endpoint.clone(),
        source,
    };
    let body = request
        .call()
        .map_err(refused)?
        .body_mut()
        .read_to_string()
        .map_err(refused)?;
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let token = answer["SigninToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ConsoleError::NoToken {
            endpoint: endpoint.clone(),
        })?;
    let region = region_of(&context.config, identity);
    let destination = match destination {
        Some(url) if url.starts_with("https://") => url.to_owned(),
        Some(service) => format!("{CONSOLE_URL}/{service}/home?region={region}"),
        None => format!("{CONSOLE_URL}/console/home?region={region}"),
    };
    let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let url = format!(
        "{endpoint}?Action=login&Issuer={}&Destination={}&SigninToken={}",
        encode(ISSUER),
        encode(&destination),
        encode(token)
    );
    if print_only {
        println!("{url}");
    } else if let Err(error) = webbrowser::open(&url) {
        tracing::info!(%error, "could not open a browser");
        eprintln!("Could not open a browser; open this URL (valid for 15 minutes):");
        println!("{url}");
    }
    Ok(exit::SUCCESS)
}
