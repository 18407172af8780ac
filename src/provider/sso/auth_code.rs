//! The authorization-code login with PKCE (RFC 7636) through the user's browser and a loopback
//! redirect (RFC 8252), as the AWS CLI signs in by default.
//!
//! One login: listen on `127.0.0.1` at a port the system picks, open the browser on the OIDC
//! endpoint's `/authorize` page with an S256 challenge and a random `state`, take exactly one
//! answer on `/oauth/callback`, check its `state`, close the listener, and exchange the code
//! with the verifier (CreateToken). A timeout, Ctrl+C, a denied consent or a wrong `state` end
//! the login with nothing stored.
//!
//! What the browser is given (the authorize URL: client id, challenge, state, redirect URI) is
//! public by design, so it may go on the browser's command line. The verifier and the code are
//! secrets: the verifier never leaves this process except to CreateToken, and the code arrives
//! only on the loopback listener, which answers with a fixed page that echoes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use ureq::http::Uri;

use super::device::Grant;
use super::registration::{ClientRegistration, GRANT_AUTHORIZATION_CODE, SCOPE};
use crate::endpoint::{self, EndpointError};
use crate::provider::ProviderError;
use crate::secret::Secret;
use crate::text::printable;
use crate::upstream::UpstreamError;

/// The path the redirect comes back to, as the AWS CLI names it.
pub const CALLBACK_PATH: &str = "/oauth/callback";
/// 48 random bytes make a 64-character verifier of `[A-Za-z0-9-_]` (RFC 7636 allows 43-128).
const VERIFIER_BYTES: usize = 48;
const STATE_BYTES: usize = 16;
/// How often the waiting thread looks up from the listener to see whether the login was
/// cancelled.
const WAIT_SLICE_MS: u64 = 200;
/// RFC 3986 unreserved characters stay as they are in a query value; everything else is
/// percent-encoded (a space as `%20`, as the service expects in `scopes`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const PAGE_SIGNED_IN: &str = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
<title>atmos-auth: signed in</title></head><body><h1>Signed in</h1>\
<p>atmos-auth has your sign-in. You can close this tab and return to the terminal.</p>\
</body></html>\n";
const PAGE_FAILED: &str = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
<title>atmos-auth: sign-in failed</title></head><body><h1>Sign-in failed</h1>\
<p>atmos-auth did not sign in; the terminal says why. You can close this tab.</p>\
</body></html>\n";

/// The PKCE pair: the verifier is kept, the challenge goes to the browser.
struct Pkce {
    verifier: Secret<String>,
    challenge: String,
}

impl Pkce {
    fn new() -> Self {
        let mut random = [0u8; VERIFIER_BYTES];
        getrandom::fill(&mut random).expect("the OS random source is available");
        let verifier = Secret::new(URL_SAFE_NO_PAD.encode(random));
        random.fill(0);
        let challenge = challenge_of(verifier.expose());
        Self {
            verifier,
            challenge,
        }
    }
}

/// BASE64URL(SHA-256(verifier)) without padding (RFC 7636 §4.2, method S256).
fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn random_state() -> String {
    let mut random = [0u8; STATE_BYTES];
    getrandom::fill(&mut random).expect("the OS random source is available");
    URL_SAFE_NO_PAD.encode(random)
}

/// The browser's page: `<scheme>://<host>[:<port>]/authorize?...` at the OIDC endpoint. Only the
/// scheme, host and port of the endpoint are kept (a path or user information is dropped), and
/// the result must pass the transport rule before any browser sees it.
fn authorize_url(
    oidc_endpoint: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Result<String, EndpointError> {
    let refused = |refusal| EndpointError {
        setting: "the SSO OIDC endpoint (`AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL` or \
                  `spec.endpoint_url`)"
            .into(),
        refusal,
    };
    let uri: Uri = oidc_endpoint
        .trim()
        .parse()
        .map_err(|_| refused(endpoint::Refusal::NotHttp))?;
    let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
        return Err(refused(endpoint::Refusal::NotHttp));
    };
    let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    let encode = |value: &str| utf8_percent_encode(value, QUERY_VALUE).to_string();
    let url = format!(
        "{}://{host}{port}/authorize?response_type=code&client_id={}&redirect_uri={}\
         &state={}&code_challenge_method=S256&scopes={}&code_challenge={}",
        scheme.to_ascii_lowercase(),
        encode(client_id),
        encode(redirect_uri),
        encode(state),
        encode(SCOPE),
        encode(challenge),
    );
    endpoint::check(&url).map_err(refused)?;
    Ok(url)
}

