//! Issue 11 item 9: the running process keeps its secrets to itself (non-dumpable, no core
//! file), and an MFA code put on the command line, where every user can read it, is warned
//! about.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::World;

/// A uid that is neither root nor the test user (tests run as root in CI).
const OTHER_UID: u32 = 12345;

/// The line of `/proc/<pid>/limits` that starts with `label`, without the label.
fn limit(pid: u32, label: &str) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = text.lines().find(|line| line.starts_with(label));
    line.unwrap_or_else(|| panic!("no {label:?} in limits:\n{text}"))[label.len()..].to_owned()
}

/// Whether a process of `OTHER_UID` can read the environment of process `pid`.
fn environ_readable_by_other_uid(pid: u32) -> bool {
    Command::new("cat")
        .arg(format!("/proc/{pid}/environ"))
        .uid(OTHER_UID)
        .gid(OTHER_UID)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn chown_tree(path: &Path) {
    std::os::unix::fs::chown(path, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path());
        }
    }
}

/// Another process of the same user can read a normal process's memory and environment
/// (`/proc/<pid>/mem`, `environ`, ptrace); not atmos-auth's, which holds secrets.
#[test]
fn a_running_atmos_auth_is_not_dumpable_and_writes_no_core_file() {
    let world = World::new();
    world.emulator.set_auto_approve(false);
    // The whole world belongs to the other user, who runs both atmos-auth and the reader.
    std::fs::set_permissions(world.home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    chown_tree(world.home.path());
    let mut run = world
        .cmd(&["login", "--no-browser"])
        .env("ATMOS_KEYRING_TYPE", "memory");
    run.command.uid(OTHER_UID).gid(OTHER_UID);
    // `login` stays alive, holding a client secret, while the code waits for approval.
    let mut child = run
        .command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while world.emulator.pending_user_codes().is_empty() {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "login never asked for approval: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let readable = environ_readable_by_other_uid(child.id());
    let core = limit(child.id(), "Max core file size");
    let _ = child.kill();
    let _ = child.wait();
    // The same reader can read an ordinary process of that user: the check is not vacuous.
    let mut ordinary = Command::new("sleep")
        .arg("30")
        .uid(OTHER_UID)
        .gid(OTHER_UID)
        .spawn()
        .unwrap();
    let ordinary_readable = environ_readable_by_other_uid(ordinary.id());
    let _ = ordinary.kill();
    let _ = ordinary.wait();
    assert!(ordinary_readable, "the reader cannot read even `sleep`");
    assert!(
        !readable,
        "another process of the user read atmos-auth's environment"
    );
    let soft = core.split_whitespace().next();
    assert_eq!(soft, Some("0"), "Max core file size{core}");
}

#[test]
fn an_mfa_code_on_the_command_line_is_warned_about() {
    let world = World::new();
    let warning = "`--mfa-code` on the command line is visible to every user of this machine";
    for args in [
        &["--mfa-code", "123456", "validate"][..],
        &["validate", "--mfa-code=123456"],
    ] {
        world
            .run(args)
            .success()
            .stderr_has(warning)
            .stderr_has("set ATMOS_MFA_CODE instead, or leave it out to be asked for the code");
    }
    let out = world
        .cmd(&["validate"])
        .env("ATMOS_MFA_CODE", "123456")
        .run()
        .success();
    assert!(!out.stderr.contains(warning), "{}", out.stderr);
}
