//! `Diagnostic`: one problem found in a config file, with where it is and how to fix it.
//!
//! Validation collects every diagnostic before failing, so a user fixes a file in one pass.

use std::fmt;

use super::Location;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Location,
    /// What is wrong, as one lowercase clause.
    pub message: String,
    /// How to fix it, when there is something more useful to say than the message.
    pub hint: Option<String>,
    /// The offending line of the file, shown under the message with a caret. It is `None` when
    /// the line may hold a secret, so that an error message never echoes one.
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(
        location: Location,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Self {
            location,
            message: message.into(),
            hint,
            source_line: None,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)?;
        if let Some(line) = &self.source_line {
            let number = self.location.line.to_string();
            let gutter = " ".repeat(number.len());
            // The caret is placed by character count, so a tab before the column would misalign
            // it; YAML forbids tabs in indentation, so this only affects tabs inside flow content.
            let pad = " ".repeat(self.location.column.saturating_sub(1));
            write!(f, "\n  {number} | {line}\n  {gutter} | {pad}^")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {hint}")?;
        }
        Ok(())
    }
}
