//! Raw clap definitions: every flag, its help text and the environment variable it reads.
//! `command` turns them into a typed `Invocation`; nothing outside `cli` sees these types.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};
use clap_complete::engine::ArgValueCandidates;

use super::candidates::identity_candidates;
use super::variables;

const AFTER_HELP: &str = "\
Examples:
  atmos-auth login                                   sign in to IAM Identity Center
  eval \"$(atmos-auth env plat-dev/terraform)\"         export credentials into this shell
  atmos-auth exec plat-dev/terraform -- terraform plan
  atmos-auth exec -- terraform plan                  every identity as an AWS profile
  atmos-auth shell plat-dev/terraform                a shell holding that identity
  atmos-auth whoami plat-dev/terraform
  atmos-auth console plat-dev/terraform              the AWS web console as that identity

Exit codes: 0 success, 1 AWS/upstream failure, 2 usage or configuration error,
3 login required (non-interactive), 4 credential store unavailable, locked or busy,
130 interrupted; `exec` and `shell` return the command's or shell's own exit code
(127: not found).";

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
    /// Profile to load, or a comma list merged left to right (later wins); see `profiles`.
    #[arg(long, global = true, env = variables::PROFILE, value_name = "NAME")]
    pub profile: Option<String>,

    /// Config root holding atmos.yaml and profiles/ [default: nearest ancestor holding them]
    #[arg(long, global = true, env = variables::CONFIG_DIR, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// Identity to use when the command names none; `false` means no identity at all.
    #[arg(
        long = "identity",
        id = "identity_flag",
        global = true,
        env = variables::IDENTITY,
        value_name = "NAME"
    )]
    pub identity: Option<String>,

    /// MFA code for identities of kind aws/user with an MFA device [default: prompt]
    #[arg(
        long,
        global = true,
        env = variables::MFA_CODE,
        value_name = "CODE",
        hide_env_values = true
    )]
    pub mfa_code: Option<String>,

    /// Realm: a separate set of sessions and credentials, e.g. a second user of the same SSO
    /// instance [default: auth.realm, else none]
    #[arg(long, global = true, env = variables::REALM, value_name = "NAME")]
    pub realm: Option<String>,

    /// More output on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Sign in to IAM Identity Center in the browser (or with a device code) and cache the session.
    #[command(after_help = "\
Refreshes an expiring session silently when it can. Otherwise opens the browser on the AWS
sign-in page (authorization code with PKCE; the answer comes back to a listener on 127.0.0.1),
or, where no browser can be opened (no DISPLAY or WAYLAND_DISPLAY and no BROWSER, CI, a
script), prints a URL and a device code and waits until the sign-in is approved.
ATMOS_LOGIN_TIMEOUT sets how long the browser login waits (default 10m).")]
    Login {
        /// Log in the provider this identity comes through, then fetch its credentials.
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: Option<String>,

        /// Provider to log in (when the profile has several).
        #[arg(long, value_name = "NAME", conflicts_with = "identity")]
        provider: Option<String>,

        /// Sign in with a device code: print the URL and code, and never open a browser.
        #[arg(long)]
        no_browser: bool,

        /// Sign in with a device code instead of the browser login (the browser may still be
        /// opened on the code's page).
        #[arg(long)]
        use_device_code: bool,

        /// Sign in again even when the cached session is still valid.
        #[arg(long)]
        force: bool,
        /// Act on every identity carrying all of these tags (comma-separated).
        #[arg(long, value_name = "TAG,...", value_delimiter = ',', conflicts_with_all = ["identity", "provider"])]
        tags: Vec<String>,
    },

    /// Remove what atmos-auth stored: an identity's credentials, a provider's SSO session, or all.
    #[command(after_help = "\
Without arguments, logs out of the profile's Identity Center provider: the portal is told to
end the session, then the session, its client registrations and every credential obtained
through it are removed. With an identity, removes its credentials and the links of its chain
before them that no other identity uses. --all empties every store (kernel keyring, Secret Service, the encrypted file when its
password is available) and the generated AWS config and provisioned-identity caches.

