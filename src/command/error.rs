//! `Error`: every failure that reaches the edge, with its exit code and a hint naming what to
//! do. Lower layers own their enums; this one wraps them and adds nothing to their wording.

use std::fmt::Write as _;

use super::{ConfigureError, ConsoleError, ServeError};
use crate::config::ConfigError;
use crate::output::aws_config::Unwritable;
use crate::output::exec::ExecError;
use crate::output::matrix::MatrixError;
use crate::provider::ProviderError;
use crate::provider::github_oidc::GithubOidcError;
use crate::store::StoreError;
use crate::upstream::FailureKind;

/// Exit codes, documented in README.md and `--help`.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    /// AWS refused or could not be reached.
    pub const UPSTREAM: i32 = 1;
    /// Bad command line or configuration.
    pub const USAGE: i32 = 2;
    /// A login is needed and this run may not start one.
    pub const LOGIN_REQUIRED: i32 = 3;
    /// The credential store is unavailable or locked.
    pub const STORE: i32 = 4;
    /// Ctrl+C.
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error(transparent)]
    Provider(#[from] ProviderError),

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("unknown identity `{name}`")]
    UnknownIdentity {
        name: String,
        available: Vec<String>,
    },

    #[error("this command needs an identity, and `--identity=false` selects none")]
    IdentityRequired,

    #[error("no identity carries all of the tags {}", tags.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "))]
    NoTaggedIdentity { tags: Vec<String> },

    #[error("no identity given, and the profile marks none as `default: true`")]
    NoDefaultIdentity { available: Vec<String> },

    #[error("several identities are marked `default: true`: {}", names.join(", "))]
    AmbiguousDefault { names: Vec<String> },

    #[error("unknown provider `{name}`")]
    UnknownProvider {
        name: String,
        available: Vec<String>,
    },

    #[error("the profile declares no provider to log in to")]
    NoProvider,

    #[error("the profile declares several providers: {}", names.join(", "))]
    AmbiguousProvider { names: Vec<String> },

    #[error("invalid ATMOS_KEYRING_TYPE `{value}`")]
    InvalidStoreKind { value: String },

    #[error("invalid realm `{value}` (--realm / ATMOS_AUTH_REALM): it {problem}")]
    InvalidRealm { value: String, problem: String },

    #[error("invalid ATMOS_KEYRING_TIMEOUT: {problem}")]
    InvalidStoreTimeout {
        problem: crate::config::duration::DurationError,
    },

    #[error("invalid ATMOS_LOGIN_TIMEOUT: {problem}")]
    InvalidLoginTimeout {
        problem: crate::config::duration::DurationError,
    },

    #[error("`--format github` needs the GITHUB_ENV file that GitHub Actions provides")]
    NotInGithubActions,

    #[error("could not write to `{path}`")]
    Write {
        path: String,
        source: std::io::Error,
    },

    #[error(transparent)]
    Exec(#[from] ExecError),

    #[error(transparent)]
    Serve(#[from] ServeError),

    #[error(transparent)]
    Console(#[from] ConsoleError),

    #[error(transparent)]
    Configure(#[from] ConfigureError),

    #[error(transparent)]
    Matrix(#[from] MatrixError),

    #[error(transparent)]
    AwsConfig(#[from] Unwritable),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Provider(error) => match error {
                ProviderError::LoginRequired { .. }
                | ProviderError::UserKeysMissing { .. }
                | ProviderError::MfaCodeRequired { .. } => exit::LOGIN_REQUIRED,
                ProviderError::Interrupted => exit::INTERRUPTED,
                ProviderError::BrowserTimedOut(_)
                | ProviderError::StateMismatch
                | ProviderError::AuthorizationFailed(_)
                | ProviderError::CodeRejected
                | ProviderError::Listener(_) => exit::UPSTREAM,
                ProviderError::Store(_) | ProviderError::Lock(_) => exit::STORE,
                ProviderError::AccountNotFound { .. }
                | ProviderError::AmbiguousAccount { .. }
                | ProviderError::CacheDir(_)
                | ProviderError::Tls(_)
                | ProviderError::Endpoint(_)
                | ProviderError::Github(
                    GithubOidcError::NotInActions
                    | GithubOidcError::MissingPermission { .. }
                    | GithubOidcError::InsecureUrl { .. },
                ) => exit::USAGE,
                ProviderError::Paging { .. } => exit::UPSTREAM,
                _ => exit::UPSTREAM,
            },
            Self::Store(_) => exit::STORE,
            Self::Exec(error) => error.exit_code(),
            Self::Serve(_) => exit::UPSTREAM,
            Self::Write { .. } => exit::UPSTREAM,
            Self::Console(
                ConsoleError::Duration
                | ConsoleError::Tls(_)
                | ConsoleError::Endpoint(_)
                | ConsoleError::Page { .. }
                | ConsoleError::UnknownDestination { .. }
                | ConsoleError::NotConsole { .. },
            ) => exit::USAGE,
            Self::Console(_) => exit::UPSTREAM,
            Self::Configure(_) => exit::USAGE,
            Self::Matrix(_) => exit::USAGE,
            Self::AwsConfig(_) => exit::USAGE,
            Self::Config(_)
            | Self::UnknownIdentity { .. }
            | Self::NoDefaultIdentity { .. }
            | Self::IdentityRequired
            | Self::NoTaggedIdentity { .. }
            | Self::AmbiguousDefault { .. }
            | Self::UnknownProvider { .. }
            | Self::NoProvider
            | Self::AmbiguousProvider { .. }
            | Self::InvalidStoreKind { .. }
            | Self::InvalidRealm { .. }
            | Self::InvalidStoreTimeout { .. }
            | Self::InvalidLoginTimeout { .. }
            | Self::NotInGithubActions => exit::USAGE,
        }
    }

    /// One line telling the user what to do next, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        let list = |names: &[String]| {
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        };
        Some(match self {
            Self::Provider(ProviderError::LoginRequired { .. }) => "run `atmos-auth login`, or pass `--login`".into(),
            Self::Provider(ProviderError::DeviceCodeExpired | ProviderError::AccessDenied) => {
                "run `atmos-auth login` again and approve the code in the browser".into()
            }
            Self::Provider(
                ProviderError::BrowserTimedOut(_)
                | ProviderError::AuthorizationFailed(_)
                | ProviderError::CodeRejected
                | ProviderError::Listener(_),
            ) => "run `atmos-auth login` again, or `atmos-auth login --use-device-code` to sign in with a code instead".into(),
            Self::Provider(ProviderError::StateMismatch) => {
                "run `atmos-auth login` again; nothing was stored. If this repeats, another program is answering on 127.0.0.1".into()
            }
            Self::Provider(ProviderError::UserKeysMissing { identity }) => {
                format!("run `atmos-auth configure {identity}` to store the user's access keys")
            }
            Self::Provider(ProviderError::MfaCodeRequired { .. }) => {
                "pass `--mfa-code CODE` (or set ATMOS_MFA_CODE), or run at a terminal to be asked".into()
            }
            Self::Provider(ProviderError::Github(error)) => return error.hint(),
            Self::Provider(ProviderError::Tls(error)) => return error.hint(),
            Self::Provider(ProviderError::Endpoint(error)) => error.hint(),
            Self::Provider(ProviderError::Lock(_)) => {
                "another atmos-auth process is fetching the same credentials; retry when it is done".into()
            }
            Self::Provider(ProviderError::NotAssigned { .. }) => {
                "check the identity's `principal` in your profile, or ask an administrator for the assignment".into()
            }
            Self::Provider(ProviderError::AccountNotFound { visible, .. }) => {
                // The names are the portal's words: a name may not start a line of its own.
                let visible: Vec<String> = visible.iter().map(|name| crate::text::printable(name)).collect();
                format!("add the account to the `accounts:` map in atmos.yaml; accounts you can see: {}", list(&visible))
            }
            Self::Provider(ProviderError::AmbiguousAccount { ids, .. }) => format!(
                "name the account by id in the identity's principal, for example `account: {{ id: \"{}\" }}`",
                ids.first().map(String::as_str).unwrap_or_default()
            ),
            Self::Provider(ProviderError::Paging { .. }) => {
                "the SSO portal endpoint is broken or is not AWS: check `spec.endpoint_url` and any AWS_ENDPOINT_URL* setting".into()
            }
            Self::Provider(ProviderError::Upstream(error)) => match error.kind {
                FailureKind::Network | FailureKind::Timeout => {
                    "check the network, and any AWS_ENDPOINT_URL* or `spec.endpoint_url` setting; run with -v for the cause".into()
                }
                FailureKind::Malformed => "this is likely temporary; retry, or run with -v for the cause".into(),
                FailureKind::Service => return None,
            },
            Self::Provider(ProviderError::Store(error)) | Self::Store(error) => return error.hint(),
            Self::UnknownIdentity { name, available } => match closest(name, available).as_slice() {
                [] => format!("identities in this profile: {}", list(available)),
                [one] => format!("did you mean `{one}`? identities: {}", list(available)),
                several => format!(
                    "did you mean one of: {}? identities: {}",
                    several.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                    list(available)
                ),
            },
            Self::NoTaggedIdentity { .. } => "`list` shows each identity's tags".into(),
            Self::NoDefaultIdentity { available } => {
                format!("name one of: {}; or mark one `default: true`", list(available))
            }
            Self::AmbiguousDefault { .. } => "name the identity to use".into(),
            Self::UnknownProvider { available, .. } => format!("providers in this profile: {}", list(available)),
            Self::AmbiguousProvider { .. } => "pass `--provider NAME` or an identity".into(),
            Self::InvalidStoreKind { .. } => "use one of: system, secret-service, keyutils, file, memory".into(),
            Self::InvalidRealm { .. } => "a realm is 1 to 64 of `a-z`, `0-9`, `-`, `_`, starting and ending with a letter or digit".into(),
            Self::InvalidStoreTimeout { .. } => "give a duration such as `5s` or `500ms`".into(),
            Self::InvalidLoginTimeout { .. } => "give a duration such as `90s` or `10m`".into(),
            Self::NotInGithubActions => "use `--format bash` outside GitHub Actions".into(),
            Self::Matrix(error) => return error.hint(),
            Self::Console(ConsoleError::Endpoint(error)) => error.hint(),
            Self::Console(ConsoleError::UnknownDestination { known, .. }) => format!(
                "give a console URL, a path such as `/ec2/home`, or one of: {}",
                known.join(", ")
            ),
            Self::AwsConfig(_) => "move the config root (or the atmos-auth executable) to a path without it, or use `atmos-auth exec` / `env` instead".into(),
            _ => return None,
        })
    }

    /// The full text printed on stderr: the error, its causes when `verbose`, and the hint.
    /// Causes from the SDK quote what a server said, so every line is made terminal-safe here,
    /// and each cause is kept on one line (its line breaks escaped too).
    pub fn report(&self, verbose: bool) -> String {
        let mut out = format!("error: {}\n", lines_printable(&self.to_string()));
        if verbose {
            let mut source = std::error::Error::source(self);
            while let Some(cause) = source {
                // One line each: a server's message must not start a line that reads as ours.
                let _ = writeln!(
                    out,
                    "caused by: {}",
                    crate::text::printable(&cause.to_string())
                );
                source = cause.source();
            }
        }
        if let Some(hint) = self.hint() {
            let _ = writeln!(out, "hint: {}", lines_printable(&hint));
        }
        out
    }
}

/// `text` with its line breaks kept and every other unsafe character escaped.
fn lines_printable(text: &str) -> String {
    text.split('\n')
        .map(crate::text::printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Up to three candidates close enough to `name` to be likely typos, closest first. Case is
/// ignored, as identity lookup ignores it.
fn closest<'a>(name: &str, candidates: &'a [String]) -> Vec<&'a str> {
    let name = name.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&name, &c.to_ascii_lowercase()),
                c.as_str(),
            )
        })
        .filter(|(score, _)| *score > 0.85)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}
