//! The AWS `credential_process` wire format (version 1): what `atmos-auth credential-process`
//! prints for SDKs to read (`output` side), and what a `credential_process` identity reads from
//! other tools (`provider::process`). Both sides share this module; it does no I/O.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::credentials::{Credentials, epoch_secs};
use crate::secret::Secret;

const VERSION: u8 = 1;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: String,
}

/// The JSON document for `credentials`, in a buffer wiped on drop.
pub fn render(credentials: &Credentials) -> Zeroizing<String> {
    let output = Output {
        version: VERSION,
        access_key_id: &credentials.access_key_id,
        secret_access_key: credentials.secret_access_key.expose(),
        session_token: credentials.session_token.expose(),
        expiration: credentials.expiration_rfc3339(),
    };
    let mut text = Zeroizing::new(serde_json::to_string(&output).expect("strings serialize"));
    text.push('\n');
    text
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    version: u8,
    access_key_id: String,
    secret_access_key: Secret<String>,
    #[serde(default)]
    session_token: Option<Secret<String>>,
    #[serde(default)]
    expiration: Option<String>,
}

/// Why another tool's `credential_process` output was refused. Never carries the input text.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the output is not credential_process JSON ({0})")]
    Json(String),
    #[error("unsupported credential_process version {0} (only 1 is defined)")]
    Version(u8),
    #[error("`Expiration` is not an RFC 3339 time")]
    Expiration,
    #[error("`{0}` is empty")]
    Empty(&'static str),
}

/// Read credential_process v1 output. Credentials without `Expiration` are long-lived: they are
/// given `default_expires_at`.
pub fn parse(text: &str, default_expires_at: u64) -> Result<Credentials, ParseError> {
    // serde's message names a position and the expected shape; strip anything quoted from it
    // all the same, since it may echo a value.
    let input: Input = serde_json::from_str(text)
        .map_err(|e| ParseError::Json(format!("line {} column {}", e.line(), e.column())))?;
    if input.version != VERSION {
        return Err(ParseError::Version(input.version));
    }
    if input.access_key_id.is_empty() {
        return Err(ParseError::Empty("AccessKeyId"));
    }
    if input.secret_access_key.expose().is_empty() {
        return Err(ParseError::Empty("SecretAccessKey"));
    }
    let expires_at = match input.expiration {
        Some(text) => {
            epoch_secs(humantime::parse_rfc3339_weak(&text).map_err(|_| ParseError::Expiration)?)
        }
        None => default_expires_at,
    };
    Ok(Credentials {
        access_key_id: input.access_key_id,
        secret_access_key: input.secret_access_key,
        session_token: input
            .session_token
            .unwrap_or_else(|| Secret::new(String::new())),
        expires_at,
        account_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials {
            access_key_id: "ASIATESTKEY".into(),
            secret_access_key: "secret".into(),
            session_token: "token".into(),
            expires_at: 1_700_000_000,
            account_id: None,
        }
    }

    #[test]
    fn renders_the_exact_v1_document() {
        assert_eq!(
            *render(&credentials()),
            "{\"Version\":1,\"AccessKeyId\":\"ASIATESTKEY\",\"SecretAccessKey\":\"secret\",\"SessionToken\":\"token\",\"Expiration\":\"2023-11-14T22:13:20Z\"}\n"
        );
    }

    #[test]
    fn parses_what_it_renders() {
        let back = parse(&render(&credentials()), 0).unwrap();
        assert_eq!(back.expires_at, 1_700_000_000);
        assert_eq!(back.secret_access_key.expose(), "secret");
    }

    #[test]
    fn rejects_other_versions_and_garbage_without_echoing() {
        assert!(matches!(
            parse(
                r#"{"Version":2,"AccessKeyId":"a","SecretAccessKey":"b"}"#,
                0
            ),
            Err(ParseError::Version(2))
        ));
        let error = parse(
            r#"{"Version":1,"AccessKeyId":"a","SecretAccessKey":"sentinel-secret","Expiration":7}"#,
            0,
        )
        .unwrap_err();
        assert!(!error.to_string().contains("sentinel"), "{error}");
        assert!(parse("not json", 0).is_err());
    }

    #[test]
    fn long_lived_credentials_get_the_default_expiry() {
        let parsed = parse(
            r#"{"Version":1,"AccessKeyId":"a","SecretAccessKey":"b"}"#,
            42,
        )
        .unwrap();
        assert_eq!(parsed.expires_at, 42);
    }
}

/// Property tests: another tool's output never makes the parser panic, and what we render always
/// parses back. Cases: 256 by default, `PROPTEST_CASES=N` for a longer run.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn parse_never_panics_on_any_text(text in any::<String>(), default in any::<u64>()) {
            let _ = parse(&text, default);
        }

        #[test]
        fn parse_never_panics_on_json_like_text(
            version in any::<u8>(),
            key in "[ -~]{0,30}",
            expiration in prop_oneof![Just(None), "[ -~]{0,40}".prop_map(Some)],
            extra in "[ -~]{0,30}",
        ) {
            let expiration = expiration
                .map(|e| format!(",\"Expiration\":{}", serde_json::json!(e)))
                .unwrap_or_default();
            let text = format!(
                "{{\"Version\":{version},\"AccessKeyId\":{},\"SecretAccessKey\":\"s\"{expiration}{extra}}}",
                serde_json::json!(key)
            );
            let _ = parse(&text, 0);
        }

        #[test]
        fn render_then_parse_is_identity(
            key in "[A-Z0-9]{1,20}",
            secret in "[ -~]{1,40}",
            token in "[ -~]{1,80}",
            expires_at in 0u64..253_402_300_799,
        ) {
            let credentials = Credentials {
                access_key_id: key.clone(),
                secret_access_key: secret.as_str().into(),
                session_token: token.as_str().into(),
                expires_at,
                account_id: None,
            };
            let back = parse(&render(&credentials), 0).unwrap();
            prop_assert_eq!(back.access_key_id, key);
            prop_assert_eq!(back.secret_access_key.expose(), &secret);
            prop_assert_eq!(back.session_token.expose(), &token);
            prop_assert_eq!(back.expires_at, expires_at);
        }
    }
}
