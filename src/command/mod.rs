//! Commands: each subcommand's orchestration, from a loaded profile to output. Shared set-up
//! (loading the profile, opening the store, picking an identity) lives here.

mod env;
mod exec;
mod login;
mod whoami;

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{Arguments, Global, Subcommand};
use crate::config::{self, Config, Identity, LoadOptions, Provider};
use crate::error::Error;
use crate::provider::sso::{BrowserPolicy, LoginPolicy};
use crate::store::{self, CredentialStore, StoreKind};

/// Set by CI systems; a browser is never opened there.
const CI_ENV: &str = "CI";

pub fn run(arguments: Arguments) -> Result<i32, Error> {
    let global = arguments.global;
    match arguments.subcommand {
        Subcommand::Login {
            identity,
            provider,
            no_browser,
            force,
        } => login::run(
            &Context::load(&global)?,
            identity.as_deref(),
            provider.as_deref(),
            browser_policy(no_browser),
            force,
        ),
        Subcommand::Env {
            identity,
            format,
            login,
        } => env::run(&Context::load(&global)?, identity.as_deref(), format, login),
        Subcommand::Exec {
            identity,
            login,
            command,
        } => exec::run(&Context::load(&global)?, &identity, login, &command),
        Subcommand::Whoami { identity, format } => {
            whoami::run(&Context::load(&global)?, identity.as_deref(), format)
        }
    }
}

/// What every command that touches credentials needs: the profile and the store.
pub struct Context {
    pub config: Config,
    pub store: CredentialStore,
}

impl Context {
    fn load(global: &Global) -> Result<Self, Error> {
        let options = LoadOptions {
            profile: global.profile.clone(),
            config_dir: global.config_dir.clone(),
            cwd: std::env::current_dir().unwrap_or_default(),
            env_profile: None,
            env_config_path: None,
            user_config_dir: directories::ProjectDirs::from("", "", "atmos-auth")
                .map(|d| d.config_dir().to_path_buf()),
        };
        let config = config::load(&options)?;
        let kind = match std::env::var(store::KEYRING_TYPE_ENV) {
            Ok(value) if !value.is_empty() => value
                .parse()
                .map_err(|_| Error::InvalidStoreKind { value })?,
            _ => config.auth.keyring.unwrap_or(StoreKind::System),
        };
        let timeout = match std::env::var(store::KEYRING_TIMEOUT_ENV) {
            Ok(value) if !value.is_empty() => humantime::parse_duration(&value)
                .map_err(|_| Error::InvalidStoreTimeout { value })?,
            _ => Duration::from_secs(store::DEFAULT_TIMEOUT_SECS),
        };
        let store = CredentialStore::open(kind, timeout)?;
        Ok(Self { config, store })
    }

    /// The named identity (or alias), or the profile's single default.
    pub fn identity(&self, name: Option<&str>) -> Result<&Identity, Error> {
        let all = || {
            self.config
                .auth
                .identities
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        match name {
            Some(name) => self
                .config
                .identity(name)
                .ok_or_else(|| Error::UnknownIdentity {
                    name: name.to_owned(),
                    available: all(),
                }),
            None => match self.config.default_identities().as_slice() {
                [one] => Ok(one),
                [] => Err(Error::NoDefaultIdentity { available: all() }),
                several => Err(Error::AmbiguousDefault {
                    names: several.iter().map(|i| i.name.clone()).collect(),
                }),
            },
        }
    }

    /// The provider to log in: named, or the only one.
    pub fn provider(&self, name: Option<&str>) -> Result<&Provider, Error> {
        let providers = &self.config.auth.providers;
        match name {
            Some(name) => providers.get(name).ok_or_else(|| Error::UnknownProvider {
                name: name.to_owned(),
                available: providers.keys().cloned().collect(),
            }),
            None => match providers.len() {
                0 => Err(Error::NoProvider),
                1 => Ok(providers.values().next().expect("one provider")),
                _ => Err(Error::AmbiguousProvider {
                    names: providers.keys().cloned().collect(),
                }),
            },
        }
    }
}

/// A browser opens only for a person at a terminal: not with `--no-browser`, not in CI, not
/// when stdin is a pipe (SSH scripts, containers).
fn browser_policy(no_browser: bool) -> BrowserPolicy {
    let interactive = std::io::stdin().is_terminal() && std::env::var_os(CI_ENV).is_none();
    if no_browser || !interactive {
        BrowserPolicy::Never
    } else {
        BrowserPolicy::Open
    }
}

/// `--login` lets a credential command start the device-code login.
fn login_policy(login: bool) -> LoginPolicy {
    if login {
        LoginPolicy::Interactive(browser_policy(false))
    } else {
        LoginPolicy::Never
    }
}

/// The region an identity's credentials are used in.
fn region_of<'a>(context: &'a Context, identity: &Identity) -> &'a str {
    let config::ProviderKind::IdentityCenter(provider) =
        &context.config.provider_for(identity).kind;
    &provider.region
}
