//! The atmos schema: walks the merged `Node` tree with a `Validator` and builds the typed
//! `accounts:`, `description:` and `auth:` sections, with the providers.
//!
//! Top-level sections other than these (`stacks`, `components`, `settings`, ...) are ignored,
//! so the `atmos.yaml` of an existing Atmos repository loads. Inside `auth:` every key is
//! checked. Provider kinds are dispatched on their `kind:` word; a new kind is a new arm and a
//! new function here. Identities are read by `identity_schema.rs`, and the checks that need
//! all of them at once run at the end of `auth`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::duration;
use super::identity_schema::{Collected, Referents};
use super::node::{Entry, Node, ScalarKind, Value};
use super::validator::{Fields, Validator, did_you_mean, quoted_list};
use super::{
    AccountId, AuthConfig, ExecCredentials, GithubOidc, IdentityCenter, Location, LoginMethod,
    Provider, ProviderKind,
};
use crate::store::StoreKind;

/// YAML key names, kept in one place.
mod key {
    pub const ACCOUNTS: &str = "accounts";
    pub const AUTH: &str = "auth";
    pub const DESCRIPTION: &str = "description";
}

const AUTH_FIELDS: [&str; 6] = [
    "keyring",
    "refresh_margin",
    "exec",
    "providers",
    "identities",
    "realm",
];
const IDENTITY_CENTER_FIELDS: [&str; 8] = [
    "kind",
    "region",
    "start_url",
    "auto_provision_identities",
    "login",
    "session",
    "spec",
    "tags",
];
const GITHUB_OIDC_FIELDS: [&str; 4] = ["kind", "region", "spec", "tags"];

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
    pub fn account_id(&mut self, node: &Node, path: &str) -> Option<AccountId> {
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

    /// `auth.realm`: a name that namespaces every stored entry and cache file.
    fn realm(&mut self, node: &Node) -> Option<String> {
        let name = self.string(node, "auth.realm")?;
        match crate::realm::realm_problem(&name) {
            None => Some(name),
            Some(problem) => {
                let message = format!(
                    "invalid realm `{}` for `auth.realm`: it {problem}",
                    crate::text::printable(&name)
                );
                let hint = "a realm is 1 to 64 of `a-z`, `0-9`, `-`, `_`, starting and ending with a letter or digit";
                self.report(&node.location, message, Some(hint.to_owned()));
                None
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
            (auth.keyring, auth.keyring_path) = self.keyring(node, &keyring_owner);
        }
        if let Some(node) = fields.get("realm") {
            auth.realm = self.realm(node);
        }
        if let Some(node) = fields.get("refresh_margin") {
            auth.refresh_margin = self.duration(
                node,
                &fields.path_of("refresh_margin"),
                duration::REFRESH_MARGIN,
                "credentials are renewed when less than this is left, and role sessions last at most 12 hours",
            );
        }
        if let Some(node) = fields.get("exec") {
            auth.exec_credentials = self.exec(node, &fields.key_location("exec"));
        }
        let provider_entries = match fields.get("providers") {
            Some(node) => self.entries(node, "auth.providers").unwrap_or_default(),
            None => Vec::new(),
        };
        // Every named provider and identity counts as defined, even one with errors, so that
        // a reference to it is not also reported as unknown.
        let mut providers = Vec::with_capacity(provider_entries.len());
        for entry in &provider_entries {
            let (kind, provider) = self.provider(entry);
            providers.push((entry.key.as_str(), kind));
            if let Some(provider) = provider {
                auth.providers.insert(provider.name.clone(), provider);
            }
        }
        let identity_entries = match fields.get("identities") {
            Some(node) => self.entries(node, "auth.identities").unwrap_or_default(),
            None => Vec::new(),
        };
        let referents = Referents {
            providers,
            identities: identity_entries
                .iter()
                .map(|entry| entry.key.as_str())
                .collect(),
            accounts,
        };
        let mut collected = Collected::default();
        for entry in &identity_entries {
            if let Some(identity) = self.identity(entry, &referents, &mut collected) {
                auth.identities.insert(identity.name.clone(), identity);
            }
        }
        self.case_collisions(&identity_entries);
        self.alias_collisions(&collected.aliases, &identity_entries);
        self.cycles(&collected.links);
        auth
    }

    /// The word is checked here, where its position is known; whether that store works on
    /// this machine is the store layer's business.
    fn keyring(&mut self, node: &Node, owner: &Location) -> (Option<StoreKind>, Option<PathBuf>) {
        let Some(fields) = self.fields(node, "auth.keyring", owner, &["type", "spec"]) else {
            return (None, None);
        };
        let path = fields.get("spec").and_then(|spec| {
            let spec_fields = self.fields(
                spec,
                "auth.keyring.spec",
                &fields.key_location("spec"),
                &["path"],
            )?;
            let path = self.string(spec_fields.get("path")?, "auth.keyring.spec.path")?;
            Some(PathBuf::from(path))
        });
        (self.keyring_type(&fields), path)
    }

    /// `exec:` holds the default for `exec` and `shell`: `credentials: env | server`.
    fn exec(&mut self, node: &Node, owner: &Location) -> Option<ExecCredentials> {
        let fields = self.fields(node, "auth.exec", owner, &["credentials"])?;
        let node = fields.get("credentials")?;
        let word = self.string(node, "auth.exec.credentials")?;
        if let Some(credentials) = ExecCredentials::parse(&word) {
            return Some(credentials);
        }
        let names = ExecCredentials::NAMES;
        let hint = did_you_mean(&word, names).unwrap_or_else(|| {
            format!(
                "`env` gives the command static keys, `server` a local endpoint that refreshes \
                 them; supported: {}",
                quoted_list(names)
            )
        });
        self.report(
            &node.location,
            format!("unknown value `{word}` for `auth.exec.credentials`"),
            Some(hint),
        );
        None
    }

    fn keyring_type(&mut self, fields: &Fields<'_>) -> Option<StoreKind> {
        let node = self.required(fields, "type", "type: system")?;
        let word = self.string(node, "auth.keyring.type")?;
        if let Ok(kind) = word.parse() {
            return Some(kind);
        }
        let names = StoreKind::names();
        let hint = did_you_mean(&word, names)
            .unwrap_or_else(|| format!("supported types: {}", quoted_list(names)));
        self.report(
            &node.location,
            format!("unknown keyring type `{word}` in `auth.keyring.type`"),
            Some(hint),
        );
        None
    }

    /// Reads one provider. Its `kind:` word is returned whenever it is valid, even if other
    /// fields are not, so that identities using the provider can still be checked against it.
    fn provider(&mut self, entry: &Entry) -> (Option<&'static str>, Option<Provider>) {
        let path = format!("auth.providers.{}", entry.key);
        let named = self.name(&entry.key, &entry.key_location, "provider name");
        let Some(word) = self.kind(entry, &path, &ProviderKind::NAMES) else {
            return (None, None);
        };
        let kind = match word {
            IdentityCenter::KIND => self
                .identity_center(entry, &path)
                .map(ProviderKind::IdentityCenter),
            GithubOidc::KIND => self.github_oidc(entry, &path).map(ProviderKind::GithubOidc),
            _ => None,
        };
        // The kind's reader has checked the field names; `tags` is read the same for each.
        let tags = match &entry.value.value {
            Value::Mapping(entries) => match entries
                .iter()
                .find(|field| field.key == "tags" && !field.value.is_null())
            {
                Some(field) => self.tags(&field.value, &format!("{path}.tags")),
                None => Some(Default::default()),
            },
            _ => None,
        };
        let provider = kind
            .zip(tags)
            .filter(|_| named)
            .map(|(kind, tags)| Provider {
                name: entry.key.clone(),
                kind,
                tags,
                location: entry.key_location.clone(),
            });
        (Some(word), provider)
    }

    /// Reads `kind:` and checks it against `supported`, returning the matching word; the
    /// caller reads the other fields only when the kind is known, since which fields are valid
    /// depends on it.
    pub fn kind(
        &mut self,
        entry: &Entry,
        path: &str,
        supported: &[&'static str],
    ) -> Option<&'static str> {
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
        if let Some(known) = supported.iter().find(|known| **known == word) {
            return Some(known);
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
        let login = match fields.get("login") {
            Some(node) => self.login_method(node, &fields.path_of("login")),
            None => Some(LoginMethod::default()),
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
                    .duration(
                        node,
                        &format!("{path}.session.duration"),
                        duration::SSO_SESSION,
                        "IAM Identity Center sessions last 15 minutes to 90 days",
                    )
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
                    .endpoint_url(node, &format!("{path}.spec.endpoint_url"))
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
            login: login?,
        })
    }

    /// `login: browser | device-code`.
    fn login_method(&mut self, node: &Node, path: &str) -> Option<LoginMethod> {
        let word = self.string(node, path)?;
        match word.as_str() {
            "browser" => return Some(LoginMethod::Browser),
            "device-code" => return Some(LoginMethod::DeviceCode),
            _ => {}
        }
        let hint = did_you_mean(&word, LoginMethod::NAMES)
            .unwrap_or_else(|| format!("use one of {}", quoted_list(LoginMethod::NAMES)));
        self.report(
            &node.location,
            format!("unknown login method `{word}` for `{path}`"),
            Some(hint),
        );
        None
    }

    fn github_oidc(&mut self, entry: &Entry, path: &str) -> Option<GithubOidc> {
        let fields = self.fields(&entry.value, path, &entry.key_location, &GITHUB_OIDC_FIELDS)?;
        let region = self.optional(&fields, "region", Self::region);
        let mut audience = Some(GithubOidc::DEFAULT_AUDIENCE.to_owned());
        if let Some(node) = fields.get("spec") {
            let spec = self.fields(
                node,
                &fields.path_of("spec"),
                &fields.key_location("spec"),
                &["audience"],
            );
            if let Some(node) = spec.as_ref().and_then(|spec| spec.get("audience")) {
                audience = self.audience(node, &format!("{path}.spec.audience"));
            }
        }
        Some(GithubOidc {
            region: region?,
            audience: audience?,
        })
    }

    fn audience(&mut self, node: &Node, path: &str) -> Option<String> {
        let audience = self.string(node, path)?;
        if !audience.trim().is_empty() {
            return Some(audience);
        }
        let hint = format!(
            "remove it to use `{}`, or give the audience your AWS IAM OIDC provider expects",
            GithubOidc::DEFAULT_AUDIENCE
        );
        self.report(
            &node.location,
            format!("`{path}` must not be empty"),
            Some(hint),
        );
        None
    }

    /// A region name is checked only for its alphabet: new regions appear every year.
    pub fn region(&mut self, node: &Node, path: &str) -> Option<String> {
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
}
