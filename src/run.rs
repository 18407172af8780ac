//! The edge: parse arguments, set up logging, run the command, print the error once and turn
//! it into an exit code.

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::Arguments;
use crate::command;
use crate::error::exit;

/// Run atmos-auth with `args` (the program name first) and return the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    if crate::cli::answer_if_requested(&args) {
        return exit::SUCCESS;
    }
    let arguments = match Arguments::try_parse_from(args) {
        Ok(arguments) => arguments,
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
    let verbose = arguments.global.verbose > 0;
    match command::run(arguments) {
        Ok(code) => code,
        Err(error) => {
            eprint!("{}", error.report(verbose));
            error.exit_code()
        }
    }
}

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
