//! The table and the tree of `list`, for a terminal: every text from the view goes through
//! `printable`, so a name cannot move the cursor or change colours.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::graph::Graph;
use super::view::{
    CredentialStatus, IdentityView, ListView, ProviderView, SessionStatus, Via, until_parts,
    until_text,
};
use crate::text::printable;

/// The profile line, then `body`, or a note that there is nothing to show.
pub(super) fn text(view: &ListView, body: impl FnOnce(&mut String)) -> String {
    let mut out = String::new();
    if let Some(profile) = &view.profile {
        let _ = writeln!(out, "profile: {}\n", printable(profile));
    }
    if let Some(realm) = &view.realm {
        let _ = writeln!(out, "realm: {}\n", printable(realm));
    }
    if let Some(error) = &view.store_error {
        let _ = writeln!(
            out,
            "sessions and credentials unknown: {}\n",
            printable(error)
        );
    }
    if view.providers.is_empty() && view.identities.is_empty() {
        out.push_str("no providers or identities configured\n");
    } else {
        body(&mut out);
    }
    out
}

/// The state shown where the store could not be read; the line above the tables says why.
const UNKNOWN: &str = "unknown: store unreachable";

/// Two tables, providers then identities, each with aligned columns. A `*` before the name
/// marks the default identity.
pub(super) fn table(view: &ListView, now: SystemTime, out: &mut String) {
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
                    SessionStatus::Unknown => UNKNOWN.to_owned(),
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
                    CredentialStatus::Unknown => UNKNOWN.to_owned(),
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
            crate::text::pad(&mut line, cell, width + 2);
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

/// Providers as roots with the identities obtained through them below, chains nested, then the
/// identities that need nothing else as roots of their own.
pub(super) fn tree(view: &ListView, now: SystemTime, out: &mut String) {
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
        SessionStatus::Unknown => parts.push(format!("session {UNKNOWN}")),
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
        CredentialStatus::Unknown => format!("credentials {UNKNOWN}"),
    });
    let (name, star) = (
        printable(&identity.name),
        if identity.default { " *" } else { "" },
    );
    format!("{name}{star} ({})", parts.join(", "))
}
