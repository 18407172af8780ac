//! The graphs of `list`: who hangs below whom, and the Graphviz and Mermaid renderings. Text
//! is escaped for each language (quotes for DOT, entities for Mermaid, control characters for
//! both), so an odd name cannot break the output.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::view::{ListView, Via};
use crate::text::printable;

/// Who hangs below whom, by index into the view's vectors. A `via` naming nothing in the view
/// (only possible in a hand-built view) leaves the identity a root.
pub(super) struct Graph {
    pub(super) provider_children: Vec<Vec<usize>>,
    pub(super) identity_children: Vec<Vec<usize>>,
    pub(super) identity_parent: Vec<Option<Parent>>,
}

#[derive(Clone, Copy)]
pub(super) enum Parent {
    Provider(usize),
    Identity(usize),
}

impl Graph {
    pub(super) fn new(view: &ListView) -> Self {
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

/// A Graphviz digraph: providers as boxes, identities as ellipses (bold for the default,
/// dashed when provisioned), each edge labelled with the kind of the identity it leads to.
/// Node ids carry a `provider:` or `identity:` prefix so the two namespaces cannot collide.
pub(super) fn dot(view: &ListView) -> String {
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

/// A Mermaid `flowchart LR`: providers as rectangles, identities as stadiums. Node ids are the
/// names reduced to `[A-Za-z0-9_]` with a `p_` or `i_` prefix (which also keeps them clear of
/// keywords such as `end`), made unique with a numeric suffix when two names reduce alike.
pub(super) fn mermaid(view: &ListView) -> String {
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

pub(super) fn mermaid_id(prefix: &str, name: &str, used: &mut HashSet<String>) -> String {
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
