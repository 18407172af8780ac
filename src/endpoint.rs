//! The one transport rule every HTTP client of the program obeys: an endpoint is `https://`, or
//! plain `http://` to a loopback address (127.0.0.0/8, `::1`, `localhost`: a local emulator).
//!
//! Anything else would send access tokens, refresh tokens, client secrets or credentials in the
//! clear to whoever is on the path. The rule is checked before any request, so a refused endpoint
//! never sees a byte. It owns only the decision; each caller names the setting in its error.

use std::fmt;
use std::net::IpAddr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use ureq::http::Uri;

/// How a value goes into a URL's query: RFC 3986's unreserved characters as they are, everything
/// else percent-encoded (a space as `%20`, as the SSO OIDC service expects in `scopes`).
pub const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What may follow "use": the fix, shared by every message about a refused endpoint.
pub const FIX: &str =
    "use an `https://` URL; plain `http://` is only allowed to 127.0.0.1, ::1 or localhost";

/// Why an endpoint URL is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `http://` to this host, which is not a loopback address.
    PlainHttp { host: String },
    /// Not an absolute `http(s)://` URL with a host.
    NotHttp,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PlainHttp { host } => write!(
                f,
                "it is plain http to `{}`, which is not a loopback address",
                crate::text::printable(host)
            ),
            Self::NotHttp => f.write_str("it is not an `https://` URL with a host"),
        }
    }
}

/// Whether `url` is plain `http://`. Such a request must go straight to its loopback address:
/// through a proxy (`HTTP_PROXY`, `ALL_PROXY`) its bytes would leave the machine in the clear.
pub fn is_plain_http(url: &str) -> bool {
    url.trim()
        .parse::<Uri>()
        .ok()
        .and_then(|uri| uri.scheme_str().map(|s| s.eq_ignore_ascii_case("http")))
        .unwrap_or(false)
}

/// Checks `url` against the rule. The URL itself is never part of the answer: it may carry
/// user information.
pub fn check(url: &str) -> Result<(), Refusal> {
    let uri: Uri = url.trim().parse().map_err(|_| Refusal::NotHttp)?;
    let host = uri
        .host()
        .filter(|host| !host.is_empty())
        .ok_or(Refusal::NotHttp)?;
    match uri.scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("https") => Ok(()),
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => {
            if is_loopback(host) {
                Ok(())
            } else {
                Err(Refusal::PlainHttp {
                    host: host.to_owned(),
                })
            }
        }
        _ => Err(Refusal::NotHttp),
    }
}

/// `localhost`, or a literal address in 127.0.0.0/8 or `::1` (brackets allowed). Not
/// `localhost.`: the absolute name is not in `/etc/hosts`, so the resolver asks DNS, which may
/// answer with any address.
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    literal
        .parse::<IpAddr>()
        .is_ok_and(|address| address.is_loopback())
}

/// An endpoint refused by the rule, with the setting that chose it.
#[derive(Debug, thiserror::Error)]
#[error("the endpoint in {setting} is refused: {refusal}")]
pub struct EndpointError {
    /// How the user would find it: "`AWS_ENDPOINT_URL_STS`", "`spec.endpoint_url`".
    pub setting: String,
    pub refusal: Refusal,
}

impl EndpointError {
    pub fn hint(&self) -> String {
        format!("{FIX}, or unset {}", self.setting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_is_allowed() {
        for url in [
            "https://portal.sso.us-east-1.amazonaws.com",
            "HTTPS://sts.amazonaws.com/",
            "https://10.0.0.1:8443/x",
        ] {
            assert_eq!(check(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn plain_http_is_allowed_only_to_loopback() {
        for url in [
            "http://127.0.0.1:4566",
            "http://127.1.2.3",
            "http://localhost:8080/",
            "http://LOCALHOST",
            "http://[::1]:4566",
        ] {
            assert_eq!(check(url), Ok(()), "{url}");
        }
        for (url, host) in [
            ("http://10.255.255.1", "10.255.255.1"),
            ("HTTP://sts.amazonaws.com", "sts.amazonaws.com"),
            ("http://localhost.evil.example", "localhost.evil.example"),
            ("http://128.0.0.1", "128.0.0.1"),
            ("http://[::2]", "[::2]"),
            ("http://0.0.0.0:4566", "0.0.0.0"),
            ("http://localhost.:4566", "localhost."),
            ("http://LOCALHOST.", "LOCALHOST."),
            ("http://127.0.0.1.", "127.0.0.1."),
        ] {
            assert_eq!(
                check(url),
                Err(Refusal::PlainHttp { host: host.into() }),
                "{url}"
            );
        }
    }

    #[test]
    fn anything_but_an_http_url_with_a_host_is_refused() {
        for url in [
            "ftp://127.0.0.1",
            "127.0.0.1:4566",
            "http://",
            "not a url",
            "",
        ] {
            assert_eq!(check(url), Err(Refusal::NotHttp), "{url:?}");
        }
    }

    #[test]
    fn only_plain_http_urls_are_plain_http() {
        assert!(is_plain_http("http://127.0.0.1:4566/federation"));
        assert!(is_plain_http(" HTTP://localhost"));
        assert!(!is_plain_http("https://signin.aws.amazon.com/federation"));
        assert!(!is_plain_http("not a url"));
    }

    #[test]
    fn the_message_names_the_setting_and_the_host_but_not_the_url() {
        let error = EndpointError {
            setting: "`AWS_ENDPOINT_URL_STS`".into(),
            refusal: check("http://user:hunter2@10.255.255.1/").unwrap_err(),
        };
        assert_eq!(
            error.to_string(),
            "the endpoint in `AWS_ENDPOINT_URL_STS` is refused: it is plain http to `10.255.255.1`, which is not a loopback address"
        );
        assert_eq!(
            error.hint(),
            "use an `https://` URL; plain `http://` is only allowed to 127.0.0.1, ::1 or localhost, or unset `AWS_ENDPOINT_URL_STS`"
        );
    }
}
