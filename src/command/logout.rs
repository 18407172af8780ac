//! `atmos-auth logout`: remove what atmos-auth stored — one identity's credentials, one
//! provider's SSO session (after ending it at the portal) with everything obtained through it,
//! or everything in every store — and name each item removed. Each acts within the current
//! realm (`realm`); only `--all --all-realms` reaches the entries of every realm.
//!
//! What to remove is worked out from the configuration (identity plans, session ids) and checked
//! against each store's own listing ([`CredentialStore::entries`]), so only entries that exist are
//! named, and `--dry-run` reads nothing but those listings. This module must not remove anything
//! a store did not list, and must never present a token to an endpoint other than the one that
//! issued it: the portal `Logout` call goes to the session's own endpoints, the very endpoints the
//! token's entry id is bound to.
//!
//! Exit codes: 0 when everything found was removed, or nothing was found ("nothing to remove");
//! 4 when a store could not be reached or refused a removal, reported per store after removing
//! what could be; 1 when the portal could not be told (the local session is removed all the
//! same).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::{Context, expand_path, print};
use super::{Error, exit};
use crate::cli::Settings;
use crate::config::{self, Config, IdentityCenter, Provider, ProviderKind};
use crate::identity::provisioned::Wanted;
use crate::identity::{Ambient, Plan};
use crate::provider::ProviderError;
use crate::provider::sso::{self, GrantKind, SsoSession};
use crate::store::{self, CredentialStore, EntryKey, Namespace, StoreError, StoreKind, bound_id};

/// The cache subdirectories that `logout --all` empties, each with what its files are.
const CACHE_SUBDIRS: [(&str, &str); 2] = [
    ("aws-config", "the generated AWS config"),
    ("provisioned", "the provisioned-identity list"),
];

