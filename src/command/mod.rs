//! Commands: each subcommand's orchestration, from a loaded profile to output. Shared set-up
//! (loading the profile, opening the store, picking an identity) lives here.

mod aws_config;
mod child_env;
mod configure;
mod console;
mod credential_process;
mod env;
mod error;
mod exec;
mod list;
mod login;
mod logout;
mod matrix;
mod profiles;
mod serve;
mod shell;
mod validate;
mod whoami;

use configure::ConfigureError;
use console::ConsoleError;
pub use error::Error;
use serve::ServeError;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{Command, Invocation, LogoutTarget, Settings};
use crate::config::{self, Config, Identity, Provider};
use crate::exit;
use crate::identity::Resolver;
use crate::identity::provisioned::{self, Wanted};
use crate::prompt::{Prompt, TerminalPrompt};
use crate::provider::github_oidc::GithubEnv;
use crate::provider::sso::{
    BrowserSupport, DEFAULT_BROWSER_TIMEOUT_SECS, LOGIN_TIMEOUT_ENV, LoginPolicy, LoginRequest,
};
use crate::store::{self, CredentialStore, StoreKind};

/// Set by CI systems; a browser is never opened there unless BROWSER names one.
const CI_ENV: &str = "CI";
/// Names the browser to open (a command, `%s` for the URL), as `webbrowser` and most Unix
/// programs read it.
const BROWSER_ENV: &str = "BROWSER";
/// A graphical session on Linux and the BSDs.
const DISPLAY_ENVS: [&str; 2] = ["DISPLAY", "WAYLAND_DISPLAY"];

pub fn run(invocation: Invocation) -> Result<i32, Error> {
    let settings = invocation.settings;
    match invocation.command {
        Command::Login {
            identity,
            provider,
            no_browser,
            use_device_code,
            force,
            tags,
        } => {
            let context = Context::load(&settings, Wanted::All)?;
            let request = login_request(use_device_code, no_browser)?;
            if tags.is_empty() {
                return login::run(
                    &context,
                    identity.as_deref(),
                    provider.as_deref(),
                    request,
                    force,
                );
            }
            // The first login signs in (or is forced to); the others find its session.
            for (index, name) in tagged(&context.config, &tags)?.iter().enumerate() {
                login::run(&context, Some(name), None, request, force && index == 0)?;
            }
            Ok(exit::SUCCESS)
        }
        Command::Logout { target, dry_run } => {
            let target = match &target {
                LogoutTarget::Tagged(tags) => {
                    let mut config = config::load(&settings.load)?;
                    // The realm's provisioned identities, as `logout NAME` sees them.
                    set_realm(&settings, Some(&config))?;
                    provisioned::extend(&mut config, Wanted::All)?;
                    for name in tagged(&config, tags)? {
                        logout::run(&settings, logout::Target::Identity(&name), dry_run)?;
                    }
                    return Ok(exit::SUCCESS);
                }
                LogoutTarget::All {
                    include_user_keys,
                    all_realms,
                } => logout::Target::All {
                    include_user_keys: *include_user_keys,
                    all_realms: *all_realms,
                },
                LogoutTarget::Identity(name) => logout::Target::Identity(name),
                LogoutTarget::Provider(name) => logout::Target::Provider(name.as_deref()),
            };
            logout::run(&settings, target, dry_run)
        }
        Command::Env {
            identity,
            output,
            login,
        } => env::run(
            &Context::load(&settings, named(&settings, identity.as_deref()))?,
            identity.as_deref(),
            output,
            login,
        ),
        Command::Exec {
            identity,
            login,
            server,
            command,
        } => exec::run(
            &Context::load(&settings, Wanted::All)?,
            identity.as_deref(),
            login,
            server,
            &command,
        ),
        Command::Shell {
            identity,
            login,
            server,
            args,
        } => shell::run(
            &Context::load(&settings, Wanted::All)?,
            identity.as_deref(),
            login,
            server,
            &args,
        ),
        Command::Whoami { identity, format } => whoami::run(
            &Context::load(&settings, named(&settings, identity.as_deref()))?,
            identity.as_deref(),
            format,
        ),
        Command::CredentialProcess { identity } => credential_process::run(
            &Context::load(&settings, named(&settings, identity.as_deref()))?,
            identity.as_deref(),
        ),
        Command::AwsConfig { output, tags } => {
            let mut config = config::load(&settings.load)?;
            set_realm(&settings, Some(&config))?;
            provisioned::extend(&mut config, Wanted::All)?;
            if !tags.is_empty() {
                tagged(&config, &tags)?;
            }
            aws_config::run(&config, output.as_deref(), &tags)
        }
        Command::Console {
            identity,
            destination,
            print_only,
            duration,
        } => console::run(
            &Context::load(&settings, named(&settings, identity.as_deref()))?,
            identity.as_deref(),
            destination.as_deref(),
            print_only,
            duration,
        ),
        Command::List {
            format,
            refresh,
            tags,
            patterns,
        } => {
            let patterns = list::Patterns::new(&patterns)?;
            let (mut config, mut provisioned) = Context::load_config(&settings, Wanted::All)?;
            // The configuration is shown without a store (a server without D-Bus); only
            // `--refresh` needs one, for the session's token.
            let mut store = Context::open_store(&config);
            if refresh {
                let opened = store?;
                list::refresh(&config, &opened)?;
                // Reload the profile (not the store: a `file` store would ask for its password
                // again) so assignments that went away disappear too.
                (config, provisioned) = Context::load_config(&settings, Wanted::All)?;
                store = Ok(opened);
            }
            if !tags.is_empty() {
                tagged(&config, &tags)?;
            }
            let shown = list::Shown {
                tags: &tags,
                patterns: &patterns,
                provisioned: &provisioned,
            };
            list::run(&config, store.as_ref(), format, &shown)
        }
        Command::Validate { all_profiles } => validate::run(&settings, all_profiles),
        Command::Profiles => profiles::run(&settings),
        Command::Matrix { format, check } => matrix::run(&settings, format, check),
        Command::Configure { identity } => configure::run(
            &Context::load(&settings, Wanted::Named(&identity))?,
            &identity,
        ),
        Command::Completion(registration) => {
            let program = std::env::current_exe()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "atmos-auth".into());
            let script = registration
                .script(&program)
                .map_err(|source| Error::Write {
                    path: "the completion script".into(),
                    source,
                })?;
            print(&script)?;
            Ok(exit::SUCCESS)
        }
    }
}