/// What came back on the callback.
enum Answer {
    Code(Secret<String>),
    Refused(String),
}

/// Run the whole login: listen, open the browser, wait for one answer, exchange the code.
pub async fn authorize(
    oidc: &aws_sdk_ssooidc::Client,
    client: &ClientRegistration,
    oidc_endpoint: &str,
    start_url: &str,
    timeout: Duration,
) -> Result<Grant, ProviderError> {
    let server = tiny_http::Server::http("127.0.0.1:0")
        .map_err(|e| ProviderError::Listener(std::io::Error::other(e.to_string())))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|address| address.port())
        .ok_or_else(|| ProviderError::Listener(std::io::Error::other("not a TCP listener")))?;
    let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
    let pkce = Pkce::new();
    let state = random_state();
    let url = authorize_url(
        oidc_endpoint,
        &client.client_id,
        &redirect_uri,
        &state,
        &pkce.challenge,
    )?;

    eprintln!(
        "Signing in to {} in your browser. If no browser opens, open this URL:\n\n    {}\n",
        printable(start_url),
        printable(&url)
    );
    if let Err(error) = webbrowser::open(&url) {
        tracing::info!(%error, "could not open a browser");
        eprintln!(
            "(could not open a browser; open the URL above yourself, or run again with \
             `--use-device-code`)"
        );
    }
    eprintln!("Waiting for the browser...");

    let cancelled = Arc::new(AtomicBool::new(false));
    let waiting = {
        let cancelled = Arc::clone(&cancelled);
        let state = state.clone();
        tokio::task::spawn_blocking(move || wait(server, &state, timeout, &cancelled))
    };
    let login = async {
        let answer = waiting
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        let code = match answer {
            Answer::Code(code) => code,
            Answer::Refused(error) if error == "access_denied" => {
                return Err(ProviderError::AccessDenied);
            }
            Answer::Refused(error) => return Err(ProviderError::AuthorizationFailed(error)),
        };
        exchange(oidc, client, &code, &pkce.verifier, &redirect_uri).await
    };
    tokio::select! {
        result = login => result,
        _ = tokio::signal::ctrl_c() => {
            // The waiting thread sees this within one slice and closes the listener; nothing
            // has been stored.
            cancelled.store(true, Ordering::SeqCst);
            Err(ProviderError::Interrupted)
        }
    }
}

/// Serve the listener until one answer arrives on the callback path, the time is up or the
/// login is cancelled. Other paths (a browser asking for `/favicon.ico`) get a 404 and the wait
/// goes on. The listener is closed when this returns.
fn wait(
    server: tiny_http::Server,
    state: &str,
    timeout: Duration,
    cancelled: &AtomicBool,
) -> Result<Answer, ProviderError> {
    let deadline = Instant::now() + timeout;
    loop {
        if cancelled.load(Ordering::SeqCst) {
            return Err(ProviderError::Interrupted);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ProviderError::BrowserTimedOut(timeout));
        }
        let slice = left.min(Duration::from_millis(WAIT_SLICE_MS));
        let request = match server.recv_timeout(slice) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(error) => return Err(ProviderError::Listener(error)),
        };
        let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
        if path != CALLBACK_PATH || *request.method() != tiny_http::Method::Get {
            let _ = request.respond(tiny_http::Response::empty(404));
            continue;
        }
        let answer = read_callback(query, state);
        respond(
            request,
            answer.as_ref().is_ok_and(|a| matches!(a, Answer::Code(_))),
        );
        return answer;
    }
}

/// The callback's query: `code` and `state`, or `error` (and `state`). A `state` other than
/// this login's means the answer is not for it, whatever else it says.
fn read_callback(query: &str, state: &str) -> Result<Answer, ProviderError> {
    let mut code = None;
    let mut error = None;
    let mut returned_state = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "code" => code = Some(Secret::new(value.into_owned())),
            "error" => error = Some(value.into_owned()),
            "state" => returned_state = Some(value.into_owned()),
            _ => {}
        }
    }
    if returned_state.as_deref() != Some(state) {
        return Err(ProviderError::StateMismatch);
    }
    match (code, error) {
        (_, Some(error)) => Ok(Answer::Refused(error)),
        (Some(code), None) if !code.expose().is_empty() => Ok(Answer::Code(code)),
        // Neither: the answer is malformed, which OAuth calls an invalid request.
        _ => Ok(Answer::Refused("invalid_request".into())),
    }
}