/// What to log out.
pub enum Target<'a> {
    /// One identity: every link of its chain that no other identity uses.
    Identity(&'a str),
    /// One Identity Center provider (or the only one): its session and everything obtained
    /// through it.
    Provider(Option<&'a str>),
    /// Everything of the current realm (or of every realm), in every store; IAM user keys only
    /// when asked.
    All {
        include_user_keys: bool,
        all_realms: bool,
    },
}

pub fn run(settings: &Settings, target: Target<'_>, dry_run: bool) -> Result<i32, Error> {
    let mut report = Report::new(dry_run, settings.verbose);
    match target {
        Target::Identity(name) => {
            let context = Context::load(settings, Wanted::Named(name))?;
            let items = identity_items(&context.config, context.identity(Some(name))?);
            report.remove(&context.store, |existing| {
                items
                    .iter()
                    .filter(|item| existing.contains(&item.key))
                    .cloned()
                    .collect()
            });
            report.forget_unseen_role_credentials(&context.store);
        }
        Target::Provider(name) => {
            let context = Context::load(settings, Wanted::All)?;
            let provider = context.provider(name)?;
            let ProviderKind::IdentityCenter(sso) = &provider.kind else {
                unreachable!("Context::provider returns Identity Center providers only")
            };
            end_session(&mut report, sso, &context.store);
            let items = provider_items(&context.config, provider, sso);
            report.remove(&context.store, |existing| {
                let mut found: Vec<Item> = items
                    .iter()
                    .filter(|item| existing.contains(&item.key))
                    .cloned()
                    .collect();
                found.extend(obtained_elsewhere(sso, existing, &items));
                found
            });
            report.forget_unseen_role_credentials(&context.store);
        }
        Target::All {
            include_user_keys,
            all_realms,
        } => {
            // Without a profile there is no provider to tell, but the stores are emptied all
            // the same: a broken profile must not keep anyone logged in.
            // The realm comes first: the provisioned identities are read from its cache.
            let loaded = config::load(&settings.load)
                .inspect_err(|error| tracing::debug!(%error, "no profile: no portal to tell"))
                .ok();
            super::set_realm(settings, loaded.as_ref())?;
            let config = loaded.and_then(|mut config| {
                crate::identity::provisioned::extend(&mut config, Wanted::All)
                    .inspect_err(|error| tracing::debug!(%error, "provisioned identities unusable"))
                    .ok()
                    .map(|_| config)
            });
            let stores = every_store(config.as_ref(), &mut report)?;
            if let Some(config) = &config {
                for provider in config.auth.providers.values() {
                    if let ProviderKind::IdentityCenter(sso) = &provider.kind
                        && let Some(store) = stores.iter().find(|store| {
                            matches!(SsoSession::new(sso, store).cached(), Ok(Some(_)))
                        })
                    {
                        end_session(&mut report, sso, store);
                    }
                }
            }
            // The `system` store (Linux) lists its layers' entries too, which the `keyutils`
            // and `secret-service` stores before it have listed: it reports only its own.
            let mut in_layers: Vec<EntryKey> = Vec::new();
            for store in &stores {
                report.remove(store, |existing| {
                    let own: Vec<&EntryKey> = match store.kind() {
                        StoreKind::Keyutils | StoreKind::SecretService => {
                            in_layers.extend(existing.iter().cloned());
                            existing.iter().collect()
                        }
                        StoreKind::System if cfg!(target_os = "linux") => existing
                            .iter()
                            .filter(|key| !in_layers.contains(key))
                            .collect(),
                        StoreKind::System | StoreKind::Memory | StoreKind::File => {
                            existing.iter().collect()
                        }
                    };
                    own.into_iter()
                        .filter(|key| include_user_keys || key.namespace() != Namespace::UserKeys)
                        .filter(|key| all_realms || crate::realm::in_current(key.id()).is_some())
                        .map(|key| Item {
                            what: crate::text::printable(&key.describe()),
                            key: key.clone(),
                        })
                        .collect()
                });
            }
            for store in &stores {
                report.forget_unseen_role_credentials(store);
            }
            for (subdir, what) in CACHE_SUBDIRS {
                if all_realms {
                    for name in realm_subdirs(subdir) {
                        report.remove_cache(&name, what);
                    }
                } else {
                    report.remove_cache(&crate::paths::realm_subdir_name(subdir), what);
                }
            }
        }
    }
    report.finish()
}

/// One entry to remove, named for people.
#[derive(Clone)]
struct Item {
    key: EntryKey,
    what: String,
}

/// Role credentials of `name`'s link, under `key`.
fn credentials_item(name: &str, key: String) -> Item {
    Item {
        key: EntryKey::new(Namespace::RoleCredentials, key),
        what: format!("the AWS credentials of `{name}`"),
    }
}

/// The credentials of `identity` and every link before them in its chain that no other identity
/// of the profile uses; a shared link is kept, and the user told which identity still uses it.
fn identity_items(config: &Config, identity: &config::Identity) -> Vec<Item> {
    let ambient = Ambient::from_process();
    // Who else uses each link: the identity the link stands for, else the first that chains
    // through it.
    let others: Vec<(&str, Vec<String>)> = config
        .auth
        .identities
        .values()
        .filter(|other| other.name != identity.name)
        .map(|other| (other.name.as_str(), Plan::new(config, other, &ambient).keys))
        .collect();
    let mut users: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, keys) in &others {
        if let Some(own) = keys.last() {
            users.insert(own, name);
        }
    }
    for (name, keys) in &others {
        for key in keys {
            users.entry(key).or_insert(name);
        }
    }
    let chain = config.chain(identity);
    let keys = Plan::new(config, identity, &ambient).keys;
    let mut items = Vec::new();
    let own = keys.len() - 1;
    for (index, (link, key)) in chain.iter().zip(&keys).enumerate() {
        // The identity's own credentials always go; an identity chaining through it fetches
        // them again (its own hop stays cached).
        match users.get(key.as_str()).filter(|_| index != own) {
            Some(other) if *other == link.name => {
                eprintln!("Keeping the AWS credentials of `{other}`: it is an identity of its own.")
            }
            Some(other) => eprintln!(
                "Keeping the AWS credentials of `{}`: `{other}` uses them too.",
                link.name
            ),
            None => items.push(credentials_item(&link.name, key.clone())),
        }
    }
    items
}

/// The session of `provider` (token, both client registrations) and the credentials of every
/// identity of the profile obtained through it, provisioned ones included.
fn provider_items(config: &Config, provider: &Provider, sso: &IdentityCenter) -> Vec<Item> {
    let session = sso::session_id(sso, &sso::endpoints_of(sso));
    let name = &provider.name;
    let mut items = vec![
        Item {
            key: EntryKey::new(Namespace::SsoSession, session.clone()),
            what: format!("the SSO session (access and refresh token) of provider `{name}`"),
        },
        Item {
            key: sso::client_key(&session, GrantKind::DeviceCode),
            what: format!("the device-code client registration of provider `{name}`"),
        },
        Item {
            key: sso::client_key(&session, GrantKind::AuthorizationCode),
            what: format!("the authorization-code client registration of provider `{name}`"),
        },
    ];
    let ambient = Ambient::from_process();
    for identity in config.auth.identities.values() {
        let chain = config.chain(identity);
        if chain[0].kind.via_provider() != Some(name.as_str()) {
            continue;
        }
        let keys = Plan::new(config, identity, &ambient).keys;
        for (link, key) in chain.iter().zip(keys) {
            if !items.iter().any(|item| item.key.id() == key) {
                items.push(credentials_item(&link.name, key));
            }
        }
    }
    items
}

