//! `Invocation`: the command line validated into typed values — one step from clap's
//! `Arguments`, in the manner of `just`'s `Config::from_arguments`. Every output format is
//! mapped here and only here. Nothing below `cli` sees a clap type: commands take `Settings` and
//! the fields of a `Command`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::arguments::{
    Arguments, EnvFormat, Global, ListFormat, MatrixFormat, Subcommand, WhoamiFormat,
};
use super::completion::Registration;
use super::variables;
use crate::config::LoadOptions;
use crate::output;

/// The parsed command line: the global settings and the command to run.
#[derive(Debug)]
pub struct Invocation {
    pub settings: Settings,
    pub command: Command,
}

/// What every command takes from the global flags (or their variables).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to look for the profile.
    pub load: LoadOptions,
    /// `--identity`: the identity a command uses when it names none.
    pub identity: Option<String>,
    /// `--mfa-code`, for `aws/user` identities with an MFA device.
    pub mfa_code: Option<String>,
    /// `--realm`.
    pub realm: Option<String>,
    /// `-v` given at least once.
    pub verbose: bool,
}

/// Where `env` puts the credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvOutput {
    /// Printed on stdout in this syntax.
    Print(output::env::Format),
    /// Appended to the file GitHub Actions names in `GITHUB_ENV`, masked in the log.
    GithubEnv,
}

/// What `logout` removes.
#[derive(Debug, PartialEq, Eq)]
pub enum LogoutTarget {
    /// One identity's credentials.
    Identity(String),
    /// A provider's session (the only one when `None`) and everything obtained through it.
    Provider(Option<String>),
    /// Every identity carrying all of these tags.
    Tagged(Vec<String>),
    /// Everything, in every store.
    All {
        include_user_keys: bool,
        all_realms: bool,
    },
}

/// One subcommand with its validated arguments.
#[derive(Debug)]
pub enum Command {
    Login {
        identity: Option<String>,
        provider: Option<String>,
        no_browser: bool,
        use_device_code: bool,
        force: bool,
        tags: Vec<String>,
    },
    Logout {
        target: LogoutTarget,
        dry_run: bool,
    },
    Env {
        identity: Option<String>,
        output: EnvOutput,
        login: bool,
    },
    Exec {
        identity: Option<String>,
        login: bool,
        server: bool,
        command: Vec<OsString>,
    },
    Shell {
        identity: Option<String>,
        login: bool,
        server: bool,
        args: Vec<OsString>,
    },
    Whoami {
        identity: Option<String>,
        format: output::whoami::Format,
    },
    CredentialProcess {
        identity: Option<String>,
    },
    AwsConfig {
        output: Option<PathBuf>,
        tags: Vec<String>,
    },
    Console {
        identity: Option<String>,
        destination: Option<String>,
        print_only: bool,
        duration: Option<Duration>,
    },
    List {
        format: output::list::Format,
        refresh: bool,
        tags: Vec<String>,
        /// Globs an identity's name or alias must match (none: every identity).
        patterns: Vec<String>,
    },
    Validate {
        all_profiles: bool,
    },
    Profiles,
    Matrix {
        format: output::matrix::Format,
        /// `None` without `--check`, `Some(None)` for the default file, `Some(Some(FILE))`.
        check: Option<Option<PathBuf>>,
    },
    Configure {
        identity: String,
    },
    Completion(Registration),
}

impl Invocation {
    pub fn from_arguments(arguments: Arguments) -> Self {
        Self {
            settings: Settings::from_global(arguments.global),
            command: Command::from_subcommand(arguments.subcommand),
        }
    }
}

impl Settings {
    fn from_global(global: Global) -> Self {
        Self {
            load: variables::load_options(global.profile, global.config_dir),
            identity: global.identity,
            mfa_code: global.mfa_code,
            realm: global.realm,
            verbose: global.verbose > 0,
        }
    }
}

