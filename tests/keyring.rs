use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::emulator::Op;
use crate::harness::World;

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path))
        } else {
            out.push(path)
        }
    }
    out
}

fn round_trip(store: &str) {
    let world = World::new();
    world
        .cmd(&["login"])
        .env("ATMOS_KEYRING_TYPE", store)
        .run()
        .success();
    let first = world
        .cmd(&["env", "dev", "--format", "json"])
        .env("ATMOS_KEYRING_TYPE", store)
        .run()
        .success();
    let second = world
        .cmd(&["env", "dev", "--format", "json"])
        .env("ATMOS_KEYRING_TYPE", store)
        .run()
        .success();
    assert_eq!(
        first.stdout, second.stdout,
        "the second run is served from the {store} store"
    );
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
    // Nothing the emulator issued reached a file: tokens, client secret and keys are in the store.
    let secrets = world.emulator.issued_secrets();
    assert!(!secrets.is_empty());
    for file in files(world.home.path()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{} holds a secret",
                file.display()
            );
        }
    }
}

#[test]
fn the_secret_service_keeps_the_session_and_credentials() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run the tests through tests/keyring-session.sh, which starts a private Secret Service"
    );
    round_trip("secret-service");
}

#[test]
fn the_kernel_keyring_keeps_the_session_and_credentials() {
    round_trip("keyutils");
}

#[test]
fn an_absent_secret_service_fails_fast_with_what_to_do() {
    let world = World::new();
    let started = Instant::now();
    let out = world
        .cmd(&["env", "dev"])
        .env("ATMOS_KEYRING_TYPE", "secret-service")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/atmos-auth-test-bus",
        )
        .run()
        .code(4)
        .stderr_has("hint: start a Secret Service");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn a_hung_secret_service_times_out_instead_of_hanging() {
    let world = World::new();
    let socket = world.home.path().join("hung-bus");
    let listener = UnixListener::bind(&socket).unwrap();
    // Accept connections and never answer, like a D-Bus daemon stuck behind a prompt.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let started = Instant::now();
    world
        .cmd(&["env", "dev"])
        .env("ATMOS_KEYRING_TYPE", "secret-service")
        .env("ATMOS_KEYRING_TIMEOUT", "1s")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            &format!("unix:path={}", socket.display()),
        )
        .run()
        .code(4)
        .stderr_has("did not answer");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn an_invalid_store_name_is_a_usage_error() {
    let world = World::new();
    let out = world
        .cmd(&["env", "dev"])
        .env("ATMOS_KEYRING_TYPE", "plaintext")
        .run()
        .code(2);
    // The names come from the one list of store kinds, in its order.
    assert_eq!(
        out.stderr,
        "error: invalid ATMOS_KEYRING_TYPE `plaintext`\n\
         hint: use one of: system, secret-service, keyutils, memory, file\n"
    );
}

/// The default store answers a cached call from the kernel keyring alone: the Secret Service
/// (which keeps the long-lived SSO session) is not even reachable here.
#[test]
fn the_default_store_serves_cached_credentials_without_dbus() {
    let world = World::new();
    world
        .cmd(&["login"])
        .env("ATMOS_KEYRING_TYPE", "system")
        .run()
        .success();
    let first = world
        .cmd(&["env", "dev"])
        .env("ATMOS_KEYRING_TYPE", "system")
        .run()
        .success();
    let cached = world
        .cmd(&["env", "dev"])
        .env("ATMOS_KEYRING_TYPE", "system")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/atmos-auth-test-bus",
        )
        .run()
        .success();
    assert_eq!(first.stdout, cached.stdout);
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}
