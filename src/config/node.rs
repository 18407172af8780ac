//! `Node`: the YAML tree the validator walks, with a `Location` on every node and key.
//!
//! A serde mirror would lose three things this layer needs: the position of every value after
//! the base and profile files are merged, duplicate keys (serde keeps one), and whether a
//! scalar was quoted (an account id written as a bare number must be reported, not silently
//! converted). So files are parsed into this tree, merged here, and validated by walking it.

use super::Location;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub location: Location,
    /// A non-core tag such as Atmos's `!env`, which this layer does not evaluate.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    /// Entries in file order. Duplicate keys are kept so that validation can report them.
    Mapping(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    pub text: String,
    /// Quoted, block or `!!str`-tagged scalars are always strings; plain ones are resolved.
    pub plain: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_location: Location,
    pub value: Node,
}

/// The type a scalar resolves to under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarKind {
    Null,
    Bool(bool),
    Integer,
    Float,
    String,
}

impl Scalar {
    pub fn kind(&self) -> ScalarKind {
        if !self.plain {
            return ScalarKind::String;
        }
        match self.text.as_str() {
            "" | "~" | "null" | "Null" | "NULL" => ScalarKind::Null,
            "true" | "True" | "TRUE" => ScalarKind::Bool(true),
            "false" | "False" | "FALSE" => ScalarKind::Bool(false),
            text if is_integer(text) => ScalarKind::Integer,
            text if is_float(text) => ScalarKind::Float,
            _ => ScalarKind::String,
        }
    }
}

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(hex) = digits.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(octal) = digits.strip_prefix("0o") {
        return !octal.is_empty() && octal.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_float(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['-', '+']).unwrap_or(&lower);
    matches!(unsigned, ".inf" | ".nan")
        || (unsigned.bytes().any(|b| b.is_ascii_digit()) && unsigned.parse::<f64>().is_ok())
}

impl Node {
    /// A human word for the node's type, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Mapping(_) => "a mapping",
            Value::Sequence(_) => "a list",
            Value::Scalar(scalar) => match scalar.kind() {
                ScalarKind::Null => "nothing (null)",
                ScalarKind::Bool(_) => "a boolean",
                ScalarKind::Integer => "an integer",
                ScalarKind::Float => "a number",
                ScalarKind::String => "a string",
            },
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(scalar) if scalar.kind() == ScalarKind::Null)
    }

    /// The first entry with this key, when the node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Mapping(entries) => entries.iter().find(|entry| entry.key == key),
            _ => None,
        }
    }
}

/// Deep-merges `overlay` (the profile) onto `base` (the root file): mappings merge key by key,
/// anything else in the overlay replaces what the base had, nulls included. Every node keeps
/// the location of the file it came from.
pub(crate) fn merge(base: Node, overlay: Node) -> Node {
    match (base.value, overlay.value) {
        (Value::Mapping(base_entries), Value::Mapping(overlay_entries)) => Node {
            value: Value::Mapping(merge_entries(base_entries, overlay_entries)),
            location: overlay.location,
            tag: overlay.tag,
        },
        (_, value) => Node { value, ..overlay },
    }
}

fn merge_entries(base: Vec<Entry>, overlay: Vec<Entry>) -> Vec<Entry> {
    let overlay_keys: Vec<String> = overlay.iter().map(|entry| entry.key.clone()).collect();
    let mut overlay: Vec<Option<Entry>> = overlay.into_iter().map(Some).collect();
    let mut merged = Vec::with_capacity(overlay.len() + base.len());
    for entry in base {
        // Only the first occurrence of a key in each file takes part in the merge. A repeated key
        // stays in the result as is, so validation still sees and reports the duplicate.
        let first = overlay_keys.iter().position(|key| *key == entry.key);
        match first.and_then(|index| overlay[index].take()) {
            Some(over) => merged.push(Entry {
                key: over.key,
                key_location: over.key_location,
                value: merge(entry.value, over.value),
            }),
            None => merged.push(entry),
        }
    }
    merged.extend(overlay.into_iter().flatten());
    merged
}