fn respond(request: tiny_http::Request, signed_in: bool) {
    let (status, page) = if signed_in {
        (200, PAGE_SIGNED_IN)
    } else {
        (400, PAGE_FAILED)
    };
    let mut response = tiny_http::Response::from_string(page).with_status_code(status);
    for (name, value) in [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Connection", "close"),
    ] {
        if let Ok(header) = tiny_http::Header::from_bytes(name, value) {
            response.add_header(header);
        }
    }
    // A browser that went away cannot be told; the login goes on with what it sent.
    let _ = request.respond(response);
}

/// CreateToken with the code, the verifier and the very redirect URI the browser was sent to.
async fn exchange(
    oidc: &aws_sdk_ssooidc::Client,
    client: &ClientRegistration,
    code: &Secret<String>,
    verifier: &Secret<String>,
    redirect_uri: &str,
) -> Result<Grant, ProviderError> {
    let response = oidc
        .create_token()
        .client_id(&client.client_id)
        .client_secret(client.client_secret.expose())
        .grant_type(GRANT_AUTHORIZATION_CODE)
        .code(code.expose())
        .code_verifier(verifier.expose())
        .redirect_uri(redirect_uri)
        .send()
        .await;
    let out = match response {
        Ok(out) => out,
        Err(error) => {
            let code = error.as_service_error().and_then(|e| e.code());
            return Err(match code {
                Some("InvalidGrantException" | "ExpiredTokenException") => {
                    ProviderError::CodeRejected
                }
                Some("AccessDeniedException") => ProviderError::AccessDenied,
                _ => UpstreamError::from_sdk("CreateToken", error).into(),
            });
        }
    };
    let access_token = out
        .access_token
        .ok_or_else(|| UpstreamError::missing_field("CreateToken", "accessToken"))?;
    Ok(Grant {
        access_token: Secret::new(access_token),
        refresh_token: out.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
        expires_in: Duration::from_secs(u64::try_from(out.expires_in).unwrap_or(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_rfc_7636_example() {
        // RFC 7636 Appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::new();
        assert_eq!(pkce.verifier.expose().len(), 64);
        assert_eq!(pkce.challenge.len(), 43);
        assert_ne!(Pkce::new().verifier.expose(), pkce.verifier.expose());
    }

    #[test]
    fn the_authorize_url_keeps_only_scheme_host_and_port() {
        let url = authorize_url(
            "https://user:pw@oidc.us-east-1.amazonaws.com/some/path?x=1",
            "client-1",
            "http://127.0.0.1:5555/oauth/callback",
            "st/ate",
            "challenge",
        )
        .unwrap();
        assert_eq!(
            url,
            "https://oidc.us-east-1.amazonaws.com/authorize?response_type=code&client_id=client-1\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Foauth%2Fcallback&state=st%2Fate\
             &code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge=challenge"
        );
        let local = authorize_url("http://127.0.0.1:4566", "c", "r", "s", "x").unwrap();
        assert!(
            local.starts_with("http://127.0.0.1:4566/authorize?"),
            "{local}"
        );
    }

    #[test]
    fn an_authorize_page_over_plain_http_elsewhere_is_refused() {
        let error = authorize_url("http://oidc.example.com", "c", "r", "s", "x").unwrap_err();
        assert_eq!(
            error.refusal,
            endpoint::Refusal::PlainHttp {
                host: "oidc.example.com".into()
            }
        );
    }

    #[test]
    fn the_callback_must_carry_this_logins_state() {
        let code = |answer: Result<Answer, ProviderError>| match answer {
            Ok(Answer::Code(code)) => code.expose().clone(),
            Ok(Answer::Refused(error)) => format!("refused:{error}"),
            Err(error) => format!("error:{error}"),
        };
        assert_eq!(code(read_callback("code=c%2B1&state=s1", "s1")), "c+1");
        assert_eq!(
            code(read_callback("error=access_denied&state=s1", "s1")),
            "refused:access_denied"
        );
        for query in [
            "code=c&state=s2",
            "code=c",
            "error=access_denied&state=",
            "",
        ] {
            assert!(
                matches!(
                    read_callback(query, "s1"),
                    Err(ProviderError::StateMismatch)
                ),
                "{query}"
            );
        }
    }
}
