//! The identity half of the atmos schema: reads each entry of `auth.identities` into an
//! `Identity`, dispatching on its `kind:`.
//!
//! References are checked here as far as one identity can check them: `via.provider` must name
//! a provider of the kind the identity needs, and `via.identity` a defined identity. Checks
//! that need every identity run once all are read: alias collisions here, cycles in
//! `identity_graph.rs`.

use std::collections::BTreeMap;

use super::duration;
use super::iam_arn::{self, IamResource};
use super::identity_graph::Link;
use super::node::{Entry, Node};
use super::validator::{Fields, Validator, did_you_mean, quoted_list};
use super::{
    AccountId, AccountRef, GithubOidc, Identity, IdentityCenter, IdentityKind, Location,
    ProcessCommand, Via,
};

/// The fields of each kind, in the order hints list them.
const VIA_FIELDS: [&str; 8] = [
    "kind",
    "default",
    "alias",
    "via",
    "principal",
    "env",
    "region",
    "tags",
];
const USER_FIELDS: [&str; 7] = [
    "kind",
    "default",
    "alias",
    "principal",
    "env",
    "region",
    "tags",
];
const CREDENTIAL_PROCESS_FIELDS: [&str; 7] =
    ["kind", "default", "alias", "spec", "env", "region", "tags"];

/// What identities may refer to. Every provider and identity named in the files is listed,
/// even one with errors, so that a reference to it is not also reported as unknown.
pub(crate) struct Referents<'a> {
    /// Provider names, with their `kind:` word when that was valid.
    pub providers: Vec<(&'a str, Option<&'static str>)>,
    pub identities: Vec<&'a str>,
    pub accounts: &'a BTreeMap<String, AccountId>,
}

/// What reading the identities gathers for the checks that need all of them.
#[derive(Default)]
pub(crate) struct Collected {
    pub aliases: Vec<Alias>,
    /// Every valid `via.identity` reference, in file order.
    pub links: Vec<Link>,
}

/// An alias as written, for the collision check once all identities are read.
pub(crate) struct Alias {
    alias: String,
    location: Location,
    identity: String,
}

