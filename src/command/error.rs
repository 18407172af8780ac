//! `Error`: every failure that reaches the edge, with its exit code and a hint naming what to
//! do. Lower layers own their enums and decide their own code and hint; this one wraps them,
//! delegates to them, and adds nothing to their wording. Its matches are exhaustive: a new
//! variant must say both.

use std::fmt::Write as _;

use super::{ConfigureError, ConsoleError, ServeError};
use crate::config::ConfigError;
use crate::exit;
use crate::matrix::MatrixError;
use crate::output::aws_config::Unwritable;
use crate::output::exec::ExecError;
use crate::provider::ProviderError;
use crate::store::StoreError;
use crate::text::list_or_none;

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

    #[error("invalid pattern `{pattern}`: {problem}")]
    InvalidPattern { pattern: String, problem: String },

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
    /// The exit code (README, "Exit codes"): each layer's error decides its own.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Provider(error) => error.exit_code(),
            Self::Store(error) => error.exit_code(),
            Self::Exec(error) => error.exit_code(),
            Self::Console(error) => error.exit_code(),
            Self::Serve(ServeError::Random(_) | ServeError::Signals(_) | ServeError::Listen(_)) => {
                exit::UPSTREAM
            }
            Self::Configure(
                ConfigureError::NotAUser { .. }
                | ConfigureError::MissingKeyId
                | ConfigureError::MissingSecret
                | ConfigureError::Read(_),
            ) => exit::USAGE,
            // A file or stream atmos-auth was asked to write, or its own cache, cannot be
            // written: a problem of this machine's setup, not of AWS.
            Self::Write { .. } => exit::USAGE,
            Self::Matrix(_)
            | Self::AwsConfig(_)
            | Self::Config(_)
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
            | Self::InvalidPattern { .. }
            | Self::InvalidStoreTimeout { .. }
            | Self::InvalidLoginTimeout { .. }
            | Self::NotInGithubActions => exit::USAGE,
        }
    }

    /// One line telling the user what to do next, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Provider(error) => return error.hint(),
            Self::Store(error) => return error.hint(),
            Self::Console(error) => return error.hint(),
            Self::Matrix(error) => return error.hint(),
            Self::UnknownIdentity { name, available } => match closest(name, available).as_slice() {
                [] => format!("identities in this profile: {}", list_or_none(available)),
                [one] => format!("did you mean `{one}`? identities: {}", list_or_none(available)),
                several => format!(
                    "did you mean one of: {}? identities: {}",
                    several.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                    list_or_none(available)
                ),
            },
            Self::NoTaggedIdentity { .. } => "`list` shows each identity's tags".into(),
            Self::NoDefaultIdentity { available } => {
                format!("name one of: {}; or mark one `default: true`", list_or_none(available))
            }
            Self::AmbiguousDefault { .. } => "name the identity to use".into(),
            Self::UnknownProvider { available, .. } => format!("providers in this profile: {}", list_or_none(available)),
            Self::AmbiguousProvider { .. } => "pass `--provider NAME` or an identity".into(),
            Self::InvalidStoreKind { .. } => format!("use one of: {}", crate::store::StoreKind::names().join(", ")),
            Self::InvalidRealm { .. } => "a realm is 1 to 64 of `a-z`, `0-9`, `-`, `_`, starting and ending with a letter or digit".into(),
            Self::InvalidPattern { .. } => "`*` matches any characters, `?` one, `[ab]` one of those, `{x,y}` either".into(),
            Self::InvalidStoreTimeout { .. } => "give a duration such as `5s` or `500ms`".into(),
            Self::InvalidLoginTimeout { .. } => "give a duration such as `90s` or `10m`".into(),
            Self::NotInGithubActions => "use `--format bash` outside GitHub Actions".into(),
            Self::AwsConfig(_) => "move the config root (or the atmos-auth executable) to a path without it, or use `atmos-auth exec` / `env` instead".into(),
            Self::Config(_)
            | Self::IdentityRequired
            | Self::NoProvider
            | Self::Write { .. }
            | Self::Exec(_)
            | Self::Serve(_)
            | Self::Configure(_) => return None,
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
