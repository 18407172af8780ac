//! `credential_process` identities: run an external program and read its AWS
//! `credential_process` v1 JSON. Its stderr goes straight to the user (it may prompt or explain);
//! its stdout holds secrets and is only parsed, never logged.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use zeroize::Zeroizing;

use crate::config::ProcessCommand;
use crate::credentials::{Credentials, epoch_secs};
use crate::output::credential_process::{self, ParseError};

/// How long the program may run.
const TIMEOUT: Duration = Duration::from_secs(120);
/// Credentials without an `Expiration` are long-lived; they are kept this long between runs.
const LONG_LIVED_CACHE: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("could not start the credential process `{program}`")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("the credential process `{program}` exited with status {status}")]
    Failed { program: String, status: String },
    #[error("the credential process `{program}` did not finish within {}s", TIMEOUT.as_secs())]
    TimedOut { program: String },
    #[error("the credential process `{program}` printed something unusable")]
    Output { program: String, source: ParseError },
}

pub fn run(command: &ProcessCommand) -> Result<Credentials, ProcessError> {
    let program = command.program().to_owned();
    let mut child_command = match command {
        ProcessCommand::Shell(line) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(line);
            c
        }
        ProcessCommand::Args(args) => {
            let mut c = Command::new(&args[0]);
            c.args(&args[1..]);
            c
        }
    };
    let mut child = child_command
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| ProcessError::Start {
            program: program.clone(),
            source,
        })?;
    let mut stdout = child.stdout.take().expect("piped");
    // The reader reports through a channel: a grandchild that keeps stdout open must not make
    // the deadline below meaningless.
    let (sender, output) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = Zeroizing::new(String::new());
        let _ = stdout.read_to_string(&mut text);
        let _ = sender.send(text);
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ProcessError::TimedOut { program });
            }
        }
    };
    let remaining = deadline.saturating_duration_since(Instant::now());
    let Ok(text) = output.recv_timeout(remaining) else {
        return Err(ProcessError::TimedOut { program });
    };
    if !status.success() {
        return Err(ProcessError::Failed {
            program,
            status: status.to_string(),
        });
    }
    let default_expiry = epoch_secs(SystemTime::now() + LONG_LIVED_CACHE);
    credential_process::parse(&text, default_expiry)
        .map_err(|source| ProcessError::Output { program, source })
}
