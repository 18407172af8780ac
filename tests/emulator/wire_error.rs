//! How each service spells an error on the wire. The three services share a base URL but not an
//! error format, and clients parse each differently:
//!
//! - SSO OIDC: status, `x-amzn-ErrorType`, and an OAuth body `{"error", "error_description"}`
//!   with no `__type`/`message`, so the header is the only place the exception name appears.
//! - SSO portal: status, `x-amzn-ErrorType`, and `{"message"}`.
//! - STS (awsQuery): status and `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
//!
//! Real services append `:` and a URL to `x-amzn-ErrorType`; so do we, so clients that forget to
//! strip it fail here rather than in production.

use super::reply::Reply;

const ERROR_TYPE_SUFFIX: &str =
    ":http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/";
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An SSO OIDC error. The status and OAuth `error` value follow from the exception name, as in
/// the service model (`InvalidClientException` is the only 401).
pub fn oidc(code: &str, description: &str) -> Reply {
    let (status, oauth) = match code {
        "AuthorizationPendingException" => (400, "authorization_pending"),
        "SlowDownException" => (400, "slow_down"),
        "ExpiredTokenException" => (400, "expired_token"),
        "AccessDeniedException" => (400, "access_denied"),
        "InvalidGrantException" => (400, "invalid_grant"),
        "InvalidClientException" => (401, "invalid_client"),
        "UnsupportedGrantTypeException" => (400, "unsupported_grant_type"),
        "InvalidScopeException" => (400, "invalid_scope"),
        "UnauthorizedClientException" => (400, "unauthorized_client"),
        "InvalidClientMetadataException" => (400, "invalid_client_metadata"),
        "InvalidRedirectUriException" => (400, "invalid_redirect_uri"),
        "TooManyRequestsException" => (429, "too_many_requests"),
        "InternalServerException" => (500, "server_error"),
        "ServiceUnavailableException" => (503, "temporarily_unavailable"),
        _ => (400, "invalid_request"),
    };
    let body = serde_json::json!({ "error": oauth, "error_description": description });
    Reply::json(status, &body)
        .with_header("x-amzn-ErrorType", &format!("{code}{ERROR_TYPE_SUFFIX}"))
}

/// An SSO portal error.
pub fn portal(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(status, &serde_json::json!({ "message": message }))
        .with_header("x-amzn-ErrorType", &format!("{code}{ERROR_TYPE_SUFFIX}"))
}

/// An STS error document. `Type` is `Sender` for 4xx and `Receiver` for 5xx, as STS sends it.
pub fn sts(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    Reply::xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{STS_NAMESPACE}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
             <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n\
             </ErrorResponse>\n",
            xml_escape(code),
            xml_escape(message),
            xml_escape(request_id)
        ),
    )
}

pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
