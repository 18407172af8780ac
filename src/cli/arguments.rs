//! Raw clap definitions: every flag, its help text and the environment variable it reads.
//! Validation beyond what clap can express happens in `command`.

use std::path::PathBuf;

use clap::{Args, Parser, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  atmos-auth login                                   sign in to IAM Identity Center
  eval \"$(atmos-auth env plat-dev/terraform)\"         export credentials into this shell
  atmos-auth exec plat-dev/terraform -- terraform plan
  atmos-auth whoami plat-dev/terraform

Exit codes: 0 success, 1 AWS/upstream failure, 2 usage or configuration error,
3 login required (non-interactive), 4 credential store unavailable or locked,
130 interrupted; `exec` returns the command's own exit code (127: not found).";

/// Credential broker for AWS organisations behind IAM Identity Center.
#[derive(Debug, Parser)]
#[command(name = "atmos-auth", version, about, after_help = AFTER_HELP)]
pub struct Arguments {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub subcommand: Subcommand,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// Profile to load: profiles/<NAME>/atmos.yaml under the config root.
    #[arg(long, global = true, env = "ATMOS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Config root holding atmos.yaml and profiles/ [default: nearest ancestor holding them]
    #[arg(long, global = true, env = "ATMOS_CLI_CONFIG_PATH", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// More output on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Sign in to IAM Identity Center with the device-code flow and cache the session.
    #[command(after_help = "\
Refreshes an expiring session silently when it can; otherwise prints a URL and a code,
opens the browser when interactive, and waits until the sign-in is approved.")]
    Login {
        /// Log in the provider this identity comes through, then fetch its credentials.
        identity: Option<String>,

        /// Provider to log in (when the profile has several).
        #[arg(long, value_name = "NAME", conflicts_with = "identity")]
        provider: Option<String>,

        /// Print the URL and code but never open a browser.
        #[arg(long)]
        no_browser: bool,

        /// Sign in again even when the cached session is still valid.
        #[arg(long)]
        force: bool,
    },

    /// Print the identity's credentials as environment variable assignments.
    #[command(after_help = "Example:\n  eval \"$(atmos-auth env plat-dev/terraform)\"")]
    Env {
        /// Identity name or alias [default: the profile's default identity]
        identity: Option<String>,

        /// Output syntax.
        #[arg(long, short, value_enum, default_value_t = EnvFormat::Bash)]
        format: EnvFormat,

        /// Log in first when the SSO session is missing or expired.
        #[arg(long)]
        login: bool,
    },

    /// Run a command with the identity's credentials in its environment.
    #[command(after_help = "Example:\n  atmos-auth exec plat-dev/terraform -- terraform plan")]
    Exec {
        /// Identity name or alias.
        identity: String,

        /// Log in first when the SSO session is missing or expired.
        #[arg(long)]
        login: bool,

        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<std::ffi::OsString>,
    },

    /// Show the account and ARN the identity's credentials belong to.
    Whoami {
        /// Identity name or alias [default: the profile's default identity]
        identity: Option<String>,

        /// Output syntax.
        #[arg(long, value_enum, default_value_t = WhoamiFormat::Text)]
        format: WhoamiFormat,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EnvFormat {
    Bash,
    Fish,
    Powershell,
    Json,
    Dotenv,
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum WhoamiFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_is_consistent() {
        use clap::CommandFactory;
        Arguments::command().debug_assert();
    }

    #[test]
    fn everything_after_double_dash_goes_to_the_command() {
        let parsed = Arguments::try_parse_from([
            "atmos-auth",
            "exec",
            "x/y",
            "--",
            "terraform",
            "--profile",
            "-v",
            "--help",
        ])
        .unwrap();
        let Subcommand::Exec { command, .. } = parsed.subcommand else {
            panic!()
        };
        assert_eq!(command, ["terraform", "--profile", "-v", "--help"]);
        assert_eq!(parsed.global.profile, None);
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let parsed =
            Arguments::try_parse_from(["atmos-auth", "env", "x/y", "--profile", "devops"]).unwrap();
        assert_eq!(parsed.global.profile.as_deref(), Some("devops"));
    }
}