Prints each item removed, or \"nothing to remove\". Exit code 4 when a store could not be
reached (after removing what could be).")]
    Logout {
        /// Remove this identity's cached credentials only.
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: Option<String>,

        /// Provider to log out of (when the profile has several).
        #[arg(long, value_name = "NAME", conflicts_with = "identity")]
        provider: Option<String>,

        /// Remove everything atmos-auth stored for this user in the current realm, in every store.
        #[arg(long, conflicts_with_all = ["identity", "provider"])]
        all: bool,

        /// With --all, also remove IAM user access keys stored by `configure` (they cannot be
        /// fetched again).
        #[arg(long, requires = "all")]
        include_user_keys: bool,

        /// With --all, remove the entries and cache files of every realm, not only those of the
        /// current one (--realm, ATMOS_AUTH_REALM, auth.realm; none by default).
        #[arg(long, requires = "all")]
        all_realms: bool,

        /// List what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Act on every identity carrying all of these tags (comma-separated).
        #[arg(long, value_name = "TAG,...", value_delimiter = ',', conflicts_with_all = ["identity", "provider", "all"])]
        tags: Vec<String>,
    },

    /// Print the identity's credentials as environment variable assignments.
    #[command(after_help = "Example:\n  eval \"$(atmos-auth env plat-dev/terraform)\"")]
    Env {
        /// Identity name or alias [default: the profile's default identity]
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: Option<String>,

        /// Output syntax.
        #[arg(long, short, value_enum, default_value_t = EnvFormat::Bash)]
        format: EnvFormat,

        /// Log in first when the SSO session is missing or expired.
        #[arg(long)]
        login: bool,
    },

    /// Run a command with the identity's credentials in its environment.
    #[command(after_help = "\
The command also gets AWS_CONFIG_FILE pointing at a generated AWS config in which every
identity of the profile is a profile of the same name (see `aws-config`), so tools that
take a profile, such as Terraform's AWS provider, reach several accounts in one run.

With --server (or `auth.exec.credentials: server`) the command gets no keys: it gets
AWS_CONTAINER_CREDENTIALS_FULL_URI, a loopback endpoint that atmos-auth serves for as long as
the command runs, and AWS_CONTAINER_AUTHORIZATION_TOKEN, so credentials are renewed before
they expire (a long `terraform apply`). atmos-auth stays the command's parent: it forwards
SIGINT, SIGTERM, SIGHUP and SIGQUIT and exits with the command's status.

Example:
  atmos-auth exec plat-dev/terraform -- terraform plan
  atmos-auth exec --server plat-dev/terraform -- terraform apply")]
    Exec {
        /// Identity name or alias [default: the profile's default identity]
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: Option<String>,

        /// Log in first when the SSO session is missing or expired.
        #[arg(long)]
        login: bool,

        /// Serve the credentials from a local endpoint that renews them while the command runs,
        /// instead of static keys [default: `auth.exec.credentials`]
        #[arg(long)]
        server: bool,

        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<std::ffi::OsString>,
    },

    /// Start $SHELL (else /bin/sh) with the identity's credentials, as `exec` gives them.
    #[command(after_help = "\
The shell gets what `exec` gives a command (the credentials, and AWS_CONFIG_FILE with every
identity as a profile of the same name), plus ATMOS_IDENTITY (so atmos-auth commands inside
default to it; `false` with --identity=false), ATMOS_PROFILE and ATMOS_SHLVL (1, or one more
than in the atmos-auth shell it is started from, with a warning). atmos-auth is replaced by
the shell, whose exit status is the one the caller sees. An interactive shell starts with a
line naming the identity and when its credentials expire; after that, start a new shell (the
AWS profiles, `aws --profile NAME`, refresh themselves).

With --server (or `auth.exec.credentials: server`) the shell gets a loopback credential
endpoint instead of keys, renewed for as long as it runs (see `exec --help`); atmos-auth then
stays its parent and exits with its status.

Examples:
  atmos-auth shell plat-dev/terraform
  atmos-auth shell plat-dev/terraform -- -c 'aws s3 ls'")]
    Shell {
        /// Identity name or alias [default: the profile's default identity]
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: Option<String>,

        /// Log in first when the SSO session is missing or expired.
        #[arg(long)]
        login: bool,

        /// Serve the credentials from a local endpoint that renews them while the shell runs,
        /// instead of static keys [default: `auth.exec.credentials`]
        #[arg(long)]
        server: bool,

        /// Arguments for the shell, after `--`.
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<std::ffi::OsString>,
    },

    /// Show the account and ARN the identity's credentials belong to.
    Whoami {
        /// Identity name or alias [default: the profile's default identity]
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: Option<String>,

        /// Output syntax.
        #[arg(long, value_enum, default_value_t = WhoamiFormat::Text)]
        format: WhoamiFormat,
    },

    /// Print credentials as AWS `credential_process` JSON (for AWS config files).
    #[command(
        name = "credential-process",
        after_help = "\
Serves cached credentials and refreshes them silently. It opens a browser login only when
stdin is a terminal; otherwise a missing session fails with exit code 3.

