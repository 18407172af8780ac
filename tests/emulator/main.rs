//! `aws-emulator`: the AWS emulator as a standalone process, for the sandbox and demos.
//!
//! ```text
//! aws-emulator [--port N] [--org FILE] [--auto-approve]
//! ```
//!
//! The first line on stdout is `listening on http://127.0.0.1:PORT`, so a script can start it
//! with `--port 0` and read the URL. It serves until killed. Drive it with the `/_emulator/`
//! control routes (see `control.rs`). `--auto-approve` approves device codes as they are issued
//! and makes the browser's authorize page redirect with a code at once.

#[path = "mod.rs"]
mod emulator;

use emulator::{Emulator, Organization};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: aws-emulator [--port N] [--org FILE] [--auto-approve]";

struct Options {
    port: u16,
    org: Option<String>,
    auto_approve: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        org: None,
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
            "--auto-approve" => options.auto_approve = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(options)
}

fn load_org(path: Option<&str>) -> Result<Organization, String> {
    let Some(path) = path else {
        return Ok(Organization::demo());
    };
    let text =
        std::fs::read_to_string(path).map_err(|err| format!("failed to read `{path}`: {err}"))?;
    Organization::from_json(&text).map_err(|err| format!("`{path}`: {err}"))
}

fn main() -> ExitCode {
    let run = || -> Result<(), String> {
        let options = parse(std::env::args().skip(1))?;
        let org = load_org(options.org.as_deref())?;
        let emulator = Emulator::bind(org, &format!("127.0.0.1:{}", options.port))
            .map_err(|err| format!("failed to listen on port {}: {err}", options.port))?;
        emulator.set_auto_approve(options.auto_approve);
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
