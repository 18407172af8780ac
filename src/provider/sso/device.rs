//! The OAuth 2.0 device-code login (RFC 8628) against SSO OIDC: start an authorization, show the
//! user where to approve it, and poll for the token at the pace the service asks for.
//!
//! Everything shown to the user goes to stderr, so `eval "$(atmos-auth env --login …)"` keeps a
//! clean stdout. The user code is not a secret (it is useless without the device code, which is
//! never shown); tokens never reach the terminal.
//!
//! What the service sends is not trusted: the user code and URI are shown with control
//! characters escaped, the URI is opened in a browser only when it is https (or plain http to
//! loopback, the rule of `endpoint`), and the code's lifetime and polling interval are bounded.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use indicatif::{ProgressBar, ProgressStyle};

use super::registration::{ClientRegistration, GRANT_DEVICE_CODE};
use crate::provider::ProviderError;
use crate::secret::Secret;
use crate::text::printable;
use crate::upstream::UpstreamError;

/// RFC 8628 §3.5: after `slow_down`, add five seconds to the polling interval.
const SLOW_DOWN_STEP_SECS: u64 = 5;
/// Used when the service does not state how long the device code lives.
const DEFAULT_CODE_LIFETIME_SECS: u64 = 600;
/// The longest a login waits for approval, whatever the service says (it states 600 s): the
/// locks held meanwhile must be released in bounded time.
const MAX_CODE_LIFETIME_SECS: u64 = 3600;
/// Used when the service does not state an interval.
const DEFAULT_INTERVAL_SECS: u64 = 5;
/// Polling interval bounds: never a busy loop, never a wait that outlives a user's patience.
const MIN_INTERVAL_SECS: u64 = 1;
const MAX_INTERVAL_SECS: u64 = 60;

/// Whether the login may open a browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserPolicy {
    Open,
    Never,
}

/// The result of an approved device authorization.
pub struct Grant {
    pub access_token: Secret<String>,
    pub refresh_token: Option<Secret<String>>,
    pub expires_in: Duration,
}

/// Run the whole device-code login: StartDeviceAuthorization, prompt, poll CreateToken. `why`
/// (why the device code and not the browser login) opens the prompt, so a login that fails
/// before it prints nothing but the error.
pub async fn authorize(
    oidc: &aws_sdk_ssooidc::Client,
    client: &ClientRegistration,
    start_url: &str,
    browser: BrowserPolicy,
    why: &str,
) -> Result<Grant, ProviderError> {
    let auth = oidc
        .start_device_authorization()
        .client_id(&client.client_id)
        .client_secret(client.client_secret.expose())
        .start_url(start_url)
        .send()
        .await
        .map_err(|e| UpstreamError::from_sdk("StartDeviceAuthorization", e))?;
    let device_code =
        Secret::new(auth.device_code.ok_or_else(|| {
            UpstreamError::missing_field("StartDeviceAuthorization", "deviceCode")
        })?);
    let user_code = printable(&auth.user_code.unwrap_or_default());
    let uri = auth.verification_uri.unwrap_or_default();
    let uri_complete = auth
        .verification_uri_complete
        .unwrap_or_else(|| uri.clone());
    let interval = Duration::from_secs(interval_secs(auth.interval));
    let expires_in = Duration::from_secs(code_lifetime_secs(auth.expires_in));

    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "Signing in with a device code: {why}.");
    let _ = writeln!(
        stderr,
        "To sign in to {}, open this URL in a browser:\n\n    {}\n\nand confirm the code {user_code}\n",
        printable(start_url),
        printable(&uri_complete)
    );
    if browser == BrowserPolicy::Open {
        if let Err(refusal) = crate::endpoint::check(&uri_complete) {
            let _ = writeln!(
                stderr,
                "warning: not opening the sign-in URL in a browser: {refusal}; \
                 check that the SSO endpoint is the one you expect before opening it yourself\n"
            );
        } else if let Err(error) = webbrowser::open(&uri_complete) {
            tracing::info!(%error, "could not open a browser");
            let _ = writeln!(
                stderr,
                "(could not open a browser; open the URL above yourself)"
            );
        }
    }

    let spinner = spinner(&user_code);
    let result = tokio::select! {
        grant = poll(oidc, client, &device_code, interval, expires_in) => grant,
        _ = tokio::signal::ctrl_c() => Err(ProviderError::Interrupted),
    };
    spinner.finish_and_clear();
    result
}

