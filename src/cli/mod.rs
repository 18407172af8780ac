//! The command-line front-end: clap definitions only. Nothing below `cli` imports clap; the
//! parsed arguments are handed to `command`, which runs them.

mod arguments;

pub use arguments::{Arguments, EnvFormat, Global, Subcommand, WhoamiFormat};
