//! Faults a test can inject into the next call(s) of an operation, and what each does to the
//! answer. A fault is rendered in the error format of the service it hits, so clients see what
//! they would see from AWS (or from a broken network or proxy in between).

use super::op::{Op, Service};
use super::reply::{Framing, Reply};
use super::wire_error;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An error with this HTTP status (5xx ones are server faults clients should retry).
    Status(u16),
    /// Rate limiting: STS `Throttling` (400), SSO portal and OIDC `TooManyRequestsException` (429).
    Throttle,
    /// Wait this long, then answer normally. Other calls are unaffected.
    Delay(Duration),
    /// Do the work, then send a body cut to a prefix no parser accepts.
    MalformedBody,
    /// Do the work, then break the connection half-way through the body. The side effect (for
    /// example issued credentials) happened, but the client never saw it.
    TruncatedBody,
    /// A 200 HTML page instead of the service's answer, as from a captive portal or proxy.
    WrongContentType,
    /// OIDC `SlowDownException`; on other services the same as `Throttle`.
    SlowDown,
    /// OIDC `ExpiredTokenException`, portal `UnauthorizedException`, STS `ExpiredToken`
    /// (`ExpiredTokenException` for AssumeRoleWithWebIdentity).
    ExpiredToken,
    /// OIDC `AccessDeniedException`, portal `ForbiddenException`, STS `AccessDenied`.
    AccessDenied,
    /// A hostile endpoint: a refusal whose message carries terminal escape sequences and bidi
    /// controls (OIDC and the portal; STS's XML cannot carry them, so it gets a plain refusal).
    HostileMessage,
    /// A hostile endpoint: an empty page of ListAccounts or ListAccountRoles whose `nextToken`
    /// is always the same, so a client that trusts it pages forever.
    EndlessPages,
    /// StartDeviceAuthorization as it would be answered, but with this user code and this
    /// verification URI (complete URI included).
    DevicePrompt {
        user_code: String,
        verification_uri: String,
    },
}

/// What `HostileMessage` says: a window-title rewrite, a screen clear, a colour and a
/// right-to-left override.
const HOSTILE_TEXT: &str =
    "Denied\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31m red \u{9b}0m \u{202e}gnp.exe\u{7f}";

impl Fault {
    /// Produces the answer to a call of `op` hit by this fault. `handle` is the real handler;
    /// it runs only for faults that disturb delivery rather than replace the answer.
    pub fn apply(&self, op: Op, request_id: &str, handle: impl FnOnce() -> Reply) -> Reply {
        match self {
            Fault::Delay(duration) => {
                std::thread::sleep(*duration);
                handle()
            }
            Fault::MalformedBody => handle().mangle(),
            Fault::TruncatedBody => {
                let mut reply = handle();
                reply.framing = Framing::Truncated;
                reply
            }
            Fault::EndlessPages => {
                let list_key = match op {
                    Op::ListAccountRoles => "roleList",
                    _ => "accountList",
                };
                let mut body = serde_json::json!({ "nextToken": "EMULATORPAGE.endless" });
                body[list_key] = serde_json::Value::Array(Vec::new());
                Reply::json(200, &body)
            }
            Fault::DevicePrompt {
                user_code,
                verification_uri,
            } => {
                let mut reply = handle();
                if let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(&reply.body) {
                    body["userCode"] = user_code.as_str().into();
                    body["verificationUri"] = verification_uri.as_str().into();
                    body["verificationUriComplete"] = verification_uri.as_str().into();
                    reply.body = body.to_string().into_bytes();
                }
                reply
            }
            Fault::WrongContentType => Reply::html(
                200,
                "<!DOCTYPE html><html><head><title>Sign in to the network</title></head>\
                 <body><p>Emulated captive portal</p></body></html>\n"
                    .into(),
            ),
            _ => self.error(op, request_id),
        }
    }

    fn error(&self, op: Op, request_id: &str) -> Reply {
        let service = op.service();
        let throttled = match service {
            Service::Oidc => wire_error::oidc("TooManyRequestsException", "Too many requests"),
            Service::Portal => {
                wire_error::portal(429, "TooManyRequestsException", "Too many requests")
            }
            Service::Sts => wire_error::sts(400, "Throttling", "Rate exceeded", request_id),
        };
        match (self, service) {
            (Fault::Status(status), _) => status_error(*status, service, request_id),
            (Fault::Throttle, _) => throttled,
            (Fault::SlowDown, Service::Oidc) => {
                wire_error::oidc("SlowDownException", "Client is polling too fast")
            }
            (Fault::SlowDown, _) => throttled,
            (Fault::ExpiredToken, Service::Oidc) => {
                wire_error::oidc("ExpiredTokenException", "Device code has expired")
            }
            (Fault::ExpiredToken, Service::Portal) => wire_error::portal(
                401,
                "UnauthorizedException",
                "Session token not found or invalid",
            ),
            (Fault::ExpiredToken, Service::Sts) if op == Op::AssumeRoleWithWebIdentity => {
                wire_error::sts(
                    400,
                    "ExpiredTokenException",
                    "Token expired: current date/time must be before the expiration date/time",
                    request_id,
                )
            }
            (Fault::ExpiredToken, Service::Sts) => wire_error::sts(
                400,
                "ExpiredToken",
                "The security token included in the request is expired",
                request_id,
            ),
            (Fault::AccessDenied, Service::Oidc) => {
                wire_error::oidc("AccessDeniedException", "Access denied")
            }
            (Fault::AccessDenied, Service::Portal) => {
                wire_error::portal(403, "ForbiddenException", "No access")
            }
            (Fault::AccessDenied, Service::Sts) => wire_error::sts(
                403,
                "AccessDenied",
                &format!("User is not authorized to perform: sts:{}", op.name()),
                request_id,
            ),
            (Fault::HostileMessage, Service::Oidc) => {
                wire_error::oidc("InvalidRequestException", HOSTILE_TEXT)
            }
            (Fault::HostileMessage, Service::Portal) => {
                wire_error::portal(400, "InvalidRequestException", HOSTILE_TEXT)
            }
            (Fault::HostileMessage, Service::Sts) => {
                wire_error::sts(400, "InvalidParameterValue", "Denied", request_id)
            }
            (
                Fault::Delay(_)
                | Fault::MalformedBody
                | Fault::TruncatedBody
                | Fault::WrongContentType
                | Fault::EndlessPages
                | Fault::DevicePrompt { .. },
                _,
            ) => {
                unreachable!("delivery faults are handled in apply")
            }
        }
    }
}

fn status_error(status: u16, service: Service, request_id: &str) -> Reply {
    let json_code = match status {
        503 => "ServiceUnavailableException",
        429 => "TooManyRequestsException",
        500.. => "InternalServerException",
        _ => "BadRequestException",
    };
    let mut reply = match service {
        Service::Oidc => wire_error::oidc(json_code, "Emulated fault"),
        Service::Portal => wire_error::portal(status, json_code, "Emulated fault"),
        Service::Sts => {
            let code = match status {
                503 => "ServiceUnavailable",
                500.. => "InternalFailure",
                _ => "BadRequest",
            };
            wire_error::sts(status, code, "Emulated fault", request_id)
        }
    };
    reply.status = status;
    reply
}
