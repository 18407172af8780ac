//! `Validator`: reads typed values out of the `Node` tree and collects a `Diagnostic` for
//! everything wrong, instead of stopping at the first problem.
//!
//! This file holds the generic readers (mappings with known fields, strings, booleans,
//! durations, URLs, names); `auth_schema.rs` uses them to walk the atmos schema.

use std::path::PathBuf;
use std::time::Duration;

use super::duration::{self, Bounds, DurationError};
use super::node::{Entry, Node, ScalarKind, Value};
use super::{Diagnostic, Location};

/// Keys that hold AWS secrets: long-lived secret keys and session tokens. They are compared
/// after lowercasing and dropping `_` and `-`, so `AWS_SECRET_ACCESS_KEY` in `env:`,
/// `SecretAccessKey` (the credential_process JSON spelling) and `session-token` are caught too.
/// Access key ids are not secret and are not listed.
const SECRET_KEYS: [&str; 6] = [
    "awssecretaccesskey",
    "secretaccesskey",
    "awssessiontoken",
    "sessiontoken",
    "awssecuritytoken",
    "securitytoken",
];

pub(crate) struct Validator<'a> {
    /// The text of every file, to quote the offending line under a diagnostic.
    sources: &'a [(PathBuf, String)],
    pub diagnostics: Vec<Diagnostic>,
}

/// A mapping whose keys were checked against the known fields. It holds the first entry of
/// each key; duplicates and unknown keys have already been reported.
pub(crate) struct Fields<'n> {
    pub path: String,
    /// Where the mapping's own key is written, for "missing field" diagnostics.
    pub owner: Location,
    entries: Vec<&'n Entry>,
}

impl<'n> Fields<'n> {
    /// The field's value, treating an explicit null like an absent field.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|entry| entry.key == key)
            .map(|entry| &entry.value)
            .filter(|node| !node.is_null())
    }

    /// Where a field's key is written, or the mapping's own key when the field is absent, so
    /// that diagnostics about a field's children can point at the field.
    pub fn key_location(&self, key: &str) -> Location {
        self.entries
            .iter()
            .find(|entry| entry.key == key)
            .map_or_else(|| self.owner.clone(), |entry| entry.key_location.clone())
    }

    pub fn path_of(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }
}

impl<'a> Validator<'a> {
    pub fn new(sources: &'a [(PathBuf, String)]) -> Self {
        Self {
            sources,
            diagnostics: Vec::new(),
        }
    }

    /// Records a problem and quotes the line it is on.
    pub fn report(
        &mut self,
        location: &Location,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let mut diagnostic = Diagnostic::new(location.clone(), message, hint);
        diagnostic.source_line = self.line_at(location);
        self.diagnostics.push(diagnostic);
    }

    /// The line to quote under a diagnostic. A line that mentions a secret key is never
    /// quoted, since a flow mapping can put the secret on the same line as another problem.
    fn line_at(&self, location: &Location) -> Option<String> {
        let (_, text) = self
            .sources
            .iter()
            .find(|(file, _)| *file == location.file)?;
        text.lines()
            .nth(location.line.checked_sub(1)?)
            .filter(|line| !mentions_secret_key(line))
            .map(str::to_owned)
    }

