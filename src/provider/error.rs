//! `ProviderError`: every way obtaining a session or role credentials can fail.

use crate::store::StoreError;
use crate::upstream::UpstreamError;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// No usable session, and this run may not start an interactive login.
    #[error("no valid SSO session for `{start_url}` ({region}): {reason}")]
    LoginRequired {
        start_url: String,
        region: String,
        reason: &'static str,
    },

    #[error("the sign-in code expired before it was approved")]
    DeviceCodeExpired,

    #[error("sign-in was denied in the browser")]
    AccessDenied,

    #[error("sign-in was interrupted")]
    Interrupted,

    #[error("no answer came back from the browser within {} s", .0.as_secs())]
    BrowserTimedOut(std::time::Duration),

    /// The loopback callback carried another `state`: not the answer to this login.
    #[error("the browser's answer does not belong to this sign-in (its `state` differs)")]
    StateMismatch,

    #[error("sign-in failed in the browser: the answer was `{}`", crate::text::printable(.0))]
    AuthorizationFailed(String),

    /// CreateToken refused the authorization code: expired, used already, or issued for
    /// another client, redirect URI or verifier.
    #[error("the sign-in code from the browser was refused")]
    CodeRejected,

    #[error("could not listen on 127.0.0.1 for the browser's answer")]
    Listener(#[source] std::io::Error),

    #[error("permission set `{permission_set}` is not assigned to you in account `{account}`")]
    NotAssigned {
        account: String,
        permission_set: String,
    },

    #[error(
        "account `{}` is not in the `accounts:` map and the SSO portal lists no account of that name",
        crate::text::printable(name)
    )]
    AccountNotFound { name: String, visible: Vec<String> },

    #[error(transparent)]
    Upstream(#[from] UpstreamError),

    /// A listing the portal kept throttling past the time given to asking again.
    #[error("the SSO portal kept throttling for {minutes} minutes: {source}")]
    Throttled {
        minutes: u64,
        #[source]
        source: UpstreamError,
    },

    /// A listing that would not end: the endpoint is broken or hostile.
    #[error("`{operation}` did not end: {fault}")]
    Paging {
        operation: &'static str,
        fault: crate::provider::sso::PagingFault,
    },

    #[error(
        "account name `{name}` is shared by {} accounts: {}",
        ids.len(),
        crate::text::printable(&ids.join(", "))
    )]
    AmbiguousAccount { name: String, ids: Vec<String> },

    #[error(transparent)]
    Process(#[from] crate::provider::process::ProcessError),

    #[error("no access keys are stored for IAM user identity `{identity}`")]
    UserKeysMissing { identity: String },

    #[error("identity `{identity}` needs an MFA code for `{mfa_arn}`")]
    MfaCodeRequired { identity: String, mfa_arn: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    /// The message of the `io::Error` is part of the line: it names the path and, for a
    /// directory refused as unsafe, the fix.
    #[error("could not use the cache directory: {0}")]
    CacheDir(std::io::Error),

    #[error(transparent)]
    Lock(#[from] crate::fs::LockError),

    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),

    #[error(transparent)]
    Endpoint(#[from] crate::endpoint::EndpointError),

    #[error(transparent)]
    Github(#[from] crate::provider::github_oidc::GithubOidcError),

    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
}