/// Permission-set credentials obtained with the session of `sso` for identities this profile
/// does not name (another profile's, or a provisioned identity that has since gone): their ids
/// are bound to the session id, so they are recognised without guessing.
fn obtained_elsewhere(sso: &IdentityCenter, existing: &[EntryKey], known: &[Item]) -> Vec<Item> {
    let session = sso::session_id(sso, &sso::endpoints_of(sso));
    let prefix = format!("{}|{}|", sso.region, sso.start_url);
    existing
        .iter()
        .filter(|key| key.namespace() == Namespace::RoleCredentials)
        .filter(|key| !known.iter().any(|item| &item.key == *key))
        .filter(|key| {
            crate::realm::in_current(key.id())
                .and_then(|id| id.rsplit_once('@'))
                .is_some_and(|(readable, _)| {
                    readable.starts_with(&prefix) && bound_id(readable, &[&session]) == key.id()
                })
        })
        .map(|key| Item {
            what: crate::text::printable(&key.describe()),
            key: key.clone(),
        })
        .collect()
}

/// Ends the session of `sso` at the portal (`SsoSession::end_at_portal`) when `store` holds its
/// token, and reports it.
fn end_session(report: &mut Report, sso: &IdentityCenter, store: &CredentialStore) {
    let session = SsoSession::new(sso, store);
    match session.cached() {
        Ok(Some(_)) => {}
        Ok(None) => return,
        // The listing that follows reports the store, once.
        Err(error) => return tracing::debug!(%error, "could not read the SSO session"),
    }
    let what = format!(
        "the IAM Identity Center session of {} ({}) at the portal",
        sso.start_url, sso.region
    );
    if report.dry_run {
        return report.line(format!("Would end {what}."));
    }
    match session.end_at_portal() {
        Ok(true) => report.line(format!("Ended {what}.")),
        Ok(false) => tracing::info!("the portal no longer knew the session"),
        Err(error) => {
            report.provider_failed(error);
            eprintln!(
                "note: the session is removed here all the same; at the portal it stays open \
                 until it expires"
            );
        }
    }
}

/// The cache subdirectories `subdir` of every realm: `subdir` itself and each `<subdir>~<realm>`.
fn realm_subdirs(subdir: &str) -> Vec<String> {
    let Ok(entries) = crate::paths::cache_dir().and_then(std::fs::read_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            name == subdir
                || name
                    .strip_prefix(subdir)
                    .and_then(|rest| rest.strip_prefix('~'))
                    .is_some_and(|realm| crate::realm::realm_problem(realm).is_none())
        })
        .collect();
    names.sort();
    names
}

/// Every store atmos-auth may have written to for this user: on Linux the kernel keyring and the
/// Secret Service (the two layers of `system`) separately, elsewhere the platform store; plus
/// the encrypted file when it exists and its password is available. A store that cannot be
/// opened is reported and left out.
fn every_store(
    config: Option<&Config>,
    report: &mut Report,
) -> Result<Vec<CredentialStore>, Error> {
    let timeout = super::store_timeout()?;
    // On Linux `system` comes last, for what only it holds: its role-credential tier.
    let kinds: &[StoreKind] = if cfg!(target_os = "linux") {
        &[
            StoreKind::Keyutils,
            StoreKind::SecretService,
            StoreKind::System,
        ]
    } else {
        &[StoreKind::System]
    };
    let mut stores = Vec::new();
    for kind in kinds {
        match CredentialStore::open(*kind, timeout) {
            Ok(store) => stores.push(store),
            Err(error) => report.store_failed(error),
        }
    }
    let path = match config.and_then(|c| c.auth.keyring_path.as_deref().map(|p| (c, p))) {
        Some((config, path)) => Ok(expand_path(&config.root, path)),
        None => store::default_file_path(),
    };
    match path.and_then(|path| open_file_store(path, timeout)) {
        Ok(Some(store)) => stores.push(store),
        Ok(None) => {}
        Err(error) => report.store_failed(error),
    }
    Ok(stores)
}