    /// Reads a mapping whose keys must be among `known`. A null reads as an empty mapping.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        owner: &Location,
        known: &[&str],
    ) -> Option<Fields<'n>> {
        self.fields_refusing(node, path, owner, known, &[])
    }

    /// Like `fields`, but keys in `refused` are kept for the caller, which reports them with a
    /// better message than "unknown field"; they are not offered in hints.
    pub fn fields_refusing<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        owner: &Location,
        known: &[&str],
        refused: &[&str],
    ) -> Option<Fields<'n>> {
        let entries = self.entries(node, path)?;
        for entry in &entries {
            let key = entry.key.as_str();
            if !known.contains(&key) && !refused.contains(&key) {
                let hint = did_you_mean(&entry.key, known.iter().copied()).unwrap_or_else(|| {
                    format!("valid fields: {}", quoted_list(known.iter().copied()))
                });
                self.report(
                    &entry.key_location,
                    format!("unknown field `{}` in `{path}`", entry.key),
                    Some(hint),
                );
            }
        }
        Some(Fields {
            path: path.to_owned(),
            owner: owner.clone(),
            entries,
        })
    }

    /// The entries of a mapping keyed by user-chosen names, first occurrence of each key.
    /// Reports a wrong type and every duplicate key. A null reads as an empty mapping.
    pub fn entries<'n>(&mut self, node: &'n Node, path: &str) -> Option<Vec<&'n Entry>> {
        let entries = match &node.value {
            Value::Mapping(entries) => entries,
            _ if node.is_null() => return Some(Vec::new()),
            _ => {
                self.wrong_type(node, path, "a mapping");
                return None;
            }
        };
        let mut unique: Vec<&Entry> = Vec::with_capacity(entries.len());
        // Secret keys were reported by `scan_forbidden`; reading them as names would only add
        // confusing follow-up errors.
        for entry in entries.iter().filter(|entry| !is_secret_key(&entry.key)) {
            match unique.iter().find(|first| first.key == entry.key) {
                Some(first) => {
                    let hint = format!(
                        "`{}` is first defined at {}; remove or rename one of them",
                        entry.key, first.key_location
                    );
                    self.report(
                        &entry.key_location,
                        format!("duplicate key `{}` in `{path}`", entry.key),
                        Some(hint),
                    );
                }
                None => unique.push(entry),
            }
        }
        Some(unique)
    }

    /// A field that must be present and not null.
    pub fn required<'n>(
        &mut self,
        fields: &Fields<'n>,
        key: &str,
        example: &str,
    ) -> Option<&'n Node> {
        let node = fields.get(key);
        if node.is_none() {
            let hint = format!("add `{example}` under `{}`", fields.path);
            self.report(
                &fields.owner,
                format!("missing required field `{key}` in `{}`", fields.path),
                Some(hint),
            );
        }
        node
    }

    /// Reads an optional field with `read`: `Some(None)` when it is absent or null, `None`
    /// when it is present but invalid (and reported).
    pub fn optional<T>(
        &mut self,
        fields: &Fields<'_>,
        key: &str,
        read: impl FnOnce(&mut Self, &Node, &str) -> Option<T>,
    ) -> Option<Option<T>> {
        match fields.get(key) {
            Some(node) => read(self, node, &fields.path_of(key)).map(Some),
            None => Some(None),
        }
    }

    pub fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        if node.tag.is_some() {
            return None; // already reported by `scan_forbidden`
        }
        match &node.value {
            Value::Scalar(scalar) if scalar.kind() == ScalarKind::String => {
                Some(scalar.text.clone())
            }
            Value::Scalar(scalar) if !node.is_null() => {
                let hint = format!("quote it: `\"{}\"`", scalar.text);
                self.report(
                    &node.location,
                    format!("`{path}` must be a string, found {}", node.type_name()),
                    Some(hint),
                );
                None
            }
            _ => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    /// Any scalar but null, as written. Used where values end up as text anyway (environment
    /// variables), so `AWS_MAX_ATTEMPTS: 3` need not be quoted.
    pub fn text(&mut self, node: &Node, path: &str) -> Option<String> {
        if node.tag.is_some() {
            return None; // already reported by `scan_forbidden`
        }
        match &node.value {
            Value::Scalar(scalar) if !node.is_null() => Some(scalar.text.clone()),
            _ => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        if node.tag.is_some() {
            return None; // already reported by `scan_forbidden`
        }
        match &node.value {
            Value::Scalar(scalar) => match scalar.kind() {
                ScalarKind::Bool(value) => Some(value),
                _ => {
                    self.wrong_type(node, path, "`true` or `false`");
                    None
                }
            },
            _ => {
                self.wrong_type(node, path, "`true` or `false`");
                None
            }
        }
    }

    /// The items of a list. A null is not a list: the caller treats an explicit null like an
    /// absent field before getting here.
    pub fn list<'n>(&mut self, node: &'n Node, path: &str, expected: &str) -> Option<&'n [Node]> {
        if node.tag.is_some() {
            return None; // already reported by `scan_forbidden`
        }
        match &node.value {
            Value::Sequence(items) => Some(items),
            _ => {
                self.wrong_type(node, path, expected);
                None
            }
        }
    }

    /// A `tags:` list: each tag 1 to 64 of letters, digits and `_.:/=+@-` (no comma, which
    /// separates tags on the command line, and nothing that needs quoting in `list` output).
    pub fn tags(&mut self, node: &Node, path: &str) -> Option<std::collections::BTreeSet<String>> {
        let items = self.list(node, path, "a list of tags")?;
        let mut tags = std::collections::BTreeSet::new();
        let mut valid = true;
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{index}]");
            match self.string(item, &item_path) {
                Some(tag) if super::is_tag(&tag) => {
                    tags.insert(tag);
                }
                Some(tag) => {
                    valid = false;
                    self.report(
                        &item.location,
                        format!("invalid tag `{}` in `{path}`", crate::text::printable(&tag)),
                        Some("a tag is 1 to 64 letters, digits or `_.:/=+@-`".into()),
                    );
                }
                None => valid = false,
            }
        }
        valid.then_some(tags)
    }

    /// A duration within `bounds` (see `duration.rs`). `why` ends the hint, saying who sets the
    /// limits.
    pub fn duration(
        &mut self,
        node: &Node,
        path: &str,
        bounds: Bounds,
        why: &str,
    ) -> Option<Duration> {
        if node.tag.is_some() {
            return None; // already reported by `scan_forbidden`
        }
        let text = match &node.value {
            Value::Scalar(scalar) if !node.is_null() => &scalar.text,
            _ => {
                self.wrong_type(node, path, "a duration such as `15m`");
                return None;
            }
        };
        let (message, hint) = match duration::parse(text, bounds) {
            Ok(duration) => return Some(duration),
            Err(DurationError::Invalid { reason, .. }) => (
                format!("invalid duration `{text}` for `{path}`: {reason}"),
                "write a number with a unit, such as `90s`, `15m`, `8h` or `1h 30m`".to_owned(),
            ),
            Err(DurationError::OutOfRange { .. }) => {
                let [min, max] = [bounds.min, bounds.max].map(duration::short);
                (
                    format!("duration `{text}` for `{path}` is outside {min} to {max}"),
                    format!("choose a duration from {min} to {max}; {why}"),
                )
            }
        };
        self.report(&node.location, message, Some(hint));
        None
    }

    /// An absolute `http://` or `https://` URL with a host. The check is deliberately shallow:
    /// the SDK parses the URL for real when it is used.
    pub fn url(&mut self, node: &Node, path: &str) -> Option<String> {
        let text = self.string(node, path)?;
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"));
        let host = rest.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        let valid = host.is_some_and(|host| !host.is_empty() && !host.starts_with(':'))
            && !text.contains(char::is_whitespace);
        if valid {
            Some(text)
        } else {
            let hint = "use an absolute URL such as `https://example.awsapps.com/start`".to_owned();
            self.report(&node.location, format!("invalid URL `{text}` for `{path}`: it must start with `https://` or `http://` and name a host"), Some(hint));
            None
        }
    }

    /// A URL the program sends requests to: `url`, and the transport rule of `endpoint`
    /// (https, or plain http only to loopback).
    pub fn endpoint_url(&mut self, node: &Node, path: &str) -> Option<String> {
        let text = self.url(node, path)?;
        match crate::endpoint::check(&text) {
            Ok(()) => Some(text),
            Err(refusal) => {
                let hint = format!("{}, such as a local emulator", crate::endpoint::FIX);
                self.report(
                    &node.location,
                    format!("endpoint `{path}` is refused: {refusal}"),
                    Some(hint),
                );
                None
            }
        }
    }

    /// Checks an identity, provider or alias name (the rule is documented in `identity.rs`).
    pub fn name(&mut self, name: &str, location: &Location, what: &str) -> bool {
        let problem = if name.is_empty() {
            Some("is empty")
        } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some("contains whitespace")
        } else if name.starts_with('-') {
            Some("starts with `-`")
        } else {
            None
        };
        if let Some(problem) = problem {
            let hint = "use letters, digits and `-`, `_`, `/`, `.`, such as `plat-dev/terraform`"
                .to_owned();
            self.report(location, format!("{what} `{name}` {problem}"), Some(hint));
        }
        problem.is_none()
    }

    /// An identity name or alias: `name` of `what` at `location` must pass `name_problem`.
    pub fn identity_name(&mut self, name: &str, location: &Location, what: &str) -> bool {
        let Some(problem) = super::name_problem(name) else {
            return true;
        };
        let hint = "use letters, digits, `/` and `_+=,.@-` (not first), such as `plat-dev/terraform`; names appear unquoted in generated AWS config and command lines".to_owned();
        self.report(location, format!("{what} `{name}` {problem}"), Some(hint));
        false
    }

    pub fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        self.report(
            &node.location,
            format!("`{path}` must be {expected}, found {}", node.type_name()),
            None,
        );
    }

    /// Reports every secret-looking key and every custom tag anywhere below `node`. Readers
    /// skip both afterwards, so each is reported once.
    pub fn scan_forbidden(&mut self, node: &Node, path: &str) {
        if let Some(tag) = &node.tag {
            let hint = "write the value itself; YAML functions are not evaluated in the auth configuration".to_owned();
            self.report(
                &node.location,
                format!("YAML tag `{tag}` is not supported in `{path}`"),
                Some(hint),
            );
        }
        match &node.value {
            Value::Scalar(_) => {}
            Value::Sequence(items) => items
                .iter()
                .for_each(|item| self.scan_forbidden(item, path)),
            Value::Mapping(entries) => {
                for entry in entries {
                    let child = format!("{path}.{}", entry.key);
                    if is_secret_key(&entry.key) {
                        // No source line: it would print the secret in the error message.
                        self.diagnostics.push(Diagnostic::new(
              entry.key_location.clone(),
              format!("`{child}` looks like a secret key; atmos-auth refuses to load secrets from config files"),
              Some("remove it (and rotate the key if the file was ever shared); credentials belong in the keyring, which atmos-auth fills itself".to_owned()),
            ));
                    } else {
                        self.scan_forbidden(&entry.value, &child);
                    }
                }
            }
        }
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = normalized(key);
    SECRET_KEYS.contains(&key.as_str())
}

fn mentions_secret_key(line: &str) -> bool {
    let line = normalized(line);
    SECRET_KEYS.iter().any(|secret| line.contains(secret))
}

/// Lowercase, without `_` and `-`, so that spellings of one key compare equal.
fn normalized(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// "did you mean `x`?" when a candidate is close to `word`.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| format!("did you mean `{candidate}`?"))
}

/// "`a`, `b`, `c`", for hints that list what is valid.
pub(crate) fn quoted_list<'c>(words: impl IntoIterator<Item = &'c str>) -> String {
    words
        .into_iter()
        .map(|word| format!("`{word}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
