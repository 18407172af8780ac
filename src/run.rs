//! The edge: parse arguments, set up logging, run the command, print the error once and turn
//! it into an exit code.

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::{Arguments, Invocation};
use crate::command;
use crate::exit;

/// Run atmos-auth with `args` (the program name first) and return the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    harden_process();
    let args: Vec<OsString> = args.into_iter().collect();
    if crate::cli::answer_if_requested(&args) {
        return exit::SUCCESS;
    }
    let parsed = Arguments::command()
        .try_get_matches_from(args)
        .and_then(|matches| Ok((Arguments::from_arg_matches(&matches)?, matches)));
    let (arguments, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
        }
    };
    init_logging(arguments.global.verbose);
    if matches.value_source("mfa_code") == Some(ValueSource::CommandLine) {
        tracing::warn!(
            "`--mfa-code` on the command line is visible to every user of this machine (in the \
             process list); set ATMOS_MFA_CODE instead, or leave it out to be asked for the code"
        );
    }
    let verbose = arguments.global.verbose > 0;
    match command::run(Invocation::from_arguments(arguments)) {
        Ok(code) => code,
        Err(error) => {
            eprint!("{}", error.report(verbose));
            error.exit_code()
        }
    }
}

/// Credentials, tokens and the file store's key live in this process's memory. On Linux the
/// process is made non-dumpable, so that other processes of the same user cannot attach to it
/// or read `/proc/<pid>/mem`, and it writes no core file. Only the soft core limit is lowered:
/// a command `exec` starts inherits it but may raise it again.
#[cfg(unix)]
fn harden_process() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes plain integers and only changes this process's flag.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls get a valid pointer to an rlimit this function owns.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
            limit.rlim_cur = 0;
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
        }
    }
}

/// Windows writes no core files, and other users' processes cannot read this one's memory.
#[cfg(not(unix))]
fn harden_process() {}

/// Logs go to stderr. `-v` raises atmos-auth's own level; `RUST_LOG` is honoured too. Other
/// crates (the SDK, hyper, rustls) are held at `warn` whatever is asked, because at debug and
/// trace they print requests and responses, which carry tokens.
fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let requested = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    let ours_only_below_warn = filter_fn(|meta| {
        meta.target().starts_with(env!("CARGO_CRATE_NAME")) || *meta.level() <= tracing::Level::WARN
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbosity >= 2)
        .without_time()
        .with_filter(requested.and(ours_only_below_warn));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
