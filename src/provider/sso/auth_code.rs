//! The authorization-code login with PKCE (RFC 7636) through the user's browser and a loopback
//! redirect (RFC 8252), as the AWS CLI signs in by default.
//!
//! One login: listen on `127.0.0.1` at a port the system picks, open the browser on the OIDC
//! endpoint's `/authorize` page with an S256 challenge and a random `state`, take exactly one
//! answer on `/oauth/callback` (each connection bounded in size and time), check its `state`, close the listener, and exchange the code
//! with the verifier (CreateToken). A timeout, Ctrl+C, a denied consent or a wrong `state` end
//! the login with nothing stored.
//!
//! What the browser is given (the authorize URL: client id, challenge, state, redirect URI) is
//! public by design, so it may go on the browser's command line. The verifier and the code are
//! secrets: the verifier never leaves this process except to CreateToken, and the code arrives
//! only on the loopback listener, which answers with a fixed page that echoes nothing.

use std::net::Ipv4Addr;
use std::time::Duration;

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::utf8_percent_encode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use ureq::http::Uri;
use zeroize::Zeroizing;

use super::device::Grant;
use super::registration::{ClientRegistration, GRANT_AUTHORIZATION_CODE, SCOPE};
use crate::endpoint::{self, EndpointError, QUERY_VALUE};
use crate::provider::ProviderError;
use crate::secret::Secret;
use crate::text::printable;
use crate::upstream::UpstreamError;

/// The path the redirect comes back to, as the AWS CLI names it.
pub const CALLBACK_PATH: &str = "/oauth/callback";
/// 48 random bytes make a 64-character verifier of `[A-Za-z0-9-_]` (RFC 7636 allows 43-128).
const VERIFIER_BYTES: usize = 48;
const STATE_BYTES: usize = 16;
/// The most a request's head (request line and headers) may take on the listener; a browser's
/// callback is well under it.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// How much one read from a connection takes.
const READ_CHUNK: usize = 1024;
/// How long one connection may take to send its request's head.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections read at once; more wait in the listen queue.
const MAX_CONNECTIONS: usize = 64;
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
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(ProviderError::Listener)?;
    let port = listener
        .local_addr()
        .map_err(ProviderError::Listener)?
        .port();
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
    eprintln!("Waiting for the browser...");
    // Opened beside the wait, not before it: a text browser (`w3m`, `lynx`) runs in the
    // foreground until it exits, and it follows the redirect to the listener meanwhile.
    let opening = tokio::task::spawn_blocking(move || webbrowser::open(&url));
    tokio::spawn(async move {
        if let Ok(Err(error)) = opening.await {
            tracing::info!(%error, "could not open a browser");
            eprintln!(
                "(could not open a browser; open the URL above yourself, or run again with \
                 `--use-device-code`)"
            );
        }
    });

    let login = async {
        // The listener is closed when `wait` returns, before the code is exchanged.
        let answer = wait(listener, &state, timeout).await?;
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
        // Dropping the login closes the listener and every connection; nothing has been
        // stored.
        _ = tokio::signal::ctrl_c() => Err(ProviderError::Interrupted),
    }
}

/// A request on the listener, as far as the login cares.
struct Request {
    stream: TcpStream,
    /// The query of a `GET` on the callback path: it carries the authorization code.
    query: Secret<String>,
}

/// Serve the listener until one answer arrives on the callback path or the time is up. Each
/// connection is read on its own, bounded in size and time, so a slow or huge request from
/// another local user neither holds the listener nor grows the process. Other paths (a browser
/// asking for `/favicon.ico`) get a 404 and the wait goes on. The listener and every open
/// connection are closed when this returns.
async fn wait(
    listener: TcpListener,
    state: &str,
    timeout: Duration,
) -> Result<Answer, ProviderError> {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut connections = JoinSet::new();
    loop {
        let request = tokio::select! {
            () = &mut deadline => return Err(ProviderError::BrowserTimedOut(timeout)),
            accepted = listener.accept(), if connections.len() < MAX_CONNECTIONS => {
                match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(read_request(stream));
                    }
                    Err(error) => tracing::debug!(%error, "a loopback connection failed"),
                }
                continue;
            }
            Some(read) = connections.join_next() => match read {
                Ok(Some(request)) => request,
                _ => continue,
            },
        };
        let answer = read_callback(request.query.expose(), state);
        let signed_in = answer.as_ref().is_ok_and(|a| matches!(a, Answer::Code(_)));
        let (status, page) = if signed_in {
            ("200 OK", PAGE_SIGNED_IN)
        } else {
            ("400 Bad Request", PAGE_FAILED)
        };
        // A browser that went away cannot be told; the login goes on with what it sent.
        let _ = reply(request.stream, status, page).await;
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

/// Read one request's head (request line and headers) within [`MAX_REQUEST_BYTES`] and
/// [`REQUEST_READ_TIMEOUT`]. A `GET` on the callback path is handed back; anything else is
/// answered with a 404 (or dropped, when it is too big, too slow or not HTTP) here.
async fn read_request(mut stream: TcpStream) -> Option<Request> {
    // Sized for the largest head accepted, so that no copy of the code is left behind by a
    // reallocation; both buffers are zeroized when dropped.
    let mut head = Zeroizing::new(Vec::with_capacity(MAX_REQUEST_BYTES + READ_CHUNK));
    let complete = tokio::time::timeout(REQUEST_READ_TIMEOUT, async {
        let mut buffer = Zeroizing::new([0u8; READ_CHUNK]);
        loop {
            let read = stream.read(buffer.as_mut()).await.ok()?;
            if read == 0 {
                return None;
            }
            head.extend_from_slice(&buffer[..read]);
            if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
                return Some(());
            }
            if head.len() > MAX_REQUEST_BYTES {
                return None;
            }
        }
    })
    .await;
    if !matches!(complete, Ok(Some(()))) {
        return None;
    }
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" || path != CALLBACK_PATH {
        let _ = reply(stream, "404 Not Found", "").await;
        return None;
    }
    Some(Request {
        stream,
        query: Secret::new(query.to_owned()),
    })
}

/// Answer and close the connection: one response per connection, never kept alive.
async fn reply(mut stream: TcpStream, status: &str, page: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Cache-Control: no-store\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{page}",
        page.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
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
