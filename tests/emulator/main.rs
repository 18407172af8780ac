//! `aws-emulator`: the AWS emulator as a standalone process, for the sandbox and demos.
//!
//! ```text
//! aws-emulator [--port N] [--org FILE | --accounts N --permission-sets M] [--page-size N]
//!              [--latency-ms MS] [--throttle-every K [--throttle-times T]] [--auto-approve]
//! ```
//!
//! `--accounts`/`--permission-sets` serve a generated organisation of that size instead of the
//! demo one (see `Organization::scaled`); `--page-size` caps the portal's pages. `--latency-ms`
//! answers every AWS call that much later, as a round trip to AWS would. `--throttle-every K`
//! refuses every K-th page of ListAccounts and of ListAccountRoles asked for the first time with
//! `TooManyRequestsException` (429), on its first T asks (default 1), then serves it.
//!
//! The first line on stdout is `listening on http://127.0.0.1:PORT`, so a script can start it
//! with `--port 0` and read the URL. It serves until killed. Drive it with the `/_emulator/`
//! control routes (see `control.rs`). `--auto-approve` approves device codes as they are issued
//! and makes the browser's authorize page redirect with a code at once.

#[path = "mod.rs"]
mod emulator;

use emulator::{Emulator, Op, Organization};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: aws-emulator [--port N] [--org FILE | --accounts N --permission-sets M] \
     [--page-size N] [--latency-ms MS] [--throttle-every K [--throttle-times T]] [--auto-approve]";

struct Options {
    port: u16,
    org: Option<String>,
    /// Accounts and permission sets of a generated organisation.
    scaled: (Option<usize>, Option<usize>),
    page_size: Option<usize>,
    latency_ms: u64,
    throttle_every: usize,
    throttle_times: usize,
    auto_approve: bool,
}

fn number<T: std::str::FromStr>(
    flag: &str,
    args: &mut impl Iterator<Item = String>,
) -> Result<T, String> {
    let value = args.next().ok_or(format!("`{flag}` needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("`{flag} {value}` is not a number"))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        org: None,
        scaled: (None, None),
        page_size: None,
        latency_ms: 0,
        throttle_every: 0,
        throttle_times: 1,
        auto_approve: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("`--port` needs a value")?;
                options.port = value
                    .parse()
                    .map_err(|_| format!("`--port {value}` is not a port number"))?;
            }
            "--org" => options.org = Some(args.next().ok_or("`--org` needs a file")?),
            "--accounts" => options.scaled.0 = Some(number(&arg, &mut args)?),
            "--permission-sets" => options.scaled.1 = Some(number(&arg, &mut args)?),
            "--page-size" => options.page_size = Some(number(&arg, &mut args)?),
            "--latency-ms" => options.latency_ms = number(&arg, &mut args)?,
            "--throttle-every" => options.throttle_every = number(&arg, &mut args)?,
            "--throttle-times" => options.throttle_times = number(&arg, &mut args)?,
            "--auto-approve" => options.auto_approve = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(options)
}

fn load_org(options: &Options) -> Result<Organization, String> {
    let mut org = match (options.org.as_deref(), options.scaled) {
        (None, (None, None)) => Organization::demo(),
        (None, (Some(accounts), Some(permission_sets))) => {
            Organization::scaled(accounts, permission_sets)
        }
        (None, _) => return Err("`--accounts` and `--permission-sets` go together".into()),
        (Some(_), (None, None)) => {
            let path = options.org.as_deref().unwrap_or_default();
            let text = std::fs::read_to_string(path)
                .map_err(|err| format!("failed to read `{path}`: {err}"))?;
            Organization::from_json(&text).map_err(|err| format!("`{path}`: {err}"))?
        }
        (Some(_), _) => return Err("`--org` or `--accounts`, not both".into()),
    };
    match options.page_size {
        Some(0) => return Err("`--page-size` must be at least 1".into()),
        Some(size) => org.settings.page_size = size,
        None => {}
    }
    Ok(org)
}

fn main() -> ExitCode {
    let run = || -> Result<(), String> {
        let options = parse(std::env::args().skip(1))?;
        let org = load_org(&options)?;
        let emulator = Emulator::bind(org, &format!("127.0.0.1:{}", options.port))
            .map_err(|err| format!("failed to listen on port {}: {err}", options.port))?;
        emulator.set_auto_approve(options.auto_approve);
        emulator.set_latency(std::time::Duration::from_millis(options.latency_ms));
        for op in [Op::ListAccounts, Op::ListAccountRoles] {
            emulator.throttle_pages(op, options.throttle_every, options.throttle_times);
        }
        let mut stdout = std::io::stdout();
        // Flushed at once: the parent reads this line through a pipe to learn the URL.
        let _ = writeln!(stdout, "listening on {}", emulator.url()).and_then(|()| stdout.flush());
        loop {
            std::thread::park();
        }
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("aws-emulator: {message}");
            ExitCode::from(2)
        }
    }
}
