//! `Prompt`: how identity and provider logic ask a person for a line (an MFA code). Production
//! asks at the terminal; tests answer from a script, or as nobody.

use std::io::{BufRead, IsTerminal, Write};

pub trait Prompt {
    /// Ask `question` and return the answer, trimmed; `None` when nobody can answer (stdin is
    /// not a terminal) or the answer could not be read.
    fn ask(&self, question: &str) -> Option<String>;
}

/// Asks on stderr and reads the answer from stdin, when stdin is a terminal.
#[derive(Clone, Copy, Debug, Default)]
pub struct TerminalPrompt;

impl Prompt for TerminalPrompt {
    fn ask(&self, question: &str) -> Option<String> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        eprint!("{question}");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        Some(line.trim().to_owned())
    }
}
