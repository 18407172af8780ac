//! The command-line front-end: clap definitions and shell completion. Nothing below `cli`
//! imports clap; the parsed arguments are handed to `command`, which runs them.

mod arguments;
mod completion;

pub use arguments::{Arguments, EnvFormat, Global, Subcommand, WhoamiFormat};
pub use completion::{answer_if_requested, registration};