/// A spinner on stderr while waiting; indicatif draws nothing when stderr is not a terminal, so
/// one plain line is printed instead.
fn spinner(user_code: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(format!("waiting for the code {user_code} to be approved"));
    if std::io::stderr().is_terminal() {
        bar.enable_steady_tick(Duration::from_millis(120));
    } else {
        eprintln!("Waiting for approval...");
    }
    bar
}

/// The service's polling interval, within bounds; the default when it states none.
fn interval_secs(stated: i32) -> u64 {
    u64::try_from(stated)
        .ok()
        .filter(|secs| *secs > 0)
        .unwrap_or(DEFAULT_INTERVAL_SECS)
        .clamp(MIN_INTERVAL_SECS, MAX_INTERVAL_SECS)
}

/// How long the device code is polled for: the service's word up to an hour, and the usual ten
/// minutes when it states none, so polling (and the locks held meanwhile) always ends.
fn code_lifetime_secs(stated: i32) -> u64 {
    u64::try_from(stated)
        .ok()
        .filter(|secs| *secs > 0)
        .unwrap_or(DEFAULT_CODE_LIFETIME_SECS)
        .min(MAX_CODE_LIFETIME_SECS)
}

async fn poll(
    oidc: &aws_sdk_ssooidc::Client,
    client: &ClientRegistration,
    device_code: &Secret<String>,
    mut interval: Duration,
    expires_in: Duration,
) -> Result<Grant, ProviderError> {
    let deadline = Instant::now() + expires_in;
    loop {
        tokio::time::sleep(interval).await;
        let response = oidc
            .create_token()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose())
            .grant_type(GRANT_DEVICE_CODE)
            .device_code(device_code.expose())
            .send()
            .await;
        let error = match response {
            Ok(out) => {
                let access_token = out
                    .access_token
                    .ok_or_else(|| UpstreamError::missing_field("CreateToken", "accessToken"))?;
                return Ok(Grant {
                    access_token: Secret::new(access_token),
                    refresh_token: out.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
                    expires_in: Duration::from_secs(u64::try_from(out.expires_in).unwrap_or(0)),
                });
            }
            Err(error) => error,
        };
        let code = error
            .as_service_error()
            .and_then(|e| e.code())
            .map(str::to_owned);
        match code.as_deref() {
            Some("AuthorizationPendingException") => {
                tracing::debug!("authorization pending");
            }
            Some("SlowDownException") => {
                interval = (interval + Duration::from_secs(SLOW_DOWN_STEP_SECS))
                    .min(Duration::from_secs(MAX_INTERVAL_SECS));
                tracing::debug!(interval_secs = interval.as_secs(), "asked to slow down");
            }
            Some("ExpiredTokenException") => return Err(ProviderError::DeviceCodeExpired),
            Some("AccessDeniedException") => return Err(ProviderError::AccessDenied),
            _ => return Err(UpstreamError::from_sdk("CreateToken", error).into()),
        }
        if Instant::now() >= deadline {
            return Err(ProviderError::DeviceCodeExpired);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_polling_interval_is_bounded() {
        assert_eq!(interval_secs(0), DEFAULT_INTERVAL_SECS);
        assert_eq!(interval_secs(-3), DEFAULT_INTERVAL_SECS);
        assert_eq!(interval_secs(1), 1);
        assert_eq!(interval_secs(30), 30);
        assert_eq!(interval_secs(86_400), MAX_INTERVAL_SECS);
        assert_eq!(interval_secs(i32::MAX), MAX_INTERVAL_SECS);
    }

    #[test]
    fn the_code_lifetime_is_capped_at_an_hour() {
        assert_eq!(code_lifetime_secs(0), DEFAULT_CODE_LIFETIME_SECS);
        assert_eq!(code_lifetime_secs(-1), DEFAULT_CODE_LIFETIME_SECS);
        assert_eq!(code_lifetime_secs(600), 600);
        assert_eq!(code_lifetime_secs(3600), 3600);
        assert_eq!(code_lifetime_secs(i32::MAX), MAX_CODE_LIFETIME_SECS);
    }
}
