//! The command-line front-end: clap definitions (`arguments`), their validation into a typed
//! `Invocation` (`command`), and shell completion. Nothing below `cli` imports clap; the
//! invocation is handed to `command`, which runs it.

mod arguments;
mod candidates;
mod command;
mod completion;
mod variables;

pub use arguments::Arguments;
pub use command::{Command, EnvOutput, Invocation, LogoutTarget, Settings};
pub use completion::answer_if_requested;