/// The `file` store at `path`, if there is a file there.
fn open_file_store(
    path: PathBuf,
    timeout: Duration,
) -> Result<Option<CredentialStore>, StoreError> {
    if !path.exists() {
        return Ok(None);
    }
    let password = store::read_file_password(&path)?;
    CredentialStore::open_file(path, password, timeout).map(Some)
}

/// What happened, line by line, and the exit code so far.
struct Report {
    dry_run: bool,
    verbose: bool,
    lines: String,
    code: i32,
}

impl Report {
    fn new(dry_run: bool, verbose: bool) -> Self {
        Self {
            dry_run,
            verbose,
            lines: String::new(),
            code: exit::SUCCESS,
        }
    }

    fn line(&mut self, line: String) {
        self.lines.push_str(&line);
        self.lines.push('\n');
    }

    fn removed(&mut self, what: &str, place: &str) {
        let verb = if self.dry_run {
            "Would remove"
        } else {
            "Removed"
        };
        self.line(format!("{verb} {what} from {place}."));
    }

    /// A store that could not be reached or refused: reported now, exit 4 at the end.
    fn store_failed(&mut self, error: StoreError) {
        eprint!("{}", Error::Store(error).report(self.verbose));
        self.code = self.code.max(exit::STORE);
    }

    /// The portal could not be told: reported now, exit 1 at the end unless worse happens.
    fn provider_failed(&mut self, error: ProviderError) {
        let error = Error::Provider(error);
        let code = error.exit_code();
        eprint!("{}", error.report(self.verbose));
        self.code = self.code.max(code);
    }

    /// Removes from `store` the items `choose` picks among its listed entries. The first failure
    /// is reported for the store, and the rest of that store is left alone.
    fn remove(&mut self, store: &CredentialStore, choose: impl FnOnce(&[EntryKey]) -> Vec<Item>) {
        let existing = match store.entries() {
            Ok(existing) => existing,
            Err(error) => return self.store_failed(error),
        };
        let place = format!("the `{}` store", store.kind());
        for item in choose(&existing) {
            if !self.dry_run
                && let Err(error) = store.delete(&item.key)
            {
                return self.store_failed(error);
            }
            self.removed(&item.what, &place);
        }
    }

    /// Removes the key of the role credentials `store` keeps in a runtime directory this process
    /// cannot see, and so cannot list (a `logout` from cron, `su` or a container): without it
    /// they can be read nowhere. Other realms' credentials sealed there are fetched again. The
    /// key is no entry of the user's: it is removed without a line of its own (the same key is
    /// left by any earlier run of this user, so a line would follow every `logout`).
    fn forget_unseen_role_credentials(&mut self, store: &CredentialStore) {
        if self.dry_run {
            return;
        }
        match store.role_tier_key_unseen() {
            Ok(false) => {}
            Ok(true) => match store.forget_role_tier_key() {
                Ok(()) => tracing::info!(
                    "removed the key of the role credentials cached in a runtime directory this \
                     run cannot see"
                ),
                Err(error) => self.store_failed(error),
            },
            Err(error) => self.store_failed(error),
        }
    }

    /// Removes every file of the cache subdirectory `name` (each one `what`), if it exists.
    fn remove_cache(&mut self, name: &str, what: &str) {
        let Ok(root) = crate::paths::cache_dir() else {
            return;
        };
        if !root.join(name).is_dir() {
            return;
        }
        let files = crate::paths::cache_subdir_named(name).and_then(|dir| dir.files());
        let failed = |error: std::io::Error| Error::Write {
            path: root.join(name).display().to_string(),
            source: error,
        };
        let files = match files {
            Ok(files) => files,
            Err(error) => return self.cache_failed(failed(error)),
        };
        for file in files {
            let path = file.path().display().to_string();
            if !self.dry_run
                && let Err(error) = file.remove()
            {
                return self.cache_failed(failed(error));
            }
            self.removed(what, &format!("`{}`", crate::text::printable(&path)));
        }
    }

    fn cache_failed(&mut self, error: Error) {
        eprint!("{}", error.report(self.verbose));
        self.code = self.code.max(error.exit_code());
    }

    /// Prints what was (or would be) removed, or "nothing to remove", and returns the exit code.
    fn finish(self) -> Result<i32, Error> {
        if self.lines.is_empty() {
            if self.code == exit::SUCCESS {
                print(b"nothing to remove\n")?;
            }
        } else {
            print(self.lines.as_bytes())?;
        }
        Ok(self.code)
    }
}
