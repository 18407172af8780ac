//! The OAuth 2.0 device-code login (RFC 8628) against SSO OIDC: start an authorization, show the
//! user where to approve it, and poll for the token at the pace the service asks for.
//!
//! Everything shown to the user goes to stderr, so `eval "$(atmos-auth env --login …)"` keeps a
//! clean stdout. The user code is not a secret (it is useless without the device code, which is
//! never shown); tokens never reach the terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use indicatif::{ProgressBar, ProgressStyle};

use super::registration::{ClientRegistration, GRANT_DEVICE_CODE};
use crate::provider::ProviderError;
use crate::secret::Secret;
use crate::upstream::UpstreamError;

/// RFC 8628 §3.5: after `slow_down`, add five seconds to the polling interval.
const SLOW_DOWN_STEP_SECS: u64 = 5;
/// Used when the service does not state how long the device code lives.
const DEFAULT_CODE_LIFETIME_SECS: u64 = 600;
/// Used when the service does not state an interval.
const DEFAULT_INTERVAL_SECS: u64 = 5;

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

/// Run the whole device-code login: StartDeviceAuthorization, prompt, poll CreateToken.
pub async fn authorize(
    oidc: &aws_sdk_ssooidc::Client,
    client: &ClientRegistration,
    start_url: &str,
    browser: BrowserPolicy,
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
    let user_code = auth.user_code.unwrap_or_default();
    let uri = auth.verification_uri.unwrap_or_default();
    let uri_complete = auth
        .verification_uri_complete
        .unwrap_or_else(|| uri.clone());
    let interval = Duration::from_secs(
        u64::try_from(auth.interval)
            .ok()
            .filter(|i| *i > 0)
            .unwrap_or(DEFAULT_INTERVAL_SECS),
    );
    // A code whose lifetime the service did not state is given the usual ten minutes, so
    // polling (and the locks held meanwhile) always ends.
    let expires_in = Duration::from_secs(
        u64::try_from(auth.expires_in)
            .ok()
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_CODE_LIFETIME_SECS),
    );

    let mut stderr = std::io::stderr();
    let _ = writeln!(
        stderr,
        "To sign in to {start_url}, open this URL in a browser:\n\n    {uri_complete}\n\nand confirm the code {user_code}\n"
    );
    if browser == BrowserPolicy::Open
        && let Err(error) = webbrowser::open(&uri_complete)
    {
        tracing::info!(%error, "could not open a browser");
        let _ = writeln!(
            stderr,
            "(could not open a browser; open the URL above yourself)"
        );
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
                interval += Duration::from_secs(SLOW_DOWN_STEP_SECS);
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