In ~/.aws/config:
  [profile plat-dev/terraform]
  credential_process = atmos-auth credential-process plat-dev/terraform"
    )]
    CredentialProcess {
        /// Identity name or alias [default: the profile's default identity]
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: Option<String>,
    },

    /// Generate an AWS shared config with one profile per identity.
    #[command(
        name = "aws-config",
        after_help = "\
Each profile runs `atmos-auth credential-process`, so Terraform, the AWS CLI and every SDK
can use the identities by name. Sections of your own AWS config are carried over.

Example:
  atmos-auth aws-config --output ~/.aws/atmos-config
  AWS_CONFIG_FILE=~/.aws/atmos-config aws s3 ls --profile plat-dev/terraform"
    )]
    AwsConfig {
        /// Write to this file (atomically) instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Only the identities carrying all of these tags (comma-separated).
        #[arg(long, value_name = "TAG,...", value_delimiter = ',')]
        tags: Vec<String>,
    },

    /// Open the AWS web console signed in as the identity.
    Console {
        /// Identity name or alias [default: the profile's default identity]
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: Option<String>,

        /// Console page to open: a service name (s3, ec2, logs, …), a path (/ec2/home), or an
        /// https://console.aws.amazon.com URL.
        #[arg(long, short, value_name = "PAGE")]
        destination: Option<String>,

        /// Print the sign-in URL instead of opening a browser.
        #[arg(long)]
        print_only: bool,

        /// Console session length (15m to 12h) [default: the credentials' remaining life]
        #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
        duration: Option<Duration>,
    },

    /// Show the profile's providers and identities, and which are logged in until when.
    List {
        /// Output syntax.
        #[arg(long, short, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,

        /// Fetch the auto-provisioned permission sets again (needs a valid session).
        #[arg(long)]
        refresh: bool,
        /// Only the identities carrying all of these tags (comma-separated).
        #[arg(long, value_name = "TAG,...", value_delimiter = ',')]
        tags: Vec<String>,

        /// Only the identities whose name or alias matches one of these globs, ignoring case:
        /// `*` any characters (`/` too), `?` one character, `[ab]` one of those, `{x,y}` either
        /// (quote them from the shell: `list 'plat-*'`).
        #[arg(value_name = "PATTERN")]
        patterns: Vec<String>,
        /// The same as a PATTERN argument (repeatable), for scripts that prefer a flag.
        #[arg(long = "filter", value_name = "PATTERN")]
        filters: Vec<String>,
    },

    /// Check the profile's configuration without touching the network or the keyring.
    #[command(after_help = "\
Every problem is reported with file:line:column. Exit code 0 when clean, 2 otherwise; use it
as a pre-commit hook or CI step on a profiles repository.")]
    Validate {
        /// Check every profile under the config root.
        #[arg(long)]
        all_profiles: bool,
    },

    /// List the discovered profiles with their descriptions and where each was found.
    Profiles,

    /// Show each profile's access level per account tier, computed from its identities.
    #[command(after_help = "\
Levels come from the permission set or role of each `<account>/...` identity:
Write (TerraformApplyAccess, AdministratorAccess, PowerUserAccess), Read (TerraformPlanAccess,
ReadOnlyAccess), State (TerraformStateAccess), None. Tiers and row order come from
profiles/matrix.yaml when it exists. No network, no credential store.

--check compares with the declared matrix and names every cell that differs: exit code 0
when they match, 1 when they differ, 2 when a file is invalid.

Example:
  atmos-auth --config-dir examples/infra matrix --format markdown --check")]
    Matrix {
        /// Output syntax.
        #[arg(long, short, value_enum, default_value_t = MatrixFormat::Table)]
        format: MatrixFormat,

        /// Compare with the declared matrix [default FILE: profiles/matrix.yaml under the config root]
        #[arg(long, value_name = "FILE", num_args = 0..=1)]
        check: Option<Option<PathBuf>>,
    },

    /// Store an IAM user's access keys for an `aws/user` identity in the credential store.
    #[command(after_help = "\
Asks at the terminal (the secret without echo), or reads two lines from stdin:
  printf '%s\\n%s\\n' \"$KEY_ID\" \"$SECRET\" | atmos-auth configure ci/deployer")]
    Configure {
        /// The aws/user identity.
        #[arg(add = ArgValueCandidates::new(identity_candidates))]
        identity: String,
    },

    /// Print a shell completion script (identity names complete from the active profile).
    #[command(after_help = "\
Examples:
  source <(atmos-auth completion bash)              in ~/.bashrc
  atmos-auth completion fish > ~/.config/fish/completions/atmos-auth.fish")]
    Completion {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
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
pub enum ListFormat {
    Table,
    Tree,
    Json,
    Yaml,
    Dot,
    Mermaid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    Table,
    Markdown,
    Json,
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
