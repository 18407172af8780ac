//! `TreeBuilder`: turns one YAML file into a `Node` tree, or into syntax diagnostics.
//!
//! It consumes the event stream of `granit_parser` (re-exported by `serde-saphyr`, so the
//! project has one YAML crate family). Anchors and aliases are expanded, and `<<` merge keys
//! are applied, so later stages see plain data. Only the first document of a file is read.

use std::collections::HashMap;
use std::path::Path;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

use super::node::{Entry, Node, Scalar, Value};
use super::{Diagnostic, Location};

/// Alias expansion copies the anchored subtree, so a small file of nested aliases can grow
/// exponentially ("billion laughs"), in nodes or in the bytes of long scalars. Every copy (an
/// alias expanded, an anchored node kept) is charged what it costs in memory, and a file may
/// copy this much in all. Real config files copy a few KiB.
const MAX_COPIED_BYTES: usize = 4 * 1024 * 1024;

/// Parses `text`, the contents of `file`.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Node, Vec<Diagnostic>> {
    let mut builder = TreeBuilder {
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        copied_bytes: 0,
        diagnostics: Vec::new(),
    };
    for event in Parser::new_from_str(text) {
        match event {
            Ok((Event::DocumentEnd | Event::StreamEnd, _)) => break,
            Ok((event, span)) => builder.event(event, span),
            Err(error) => {
                builder.syntax_error(&error);
                break;
            }
        }
        if !builder.diagnostics.is_empty() {
            break;
        }
    }
    if !builder.diagnostics.is_empty() {
        return Err(builder.diagnostics);
    }
    // An empty document reads as an empty mapping, so that a profile file holding only
    // comments does not wipe out the root file when merged over it.
    match builder.root {
        Some(node) if !node.is_null() => Ok(node),
        root => {
            let location = root.map_or_else(
                || Location {
                    file: file.to_owned(),
                    line: 1,
                    column: 1,
                },
                |node| node.location,
            );
            Ok(Node {
                value: Value::Mapping(Vec::new()),
                location,
                tag: None,
            })
        }
    }
}

struct TreeBuilder<'a> {
    file: &'a Path,
    stack: Vec<Frame>,
    /// Completed anchored nodes with their sizes in bytes, by the parser's anchor id.
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    /// What alias expansion and anchors have copied so far, in bytes.
    copied_bytes: usize,
    diagnostics: Vec<Diagnostic>,
}

/// A collection whose end event has not arrived yet.
struct Frame {
    location: Location,
    anchor: usize,
    tag: Option<String>,
    kind: FrameKind,
}

enum FrameKind {
    Sequence(Vec<Node>),
    Mapping {
        entries: Vec<Entry>,
        key: Option<Node>,
        merges: Vec<Node>,
    },
}

