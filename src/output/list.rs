//! `list` output: the configured providers and identities, with their session and credential
//! state, as a table, a tree, JSON, YAML, a Graphviz digraph or a Mermaid flowchart.
//!
//! It renders a small view model, not the config: the command layer builds a `ListView` from
//! the `Config` and the credential store, and this module only turns it into text. That keeps
//! it pure (no I/O, no clock: `now` is passed in) and testable from plain data. The view holds
//! names, kinds, targets and expiry times and never a secret, so nothing here can print one.
//!
//! Output is deterministic: rows, tree children and graph nodes follow the order of the
//! view's vectors. Text from the view is escaped for each format (control characters for the
//! terminal, quotes for DOT and Mermaid), so an odd name cannot break the output.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use serde::{Serialize, Serializer};

use crate::text::printable;

/// Everything `list` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListView {
    /// The selected profile, if any.
    pub profile: Option<String>,
    /// The realm sessions and credentials are shown for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    pub providers: Vec<ProviderView>,
    pub identities: Vec<IdentityView>,
}

/// One configured provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderView {
    pub name: String,
    /// The `kind:` word, e.g. `aws/iam-identity-center` or `github/oidc`.
    pub kind: String,
    /// What it points at: the start URL and region, or the OIDC audience.
    pub detail: String,
    pub session: SessionStatus,
}

/// The state of a provider's login session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SessionStatus {
    LoggedIn {
        #[serde(serialize_with = "serialize_time")]
        until: SystemTime,
    },
    Expired,
    LoggedOut,
    /// The provider has no session to log in to (`github/oidc`).
    NotApplicable,
}

/// One configured identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdentityView {
    pub name: String,
    /// The `kind:` word, e.g. `aws/permission-set`.
    pub kind: String,
    /// What the identity's credentials are obtained through; `None` for identities that need
    /// nothing else (`aws/user`, `credential_process`).
    pub via: Option<Via>,
    /// What it becomes: `TerraformApplyAccess @ plat-dev`, a role ARN, `IAM user`, a command.
    pub target: String,
    /// Marked `default: true`.
    pub default: bool,
    pub alias: Option<String>,
    pub credentials: CredentialStatus,
    /// Added by a provider's `auto_provision_identities` rather than written in the config.
    pub provisioned: bool,
    /// Its own tags and its provider's, sorted.
    pub tags: Vec<String>,
}

/// The provider or identity an identity is obtained through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Provider(String),
    Identity(String),
}

/// The state of an identity's cached credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CredentialStatus {
    Valid {
        #[serde(serialize_with = "serialize_time")]
        until: SystemTime,
    },
    Expired,
    None,
}

/// The output formats of `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Tree,
    Json,
    Yaml,
    Dot,
    Mermaid,
}

/// The text of `view` in `format`, ending in a newline. `now` only feeds relative times such
/// as "in 52m"; whether something is valid or expired is already decided in the view.
pub fn render(view: &ListView, format: Format, now: SystemTime) -> String {
    match format {
        Format::Table => text(view, |out| table(view, now, out)),
        Format::Tree => text(view, |out| tree(view, now, out)),
        Format::Json => {
            let mut text = crate::text::json_pretty(view);
            text.push('\n');
            text
        }
        Format::Yaml => serde_saphyr::to_string(view).expect("the list view serializes"),
        Format::Dot => dot(view),
        Format::Mermaid => mermaid(view),
    }
}

// ---------------------------------------------------------------------------------------------
// table

/// The profile line, then `body`, or a note that there is nothing to show.
fn text(view: &ListView, body: impl FnOnce(&mut String)) -> String {
    let mut out = String::new();
    if let Some(profile) = &view.profile {
        let _ = writeln!(out, "profile: {}\n", printable(profile));
    }
    if let Some(realm) = &view.realm {
        let _ = writeln!(out, "realm: {}\n", printable(realm));
    }
    if view.providers.is_empty() && view.identities.is_empty() {
        out.push_str("no providers or identities configured\n");
    } else {
        body(&mut out);
    }
    out
}