/// What every command that touches credentials needs: the profile and the store.
pub struct Context {
    pub config: Config,
    pub store: CredentialStore,
    /// `--mfa-code`, for `aws/user` identities with an MFA device.
    mfa_code: Option<String>,
    /// `--identity` / `ATMOS_IDENTITY`.
    identity_flag: Option<String>,
    /// Whether every provisioned identity was added, or only those a name selects.
    every_provisioned: bool,
}

/// The provisioned identities a command resolving the identity `name` (else `--identity`, else
/// the default, always a written one) needs: only that one.
fn named<'a>(settings: &'a Settings, name: Option<&'a str>) -> Wanted<'a> {
    match name.or(settings.identity.as_deref()) {
        Some(NO_IDENTITY) | None => Wanted::Nothing,
        Some(name) => Wanted::Named(name),
    }
}

/// Chooses this process's realm: `--realm` / `ATMOS_AUTH_REALM` (which wins), else the
/// profile's `auth.realm`, else none. Every stored entry and cache file is in that realm.
pub(crate) fn set_realm(settings: &Settings, config: Option<&Config>) -> Result<(), Error> {
    let realm = match settings.realm.as_deref().filter(|value| !value.is_empty()) {
        Some(value) => {
            if let Some(problem) = crate::realm::realm_problem(value) {
                return Err(Error::InvalidRealm {
                    value: crate::text::printable(value),
                    problem,
                });
            }
            Some(value.to_owned())
        }
        None => config.and_then(|config| config.auth.realm.clone()),
    };
    crate::realm::set_current(realm);
    Ok(())
}

impl Context {
    /// Loads the profile with the provisioned identities `wanted`, and opens the store.
    fn load(settings: &Settings, wanted: Wanted<'_>) -> Result<Self, Error> {
        let (config, _) = Self::load_config(settings, wanted)?;
        let store = Self::open_store(&config)?;
        Ok(Self {
            config,
            store,
            mfa_code: settings.mfa_code.clone(),
            identity_flag: settings.identity.clone(),
            every_provisioned: wanted == Wanted::All,
        })
    }

