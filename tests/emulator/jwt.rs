//! Reads the claims of a web identity token (a JWT such as a GitHub Actions OIDC token) so
//! AssumeRoleWithWebIdentity can answer with its subject, audience and issuer and reject it once
//! expired. Signatures are not checked: the emulator trusts any issuer.

use serde_json::Value;

pub struct Claims {
    pub subject: Option<String>,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    /// Epoch seconds.
    pub expires_at: Option<u64>,
}

/// The claims of `token`, or `None` if it is not a `header.payload.signature` JWT with a JSON
/// object payload.
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let payload: Value = serde_json::from_slice(&base64url_decode(payload)?).ok()?;
    let text = |key: &str| payload.get(key).and_then(Value::as_str).map(String::from);
    // `aud` may be one string or a list of them.
    let audience = match payload.get("aud") {
        Some(Value::Array(list)) => list.first().and_then(Value::as_str).map(String::from),
        _ => text("aud"),
    };
    Some(Claims {
        subject: text("sub"),
        audience,
        issuer: text("iss"),
        expires_at: payload.get("exp").and_then(Value::as_u64),
    })
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_github_style_claims() {
        // {"sub":"repo:acme/infra:ref:refs/heads/main","aud":["sts.amazonaws.com"],"iss":"https://token.actions.githubusercontent.com","exp":4102444800}
        let payload = "eyJzdWIiOiJyZXBvOmFjbWUvaW5mcmE6cmVmOnJlZnMvaGVhZHMvbWFpbiIsImF1ZCI6WyJzdHMuYW1hem9uYXdzLmNvbSJdLCJpc3MiOiJodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29tIiwiZXhwIjo0MTAyNDQ0ODAwfQ";
        let claims = claims(&format!("eyJhbGciOiJub25lIn0.{payload}.sig")).unwrap();
        assert_eq!(
            claims.subject.as_deref(),
            Some("repo:acme/infra:ref:refs/heads/main")
        );
        assert_eq!(claims.audience.as_deref(), Some("sts.amazonaws.com"));
        assert_eq!(
            claims.issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(claims.expires_at, Some(4102444800));
        assert!(super::claims("not-a-jwt").is_none());
    }
}