/// Two tables, providers then identities, each with aligned columns. A `*` before the name
/// marks the default identity.
fn table(view: &ListView, now: SystemTime, out: &mut String) {
    if !view.providers.is_empty() {
        let mut rows = vec![["PROVIDER", "KIND", "DETAIL", "SESSION"].map(String::from)];
        rows.extend(view.providers.iter().map(|provider| {
            [
                printable(&provider.name),
                printable(&provider.kind),
                or_dash(&provider.detail),
                match provider.session {
                    SessionStatus::LoggedIn { until } => {
                        format!("logged in until {}", until_text(until, now))
                    }
                    SessionStatus::Expired => "expired".to_owned(),
                    SessionStatus::LoggedOut => "logged out".to_owned(),
                    SessionStatus::NotApplicable => "-".to_owned(),
                },
            ]
        }));
        columns(out, &rows);
    }
    if !view.identities.is_empty() {
        if !view.providers.is_empty() {
            out.push('\n');
        }
        let header = ["  IDENTITY", "KIND", "VIA", "TARGET", "CREDENTIALS", "TAGS"];
        let mut rows = vec![header.map(String::from)];
        rows.extend(view.identities.iter().map(|identity| {
            let marker = if identity.default { "* " } else { "  " };
            let mut name = format!("{marker}{}", printable(&identity.name));
            let notes = notes(identity);
            if !notes.is_empty() {
                let _ = write!(name, " ({})", notes.join(", "));
            }
            [
                name,
                printable(&identity.kind),
                match &identity.via {
                    Some(Via::Provider(name) | Via::Identity(name)) => printable(name),
                    None => "-".to_owned(),
                },
                or_dash(&identity.target),
                match identity.credentials {
                    CredentialStatus::Valid { until } => {
                        format!("valid until {}", until_text(until, now))
                    }
                    CredentialStatus::Expired => "expired".to_owned(),
                    CredentialStatus::None => "none".to_owned(),
                },
                or_dash(&printable(&identity.tags.join(","))),
            ]
        }));
        // The TAGS column only when some identity has tags.
        if view
            .identities
            .iter()
            .any(|identity| !identity.tags.is_empty())
        {
            columns(out, &rows);
        } else {
            let rows: Vec<[String; 5]> = rows
                .iter()
                .map(|row| std::array::from_fn(|column| row[column].clone()))
                .collect();
            columns(out, &rows);
        }
    }
}

/// Writes `rows` with every column but the last padded to its widest cell, two spaces apart.
/// Padding counts characters, as the formatter does, so names beyond ASCII still line up.
fn columns<const N: usize>(out: &mut String, rows: &[[String; N]]) {
    let widths: [usize; N] = std::array::from_fn(|column| {
        let width = |row: &[String; N]| row[column].chars().count();
        rows.iter().map(width).max().unwrap_or_default()
    });
    for row in rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        printable(text)
    }
}

/// The alias and provisioned notes shown after an identity's name.
fn notes(identity: &IdentityView) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(alias) = &identity.alias {
        notes.push(format!("alias {}", printable(alias)));
    }
    if identity.provisioned {
        notes.push("provisioned".to_owned());
    }
    notes
}

// ---------------------------------------------------------------------------------------------
// tree

/// Providers as roots with the identities obtained through them below, chains nested, then the
/// identities that need nothing else as roots of their own.
fn tree(view: &ListView, now: SystemTime, out: &mut String) {
    let tree = Tree {
        view,
        graph: Graph::new(view),
        now,
    };
    let mut printed = vec![false; view.identities.len()];
    for (index, provider) in view.providers.iter().enumerate() {
        let _ = writeln!(out, "{}", provider_line(provider, now));
        let children = &tree.graph.provider_children[index];
        tree.branches(children, "", &mut printed, out);
    }
    // Identities without a parent, then any left over: only a hand-built view with a cycle
    // has those, and each is shown once rather than lost.
    for pass in [true, false] {
        for index in 0..view.identities.len() {
            if printed[index] || (pass && tree.graph.identity_parent[index].is_some()) {
                continue;
            }
            printed[index] = true;
            let _ = writeln!(out, "{}", identity_line(&view.identities[index], now));
            let children = &tree.graph.identity_children[index];
            tree.branches(children, "", &mut printed, out);
        }
    }
}

struct Tree<'v> {
    view: &'v ListView,
    graph: Graph,
    now: SystemTime,
}

/// The branch drawn before a child and the indent drawn below it, for a middle and a last child.
const BRANCHES: [(&str, &str); 2] = [("├── ", "│   "), ("└── ", "    ")];

