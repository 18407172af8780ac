//! Several processes at once, and processes killed at random points: one device authorization
//! for two terminals, one refresh for many callers, and a store that SIGKILL never corrupts.

use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::emulator::Op;
use crate::harness::{Run, World, test_org};

fn spawn(run: Run) -> Child {
    let mut command = run.command;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().expect("spawn atmos-auth")
}

#[track_caller]
fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until `ready` holds, for at most 20 s.
#[track_caller]
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_logins_at_once_make_one_device_authorization() {
    let world = World::new();
    world.emulator.set_auto_approve(false);
    let first = spawn(world.cmd(&["login", "--no-browser"]));
    let second = spawn(world.cmd(&["login", "--no-browser"]));
    wait_for("a pending sign-in code", || {
        !world.emulator.pending_user_codes().is_empty()
    });
    // Give the other process every chance to start a second authorization, as it would without
    // the session lock.
    std::thread::sleep(Duration::from_millis(1500));
    let pending = world.emulator.pending_user_codes();
    assert_eq!(pending.len(), 1, "one code for two terminals: {pending:?}");
    assert!(world.emulator.approve(&pending[0]));
    let outputs = [first, second].map(|c| c.wait_with_output().unwrap());
    for output in &outputs {
        assert_success(output);
        assert!(String::from_utf8_lossy(&output.stderr).contains("Logged in to"));
    }
    let waited = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stderr).contains("Waiting for another atmos-auth"))
        .count();
    assert_eq!(waited, 1, "the second terminal says what it waits for");
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
    assert_eq!(world.emulator.calls(Op::RegisterClient), 1);
}

/// Many processes find the session stale at once (different identities, so the per-identity
/// locks do not serialize them): one refresh, and with single-use refresh tokens nobody is
/// logged out by a second refresh with a spent token.
#[test]
fn concurrent_silent_refreshes_make_one_refresh_call() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60; // inside the 5-minute refresh buffer
    org.settings.single_use_refresh_tokens = true;
    let world = World::with_org(org);
    world.login();
    // Tokens from the refresh on are fresh, so one refresh is all it takes.
    world.emulator.set_access_token_ttl(8 * 3600);
    let creates_before = world.emulator.calls(Op::CreateToken);
    let identities = [
        "plat-dev/terraform",
        "plat-prod/terraform",
        "core-identity/state",
    ];
    let children: Vec<_> = identities
        .iter()
        .flat_map(|identity| {
            (0..4).map(|_| spawn(world.cmd(&["env", identity, "--format", "json"])))
        })
        .collect();
    for child in children {
        assert_success(&child.wait_with_output().unwrap());
    }
    assert_eq!(
        world.emulator.calls(Op::CreateToken) - creates_before,
        1,
        "one refresh for twelve processes"
    );
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
}

/// The portal rejects the cached access token (revoked server-side): every process renews the
/// session, but only the first one refreshes; the others see the new token.
#[test]
fn a_rejected_access_token_is_renewed_once_for_many_processes() {
    let mut org = test_org();
    org.settings.single_use_refresh_tokens = true;
    let world = World::with_org(org);
    world.login();
    world.emulator.expire_access_tokens();
    let creates_before = world.emulator.calls(Op::CreateToken);
    let children: Vec<_> = [
        "plat-dev/terraform",
        "plat-prod/terraform",
        "core-identity/state",
    ]
    .iter()
    .map(|identity| spawn(world.cmd(&["env", identity])))
    .collect();
    for child in children {
        assert_success(&child.wait_with_output().unwrap());
    }
    assert_eq!(world.emulator.calls(Op::CreateToken) - creates_before, 1);
}

/// A small deterministic generator, seeded from the clock and printed, so a failing run can be
/// replayed with `ATMOS_TEST_SEED`.
struct Rng(u64);

impl Rng {
    fn seeded(name: &str) -> Self {
        let seed = std::env::var("ATMOS_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("{name}: ATMOS_TEST_SEED={seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Runs of `login --force` (device login, session write), `env` (session refresh, role
/// credentials write) and `login` (refresh) are each SIGKILLed after a random delay; after each
/// kill the store must still be readable and the next run must succeed.
fn kill_at_random_points(world: &World, store: &[(&str, &str)], runs: usize) {
    let cmd = |args: &[&str]| {
        let mut run = world.cmd(args);
        for (name, value) in store {
            run = run.env(name, value);
        }
        run
    };
    assert_success(&cmd(&["login"]).command.output().unwrap());
    let started = Instant::now();
    let mut rng = Rng::seeded("kill_at_random_points");
    let commands: [&[&str]; 3] = [
        &["login", "--force", "--no-browser"],
        &["env", "dev", "--format", "json"],
        &["login"],
    ];
    let mut killed = 0;
    for run in 0..runs {
        let args = commands[run % commands.len()];
        let mut child = spawn(cmd(args));
        std::thread::sleep(Duration::from_millis(rng.below(700)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        // The next run works: the store reads back, the session is usable or renewed.
        let next = cmd(&["env", "dev", "--format", "json"])
            .command
            .output()
            .unwrap();
        assert_success(&next);
        let vars: serde_json::Value = serde_json::from_slice(&next.stdout).unwrap();
        assert!(
            vars["AWS_SECRET_ACCESS_KEY"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
    }
    eprintln!(
        "{killed} of {runs} runs killed mid-flight in {:?}",
        started.elapsed()
    );
    assert!(killed > 0, "no run was killed; the delays are too long");
}

fn churning_org() -> crate::emulator::Organization {
    let mut org = test_org();
    // Every token is due for refresh and no role credentials outlive the 15-minute margin, so
    // every run writes to the store.
    org.settings.access_token_ttl_secs = 60;
    org.settings.role_credentials_ttl_secs = 60;
    org
}

#[test]
fn sigkill_never_corrupts_the_keyring_store() {
    let world = World::with_org(churning_org());
    kill_at_random_points(&world, &[], 20);
}

#[test]
fn sigkill_never_corrupts_the_encrypted_file_store() {
    let world = World::with_org(churning_org());
    let store = [
        ("ATMOS_KEYRING_TYPE", "file"),
        ("ATMOS_KEYRING_PASSWORD", "correct horse battery"),
    ];
    kill_at_random_points(&world, &store, 20);
    let dir = world.home.path().join(".local/share/atmos-auth");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "credentials.enc"), "{names:?}");
}