impl TreeBuilder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) {
        // A tagged node is reported at its tag, which is where a reader looks for it.
        let start = span.tag_start.unwrap_or(span.start);
        let location = self.location(start.line(), start.col());
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let is_str_tag = tag
                    .as_deref()
                    .is_some_and(|tag| tag.is_yaml_core_schema_tag("str"));
                let scalar = Scalar {
                    text: text.into_owned(),
                    plain: style == ScalarStyle::Plain && !is_str_tag,
                };
                let node = Node {
                    value: Value::Scalar(scalar),
                    location,
                    tag: custom_tag(tag.as_deref()),
                };
                self.complete(node, anchor);
            }
            Event::SequenceStart(_, anchor, tag) => self.stack.push(Frame {
                location,
                anchor,
                tag: custom_tag(tag.as_deref()),
                kind: FrameKind::Sequence(Vec::new()),
            }),
            Event::MappingStart(_, anchor, tag) => self.stack.push(Frame {
                location,
                anchor,
                tag: custom_tag(tag.as_deref()),
                kind: FrameKind::Mapping {
                    entries: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                },
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = self.stack.pop() {
                    let value = match frame.kind {
                        FrameKind::Sequence(items) => Value::Sequence(items),
                        FrameKind::Mapping {
                            entries, merges, ..
                        } => Value::Mapping(apply_merges(entries, merges)),
                    };
                    self.complete(
                        Node {
                            value,
                            location: frame.location,
                            tag: frame.tag,
                        },
                        frame.anchor,
                    );
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).map(|(_, bytes)| *bytes) {
                Some(bytes) => {
                    if !self.over_budget(bytes, &location) {
                        let node = self.anchors[&id].0.clone();
                        self.complete(node, 0);
                    }
                }
                // The parser resolves aliases to earlier anchors, so a miss here is an alias to a
                // collection that is still open: a recursive structure.
                None => self.report(
                    location,
                    "alias refers to a collection that contains it",
                    "remove the recursive alias",
                ),
            },
            // Stream and document markers, comments and anchor metadata carry no data.
            _ => {}
        }
    }

    /// Attaches a finished node to the collection being built, or makes it the root.
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            let bytes = bytes(&node);
            if self.over_budget(bytes, &node.location) {
                return;
            }
            self.anchors.insert(anchor, (node.clone(), bytes));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut frame.kind {
            FrameKind::Sequence(items) => items.push(node),
            FrameKind::Mapping {
                key: key @ None, ..
            } => *key = Some(node),
            FrameKind::Mapping {
                entries,
                key,
                merges,
            } => {
                let Some(key) = key.take() else { return };
                match key.value {
                    Value::Scalar(scalar) if scalar.plain && scalar.text == "<<" => {
                        merges.push(node)
                    }
                    Value::Scalar(scalar) => entries.push(Entry {
                        key: scalar.text,
                        key_location: key.location,
                        value: node,
                    }),
                    _ => self.diagnostics.push(Diagnostic::new(
                        key.location,
                        "mapping keys must be strings",
                        Some("replace the list or mapping used as a key with a name".to_owned()),
                    )),
                }
            }
        }
    }

    /// Charges a copy of `bytes`; past the budget, reports it at `location` and says so.
    fn over_budget(&mut self, bytes: usize, location: &Location) -> bool {
        self.copied_bytes = self.copied_bytes.saturating_add(bytes);
        let over = self.copied_bytes > MAX_COPIED_BYTES;
        if over {
            let message = format!(
                "anchors and aliases expand to more than {} MiB",
                MAX_COPIED_BYTES / (1024 * 1024)
            );
            self.report(location.clone(), &message, "use fewer nested aliases");
        }
        over
    }

    fn syntax_error(&mut self, error: &ScanError) {
        let location = self.location(error.marker().line(), error.marker().col());
        let message = format!("invalid YAML: {}", error.info());
        self.diagnostics
            .push(Diagnostic::new(location, message, None));
    }

    fn report(&mut self, location: Location, message: &str, hint: &str) {
        self.diagnostics
            .push(Diagnostic::new(location, message, Some(hint.to_owned())));
    }

    fn location(&self, line: usize, col: usize) -> Location {
        // granit lines are 1-based and columns 0-based; both are shown 1-based.
        Location {
            file: self.file.to_owned(),
            line: line.max(1),
            column: col + 1,
        }
    }
}

/// Applies `<<: *base` (or `<<: [*a, *b]`): merged keys fill in what the mapping does not set
/// itself, and earlier sources win over later ones, as the YAML merge-key convention says.
fn apply_merges(mut entries: Vec<Entry>, merges: Vec<Node>) -> Vec<Entry> {
    let sources = merges.into_iter().flat_map(|node| match node.value {
        Value::Sequence(items) => items,
        _ => vec![node],
    });
    for source in sources {
        if let Value::Mapping(merged) = source.value {
            for entry in merged {
                if !entries.iter().any(|existing| existing.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
    entries
}

/// Keeps tags outside the YAML core schema, such as Atmos's `!env` or `!include`, so that
/// validation can refuse them instead of using the unevaluated text.
fn custom_tag(tag: Option<&Tag>) -> Option<String> {
    tag.filter(|tag| tag.is_custom()).map(Tag::original)
}

/// What a copy of `node` costs in memory: each node, its text and its position's file name.
fn bytes(node: &Node) -> usize {
    let own = size_of::<Node>() + node.location.file.as_os_str().len();
    own + match &node.value {
        Value::Scalar(scalar) => scalar.text.len(),
        Value::Sequence(items) => items.iter().map(bytes).sum(),
        Value::Mapping(entries) => entries
            .iter()
            .map(|entry| {
                size_of::<Entry>()
                    + entry.key.len()
                    + entry.key_location.file.as_os_str().len()
                    + bytes(&entry.value)
            })
            .sum(),
    }
}