impl Tree<'_> {
    /// Writes the identities in `children`, and theirs below them, each once.
    fn branches(&self, children: &[usize], prefix: &str, printed: &mut [bool], out: &mut String) {
        let mut fresh = Vec::new();
        for &child in children {
            if !std::mem::replace(&mut printed[child], true) {
                fresh.push(child);
            }
        }
        for (position, &child) in fresh.iter().enumerate() {
            let (branch, indent) = BRANCHES[usize::from(position + 1 == fresh.len())];
            let line = identity_line(&self.view.identities[child], self.now);
            let _ = writeln!(out, "{prefix}{branch}{line}");
            let grandchildren = &self.graph.identity_children[child];
            self.branches(grandchildren, &format!("{prefix}{indent}"), printed, out);
        }
    }
}

/// `sso (aws/iam-identity-center, https://… (us-east-1), logged in until …, in 7h)`
fn provider_line(provider: &ProviderView, now: SystemTime) -> String {
    let mut parts = vec![printable(&provider.kind)];
    if !provider.detail.is_empty() {
        parts.push(printable(&provider.detail));
    }
    match provider.session {
        SessionStatus::LoggedIn { until } => {
            parts.push(format!("logged in until {}", until_parts(until, now)));
        }
        SessionStatus::Expired => parts.push("session expired".to_owned()),
        SessionStatus::LoggedOut => parts.push("logged out".to_owned()),
        SessionStatus::NotApplicable => {}
    }
    format!("{} ({})", printable(&provider.name), parts.join(", "))
}

/// `plat-dev/terraform * (aws/permission-set TerraformApplyAccess @ plat-dev, alias tf, …)`
fn identity_line(identity: &IdentityView, now: SystemTime) -> String {
    let mut what = printable(&identity.kind);
    if !identity.target.is_empty() {
        what.push(' ');
        what.push_str(&printable(&identity.target));
    }
    let mut parts = vec![what];
    parts.extend(notes(identity));
    if !identity.tags.is_empty() {
        parts.push(format!("tags {}", printable(&identity.tags.join(","))));
    }
    parts.push(match identity.credentials {
        CredentialStatus::Valid { until } => format!("valid until {}", until_parts(until, now)),
        CredentialStatus::Expired => "credentials expired".to_owned(),
        CredentialStatus::None => "no credentials".to_owned(),
    });
    let (name, star) = (
        printable(&identity.name),
        if identity.default { " *" } else { "" },
    );
    format!("{name}{star} ({})", parts.join(", "))
}

/// Who hangs below whom, by index into the view's vectors. A `via` naming nothing in the view
/// (only possible in a hand-built view) leaves the identity a root.
struct Graph {
    provider_children: Vec<Vec<usize>>,
    identity_children: Vec<Vec<usize>>,
    identity_parent: Vec<Option<Parent>>,
}

#[derive(Clone, Copy)]
enum Parent {
    Provider(usize),
    Identity(usize),
}

impl Graph {
    fn new(view: &ListView) -> Self {
        let mut graph = Graph {
            provider_children: vec![Vec::new(); view.providers.len()],
            identity_children: vec![Vec::new(); view.identities.len()],
            identity_parent: vec![None; view.identities.len()],
        };
        for (index, identity) in view.identities.iter().enumerate() {
            let parent = match &identity.via {
                Some(Via::Provider(name)) => view
                    .providers
                    .iter()
                    .position(|provider| &provider.name == name)
                    .map(Parent::Provider),
                Some(Via::Identity(name)) => view
                    .identities
                    .iter()
                    .position(|other| &other.name == name)
                    .filter(|&other| other != index)
                    .map(Parent::Identity),
                None => None,
            };
            match parent {
                Some(Parent::Provider(p)) => graph.provider_children[p].push(index),
                Some(Parent::Identity(i)) => graph.identity_children[i].push(index),
                None => {}
            }
            graph.identity_parent[index] = parent;
        }
        graph
    }
}

// ---------------------------------------------------------------------------------------------
// dot

