//! The atmos schema: walks the merged `Node` tree with a `Validator` and builds the typed
//! `accounts:`, `description:` and `auth:` sections.
//!
//! Top-level sections other than these (`stacks`, `components`, `settings`, ...) are ignored,
//! so the `atmos.yaml` of an existing Atmos repository loads. Inside `auth:` every key is
//! checked. Provider and identity kinds are dispatched on their `kind:` word; a new kind is a
//! new arm and a new function here.

use std::collections::BTreeMap;

use super::node::{Entry, Node, ScalarKind, Value};
use super::validator::{Fields, Validator, did_you_mean, quoted_list};
use super::{
    AccountId, AccountRef, AuthConfig, Identity, IdentityCenter, IdentityKind, Location, Provider,
    ProviderKind,
};
use crate::store::StoreKind;

/// YAML key names, kept in one place.
mod key {
    pub const ACCOUNTS: &str = "accounts";
    pub const AUTH: &str = "auth";
    pub const DESCRIPTION: &str = "description";
}

const AUTH_FIELDS: [&str; 4] = ["keyring", "refresh_margin", "providers", "identities"];
const IDENTITY_CENTER_FIELDS: [&str; 6] = [
    "kind",
    "region",
    "start_url",
    "auto_provision_identities",
    "session",
    "spec",
];
const PERMISSION_SET_FIELDS: [&str; 6] = ["kind", "default", "alias", "via", "principal", "env"];

/// An alias as written, for the collision check once all identities are read.
pub(crate) struct Alias {
    alias: String,
    location: Location,
    identity: String,
}

/// The sections of a file this program reads, before they are put into a `Config`.
#[derive(Default)]
pub(crate) struct Document {
    pub description: Option<String>,
    pub accounts: BTreeMap<String, AccountId>,
    pub auth: AuthConfig,
}

