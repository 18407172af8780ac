//! Running a command as atmos-auth's child (`exec --server`, `shell --server`), for when
//! atmos-auth must outlive the `execvp` that plain `exec` does: it serves the command's
//! credentials for as long as the command runs.
//!
//! The child stays in atmos-auth's process group, which is the terminal's foreground group when
//! atmos-auth was started from a shell: the terminal's own signals (Ctrl+C, Ctrl+\, hangup) and
//! job control (Ctrl+Z, `fg`) reach both, exactly as they reach a pipeline. Signals sent to
//! atmos-auth alone (`kill`, a CI runner cancelling the job) are forwarded to the child; one the
//! terminal sent is not (Linux says which is which), so the child never sees a second Ctrl+C it
//! did not type (a second one makes Terraform abandon its state lock). atmos-auth exits with the child's status, 128+N when
//! signal N killed it. This module does no credential work.

use std::ffi::OsString;

use super::exec::{ExecError, command};
use super::vars::EnvVar;

/// The signals forwarded to the child.
#[cfg(unix)]
const FORWARDED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// The child, as the forwarding thread sees it.
#[cfg(unix)]
#[derive(Clone, Copy)]
enum Child {
    /// Not started: a signal ends atmos-auth as it would have without the forwarding.
    NotStarted,
    Running(libc::pid_t),
    /// Exited (not yet reaped, so its pid cannot have been reused): nothing to forward to.
    Exited,
}

/// Catches the forwarded signals from the moment it is made (process-wide handlers, whatever
/// thread the kernel picks), and forwards them from a thread of its own.
pub struct Signals {
    #[cfg(unix)]
    child: std::sync::Arc<std::sync::Mutex<Child>>,
}

impl Signals {
    #[cfg(unix)]
    pub fn take() -> Result<Self, std::io::Error> {
        use signal_hook::iterator::SignalsInfo;
        use signal_hook::iterator::exfiltrator::origin::WithOrigin;
        use signal_hook::low_level::siginfo::Cause;

        let child = std::sync::Arc::new(std::sync::Mutex::new(Child::NotStarted));
        let mut caught = SignalsInfo::<WithOrigin>::new(FORWARDED)?;
        let shared = std::sync::Arc::clone(&child);
        std::thread::spawn(move || {
            for origin in caught.forever() {
                let state = *shared.lock().unwrap_or_else(|poison| poison.into_inner());
                match state {
                    Child::NotStarted => std::process::exit(128 + origin.signal),
                    // The terminal sent it to its whole foreground group: the child has it.
                    Child::Running(_) if matches!(origin.cause, Cause::Kernel) => {}
                    // SAFETY: the pid is our unreaped child's; the lock is held while it is read.
                    Child::Running(pid) => unsafe {
                        libc::kill(pid, origin.signal);
                    },
                    Child::Exited => {}
                }
            }
        });
        Ok(Self { child })
    }

    #[cfg(not(unix))]
    pub fn take() -> Result<Self, std::io::Error> {
        Ok(Self {})
    }
}

/// Run `argv` as a child with `vars` (and without the conflicting variables), forwarding
/// signals, and return its exit code once it has ended.
pub fn run(signals: &Signals, argv: &[OsString], vars: &[EnvVar]) -> Result<i32, ExecError> {
    let fail = |source| ExecError {
        program: argv[0].clone(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        // The lock is held from before the spawn until the pid is recorded: a signal caught in
        // between waits for it and is forwarded, instead of finding no child and ending
        // atmos-auth with the command left running.
        let mut state = signals
            .child
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let mut child = command(argv, vars).spawn().map_err(fail)?;
        let pid = child.id() as libc::pid_t;
        *state = Child::Running(pid);
        drop(state);
        wait_without_reaping(pid).map_err(fail)?;
        *signals
            .child
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Child::Exited;
        let status = child.wait().map_err(fail)?;
        Ok(status
            .code()
            .or_else(|| status.signal().map(|signal| 128 + signal))
            .unwrap_or(1))
    }
    #[cfg(not(unix))]
    {
        let _ = signals;
        let mut child = command(argv, vars).spawn().map_err(fail)?;
        let status = child.wait().map_err(fail)?;
        Ok(status.code().unwrap_or(1))
    }
}

/// Wait until the child has exited, leaving it a zombie so that its pid stays ours until the
/// forwarding thread knows it is gone.
#[cfg(unix)]
fn wait_without_reaping(pid: libc::pid_t) -> std::io::Result<()> {
    loop {
        // SAFETY: an all-zero `siginfo_t` is a valid value for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is valid for the call; `pid` is our child.
        let result = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if result == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