/// A Graphviz digraph: providers as boxes, identities as ellipses (bold for the default,
/// dashed when provisioned), each edge labelled with the kind of the identity it leads to.
/// Node ids carry a `provider:` or `identity:` prefix so the two namespaces cannot collide.
fn dot(view: &ListView) -> String {
    let mut out = String::from("digraph \"atmos-auth\" {\n    rankdir=LR;\n");
    if let Some(profile) = &view.profile {
        let _ = writeln!(out, "    label=\"profile {}\";", dot_escape(profile));
    }
    for provider in &view.providers {
        let (name, kind) = (dot_escape(&provider.name), dot_escape(&provider.kind));
        let _ = writeln!(
            out,
            "    \"provider:{name}\" [shape=box, label=\"{name}\\n{kind}\"];"
        );
    }
    for identity in &view.identities {
        let style = match (identity.default, identity.provisioned) {
            (false, false) => "",
            (true, false) => ", style=\"bold\"",
            (false, true) => ", style=\"dashed\"",
            (true, true) => ", style=\"bold,dashed\"",
        };
        let name = dot_escape(&identity.name);
        let star = if identity.default { " *" } else { "" };
        let shape = "shape=ellipse";
        let _ = writeln!(
            out,
            "    \"identity:{name}\" [{shape}, label=\"{name}{star}\"{style}];"
        );
    }
    let graph = Graph::new(view);
    for (index, identity) in view.identities.iter().enumerate() {
        let (from, parent) = match graph.identity_parent[index] {
            Some(Parent::Provider(p)) => ("provider", &view.providers[p].name),
            Some(Parent::Identity(i)) => ("identity", &view.identities[i].name),
            None => continue,
        };
        let (parent, name) = (dot_escape(parent), dot_escape(&identity.name));
        let kind = dot_escape(&identity.kind);
        let _ = writeln!(
            out,
            "    \"{from}:{parent}\" -> \"identity:{name}\" [label=\"{kind}\"];"
        );
    }
    out.push_str("}\n");
    out
}

/// Text for inside a DOT double-quoted string. Backslashes are doubled because labels treat
/// `\n`, `\l` and friends as escapes.
fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in printable(text).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// mermaid

/// A Mermaid `flowchart LR`: providers as rectangles, identities as stadiums. Node ids are the
/// names reduced to `[A-Za-z0-9_]` with a `p_` or `i_` prefix (which also keeps them clear of
/// keywords such as `end`), made unique with a numeric suffix when two names reduce alike.
fn mermaid(view: &ListView) -> String {
    let mut out = String::from("flowchart LR\n");
    if let Some(profile) = &view.profile {
        let _ = writeln!(out, "    %% profile: {}", printable(profile));
    }
    let mut used = HashSet::new();
    let provider_ids: Vec<String> = view
        .providers
        .iter()
        .map(|provider| mermaid_id("p_", &provider.name, &mut used))
        .collect();
    let identity_ids: Vec<String> = view
        .identities
        .iter()
        .map(|identity| mermaid_id("i_", &identity.name, &mut used))
        .collect();
    for (provider, id) in view.providers.iter().zip(&provider_ids) {
        let (name, kind) = (
            mermaid_escape(&provider.name),
            mermaid_escape(&provider.kind),
        );
        let _ = writeln!(out, "    {id}[\"{name} ({kind})\"]");
    }
    for (identity, id) in view.identities.iter().zip(&identity_ids) {
        let (name, star) = (
            mermaid_escape(&identity.name),
            if identity.default { " *" } else { "" },
        );
        let _ = writeln!(out, "    {id}([\"{name}{star}\"])");
    }
    let graph = Graph::new(view);
    for (index, identity) in view.identities.iter().enumerate() {
        let from = match graph.identity_parent[index] {
            Some(Parent::Provider(p)) => &provider_ids[p],
            Some(Parent::Identity(i)) => &identity_ids[i],
            None => continue,
        };
        let (kind, to) = (mermaid_escape(&identity.kind), &identity_ids[index]);
        let _ = writeln!(out, "    {from} -->|\"{kind}\"| {to}");
    }
    out
}

fn mermaid_id(prefix: &str, name: &str, used: &mut HashSet<String>) -> String {
    let base: String = prefix
        .chars()
        .chain(
            name.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        )
        .collect();
    let mut id = base.clone();
    let mut suffix = 2;
    while !used.insert(id.clone()) {
        id = format!("{base}_{suffix}");
        suffix += 1;
    }
    id
}

