//! `credential_process` identities: run an external program and read its AWS
//! `credential_process` v1 JSON. Its stderr goes straight to the user (it may prompt or explain);
//! its stdout holds secrets and is only parsed, never logged.
//!
//! The program is bounded: it never sees the secrets atmos-auth itself was given (the file
//! store's password, the GitHub runner's OIDC request token), its output is capped, and when it
//! runs past its timeout its whole process group is killed, so a grandchild that keeps stdout
//! open can neither hang us nor outlive us.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, TryRecvError};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::config::ProcessCommand;
use crate::credential_process::{self, ParseError};
use crate::credentials::{Credentials, epoch_secs};
use crate::provider::github_oidc;
use crate::store::KEYRING_PASSWORD_ENV;

/// Credentials without an `Expiration` are long-lived; they are kept this long between runs.
const LONG_LIVED_CACHE: Duration = Duration::from_secs(3600);
/// credential_process JSON is a few hundred bytes; anything past this is not credentials.
const MAX_OUTPUT_BYTES: usize = 64 * 1024;
/// How often the child is checked on while it runs.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Variables holding atmos-auth's own secrets, removed from the program's environment.
const WITHHELD: [&str; 3] = [
    KEYRING_PASSWORD_ENV,
    github_oidc::env::REQUEST_URL,
    github_oidc::env::REQUEST_TOKEN,
];

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("could not start the credential process `{program}`")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("the credential process `{program}` exited with status {status}")]
    Failed { program: String, status: String },
    #[error("the credential process `{program}` did not finish within {}", humantime::format_duration(*timeout))]
    TimedOut { program: String, timeout: Duration },
    #[error("the credential process `{program}` printed more than {} KiB", MAX_OUTPUT_BYTES / 1024)]
    TooMuchOutput { program: String },
    #[error("the credential process `{program}` printed something unusable")]
    Output { program: String, source: ParseError },
}

pub fn run(
    command: &ProcessCommand,
    timeout: Duration,
    clock: &dyn Clock,
) -> Result<Credentials, ProcessError> {
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
    for name in WITHHELD {
        child_command.env_remove(name);
    }
    let terminal = group::isolate(&mut child_command);
    let mut child = child_command
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| ProcessError::Start {
            program: program.clone(),
            source,
        })?;
    if let Some(terminal) = &terminal {
        terminal.hand_to(&child);
    }
    let mut stdout = child.stdout.take().expect("piped");
    // The reader reports through a channel, so that the deadline holds even while a grandchild
    // keeps stdout open. It stops one byte past the cap: enough to know the cap was passed.
    let (sender, output) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Zeroizing::new(Vec::new());
        let _ = (&mut stdout)
            .take(MAX_OUTPUT_BYTES as u64 + 1)
            .read_to_end(&mut bytes);
        let _ = sender.send(bytes);
    });
    let deadline = Instant::now() + timeout;
    let mut status = None;
    let mut text: Option<Zeroizing<Vec<u8>>> = None;
    let (status, text) = loop {
        if text.is_none() {
            match output.try_recv() {
                Ok(bytes) => text = Some(bytes),
                Err(TryRecvError::Disconnected) => text = Some(Zeroizing::new(Vec::new())),
                Err(TryRecvError::Empty) => {}
            }
        }
        if text.as_ref().is_some_and(|t| t.len() > MAX_OUTPUT_BYTES) {
            group::kill(&mut child);
            return Err(ProcessError::TooMuchOutput { program });
        }
        if status.is_none() {
            status = child.try_wait().ok().flatten();
        }
        if let (Some(status), Some(text)) = (status, text.take()) {
            break (status, text);
        }
        if Instant::now() >= deadline {
            group::kill(&mut child);
            return Err(ProcessError::TimedOut { program, timeout });
        }
        std::thread::sleep(POLL_INTERVAL);
    };
    if !status.success() {
        return Err(ProcessError::Failed {
            program,
            status: status.to_string(),
        });
    }
    let text = std::str::from_utf8(&text).map_err(|_| ProcessError::Output {
        program: program.clone(),
        source: ParseError::Json("not UTF-8".into()),
    })?;
    let default_expiry = epoch_secs(clock.now() + LONG_LIVED_CACHE);
    credential_process::parse(text, default_expiry)
        .map_err(|source| ProcessError::Output { program, source })
}

/// The program's own process group, and the terminal handed to it while it runs.
#[cfg(unix)]
mod group {
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};

    /// Our terminal, when we are in its foreground: the program needs it to prompt. Dropping
    /// it takes the terminal back, also when the program could not be started (the child may
    /// have taken it before its exec failed).
    pub struct Terminal {
        ours: libc::pid_t,
    }

    /// Start `command` in a process group of its own, so that a timeout can kill everything
    /// it started. A program started from an interactive terminal is also made the terminal's
    /// foreground group (as a shell does for a job), so that it can still read a prompt's answer.
    pub fn isolate(command: &mut Command) -> Option<Terminal> {
        command.process_group(0);
        // SAFETY: tcgetpgrp and getpgrp only read this process's state.
        let ours = unsafe { libc::getpgrp() };
        // SAFETY: as above.
        let foreground = unsafe { libc::tcgetpgrp(libc::STDIN_FILENO) };
        if foreground != ours {
            return None;
        }
        // SAFETY: the closure runs in the child between fork and exec and calls only
        // async-signal-safe functions (signal, getpid, tcsetpgrp).
        unsafe {
            command.pre_exec(|| {
                take_terminal(libc::getpid());
                Ok(())
            });
        }
        Some(Terminal { ours })
    }

    /// `tcsetpgrp` from a background group stops the caller with SIGTTOU unless it is ignored.
    fn take_terminal(group: libc::pid_t) {
        // SAFETY: the previous disposition is put back before returning; tcsetpgrp fails
        // harmlessly (ESRCH) if the group is already gone.
        unsafe {
            let previous = libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            libc::tcsetpgrp(libc::STDIN_FILENO, group);
            libc::signal(libc::SIGTTOU, previous);
        }
    }

    impl Terminal {
        /// Give the terminal to the child's group from this side too: whichever of the two
        /// runs first, the child never reads from the terminal as a background job.
        pub fn hand_to(&self, child: &Child) {
            take_terminal(child.id() as libc::pid_t);
        }
    }

    impl Drop for Terminal {
        fn drop(&mut self) {
            take_terminal(self.ours);
        }
    }

    /// Kill the child's whole process group, then reap the child.
    pub fn kill(child: &mut Child) {
        // SAFETY: the group id is the child's pid, which the kernel does not hand out again
        // while the child is unreaped or any member of its group is alive, so the signal
        // reaches no one else's group.
        unsafe {
            libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Elsewhere, the program alone is started and killed.
#[cfg(not(unix))]
mod group {
    use std::process::{Child, Command};

    pub enum Terminal {}

    pub fn isolate(_command: &mut Command) -> Option<Terminal> {
        None
    }

    impl Terminal {
        pub fn hand_to(&self, _child: &Child) {
            match *self {}
        }
    }

    pub fn kill(child: &mut Child) {
        let _ = child.kill();
        let _ = child.wait();
    }
}
