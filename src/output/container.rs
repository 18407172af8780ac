//! The container-credentials wire format that `exec --server` and `shell --server` speak: the
//! variables that point an SDK at the server, which requests it answers, and the JSON it answers
//! with. Pure: the server (`command::serve`) does the I/O, this module only decides.

use serde::Serialize;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::secret::Secret;

/// The endpoint's full URL; every AWS SDK's container provider reads it.
pub const FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// The value the SDK sends, unchanged, as the `Authorization` header.
pub const AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// The static-key variables a served command does not get: the SDKs would prefer them to the
/// endpoint, and they would expire.
pub const REPLACED: [&str; 4] = [
    super::vars::ACCESS_KEY_ID,
    super::vars::SECRET_ACCESS_KEY,
    super::vars::SESSION_TOKEN,
    super::vars::CREDENTIAL_EXPIRATION,
];
/// The shared credentials file: a served command gets an empty one, since keys under
/// `[default]` there would be used instead of the endpoint.
pub const SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
/// An empty file on every Unix.
pub const EMPTY_FILE: &str = "/dev/null";
/// Random bytes in the authorization token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// Random bytes in the URL path, so another local user cannot even find the endpoint.
const PATH_BYTES: usize = 16;

/// What one command's server accepts: its path and its token, both fresh random values.
pub struct Secrets {
    pub path: String,
    pub token: Secret<String>,
}

impl Secrets {
    /// New random values from the operating system.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut token = Zeroizing::new([0u8; TOKEN_BYTES]);
        getrandom::fill(token.as_mut())?;
        let mut path = [0u8; PATH_BYTES];
        getrandom::fill(&mut path)?;
        Ok(Self {
            path: format!("/{}", hex(&path)),
            token: Secret::new(hex(token.as_ref())),
        })
    }

    /// Whether a request may have the credentials.
    pub fn judge(&self, method: &str, path: &str, authorization: Option<&[u8]>) -> Verdict {
        let Some(presented) = authorization else {
            return Verdict::Unauthorized;
        };
        // Compared in constant time: the time to refuse says nothing about how much matched.
        let token_matches: bool = presented.ct_eq(self.token.expose().as_bytes()).into();
        if token_matches && method == "GET" && path == self.path {
            Verdict::Serve
        } else {
            Verdict::Forbidden
        }
    }
}

/// The answer to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The right token, method and path.
    Serve,
    /// No `Authorization` header: 401, empty body.
    Unauthorized,
    /// Anything else: 403, empty body, whatever was wrong.
    Forbidden,
}

impl Verdict {
    pub fn status(self) -> u16 {
        match self {
            Self::Serve => 200,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
        }
    }
}

/// HTTP status for credentials that cannot be had now: the SDK reports the error (with the
/// message below) to the command, and asks again on its next call.
pub const UNAVAILABLE: u16 = 503;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
}

/// The credential document, in a buffer wiped on drop.
pub fn render(credentials: &Credentials) -> Zeroizing<String> {
    let body = Body {
        access_key_id: &credentials.access_key_id,
        secret_access_key: credentials.secret_access_key.expose(),
        token: credentials.session_token.expose(),
        expiration: credentials.expiration_rfc3339(),
    };
    Zeroizing::new(serde_json::to_string(&body).expect("strings serialize"))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Failure<'a> {
    code: &'a str,
    message: &'a str,
}

/// The error document: `Code` and `Message`, which the SDKs put into the error they raise.
pub fn render_failure(code: &str, message: &str) -> String {
    serde_json::to_string(&Failure { code, message }).expect("strings serialize")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets {
            path: "/p".into(),
            token: Secret::new("t0ken".into()),
        }
    }

    #[test]
    fn only_a_get_on_the_path_with_the_token_is_served() {
        let s = secrets();
        assert_eq!(s.judge("GET", "/p", Some(b"t0ken")), Verdict::Serve);
        assert_eq!(s.judge("GET", "/p", None), Verdict::Unauthorized);
        assert_eq!(s.judge("GET", "/p", Some(b"t0ke")), Verdict::Forbidden);
        assert_eq!(s.judge("GET", "/p", Some(b"t0ken ")), Verdict::Forbidden);
        assert_eq!(s.judge("GET", "/p", Some(b"")), Verdict::Forbidden);
        assert_eq!(s.judge("POST", "/p", Some(b"t0ken")), Verdict::Forbidden);
        assert_eq!(s.judge("GET", "/p/", Some(b"t0ken")), Verdict::Forbidden);
        assert_eq!(s.judge("GET", "/", Some(b"t0ken")), Verdict::Forbidden);
    }

    #[test]
    fn generated_values_are_fresh_256_bit_tokens() {
        let a = Secrets::generate().unwrap();
        let b = Secrets::generate().unwrap();
        assert_eq!(a.token.expose().len(), 64);
        assert!(a.token.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.token.expose(), b.token.expose());
        assert_eq!(a.path.len(), 33);
        assert_ne!(a.path, b.path);
    }

    #[test]
    fn the_document_has_the_four_ecs_fields() {
        let credentials = Credentials {
            access_key_id: "AKIA1".into(),
            secret_access_key: Secret::new("s\"1".into()),
            session_token: Secret::new("tok".into()),
            expires_at: 1_795_634_397,
            account_id: None,
        };
        assert_eq!(
            render(&credentials).as_str(),
            r#"{"AccessKeyId":"AKIA1","SecretAccessKey":"s\"1","Token":"tok","Expiration":"2026-11-25T19:19:57Z"}"#
        );
        assert_eq!(
            render_failure("LoginRequired", "run `x`"),
            r#"{"Code":"LoginRequired","Message":"run `x`"}"#
        );
    }
}
