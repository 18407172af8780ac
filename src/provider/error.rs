//! `ProviderError`: every way obtaining a session or role credentials can fail, each with its
//! exit code and hint (exhaustive matches: a new variant must say both).

use crate::exit;
use crate::store::StoreError;
use crate::text::{list_or_none, printable};
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

impl ProviderError {
    /// The exit code this failure ends the run with (README, "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::LoginRequired { .. }
            | Self::UserKeysMissing { .. }
            | Self::MfaCodeRequired { .. } => exit::LOGIN_REQUIRED,
            Self::Interrupted => exit::INTERRUPTED,
            Self::DeviceCodeExpired
            | Self::AccessDenied
            | Self::BrowserTimedOut(_)
            | Self::StateMismatch
            | Self::AuthorizationFailed(_)
            | Self::CodeRejected
            | Self::Listener(_)
            | Self::NotAssigned { .. }
            | Self::Upstream(_)
            | Self::Paging { .. }
            | Self::Throttled { .. }
            | Self::Process(_)
            | Self::Runtime(_) => exit::UPSTREAM,
            Self::Store(error) => error.exit_code(),
            Self::Lock(_) => exit::STORE,
            Self::AccountNotFound { .. }
            | Self::AmbiguousAccount { .. }
            | Self::CacheDir(_)
            | Self::Tls(_)
            | Self::Endpoint(_) => exit::USAGE,
            Self::Github(error) => error.exit_code(),
        }
    }

    /// One line telling the user what to do next, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::LoginRequired { .. } => "run `atmos-auth login`, or pass `--login`".into(),
            Self::DeviceCodeExpired | Self::AccessDenied => {
                "run `atmos-auth login` again and approve the code in the browser".into()
            }
            Self::BrowserTimedOut(_)
            | Self::AuthorizationFailed(_)
            | Self::CodeRejected
            | Self::Listener(_) => "run `atmos-auth login` again, or `atmos-auth login --use-device-code` to sign in with a code instead".into(),
            Self::StateMismatch => {
                "run `atmos-auth login` again; nothing was stored. If this repeats, another program is answering on 127.0.0.1".into()
            }
            Self::UserKeysMissing { identity } => {
                format!("run `atmos-auth configure {identity}` to store the user's access keys")
            }
            Self::MfaCodeRequired { .. } => {
                "pass `--mfa-code CODE` (or set ATMOS_MFA_CODE), or run at a terminal to be asked".into()
            }
            Self::Github(error) => return error.hint(),
            Self::Tls(error) => return error.hint(),
            Self::Endpoint(error) => error.hint(),
            Self::Lock(_) => {
                "another atmos-auth process is fetching the same credentials; retry when it is done".into()
            }
            Self::NotAssigned { .. } => {
                "check the identity's `principal` in your profile, or ask an administrator for the assignment".into()
            }
            Self::AccountNotFound { visible, .. } => {
                // The names are the portal's words: a name may not start a line of its own.
                let visible: Vec<String> = visible.iter().map(|name| printable(name)).collect();
                format!(
                    "add the account to the `accounts:` map in atmos.yaml; accounts you can see: {}",
                    list_or_none(&visible)
                )
            }
            Self::AmbiguousAccount { ids, .. } => format!(
                "name the account by id in the identity's principal, for example `account: {{ id: \"{}\" }}`",
                ids.first().map(String::as_str).unwrap_or_default()
            ),
            Self::Throttled { .. } => {
                "IAM Identity Center limits the calls of a whole organisation (about 20 a second); try again later".into()
            }
            Self::Paging { .. } => {
                "the SSO portal endpoint is broken or is not AWS: check `spec.endpoint_url` and any AWS_ENDPOINT_URL* setting".into()
            }
            Self::Upstream(error) => return error.hint(),
            Self::Store(error) => return error.hint(),
            Self::Interrupted | Self::Process(_) | Self::CacheDir(_) | Self::Runtime(_) => {
                return None;
            }
        })
    }
}
