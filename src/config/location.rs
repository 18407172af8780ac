//! `Location`: where a value came from, as a file plus a 1-based line and column.
//!
//! Every node of the YAML tree carries one, and it survives the base/profile merge, so a
//! diagnostic always points into the file the offending value was written in.

use std::fmt;
use std::path::PathBuf;

/// A position in a config file. Line and column are 1-based, as editors show them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}