    /// The profile, in its realm, with the provisioned identities `wanted`, and their names.
    fn load_config(
        settings: &Settings,
        wanted: Wanted<'_>,
    ) -> Result<(Config, Vec<String>), Error> {
        let mut config = config::load(&settings.load)?;
        set_realm(settings, Some(&config))?;
        let provisioned = provisioned::extend(&mut config, wanted)?;
        Ok((config, provisioned))
    }

    /// The credential store `ATMOS_KEYRING_TYPE`, else the profile, names.
    fn open_store(config: &Config) -> Result<CredentialStore, Error> {
        let kind = match std::env::var(store::KEYRING_TYPE_ENV) {
            Ok(value) if !value.is_empty() => value
                .parse()
                .map_err(|_| Error::InvalidStoreKind { value })?,
            _ => config.auth.keyring.unwrap_or(StoreKind::System),
        };
        let timeout = store_timeout()?;
        let store = match kind {
            StoreKind::File => {
                let path = match &config.auth.keyring_path {
                    Some(path) => expand_path(&config.root, path),
                    None => store::default_file_path()?,
                };
                let password = store::read_file_password(&path)?;
                CredentialStore::open_file(path, password, timeout)?
            }
            kind => CredentialStore::open(kind, timeout)?,
        };
        // A CI job's credentials end with the job: on a self-hosted runner the per-user keyring
        // (or file) outlives it, and the next job, of another repository, could read them.
        Ok(if GithubEnv::from_process().in_actions {
            store.with_role_credentials_in_process()
        } else {
            store
        })
    }

    /// A resolver over this profile and store.
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver::new(&self.config, &self.store).with_mfa_code(self.mfa_code.clone())
    }

    /// The identity a command needs: named (argument, else `--identity`), else the profile's
    /// default. `--identity=false` is refused here: this command cannot run without one.
    pub fn identity(&self, name: Option<&str>) -> Result<&Identity, Error> {
        self.selected(name)?.ok_or(Error::IdentityRequired)
    }

    /// Like `identity`, but `--identity=false` (or `ATMOS_IDENTITY=false`) selects none.
    pub fn selected(&self, name: Option<&str>) -> Result<Option<&Identity>, Error> {
        // Only an error lists them all: load every provisioned identity for it.
        let all = || {
            let mut config = self.config.clone();
            if !self.every_provisioned {
                let _ = provisioned::extend(&mut config, Wanted::All);
            }
            config.auth.identities.into_keys().collect::<Vec<_>>()
        };
        match name.or(self.identity_flag.as_deref()) {
            Some(NO_IDENTITY) => Ok(None),
            Some(name) => {
                self.config
                    .identity(name)
                    .map(Some)
                    .ok_or_else(|| Error::UnknownIdentity {
                        name: name.to_owned(),
                        available: all(),
                    })
            }
            None => match self.config.default_identities().as_slice() {
                [one] => Ok(Some(one)),
                [] => Err(Error::NoDefaultIdentity { available: all() }),
                several if std::io::stdin().is_terminal() => choose(several).map(Some),
                several => Err(Error::AmbiguousDefault {
                    names: several.iter().map(|i| i.name.clone()).collect(),
                }),
            },
        }
    }

    /// The Identity Center provider to log in: named, or the only one.
    pub fn provider(&self, name: Option<&str>) -> Result<&Provider, Error> {
        let providers: std::collections::BTreeMap<&str, &Provider> = self
            .config
            .auth
            .providers
            .iter()
            .filter(|(_, p)| matches!(p.kind, config::ProviderKind::IdentityCenter(_)))
            .map(|(name, provider)| (name.as_str(), provider))
            .collect();
        match name {
            Some(name) => providers
                .get(name)
                .copied()
                .ok_or_else(|| Error::UnknownProvider {
                    name: name.to_owned(),
                    available: providers.keys().map(|n| n.to_string()).collect(),
                }),
            None => match providers.len() {
                0 => Err(Error::NoProvider),
                1 => Ok(providers.values().next().expect("one provider")),
                _ => Err(Error::AmbiguousProvider {
                    names: providers.keys().map(|n| n.to_string()).collect(),
                }),
            },
        }
    }
}

