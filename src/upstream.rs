//! `UpstreamError`: an AWS call that failed, reduced to what a user needs to read.
//!
//! SDK errors are large generic types; this keeps the operation, the service's error code and
//! message, and whether the failure was the network, a timeout, a malformed answer or a refusal.
//! The code and message are the server's words: they are shown with control characters escaped.

use std::error::Error as StdError;
use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::text::printable;

/// What kind of failure a call ended in, which decides the wording and the hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The service answered with an error code.
    Service,
    /// No connection could be made (refused, DNS, TLS).
    Network,
    /// The call timed out.
    Timeout,
    /// The service answered, but not in a form that could be read.
    Malformed,
}

#[derive(Debug)]
pub struct UpstreamError {
    pub operation: &'static str,
    pub kind: FailureKind,
    pub code: Option<String>,
    pub message: Option<String>,
    pub status: Option<u16>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl UpstreamError {
    /// What to do about it; a service's refusal speaks for itself.
    pub fn hint(&self) -> Option<String> {
        match self.kind {
            FailureKind::Network | FailureKind::Timeout => Some(
                "check the network, and any AWS_ENDPOINT_URL* or `spec.endpoint_url` setting; run with -v for the cause".into(),
            ),
            FailureKind::Malformed => {
                Some("this is likely temporary; retry, or run with -v for the cause".into())
            }
            FailureKind::Service => None,
        }
    }

    pub fn from_sdk<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let status = match &error {
            SdkError::ServiceError(context) => Some(context.raw().status().as_u16()),
            SdkError::ResponseError(context) => Some(context.raw().status().as_u16()),
            _ => None,
        };
        let kind = match &error {
            SdkError::ServiceError(_) => FailureKind::Service,
            SdkError::TimeoutError(_) => FailureKind::Timeout,
            SdkError::DispatchFailure(failure) if failure.is_timeout() => FailureKind::Timeout,
            SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => FailureKind::Network,
            SdkError::ResponseError(_) => FailureKind::Malformed,
            _ => FailureKind::Malformed,
        };
        let (code, message) = match &error {
            SdkError::ServiceError(context) => {
                let err = context.err();
                (
                    err.code().map(str::to_owned),
                    err.message().map(str::to_owned),
                )
            }
            _ => (None, None),
        };
        // A service error whose code could not be read is an unreadable answer, not a refusal.
        let kind = if kind == FailureKind::Service && code.is_none() {
            FailureKind::Malformed
        } else {
            kind
        };
        Self {
            operation,
            kind,
            code,
            message,
            status,
            source: Some(Box::new(error)),
        }
    }

    /// A response that parsed but lacked a field the program needs.
    pub fn missing_field(operation: &'static str, field: &'static str) -> Self {
        Self {
            operation,
            kind: FailureKind::Malformed,
            code: None,
            message: Some(format!("the response has no `{field}`")),
            status: None,
            source: None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.operation;
        match self.kind {
            FailureKind::Service => {
                write!(f, "`{op}` was refused")?;
                if let Some(code) = &self.code {
                    write!(f, ": {}", printable(code))?;
                }
                if let Some(message) = self.message.as_deref().filter(|m| !m.is_empty()) {
                    write!(f, ": {}", printable(message))?;
                }
                Ok(())
            }
            FailureKind::Network => write!(f, "could not reach AWS for `{op}`"),
            FailureKind::Timeout => write!(f, "`{op}` timed out"),
            FailureKind::Malformed => {
                write!(f, "`{op}` returned a response that could not be read")?;
                if let Some(status) = self.status {
                    write!(f, " (HTTP {status})")?;
                }
                if let Some(message) = &self.message {
                    write!(f, ": {}", printable(message))?;
                }
                Ok(())
            }
        }
    }
}

impl StdError for UpstreamError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source: &(dyn StdError + 'static) = self.source.as_deref()?;
        Some(source)
    }
}