impl Validator<'_> {
    /// Reads one identity. Its alias and `via.identity` are collected even when something else
    /// about the identity is wrong, so that collisions and cycles are reported in the same run.
    pub fn identity(
        &mut self,
        entry: &Entry,
        referents: &Referents<'_>,
        collected: &mut Collected,
    ) -> Option<Identity> {
        let path = format!("auth.identities.{}", entry.key);
        let named = self.identity_name(&entry.key, &entry.key_location, "identity name");
        // Which fields are valid depends on the kind, so they are read only once it is known.
        let word = self.kind(entry, &path, &IdentityKind::NAMES)?;
        let (known, refused): (&[&str], &[&str]) = match word {
            IdentityKind::PERMISSION_SET | IdentityKind::ASSUME_ROLE => (&VIA_FIELDS, &[]),
            IdentityKind::USER => (&USER_FIELDS, &["via"]),
            IdentityKind::CREDENTIAL_PROCESS => (&CREDENTIAL_PROCESS_FIELDS, &["via"]),
            _ => return None, // `kind` returns only words of `NAMES`
        };
        let fields =
            self.fields_refusing(&entry.value, &path, &entry.key_location, known, refused)?;
        if !refused.is_empty() && fields.get("via").is_some() {
            self.no_via(&fields, word);
        }
        let kind = match word {
            IdentityKind::PERMISSION_SET => self.permission_set(&fields, referents),
            IdentityKind::ASSUME_ROLE => {
                self.assume_role(&fields, &entry.key, referents, &mut collected.links)
            }
            IdentityKind::USER => self.user(&fields),
            _ => self.credential_process(&fields),
        };
        let default = match fields.get("default") {
            Some(node) => self.bool(node, &fields.path_of("default")),
            None => Some(false),
        };
        let alias = match fields.get("alias") {
            Some(node) => match self.string(node, &fields.path_of("alias")) {
                Some(alias) if self.identity_name(&alias, &node.location, "alias") => {
                    collected.aliases.push(Alias {
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
        let region = self.optional(&fields, "region", Self::region);
        let tags = match fields.get("tags") {
            Some(node) => self.tags(node, &fields.path_of("tags")),
            None => Some(Default::default()),
        };
        let identity = Identity {
            name: entry.key.clone(),
            kind: kind?,
            default: default?,
            alias: alias.ok()?,
            env: env?,
            region: region?,
            tags: tags?,
            location: entry.key_location.clone(),
        };
        named.then_some(identity)
    }

    /// `aws/user` and `credential_process` identities start a chain: they get their
    /// credentials themselves, never through something else.
    fn no_via(&mut self, fields: &Fields<'_>, kind: &str) {
        let source = if kind == IdentityKind::USER {
            "an `aws/user` identity signs in with its own access key, kept in the credential store"
        } else {
            "a `credential_process` identity gets its credentials from its program"
        };
        self.report(
            &fields.key_location("via"),
            format!(
                "`{}` is not allowed: `{kind}` identities take no `via`",
                fields.path_of("via")
            ),
            Some(format!("remove it; {source}")),
        );
    }

    fn permission_set(
        &mut self,
        fields: &Fields<'_>,
        referents: &Referents<'_>,
    ) -> Option<IdentityKind> {
        let via = self.required(fields, "via", "via: { provider: <name> }");
        // `identity` is accepted here only to be refused with a pointer to `aws/assume-role`.
        let via = via.and_then(|node| {
            self.fields_refusing(
                node,
                &fields.path_of("via"),
                &fields.key_location("via"),
                &["provider"],
                &["identity"],
            )
        });
        let provider = via.as_ref().and_then(|via| {
            if via.get("identity").is_some() {
                let hint = "a permission set comes straight from an Identity Center provider; to start from another identity's credentials, use `kind: aws/assume-role` with `principal.assume_role`".to_owned();
                self.report(
                    &via.key_location("identity"),
                    format!(
                        "`{}` is not allowed: `{}` identities must use `via.provider`",
                        via.path_of("identity"),
                        IdentityKind::PERMISSION_SET
                    ),
                    Some(hint),
                );
                return None;
            }
            let node = self.required(via, "provider", "provider: <name>")?;
            let hint = "to assume a role with the GitHub OIDC token, use `kind: aws/assume-role`";
            self.provider_ref(
                node,
                &via.path_of("provider"),
                referents,
                (IdentityKind::PERMISSION_SET, IdentityCenter::KIND),
                hint,
            )
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
                    .and_then(|node| self.account_ref(node, principal, referents.accounts));
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

    /// A `via.provider` value: a defined provider of the kind `wanted.1` that identities of
    /// kind `wanted.0` need. `hint` says what to do instead when the kind is wrong.
    fn provider_ref(
        &mut self,
        node: &Node,
        path: &str,
        referents: &Referents<'_>,
        (identity_kind, provider_kind): (&str, &str),
        hint: &str,
    ) -> Option<String> {
        let name = self.string(node, path)?;
        let providers = || referents.providers.iter().map(|(name, _)| *name);
        match referents.providers.iter().find(|(known, _)| *known == name) {
            // A provider whose own `kind:` is invalid was reported already.
            Some((_, None)) => None,
            Some((_, Some(kind))) if *kind == provider_kind => Some(name),
            Some((_, Some(kind))) => {
                self.report(
                    &node.location,
                    format!("`{path}` names provider `{name}` of kind `{kind}`, but `{identity_kind}` identities need kind `{provider_kind}`"),
                    Some(hint.to_owned()),
                );
                None
            }
            None => {
                let hint = if referents.providers.is_empty() {
                    "no providers are defined; add one under `auth.providers`".to_owned()
                } else {
                    did_you_mean(&name, providers()).unwrap_or_else(|| {
                        format!("defined providers: {}", quoted_list(providers()))
                    })
                };
                self.report(
                    &node.location,
                    format!("unknown provider `{name}` in `{path}`"),
                    Some(hint),
                );
                None
            }
        }
    }

    /// A `via.identity` value: the name of a defined identity (any kind, itself included: the
    /// cycle check reports that).
    fn identity_ref(
        &mut self,
        node: &Node,
        path: &str,
        referents: &Referents<'_>,
    ) -> Option<String> {
        let name = self.string(node, path)?;
        if referents.identities.contains(&name.as_str()) {
            return Some(name);
        }
        let identities = || referents.identities.iter().copied();
        let hint = did_you_mean(&name, identities())
            .unwrap_or_else(|| format!("defined identities: {}", quoted_list(identities())));
        self.report(
            &node.location,
            format!("unknown identity `{name}` in `{path}`"),
            Some(hint),
        );
        None
    }

    fn assume_role(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        referents: &Referents<'_>,
        links: &mut Vec<Link>,
    ) -> Option<IdentityKind> {
        let via = self
            .required(
                fields,
                "via",
                "via: { identity: <name> }` or `via: { provider: <github/oidc provider> }",
            )
            .and_then(|node| {
                self.fields(
                    node,
                    &fields.path_of("via"),
                    &fields.key_location("via"),
                    &["provider", "identity"],
                )
            });
        let via = via.and_then(|via| match (via.get("provider"), via.get("identity")) {
            (Some(node), None) => {
                let hint = "use `kind: aws/permission-set` for an Identity Center permission set, or assume the role from a permission-set identity with `via.identity`";
                self.provider_ref(
                    node,
                    &via.path_of("provider"),
                    referents,
                    (IdentityKind::ASSUME_ROLE, GithubOidc::KIND),
                    hint,
                )
                .map(Via::Provider)
            }
            (None, Some(node)) => {
                let target = self.identity_ref(node, &via.path_of("identity"), referents)?;
                links.push(Link {
                    from: name.to_owned(),
                    to: target.clone(),
                    location: node.location.clone(),
                });
                Some(Via::Identity(target))
            }
            (Some(_), Some(_)) => {
                let hint = "keep `identity` to assume the role with another identity's credentials, or `provider` to use a `github/oidc` token".to_owned();
                self.report(
                    &via.owner,
                    format!("`{}` sets both `provider` and `identity`", via.path),
                    Some(hint),
                );
                None
            }
            (None, None) => {
                let hint = "add `identity: <identity to assume the role with>` or `provider: <github/oidc provider>`".to_owned();
                self.report(
                    &via.owner,
                    format!("`{}` needs a `provider` or an `identity`", via.path),
                    Some(hint),
                );
                None
            }
        });
        let principal = self
            .required(
                fields,
                "principal",
                "principal: { assume_role: arn:aws:iam::<account>:role/<name> }",
            )
            .and_then(|node| {
                self.fields(
                    node,
                    &fields.path_of("principal"),
                    &fields.key_location("principal"),
                    &["assume_role", "external_id", "session_name", "duration"],
                )
            })?;
        let role_arn = self
            .required(
                &principal,
                "assume_role",
                "assume_role: arn:aws:iam::<account>:role/<name>",
            )
            .and_then(|node| {
                self.iam_arn(node, &principal.path_of("assume_role"), IamResource::Role)
            });
        let external_id = self.optional(&principal, "external_id", Self::string);
        let session_name = self.optional(&principal, "session_name", Self::session_name);
        let duration = self.optional(&principal, "duration", |this, node, path| {
            this.duration(
                node,
                path,
                duration::ASSUME_ROLE_SESSION,
                "STS role sessions last 15 minutes to 12 hours, and the role's maximum session duration may be lower",
            )
        });
        Some(IdentityKind::AssumeRole {
            via: via?,
            role_arn: role_arn?,
            external_id: external_id?,
            session_name: session_name?,
            duration: duration?,
        })
    }

    fn user(&mut self, fields: &Fields<'_>) -> Option<IdentityKind> {
        let Some(node) = fields.get("principal") else {
            return Some(IdentityKind::User {
                mfa_arn: None,
                duration: None,
            });
        };
        let principal = self.fields(
            node,
            &fields.path_of("principal"),
            &fields.key_location("principal"),
            &["mfa_arn", "duration"],
        )?;
        let mfa_arn = self.optional(&principal, "mfa_arn", |this, node, path| {
            this.iam_arn(node, path, IamResource::Mfa)
        });
        let duration = self.optional(&principal, "duration", |this, node, path| {
            this.duration(
                node,
                path,
                duration::USER_SESSION,
                "STS sessions of IAM users last 15 minutes to 36 hours",
            )
        });
        Some(IdentityKind::User {
            mfa_arn: mfa_arn?,
            duration: duration?,
        })
    }

    fn credential_process(&mut self, fields: &Fields<'_>) -> Option<IdentityKind> {
        let node = self.required(fields, "spec", "spec: { command: <shell command> }")?;
        let spec = self.fields(
            node,
            &fields.path_of("spec"),
            &fields.key_location("spec"),
            &["command", "args", "timeout"],
        )?;
        let timeout = self.optional(&spec, "timeout", |this, node, path| {
            this.duration(
                node,
                path,
                duration::PROCESS_TIMEOUT,
                "the program is stopped, with everything it started, when it runs longer",
            )
        });
        let command = match (spec.get("command"), spec.get("args")) {
            (Some(node), None) => self
                .shell_command(node, &spec.path_of("command"))
                .map(ProcessCommand::Shell),
            (None, Some(node)) => self
                .process_args(node, &spec.path_of("args"))
                .map(ProcessCommand::Args),
            (Some(_), Some(_)) => {
                let hint = "keep `command` to run one string through the shell, or `args` to run the program directly".to_owned();
                self.report(
                    &spec.owner,
                    format!("`{}` sets both `command` and `args`", spec.path),
                    Some(hint),
                );
                None
            }
            (None, None) => {
                let hint = "add `command: <shell command>` or `args: [<program>, <argument>, ...]`"
                    .to_owned();
                self.report(
                    &spec.owner,
                    format!("`{}` needs a `command` or `args`", spec.path),
                    Some(hint),
                );
                None
            }
        };
        Some(IdentityKind::CredentialProcess {
            command: command?,
            timeout: timeout?,
        })
    }

    fn shell_command(&mut self, node: &Node, path: &str) -> Option<String> {
        let command = self.string(node, path)?;
        if !command.trim().is_empty() {
            return Some(command);
        }
        let hint =
            "give the command line that prints the credentials, such as `aws-vault export --format=json dev`"
                .to_owned();
        self.report(
            &node.location,
            format!("`{path}` must not be empty"),
            Some(hint),
        );
        None
    }

    /// A non-empty list whose first item, the program, is not empty. Items may be any scalar,
    /// as with `env:`, so `--duration, 3600` needs no quotes.
    fn process_args(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let items = self.list(node, path, "a list of strings")?;
        let args: Vec<Option<String>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.text(item, &format!("{path}[{i}]")))
            .collect();
        let args: Vec<String> = args.into_iter().collect::<Option<_>>()?;
        let hint = "give the program first, then its arguments, such as `[aws-vault, export, --format=json, dev]`".to_owned();
        match args.first() {
            None => {
                self.report(
                    &node.location,
                    format!("`{path}` must not be empty"),
                    Some(hint),
                );
                None
            }
            Some(program) if program.trim().is_empty() => {
                self.report(
                    &items[0].location,
                    format!("the program `{path}[0]` must not be empty"),
                    Some(hint),
                );
                None
            }
            Some(_) => Some(args),
        }
    }

    fn iam_arn(&mut self, node: &Node, path: &str, resource: IamResource) -> Option<String> {
        let text = self.string(node, path)?;
        match iam_arn::check(&text, resource) {
            Ok(()) => Some(text),
            Err(reason) => {
                self.report(
                    &node.location,
                    format!(
                        "invalid {} ARN `{text}` for `{path}`: {reason}",
                        resource.noun()
                    ),
                    Some(format!("use the form `{}`", resource.example())),
                );
                None
            }
        }
    }

    fn session_name(&mut self, node: &Node, path: &str) -> Option<String> {
        let name = self.string(node, path)?;
        if iam_arn::is_session_name(&name) {
            return Some(name);
        }
        let hint = "use 2 to 64 letters, digits or `+=,.@_-` (no spaces or `/`), such as `ci-deploy` or `alice@example.com`".to_owned();
        self.report(
            &node.location,
            format!("invalid role session name `{name}` for `{path}`"),
            Some(hint),
        );
        None
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
            // Exported into the user's shell, an `ATMOS_*` variable would reconfigure every later
            // run: `ATMOS_CONSOLE_FEDERATION_URL` alone would send the next console sign-in's
            // credentials to whatever host a profile names.
            let own = name_ok && entry.key.starts_with("ATMOS_");
            if own {
                self.report(
                    &entry.key_location,
                    format!(
                        "`{path}` cannot set `{}`: variables named `ATMOS_*` configure atmos-auth itself",
                        entry.key
                    ),
                    Some("set it in your own environment, not in a profile".to_owned()),
                );
            }
            match self.text(&entry.value, &format!("{path}.{}", entry.key)) {
                Some(value) if name_ok && !own => {
                    env.insert(entry.key.clone(), value);
                }
                _ => valid = false,
            }
        }
        valid.then_some(env)
    }

    /// Two identity names must differ by more than ASCII case: lookup ignores case.
    pub fn case_collisions(&mut self, identities: &[&Entry]) {
        for (index, entry) in identities.iter().enumerate() {
            if let Some(first) = identities[..index]
                .iter()
                .find(|earlier| earlier.key.eq_ignore_ascii_case(&entry.key))
            {
                let hint = format!(
                    "identity `{}` is defined at {}; names are looked up ignoring case, so rename one",
                    first.key, first.key_location
                );
                self.report(
                    &entry.key_location,
                    format!(
                        "identity `{}` differs from identity `{}` only in case",
                        entry.key, first.key
                    ),
                    Some(hint),
                );
            }
        }
    }

    /// An alias must not equal (ignoring ASCII case) another identity's name or another
    /// identity's alias.
    pub fn alias_collisions(&mut self, aliases: &[Alias], identities: &[&Entry]) {
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
                .find(|entry| entry.key.eq_ignore_ascii_case(alias) && entry.key != *owner)
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
                .find(|earlier| earlier.alias.eq_ignore_ascii_case(alias))
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
