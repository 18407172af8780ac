//! `env` output formats: shell assignments for bash/zsh, fish and PowerShell, JSON, dotenv, and
//! GitHub Actions (`$GITHUB_ENV` plus log masking).
//!
//! Every value is quoted for its shell by `shell-quote` (bash, fish) or by the one rule
//! PowerShell has (single-quoted strings, each quote doubled; PowerShell reads the typographic
//! quotes U+2018 to U+201B as single quotes too), so `eval "$(atmos-auth env …)"` is safe
//! whatever the value holds.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use shell_quote::{Bash, Fish, QuoteInto};
use zeroize::Zeroizing;

use super::vars::EnvVar;

/// Formats that print the whole answer on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Bash,
    Fish,
    Powershell,
    Json,
    Dotenv,
}

/// The text for `format`. It holds secrets, so it is wiped when dropped.
pub fn render(format: Format, vars: &[EnvVar]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    match format {
        Format::Bash => {
            for var in vars {
                out.push_str("export ");
                out.push_str(&var.name);
                out.push('=');
                <Bash as QuoteInto<String>>::quote_into(var.value.expose().as_str(), &mut out);
                out.push('\n');
            }
        }
        Format::Fish => {
            for var in vars {
                out.push_str("set -gx ");
                out.push_str(&var.name);
                out.push(' ');
                <Fish as QuoteInto<String>>::quote_into(var.value.expose().as_str(), &mut out);
                out.push_str(";\n");
            }
        }
        Format::Powershell => {
            for var in vars {
                let _ = write!(out, "$Env:{} = '", var.name);
                for c in var.value.expose().chars() {
                    if POWERSHELL_QUOTES.contains(&c) {
                        out.push(c);
                    }
                    out.push(c);
                }
                out.push_str("'\n");
            }
        }
        Format::Json => {
            let map: serde_json::Map<String, serde_json::Value> = vars
                .iter()
                .map(|v| {
                    (
                        v.name.clone(),
                        serde_json::Value::String(v.value.expose().clone()),
                    )
                })
                .collect();
            out.push_str(&serde_json::to_string_pretty(&map).expect("a string map serializes"));
            out.push('\n');
        }
        Format::Dotenv => {
            for var in vars {
                let _ = writeln!(out, "{}={}", var.name, dotenv_value(var.value.expose()));
            }
        }
    }
    out
}

/// Every character PowerShell ends a single-quoted string at: `'` and the typographic single
/// quotes. Doubling one makes it literal.
const POWERSHELL_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// dotenv files take bare values when they are plain, double-quoted ones otherwise.
fn dotenv_value(value: &str) -> String {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=-_.:@,".contains(&b));
    if plain {
        return value.to_owned();
    }
    let mut quoted = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '$' => quoted.push_str("\\$"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// GitHub Actions, first step: the workflow commands (for stdout) that mask each secret in the
/// log. They must reach the runner before `write_github_file` puts the values in the file.
pub fn github_masks(vars: &[EnvVar]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    // A workflow command is one line: each line of a secret is masked on its own, so no part of
    // one that holds a line break (a credential process, or an endpoint, may send any text)
    // reaches the log unmasked or is read by the runner as a command.
    for var in vars.iter().filter(|v| v.secret) {
        for line in var.value.expose().split(['\n', '\r']) {
            if !line.is_empty() {
                let _ = writeln!(out, "::add-mask::{line}");
            }
        }
    }
    out
}

/// GitHub Actions, second step: append the variables to the `$GITHUB_ENV` file for the
/// following steps.
pub fn write_github_file(vars: &[EnvVar], github_env: &Path) -> std::io::Result<()> {
    let mut text = Zeroizing::new(String::new());
    for var in vars {
        // The heredoc form is safe for any value whose lines never equal the delimiter; a
        // random one cannot be planted in a value (say, through an identity's `env:`).
        let delimiter = loop {
            let candidate = heredoc_delimiter();
            if !var.value.expose().lines().any(|line| line == candidate) {
                break candidate;
            }
        };
        let _ = write!(
            text,
            "{}<<{delimiter}\n{}\n{delimiter}\n",
            var.name,
            var.value.expose()
        );
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    // Created by us only when the runner did not: then it is private, since it holds secrets.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, crate::fs::PRIVATE_FILE_MODE);
    let mut file = options.open(github_env)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// `ATMOS_AUTH_EOF_` and 16 random hex digits.
fn heredoc_delimiter() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("ATMOS_AUTH_EOF_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn var(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Secret::from(value),
            secret: true,
        }
    }

    #[test]
    fn bash_quotes_awkward_values() {
        let out = render(Format::Bash, &[var("A", "it's $HOME `x`")]);
        assert!(out.starts_with("export A="));
        assert!(!out.contains("$HOME`"), "{}", *out);
    }

    #[test]
    fn powershell_doubles_single_quotes() {
        assert_eq!(
            *render(Format::Powershell, &[var("A", "it's")]),
            "$Env:A = 'it''s'\n"
        );
        assert_eq!(
            *render(
                Format::Powershell,
                &[var("A", "\u{2018}\u{2019}\u{201A}\u{201B}\"$x")]
            ),
            "$Env:A = '\u{2018}\u{2018}\u{2019}\u{2019}\u{201A}\u{201A}\u{201B}\u{201B}\"$x'\n"
        );
    }

    #[test]
    fn dotenv_leaves_base64_bare_and_quotes_the_rest() {
        assert_eq!(
            *render(Format::Dotenv, &[var("A", "ab+/c==")]),
            "A=ab+/c==\n"
        );
        assert_eq!(
            *render(Format::Dotenv, &[var("A", "a b\"$")]),
            "A=\"a b\\\"\\$\"\n"
        );
    }

    #[test]
    fn github_masks_secrets_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("github_env");
        std::fs::write(&path, "EXISTING=1\n").unwrap();
        let vars = [
            var("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            EnvVar {
                secret: false,
                ..var("AWS_REGION", "us-east-1")
            },
        ];
        assert_eq!(*github_masks(&vars), "::add-mask::s3cr3t\n");
        write_github_file(&vars, &path).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(lines[0], "EXISTING=1");
        let delimiter = lines[1].strip_prefix("AWS_SECRET_ACCESS_KEY<<").unwrap();
        assert!(
            delimiter.starts_with("ATMOS_AUTH_EOF_") && delimiter.len() == 31,
            "{delimiter}"
        );
        assert_eq!(&lines[2..4], ["s3cr3t", delimiter]);
        let second = lines[4].strip_prefix("AWS_REGION<<").unwrap();
        assert_ne!(second, delimiter, "a new delimiter per variable");
        assert_eq!(&lines[5..7], ["us-east-1", second]);
    }

    #[test]
    fn github_masks_every_line_of_a_secret_and_runs_no_command() {
        let vars = [var("AWS_SESSION_TOKEN", "tok1\n::error::injected\r\ntok2")];
        assert_eq!(
            *github_masks(&vars),
            "::add-mask::tok1\n::add-mask::::error::injected\n::add-mask::tok2\n"
        );
    }
}