/// How long one store operation may take: ATMOS_KEYRING_TIMEOUT, else the default.
fn store_timeout() -> Result<Duration, Error> {
    match std::env::var(store::KEYRING_TIMEOUT_ENV) {
        Ok(value) if !value.is_empty() => {
            config::duration::parse(&value, config::duration::STORE_TIMEOUT)
                .map_err(|problem| Error::InvalidStoreTimeout { problem })
        }
        _ => Ok(Duration::from_secs(store::DEFAULT_TIMEOUT_SECS)),
    }
}

/// Write a command's answer to stdout: the one place anything is printed there. A reader that
/// went away (`| head`) is not an error; the command carries on and exits as it would have.
fn print(bytes: &[u8]) -> Result<(), Error> {
    match write_stdout(bytes) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(stdout_error),
    }
}

/// Like `print`, for text that must be delivered before the command goes on (GitHub's mask
/// commands): a closed stdout is an error too.
fn print_or_fail(bytes: &[u8]) -> Result<(), Error> {
    write_stdout(bytes).map_err(stdout_error)
}

fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush())
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "stdout".into(),
        source,
    }
}

/// The `--identity` value that means "use no identity".
const NO_IDENTITY: &str = "false";

/// Ask which of several default identities to use, at the terminal.
fn choose<'c>(several: &[&'c Identity]) -> Result<&'c Identity, Error> {
    eprintln!("Several identities are marked default:");
    for (number, identity) in several.iter().enumerate() {
        eprintln!("  {}) {}", number + 1, identity.name);
    }
    TerminalPrompt
        .ask(&format!("Use which one? [1-{}] ", several.len()))
        .and_then(|answer| answer.parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| several.get(i).copied())
        .ok_or_else(|| Error::AmbiguousDefault {
            names: several.iter().map(|i| i.name.clone()).collect(),
        })
}

/// `~/…` is under the home directory; a relative path is relative to the config root.
fn expand_path(root: &Path, path: &Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(dirs) = directories::BaseDirs::new()
    {
        return dirs.home_dir().join(rest);
    }
    root.join(path)
}

/// What this machine offers for opening a browser. A browser the user names (`BROWSER`) counts
/// wherever atmos-auth runs; otherwise one opens only for a person at a terminal (not in CI, not
/// when stdin is a pipe) with a graphical session (Linux and the BSDs need DISPLAY or
/// WAYLAND_DISPLAY; an SSH session or a container has neither).
fn browser_support() -> BrowserSupport {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let needs_display = cfg!(all(unix, not(target_os = "macos")));
    if set(BROWSER_ENV) {
        BrowserSupport::Named
    } else if set(CI_ENV) {
        BrowserSupport::Ci
    } else if needs_display && !DISPLAY_ENVS.iter().any(|name| set(name)) {
        BrowserSupport::NoDisplay
    } else if !std::io::stdin().is_terminal() {
        BrowserSupport::NotATerminal
    } else {
        BrowserSupport::Desktop
    }
}

/// An interactive login as the command line and the environment ask for it.
fn login_request(use_device_code: bool, no_browser: bool) -> Result<LoginRequest, Error> {
    let browser_timeout = match std::env::var(LOGIN_TIMEOUT_ENV) {
        Ok(value) if !value.is_empty() => {
            config::duration::parse(&value, config::duration::BROWSER_LOGIN)
                .map_err(|problem| Error::InvalidLoginTimeout { problem })?
        }
        _ => Duration::from_secs(DEFAULT_BROWSER_TIMEOUT_SECS),
    };
    Ok(LoginRequest {
        use_device_code,
        no_browser,
        browser: browser_support(),
        browser_timeout,
    })
}

/// `--login` lets a credential command start an interactive login.
fn login_policy(login: bool) -> Result<LoginPolicy, Error> {
    Ok(if login {
        LoginPolicy::Interactive(login_request(false, false)?)
    } else {
        LoginPolicy::Never
    })
}

/// The names of the identities carrying every one of `tags` (`Config::tags_of`), or an error
/// when none does.
fn tagged(config: &Config, tags: &[String]) -> Result<Vec<String>, Error> {
    let names: Vec<String> = config
        .auth
        .identities
        .values()
        .filter(|identity| config.has_tags(identity, tags))
        .map(|identity| identity.name.clone())
        .collect();
    if names.is_empty() {
        return Err(Error::NoTaggedIdentity {
            tags: tags.to_vec(),
        });
    }
    Ok(names)
}