impl Command {
    fn from_subcommand(subcommand: Subcommand) -> Self {
        match subcommand {
            Subcommand::Login {
                identity,
                provider,
                no_browser,
                use_device_code,
                force,
                tags,
            } => Self::Login {
                identity,
                provider,
                no_browser,
                use_device_code,
                force,
                tags,
            },
            Subcommand::Logout {
                identity,
                provider,
                all,
                include_user_keys,
                all_realms,
                dry_run,
                tags,
            } => {
                let target = match (identity, all) {
                    _ if !tags.is_empty() => LogoutTarget::Tagged(tags),
                    (_, true) => LogoutTarget::All {
                        include_user_keys,
                        all_realms,
                    },
                    (Some(name), false) => LogoutTarget::Identity(name),
                    (None, false) => LogoutTarget::Provider(provider),
                };
                Self::Logout { target, dry_run }
            }
            Subcommand::Env {
                identity,
                format,
                login,
            } => Self::Env {
                identity,
                output: env_output(format),
                login,
            },
            Subcommand::Exec {
                identity,
                login,
                server,
                command,
            } => Self::Exec {
                identity,
                login,
                server,
                command,
            },
            Subcommand::Shell {
                identity,
                login,
                server,
                args,
            } => Self::Shell {
                identity,
                login,
                server,
                args,
            },
            Subcommand::Whoami { identity, format } => Self::Whoami {
                identity,
                format: match format {
                    WhoamiFormat::Text => output::whoami::Format::Text,
                    WhoamiFormat::Json => output::whoami::Format::Json,
                },
            },
            Subcommand::CredentialProcess { identity } => Self::CredentialProcess { identity },
            Subcommand::AwsConfig { output, tags } => Self::AwsConfig { output, tags },
            Subcommand::Console {
                identity,
                destination,
                print_only,
                duration,
            } => Self::Console {
                identity,
                destination,
                print_only,
                duration,
            },
            Subcommand::List {
                format,
                refresh,
                tags,
                mut patterns,
                filters,
            } => Self::List {
                format: list_format(format),
                refresh,
                tags,
                patterns: {
                    patterns.extend(filters);
                    patterns
                },
            },
            Subcommand::Validate { all_profiles } => Self::Validate { all_profiles },
            Subcommand::Profiles => Self::Profiles,
            Subcommand::Matrix { format, check } => Self::Matrix {
                format: match format {
                    MatrixFormat::Table => output::matrix::Format::Table,
                    MatrixFormat::Markdown => output::matrix::Format::Markdown,
                    MatrixFormat::Json => output::matrix::Format::Json,
                },
                check,
            },
            Subcommand::Configure { identity } => Self::Configure { identity },
            Subcommand::Completion { shell } => Self::Completion(Registration::new(shell)),
        }
    }
}

fn env_output(format: EnvFormat) -> EnvOutput {
    use output::env::Format;
    EnvOutput::Print(match format {
        EnvFormat::Bash => Format::Bash,
        EnvFormat::Fish => Format::Fish,
        EnvFormat::Powershell => Format::Powershell,
        EnvFormat::Json => Format::Json,
        EnvFormat::Dotenv => Format::Dotenv,
        EnvFormat::Github => return EnvOutput::GithubEnv,
    })
}

fn list_format(format: ListFormat) -> output::list::Format {
    use output::list::Format;
    match format {
        ListFormat::Table => Format::Table,
        ListFormat::Tree => Format::Tree,
        ListFormat::Json => Format::Json,
        ListFormat::Yaml => Format::Yaml,
        ListFormat::Dot => Format::Dot,
        ListFormat::Mermaid => Format::Mermaid,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Invocation {
        let args = std::iter::once("atmos-auth").chain(args.iter().copied());
        Invocation::from_arguments(Arguments::try_parse_from(args).unwrap())
    }

    #[test]
    fn env_formats_map_to_output_syntaxes_and_github_to_the_env_file() {
        let output = |format: &str| match parse(&["env", "x/y", "--format", format]).command {
            Command::Env { output, .. } => output,
            other => panic!("{other:?}"),
        };
        assert_eq!(output("fish"), EnvOutput::Print(output::env::Format::Fish));
        assert_eq!(
            output("dotenv"),
            EnvOutput::Print(output::env::Format::Dotenv)
        );
        assert_eq!(output("github"), EnvOutput::GithubEnv);
    }

    #[test]
    fn logout_flags_become_one_target() {
        let target = |args: &[&str]| match parse(args).command {
            Command::Logout { target, .. } => target,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            target(&["logout"]),
            LogoutTarget::Provider(None),
            "no argument: the only provider"
        );
        assert_eq!(
            target(&["logout", "--provider", "sso"]),
            LogoutTarget::Provider(Some("sso".into()))
        );
        assert_eq!(
            target(&["logout", "a/b"]),
            LogoutTarget::Identity("a/b".into())
        );
        assert_eq!(
            target(&["logout", "--tags", "ci,prod"]),
            LogoutTarget::Tagged(vec!["ci".into(), "prod".into()])
        );
        assert_eq!(
            target(&["logout", "--all", "--all-realms"]),
            LogoutTarget::All {
                include_user_keys: false,
                all_realms: true
            }
        );
    }

    #[test]
    fn global_flags_become_settings() {
        let invocation = parse(&["-vv", "env", "--profile", "devops", "--realm", "r2"]);
        assert_eq!(invocation.settings.load.profile.as_deref(), Some("devops"));
        assert_eq!(invocation.settings.realm.as_deref(), Some("r2"));
        assert!(invocation.settings.verbose);
    }
}