impl Validator<'_> {
    pub fn document(&mut self, root: &Node) -> Document {
        let mut document = Document::default();
        let Value::Mapping(entries) = &root.value else {
            self.report(
                &root.location,
                format!(
                    "the top level of the file must be a mapping, found {}",
                    root.type_name()
                ),
                None,
            );
            return document;
        };
        // Only the sections read here are checked for duplicates; other tools own the rest.
        for name in [key::ACCOUNTS, key::AUTH, key::DESCRIPTION] {
            let mut matching = entries.iter().filter(|entry| entry.key == name);
            let first = matching.next();
            for duplicate in matching {
                let first = first
                    .map(|first| first.key_location.to_string())
                    .unwrap_or_default();
                let hint = format!("`{name}` is first defined at {first}; merge the two sections");
                self.report(
                    &duplicate.key_location,
                    format!("duplicate top-level key `{name}`"),
                    Some(hint),
                );
            }
        }
        if let Some(node) = root
            .get(key::DESCRIPTION)
            .map(|entry| &entry.value)
            .filter(|node| !node.is_null())
        {
            document.description = self.string(node, key::DESCRIPTION);
        }
        if let Some(entry) = root.get(key::ACCOUNTS) {
            self.scan_forbidden(&entry.value, key::ACCOUNTS);
            document.accounts = self.accounts(&entry.value);
        }
        if let Some(entry) = root.get(key::AUTH) {
            document.auth = self.auth(entry, &document.accounts);
        }
        document
    }

    fn accounts(&mut self, node: &Node) -> BTreeMap<String, AccountId> {
        let mut accounts = BTreeMap::new();
        for entry in self.entries(node, key::ACCOUNTS).unwrap_or_default() {
            let path = format!("{}.{}", key::ACCOUNTS, entry.key);
            if let Some(id) = self.account_id(&entry.value, &path) {
                accounts.insert(entry.key.clone(), id);
            }
        }
        accounts
    }

    /// A 12-digit id written as a string. A bare number is refused even when its digits are
    /// right, because YAML drops leading zeros from numbers and the mistake would recur.
    fn account_id(&mut self, node: &Node, path: &str) -> Option<AccountId> {
        match &node.value {
            Value::Scalar(scalar) if scalar.kind() == ScalarKind::Integer => {
                let message = format!(
                    "account id `{}` for `{path}` must be a quoted string",
                    scalar.text
                );
                self.report(&node.location, message, Some(format!("write `\"{}\"`: YAML reads a bare number as an integer and drops leading zeros", scalar.text)));
                None
            }
            _ => {
                let text = self.string(node, path)?;
                match text.parse::<AccountId>() {
                    Ok(id) => Some(id),
                    Err(error) => {
                        self.report(
                            &node.location,
                            format!("invalid account id for `{path}`: {error}"),
                            Some(
                                "copy the id from the AWS console, e.g. `\"111111111111\"`"
                                    .to_owned(),
                            ),
                        );
                        None
                    }
                }
            }
        }
    }

    fn auth(&mut self, entry: &Entry, accounts: &BTreeMap<String, AccountId>) -> AuthConfig {
        let mut auth = AuthConfig::default();
        self.scan_forbidden(&entry.value, key::AUTH);
        let Some(fields) = self.fields(&entry.value, key::AUTH, &entry.key_location, &AUTH_FIELDS)
        else {
            return auth;
        };
        if let Some(node) = fields.get("keyring") {
            let keyring_owner = fields.key_location("keyring");
            auth.keyring = self.keyring(node, &keyring_owner);
        }
        if let Some(node) = fields.get("refresh_margin") {
            auth.refresh_margin = self.duration(node, &fields.path_of("refresh_margin"));
        }
        let provider_entries = match fields.get("providers") {
            Some(node) => self.entries(node, "auth.providers").unwrap_or_default(),
            None => Vec::new(),
        };
        // Every named provider counts as defined, even one with errors, so that an identity
        // using it is not also reported as pointing at an unknown provider.
        let provider_names: Vec<&str> = provider_entries
            .iter()
            .map(|entry| entry.key.as_str())
            .collect();
        for entry in &provider_entries {
            if let Some(provider) = self.provider(entry) {
                auth.providers.insert(provider.name.clone(), provider);
            }
        }
        let identity_entries = match fields.get("identities") {
            Some(node) => self.entries(node, "auth.identities").unwrap_or_default(),
            None => Vec::new(),
        };
        let mut aliases = Vec::new();
        for entry in &identity_entries {
            if let Some(identity) = self.identity(entry, &provider_names, accounts, &mut aliases) {
                auth.identities.insert(identity.name.clone(), identity);
            }
        }
        self.alias_collisions(&aliases, &identity_entries);
        auth
    }

    /// The word is checked here, where its position is known; whether that store works on
    /// this machine is the store layer's business.
    fn keyring(&mut self, node: &Node, owner: &Location) -> Option<StoreKind> {
        let fields = self.fields(node, "auth.keyring", owner, &["type"])?;
        let node = self.required(&fields, "type", "type: system")?;
        let word = self.string(node, "auth.keyring.type")?;
        if let Ok(kind) = word.parse() {
            return Some(kind);
        }
        let names = StoreKind::ALL.map(StoreKind::as_str);
        let hint = did_you_mean(&word, names)
            .unwrap_or_else(|| format!("supported types: {}", quoted_list(names)));
        self.report(
            &node.location,
            format!("unknown keyring type `{word}` in `auth.keyring.type`"),
            Some(hint),
        );
        None
    }

    fn provider(&mut self, entry: &Entry) -> Option<Provider> {
        let path = format!("auth.providers.{}", entry.key);
        let named = self.name(&entry.key, &entry.key_location, "provider name");
        let kind = self.kind(entry, &path, &ProviderKind::NAMES)?;
        let kind = match kind.as_str() {
            IdentityCenter::KIND => {
                ProviderKind::IdentityCenter(self.identity_center(entry, &path)?)
            }
            _ => return None,
        };
        named.then(|| Provider {
            name: entry.key.clone(),
            kind,
            location: entry.key_location.clone(),
        })
    }

    /// Reads `kind:` and checks it against `supported`; the caller reads the other fields only
    /// when the kind is known, since which fields are valid depends on it.
    fn kind(&mut self, entry: &Entry, path: &str, supported: &[&str]) -> Option<String> {
        let Value::Mapping(_) = &entry.value.value else {
            self.wrong_type(&entry.value, path, "a mapping");
            return None;
        };
        let Some(node) = entry
            .value
            .get("kind")
            .map(|kind| &kind.value)
            .filter(|node| !node.is_null())
        else {
            let hint = format!(
                "add `kind:` with one of {}",
                quoted_list(supported.iter().copied())
            );
            self.report(
                &entry.key_location,
                format!("missing required field `kind` in `{path}`"),
                Some(hint),
            );
            return None;
        };
        let word = self.string(node, &format!("{path}.kind"))?;
        if supported.contains(&word.as_str()) {
            return Some(word);
        }
        let hint = did_you_mean(&word, supported.iter().copied()).unwrap_or_else(|| {
            format!(
                "supported kinds: {}",
                quoted_list(supported.iter().copied())
            )
        });
        self.report(
            &node.location,
            format!("unknown kind `{word}` for `{path}`"),
            Some(hint),
        );
        None
    }

    fn identity_center(&mut self, entry: &Entry, path: &str) -> Option<IdentityCenter> {
        let fields = self.fields(
            &entry.value,
            path,
            &entry.key_location,
            &IDENTITY_CENTER_FIELDS,
        )?;
        let region = self
            .required(&fields, "region", "region: us-east-1")
            .and_then(|node| self.region(node, &fields.path_of("region")));
        let start_url = self
            .required(
                &fields,
                "start_url",
                "start_url: https://<org>.awsapps.com/start",
            )
            .and_then(|node| self.url(node, &fields.path_of("start_url")));
        let auto_provision_identities = match fields.get("auto_provision_identities") {
            Some(node) => self.bool(node, &fields.path_of("auto_provision_identities")),
            None => Some(false),
        };
        let mut session_duration = Ok(None);
        if let Some(node) = fields.get("session") {
            let session = self.fields(
                node,
                &fields.path_of("session"),
                &fields.key_location("session"),
                &["duration"],
            );
            if let Some(node) = session.as_ref().and_then(|session| session.get("duration")) {
                session_duration = self
                    .duration(node, &format!("{path}.session.duration"))
                    .map(Some)
                    .ok_or(());
            }
        }
        let mut endpoint_url = Ok(None);
        if let Some(node) = fields.get("spec") {
            let spec = self.fields(
                node,
                &fields.path_of("spec"),
                &fields.key_location("spec"),
                &["endpoint_url"],
            );
            if let Some(node) = spec.as_ref().and_then(|spec| spec.get("endpoint_url")) {
                endpoint_url = self
                    .url(node, &format!("{path}.spec.endpoint_url"))
                    .map(Some)
                    .ok_or(());
            }
        }
        Some(IdentityCenter {
            region: region?,
            start_url: start_url?,
            session_duration: session_duration.ok()?,
            endpoint_url: endpoint_url.ok()?,
            auto_provision_identities: auto_provision_identities?,
        })
    }

    /// A region name is checked only for its alphabet: new regions appear every year.
    fn region(&mut self, node: &Node, path: &str) -> Option<String> {
        let region = self.string(node, path)?;
        if !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Some(region);
        }
        self.report(
            &node.location,
            format!("invalid AWS region `{region}` for `{path}`"),
            Some("use a region code such as `us-east-1`".to_owned()),
        );
        None
    }

    /// Reads one identity. Its alias is added to `aliases` even when something else about the
    /// identity is wrong, so that collisions are reported in the same run.
    fn identity(
        &mut self,
        entry: &Entry,
        providers: &[&str],
        accounts: &BTreeMap<String, AccountId>,
        aliases: &mut Vec<Alias>,
    ) -> Option<Identity> {
        let path = format!("auth.identities.{}", entry.key);
        let named = self.name(&entry.key, &entry.key_location, "identity name");
        // Which fields are valid depends on the kind, so they are read only once it is known.
        let (fields, kind) = match self.kind(entry, &path, &IdentityKind::NAMES)?.as_str() {
            IdentityKind::PERMISSION_SET => {
                let fields = self.fields(
                    &entry.value,
                    &path,
                    &entry.key_location,
                    &PERMISSION_SET_FIELDS,
                )?;
                let kind = self.permission_set(&fields, providers, accounts);
                (fields, kind)
            }
            _ => return None,
        };
        let default = match fields.get("default") {
            Some(node) => self.bool(node, &fields.path_of("default")),
            None => Some(false),
        };
        let alias = match fields.get("alias") {
            Some(node) => match self.string(node, &fields.path_of("alias")) {
                Some(alias) if self.name(&alias, &node.location, "alias") => {
                    aliases.push(Alias {
                        alias: alias.clone(),
                        location: node.location.clone(),
                        identity: entry.key.clone(),
                    });
                    Ok(Some(alias))
                }
                _ => Err(()),
            },
            None => Ok(None),
        };
        let env = match fields.get("env") {
            Some(node) => self.env(node, &fields.path_of("env")),
            None => Some(BTreeMap::new()),
        };
        let identity = Identity {
            name: entry.key.clone(),
            kind: kind?,
            default: default?,
            alias: alias.ok()?,
            env: env?,
            location: entry.key_location.clone(),
        };
        named.then_some(identity)
    }

    fn permission_set(
        &mut self,
        fields: &Fields<'_>,
        providers: &[&str],
        accounts: &BTreeMap<String, AccountId>,
    ) -> Option<IdentityKind> {
        let via = self.required(fields, "via", "via: { provider: <name> }");
        let via = via.and_then(|node| {
            self.fields(
                node,
                &fields.path_of("via"),
                &fields.key_location("via"),
                &["provider"],
            )
        });
        let provider = via.as_ref().and_then(|via| {
            let node = self.required(via, "provider", "provider: <name>")?;
            let name = self.string(node, &via.path_of("provider"))?;
            if providers.contains(&name.as_str()) {
                return Some(name);
            }
            let hint = if providers.is_empty() {
                "no providers are defined; add one under `auth.providers`".to_owned()
            } else {
                did_you_mean(&name, providers.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "defined providers: {}",
                        quoted_list(providers.iter().copied())
                    )
                })
            };
            self.report(
                &node.location,
                format!("unknown provider `{name}` in `{}`", via.path_of("provider")),
                Some(hint),
            );
            None
        });
        let principal = self.required(
            fields,
            "principal",
            "principal: { name: <permission set>, account: { name: <account> } }",
        );
        let principal = principal.and_then(|node| {
            self.fields(
                node,
                &fields.path_of("principal"),
                &fields.key_location("principal"),
                &["name", "account"],
            )
        });
        let (permission_set, account) = match &principal {
            Some(principal) => {
                let name = self
                    .required(principal, "name", "name: <permission set>")
                    .and_then(|node| self.string(node, &principal.path_of("name")));
                let account = self
                    .required(principal, "account", "account: { name: <account> }")
                    .and_then(|node| self.account_ref(node, principal, accounts));
                (name, account)
            }
            None => (None, None),
        };
        Some(IdentityKind::PermissionSet {
            provider: provider?,
            permission_set: permission_set?,
            account: account?,
        })
    }

    /// `account: { name: plat-dev }` or `account: { id: "111111111111" }`, exactly one of them.
    fn account_ref(
        &mut self,
        node: &Node,
        principal: &Fields<'_>,
        accounts: &BTreeMap<String, AccountId>,
    ) -> Option<AccountRef> {
        let path = principal.path_of("account");
        let fields = self.fields(
            node,
            &path,
            &principal.key_location("account"),
            &["name", "id"],
        )?;
        match (fields.get("name"), fields.get("id")) {
            (Some(name), None) => {
                let name = self.string(name, &fields.path_of("name"))?;
                // A name missing from `accounts:` is resolved later through the SSO portal.
                Some(match accounts.get(&name) {
                    Some(id) => AccountRef::Id(id.clone()),
                    None => AccountRef::Name(name),
                })
            }
            (None, Some(id)) => self
                .account_id(id, &fields.path_of("id"))
                .map(AccountRef::Id),
            (Some(_), Some(id)) => {
                self.report(
                    &id.location,
                    format!("`{path}` sets both `name` and `id`"),
                    Some("keep only one of them".to_owned()),
                );
                None
            }
            (None, None) => {
                let hint = "add `name: <account name>` or `id: \"<12-digit id>\"`".to_owned();
                self.report(
                    &fields.owner,
                    format!("`{path}` needs a `name` or an `id`"),
                    Some(hint),
                );
                None
            }
        }
    }

    fn env(&mut self, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
        let mut env = BTreeMap::new();
        let mut valid = true;
        for entry in self.entries(node, path)? {
            let name_ok = entry
                .key
                .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && entry
                    .key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !name_ok {
                self.report(
                    &entry.key_location,
                    format!(
                        "invalid environment variable name `{}` in `{path}`",
                        entry.key
                    ),
                    Some("use letters, digits and `_`, not starting with a digit".to_owned()),
                );
            }
            match self.text(&entry.value, &format!("{path}.{}", entry.key)) {
                Some(value) if name_ok => {
                    env.insert(entry.key.clone(), value);
                }
                _ => valid = false,
            }
        }
        valid.then_some(env)
    }

    /// An alias must not equal another identity's name or another identity's alias.
    fn alias_collisions(&mut self, aliases: &[Alias], identities: &[&Entry]) {
        for (
            index,
            Alias {
                alias,
                location,
                identity: owner,
            },
        ) in aliases.iter().enumerate()
        {
            if let Some(other) = identities
                .iter()
                .find(|entry| entry.key == *alias && entry.key != *owner)
            {
                let hint = format!(
                    "identity `{}` is defined at {}; choose another alias",
                    other.key, other.key_location
                );
                self.report(
                    location,
                    format!(
                        "alias `{alias}` of identity `{owner}` is the name of another identity"
                    ),
                    Some(hint),
                );
            }
            if let Some(Alias {
                location: first,
                identity: other,
                ..
            }) = aliases[..index]
                .iter()
                .find(|earlier| earlier.alias == *alias)
            {
                let hint = format!("identity `{other}` uses it at {first}; choose another alias");
                self.report(
                    location,
                    format!("alias `{alias}` of identity `{owner}` is already used"),
                    Some(hint),
                );
            }
        }
    }
}