/// Text for inside a Mermaid quoted label: characters that end the label or would be read as
/// markup become `#<code>;` entities.
fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '#' | '<' | '>' | '&' | '|' | '`') || crate::text::is_unsafe(c) {
            let _ = write!(out, "#{};", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// shared

/// `2026-11-25T20:11:57Z (in 52m)`
pub(super) fn until_text(until: SystemTime, now: SystemTime) -> String {
    format!("{} ({})", rfc3339(until), relative(until, now))
}

/// `2026-11-25T20:11:57Z, in 52m`, for places already inside parentheses.
fn until_parts(until: SystemTime, now: SystemTime) -> String {
    format!("{}, {}", rfc3339(until), relative(until, now))
}

/// `in 52m` or `3m ago`, to the minute once it is a minute or more.
fn relative(until: SystemTime, now: SystemTime) -> String {
    let round = |duration: Duration| {
        let secs = duration.as_secs();
        let secs = if secs >= 60 { secs - secs % 60 } else { secs };
        humantime::format_duration(Duration::from_secs(secs))
    };
    match until.duration_since(now) {
        Ok(ahead) => format!("in {}", round(ahead)),
        Err(behind) => format!("{} ago", round(behind.duration())),
    }
}

/// The latest time humantime can write: the last second of year 9999.
const MAX_RFC3339_SECS: u64 = 253_402_300_799;

/// The time in RFC 3339 to the second. humantime panics outside 1970–9999, so times there
/// are clamped; an expiry that far out is nonsense either way.
fn rfc3339(time: SystemTime) -> String {
    let max = SystemTime::UNIX_EPOCH + Duration::from_secs(MAX_RFC3339_SECS);
    let time = time.clamp(SystemTime::UNIX_EPOCH, max);
    humantime::format_rfc3339_seconds(time).to_string()
}

fn serialize_time<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*time))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// 2026-11-25T19:19:57Z
    const NOW_SECS: u64 = 1_795_634_397;

    fn at(secs_from_now: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS + secs_from_now)
    }

    fn now() -> SystemTime {
        at(0)
    }

    fn identity(name: &str, kind: &str, via: Option<Via>, target: &str) -> IdentityView {
        IdentityView {
            name: name.to_owned(),
            kind: kind.to_owned(),
            via,
            target: target.to_owned(),
            default: false,
            alias: None,
            credentials: CredentialStatus::None,
            provisioned: false,
            tags: Vec::new(),
        }
    }

    fn provider(name: &str) -> Option<Via> {
        Some(Via::Provider(name.to_owned()))
    }

    fn through(name: &str) -> Option<Via> {
        Some(Via::Identity(name.to_owned()))
    }

    fn view(providers: Vec<ProviderView>, identities: Vec<IdentityView>) -> ListView {
        let profile = None;
        ListView {
            profile,
            realm: None,
            providers,
            identities,
        }
    }

    fn provider_view(name: &str, kind: &str, detail: &str, session: SessionStatus) -> ProviderView {
        let (name, kind, detail) = (name.to_owned(), kind.to_owned(), detail.to_owned());
        ProviderView {
            name,
            kind,
            detail,
            session,
        }
    }

    fn fixture() -> ListView {
        let set = |name: &str, target: &str| {
            identity(name, "aws/permission-set", provider("sso"), target)
        };
        let role = |name: &str, via: Option<Via>, arn: &str| {
            identity(name, "aws/assume-role", via, &format!("arn:aws:iam::{arn}"))
        };
        let mut identities = vec![
            set("plat-dev/terraform", "TerraformApplyAccess @ plat-dev"),
            set("plat-prod/readonly", "ReadOnlyAccess @ plat-prod"),
            role(
                "plat-dev/admin",
                through("plat-dev/terraform"),
                "111111111111:role/Admin",
            ),
            role(
                "plat-dev/audit",
                through("plat-dev/admin"),
                "111111111111:role/Audit",
            ),
            role("ci/deploy", provider("github"), "222222222222:role/Deploy"),
            identity("ops/break-glass", "aws/user", None, "IAM user"),
            identity(
                "ops/vault",
                "credential_process",
                None,
                "vault-aws-creds --role ops",
            ),
        ];
        identities[0].default = true;
        identities[0].alias = Some("tf".to_owned());
        identities[0].credentials = CredentialStatus::Valid {
            until: at(52 * 60 + 20),
        };
        identities[1].provisioned = true;
        identities[2].credentials = CredentialStatus::Expired;
        identities[5].credentials = CredentialStatus::Valid {
            until: at(3 * 86400 + 90),
        };
        let logged_in = SessionStatus::LoggedIn {
            until: at(7 * 3600 + 52 * 60 + 30),
        };
        let start_url = "https://acme.awsapps.com/start (us-east-1)";
        ListView {
            profile: Some("devops".to_owned()),
            realm: None,
            providers: vec![
                provider_view("sso", "aws/iam-identity-center", start_url, logged_in),
                provider_view(
                    "github",
                    "github/oidc",
                    "audience sts.amazonaws.com",
                    SessionStatus::NotApplicable,
                ),
            ],
            identities,
        }
    }

    #[track_caller]
    fn assert_text(actual: &str, expected: &str) {
        assert!(
            actual == expected,
            "output differs\n--- expected\n{expected}--- actual\n{actual}---"
        );
    }

    #[test]
    fn table() {
        let expected = "\
profile: devops

PROVIDER  KIND                     DETAIL                                      SESSION
sso       aws/iam-identity-center  https://acme.awsapps.com/start (us-east-1)  logged in until 2026-11-26T03:12:27Z (in 7h 52m)
github    github/oidc              audience sts.amazonaws.com                  -

  IDENTITY                          KIND                VIA                 TARGET                                 CREDENTIALS
* plat-dev/terraform (alias tf)     aws/permission-set  sso                 TerraformApplyAccess @ plat-dev        valid until 2026-11-25T20:12:17Z (in 52m)
  plat-prod/readonly (provisioned)  aws/permission-set  sso                 ReadOnlyAccess @ plat-prod             none
  plat-dev/admin                    aws/assume-role     plat-dev/terraform  arn:aws:iam::111111111111:role/Admin   expired
  plat-dev/audit                    aws/assume-role     plat-dev/admin      arn:aws:iam::111111111111:role/Audit   none
  ci/deploy                         aws/assume-role     github              arn:aws:iam::222222222222:role/Deploy  none
  ops/break-glass                   aws/user            -                   IAM user                               valid until 2026-11-28T19:21:27Z (in 3days 1m)
  ops/vault                         credential_process  -                   vault-aws-creds --role ops             none
";
        assert_text(&render(&fixture(), Format::Table, now()), expected);
    }

    #[test]
    fn tree() {
        let expected = "\
profile: devops

sso (aws/iam-identity-center, https://acme.awsapps.com/start (us-east-1), logged in until 2026-11-26T03:12:27Z, in 7h 52m)
├── plat-dev/terraform * (aws/permission-set TerraformApplyAccess @ plat-dev, alias tf, valid until 2026-11-25T20:12:17Z, in 52m)
│   └── plat-dev/admin (aws/assume-role arn:aws:iam::111111111111:role/Admin, credentials expired)
│       └── plat-dev/audit (aws/assume-role arn:aws:iam::111111111111:role/Audit, no credentials)
└── plat-prod/readonly (aws/permission-set ReadOnlyAccess @ plat-prod, provisioned, no credentials)
github (github/oidc, audience sts.amazonaws.com)
└── ci/deploy (aws/assume-role arn:aws:iam::222222222222:role/Deploy, no credentials)
ops/break-glass (aws/user IAM user, valid until 2026-11-28T19:21:27Z, in 3days 1m)
ops/vault (credential_process vault-aws-creds --role ops, no credentials)
";
        assert_text(&render(&fixture(), Format::Tree, now()), expected);
    }

    #[test]
    fn dot() {
        let expected = r#"digraph "atmos-auth" {
    rankdir=LR;
    label="profile devops";
    "provider:sso" [shape=box, label="sso\naws/iam-identity-center"];
    "provider:github" [shape=box, label="github\ngithub/oidc"];
    "identity:plat-dev/terraform" [shape=ellipse, label="plat-dev/terraform *", style="bold"];
    "identity:plat-prod/readonly" [shape=ellipse, label="plat-prod/readonly", style="dashed"];
    "identity:plat-dev/admin" [shape=ellipse, label="plat-dev/admin"];
    "identity:plat-dev/audit" [shape=ellipse, label="plat-dev/audit"];
    "identity:ci/deploy" [shape=ellipse, label="ci/deploy"];
    "identity:ops/break-glass" [shape=ellipse, label="ops/break-glass"];
    "identity:ops/vault" [shape=ellipse, label="ops/vault"];
    "provider:sso" -> "identity:plat-dev/terraform" [label="aws/permission-set"];
    "provider:sso" -> "identity:plat-prod/readonly" [label="aws/permission-set"];
    "identity:plat-dev/terraform" -> "identity:plat-dev/admin" [label="aws/assume-role"];
    "identity:plat-dev/admin" -> "identity:plat-dev/audit" [label="aws/assume-role"];
    "provider:github" -> "identity:ci/deploy" [label="aws/assume-role"];
}
"#;
        assert_text(&render(&fixture(), Format::Dot, now()), expected);
    }

    #[test]
    fn mermaid() {
        let expected = r#"flowchart LR
    %% profile: devops
    p_sso["sso (aws/iam-identity-center)"]
    p_github["github (github/oidc)"]
    i_plat_dev_terraform(["plat-dev/terraform *"])
    i_plat_prod_readonly(["plat-prod/readonly"])
    i_plat_dev_admin(["plat-dev/admin"])
    i_plat_dev_audit(["plat-dev/audit"])
    i_ci_deploy(["ci/deploy"])
    i_ops_break_glass(["ops/break-glass"])
    i_ops_vault(["ops/vault"])
    p_sso -->|"aws/permission-set"| i_plat_dev_terraform
    p_sso -->|"aws/permission-set"| i_plat_prod_readonly
    i_plat_dev_terraform -->|"aws/assume-role"| i_plat_dev_admin
    i_plat_dev_admin -->|"aws/assume-role"| i_plat_dev_audit
    p_github -->|"aws/assume-role"| i_ci_deploy
"#;
        assert_text(&render(&fixture(), Format::Mermaid, now()), expected);
    }

    #[test]
    fn json_is_the_view_with_rfc3339_times() {
        let text = render(&fixture(), Format::Json, now());
        assert!(text.ends_with("}\n"));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["profile"], "devops");
        let session = json!({ "status": "logged_in", "until": "2026-11-26T03:12:27Z" });
        assert_eq!(value["providers"][0]["session"], session);
        assert_eq!(
            value["providers"][1]["session"],
            json!({ "status": "not_applicable" })
        );
        let terraform = json!({
            "name": "plat-dev/terraform",
            "kind": "aws/permission-set",
            "via": { "provider": "sso" },
            "target": "TerraformApplyAccess @ plat-dev",
            "default": true,
            "alias": "tf",
            "credentials": { "status": "valid", "until": "2026-11-25T20:12:17Z" },
            "provisioned": false,
            "tags": [],
        });
        let identities = value["identities"].as_array().unwrap();
        assert_eq!(identities[0], terraform);
        assert_eq!(
            identities[2]["via"],
            json!({ "identity": "plat-dev/terraform" })
        );
        assert_eq!(identities[6]["via"], serde_json::Value::Null);
        let field = |key: &str, inner: &str| -> Vec<String> {
            let text = |v: &serde_json::Value| v.as_str().map_or(v.to_string(), str::to_owned);
            identities.iter().map(|i| text(&i[key][inner])).collect()
        };
        let names: Vec<String> = fixture().identities.into_iter().map(|i| i.name).collect();
        assert_eq!(
            identities
                .iter()
                .map(|i| i["name"].as_str().unwrap())
                .collect::<Vec<_>>(),
            names
        );
        let statuses = ["valid", "none", "expired", "none", "none", "valid", "none"];
        assert_eq!(field("credentials", "status"), statuses);
    }

    #[test]
    fn yaml_holds_the_same_document_as_json() {
        let yaml = render(&fixture(), Format::Yaml, now());
        let json = render(&fixture(), Format::Json, now());
        let from_yaml: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        let from_json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(from_yaml, from_json);
        let until = "    until: \"2026-11-25T20:12:17Z\"\n";
        assert!(yaml.contains(until), "{yaml}");
    }

    #[test]
    fn empty_view() {
        let view = view(Vec::new(), Vec::new());
        let none = "no providers or identities configured\n";
        assert_text(&render(&view, Format::Table, now()), none);
        assert_text(&render(&view, Format::Tree, now()), none);
        assert_text(
            &render(&view, Format::Dot, now()),
            "digraph \"atmos-auth\" {\n    rankdir=LR;\n}\n",
        );
        assert_text(&render(&view, Format::Mermaid, now()), "flowchart LR\n");
        assert_text(
            &render(&view, Format::Json, now()),
            "{\n  \"profile\": null,\n  \"providers\": [],\n  \"identities\": []\n}\n",
        );
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative(at(45), now()), "in 45s");
        assert_eq!(relative(at(52 * 60 + 59), now()), "in 52m");
        assert_eq!(relative(now(), at(3 * 60 + 5)), "3m ago");
        assert_eq!(relative(now(), now()), "in 0s");
    }

    #[test]
    fn times_outside_humantime_range_are_clamped() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(MAX_RFC3339_SECS + 1_000);
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z");
    }

    /// A name that tries to close the quoting of each format, with a secret-looking tail and
    /// a terminal escape, is escaped everywhere and never breaks the structure.
    fn hostile_view() -> ListView {
        let github = "p\"]; x -> y #|<b>";
        let oidc = provider_view(github, "github/oidc", "", SessionStatus::NotApplicable);
        let name = "evil\"\\n\u{1b}[31m/AKIASENTINEL0000";
        let role = identity(name, "aws/assume-role", provider(github), "arn:R");
        view(vec![oidc], vec![role])
    }

    #[test]
    fn hostile_names_are_escaped_in_dot() {
        let text = render(&hostile_view(), Format::Dot, now());
        let expected = r#"digraph "atmos-auth" {
    rankdir=LR;
    "provider:p\"]; x -> y #|<b>" [shape=box, label="p\"]; x -> y #|<b>\ngithub/oidc"];
    "identity:evil\"\\n\\u{1b}[31m/AKIASENTINEL0000" [shape=ellipse, label="evil\"\\n\\u{1b}[31m/AKIASENTINEL0000"];
    "provider:p\"]; x -> y #|<b>" -> "identity:evil\"\\n\\u{1b}[31m/AKIASENTINEL0000" [label="aws/assume-role"];
}
"#;
        assert_text(&text, expected);
    }

    #[test]
    fn hostile_names_are_escaped_in_mermaid() {
        let text = render(&hostile_view(), Format::Mermaid, now());
        let expected = r#"flowchart LR
    p_p____x____y____b_["p#34;]; x -#62; y #35;#124;#60;b#62; (github/oidc)"]
    i_evil__n__31m_AKIASENTINEL0000(["evil#34;\n#27;[31m/AKIASENTINEL0000"])
    p_p____x____y____b_ -->|"aws/assume-role"| i_evil__n__31m_AKIASENTINEL0000
"#;
        assert_text(&text, expected);
    }

    #[test]
    fn hostile_names_are_escaped_for_the_terminal() {
        for format in [Format::Table, Format::Tree] {
            let text = render(&hostile_view(), format, now());
            assert!(!text.contains('\u{1b}'), "{format:?}: {text}");
            assert!(text.contains("evil\"\\n\\u{1b}[31m/AKIASENTINEL0000"));
        }
        for format in [Format::Json, Format::Yaml] {
            let text = render(&hostile_view(), format, now());
            assert!(!text.contains('\u{1b}'), "{format:?}: {text}");
        }
        let json: serde_json::Value =
            serde_json::from_str(&render(&hostile_view(), Format::Json, now())).unwrap();
        let name = &hostile_view().identities[0].name;
        assert_eq!(json["identities"][0]["name"], *name);
        let yaml: serde_json::Value =
            serde_saphyr::from_str(&render(&hostile_view(), Format::Yaml, now())).unwrap();
        assert_eq!(yaml, json);
    }

    #[test]
    fn mermaid_ids_stay_unique_when_names_reduce_alike() {
        let names = ["a-b", "a.b", "a_b", "end"];
        let view = view(
            Vec::new(),
            names
                .map(|name| identity(name, "aws/user", None, ""))
                .to_vec(),
        );
        let expected = r#"flowchart LR
    i_a_b(["a-b"])
    i_a_b_2(["a.b"])
    i_a_b_3(["a_b"])
    i_end(["end"])
"#;
        assert_text(&render(&view, Format::Mermaid, now()), expected);
    }

    #[test]
    fn cycles_and_dangling_references_are_shown_once_as_roots() {
        let view = view(
            Vec::new(),
            vec![
                identity("a", "aws/assume-role", through("b"), "arn:a"),
                identity("b", "aws/assume-role", through("a"), "arn:b"),
                identity("c", "aws/assume-role", provider("gone"), "arn:c"),
                identity("d", "aws/assume-role", through("d"), "arn:d"),
            ],
        );
        let expected = "\
c (aws/assume-role arn:c, no credentials)
d (aws/assume-role arn:d, no credentials)
a (aws/assume-role arn:a, no credentials)
└── b (aws/assume-role arn:b, no credentials)
";
        assert_text(&render(&view, Format::Tree, now()), expected);
    }

    #[test]
    fn graphviz_accepts_the_dot_output() {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let installed = Command::new("dot").arg("-V").output().is_ok();
        assert!(
            installed,
            "graphviz's `dot` is missing: tests/run.sh installs it"
        );
        for view in [fixture(), hostile_view()] {
            let piped = Stdio::piped;
            let mut dot = Command::new("dot")
                .arg("-Tsvg")
                .stdin(piped())
                .stdout(piped())
                .stderr(piped())
                .spawn()
                .unwrap();
            let text = render(&view, Format::Dot, now());
            let mut stdin = dot.stdin.take().unwrap();
            stdin.write_all(text.as_bytes()).unwrap();
            drop(stdin);
            let output = dot.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success() && stderr.is_empty(), "{stderr}");
            let svg = String::from_utf8_lossy(&output.stdout);
            let nodes = view.providers.len() + view.identities.len();
            assert_eq!(svg.matches("class=\"node\"").count(), nodes, "{svg}");
        }
    }
}
