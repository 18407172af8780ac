//! Tests for the credential store: every backend through the public API, and the failure modes
//! that must be fast and typed.
//!
//! `memory` and `keyutils` run anywhere on Linux. The Secret Service tests need the environment
//! that `tests/keyring-session.sh` sets up (a private D-Bus session with an unlocked
//! gnome-keyring, plus a second bus whose keyring a test locks) and fail, rather than skip, without
//! it: run `tests/keyring-session.sh cargo test`.
//!
//! Scenarios that need another `DBUS_SESSION_BUS_ADDRESS`, or a second process, run this test
//! binary again as a child (`child_scenario`), with the variable set on the child only. The test
//! process never changes its own environment.

use std::time::Duration;

use super::*;

const TIMEOUT: Duration = Duration::from_secs(5);
const SENTINEL: &str = "sentinel-secret-0f3c9a";

fn key(namespace: Namespace, test: &str) -> EntryKey {
    EntryKey::new(namespace, format!("test/{test}/{}", std::process::id()))
}

/// Load, save, overwrite, second handle, namespaces, delete, delete again.
fn round_trip(kind: StoreKind, test: &str) {
    let store = CredentialStore::open(kind, TIMEOUT).unwrap();
    assert_eq!(store.kind(), kind);
    let key = key(Namespace::RoleCredentials, test);
    store.delete(&key).unwrap();
    assert!(store.load(&key).unwrap().is_none());

    store.save(&key, &Secret::from(r#"{"v":1}"#)).unwrap();
    assert_eq!(store.load(&key).unwrap().unwrap().expose(), r#"{"v":1}"#);
    store.save(&key, &Secret::from(r#"{"v":2}"#)).unwrap();
    let other = CredentialStore::open(kind, TIMEOUT).unwrap();
    assert_eq!(other.load(&key).unwrap().unwrap().expose(), r#"{"v":2}"#);

    let same_id_other_namespace = EntryKey::new(Namespace::SsoClient, key.id());
    assert!(store.load(&same_id_other_namespace).unwrap().is_none());

    other.delete(&key).unwrap();
    assert!(store.load(&key).unwrap().is_none());
    store.delete(&key).unwrap();
}

#[test]
fn memory_round_trip() {
    round_trip(StoreKind::Memory, "memory-round-trip");
}

/// What `logout` relies on: a store lists every entry it holds, in every namespace, and no
/// longer lists one once deleted.
fn lists_its_entries(kind: StoreKind, test: &str) {
    let store = CredentialStore::open(kind, TIMEOUT).unwrap();
    let keys: Vec<EntryKey> = Namespace::ALL
        .into_iter()
        .map(|namespace| key(namespace, test))
        .collect();
    for key in &keys {
        store.save(key, &Secret::from(SENTINEL)).unwrap();
    }
    let listed = store.entries().unwrap();
    for key in &keys {
        assert!(listed.contains(key), "{key} in {listed:?}");
    }
    for key in &keys {
        store.delete(key).unwrap();
    }
    let listed = store.entries().unwrap();
    assert!(keys.iter().all(|key| !listed.contains(key)), "{listed:?}");
}

#[test]
fn memory_lists_its_entries() {
    lists_its_entries(StoreKind::Memory, "memory-lists");
}

#[test]
fn empty_values_are_refused() {
    let store = CredentialStore::open(StoreKind::Memory, TIMEOUT).unwrap();
    let key = key(Namespace::SsoSession, "empty");
    let error = store.save(&key, &Secret::from("")).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::EmptyValue {
                kind: StoreKind::Memory,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(store.load(&key).unwrap().is_none());
}

#[test]
fn debug_never_shows_the_secret() {
    let store = CredentialStore::open(StoreKind::Memory, TIMEOUT).unwrap();
    let key = key(Namespace::SsoSession, "debug");
    store.save(&key, &Secret::from(SENTINEL)).unwrap();
    let loaded = store.load(&key);
    for debug in [
        format!("{store:?}"),
        format!("{loaded:?}"),
        format!("{key:?}"),
    ] {
        assert!(!debug.contains(SENTINEL), "{debug}");
    }
    assert_eq!(format!("{loaded:?}"), "Ok(Some(<redacted>))");
    store.delete(&key).unwrap();
}

#[test]
fn store_kinds_parse_and_display() {
    for kind in StoreKind::ALL {
        assert_eq!(kind.to_string().parse::<StoreKind>(), Ok(kind));
    }
    assert_eq!("secret-service".parse(), Ok(StoreKind::SecretService));
    assert_eq!(
        "kwallet".parse::<StoreKind>().unwrap_err().to_string(),
        "unknown credential store `kwallet`: expected one of `system`, `secret-service`, `keyutils`, `memory`, `file`"
    );
}

#[test]
fn entry_keys_map_to_keyring_names() {
    let key = EntryKey::new(Namespace::RoleCredentials, "plat-dev/terraform");
    assert_eq!(EntryKey::SERVICE, "atmos-auth");
    assert_eq!(key.user(), "role-credentials:plat-dev/terraform");
    assert_eq!(key.to_string(), key.user());
    assert_eq!(
        key.label(),
        "atmos-auth: AWS role credentials for plat-dev/terraform"
    );
    assert_eq!(
        EntryKey::new(Namespace::SsoSession, "corp").user(),
        "sso-session:corp"
    );
    assert_eq!(
        EntryKey::new(Namespace::SsoClient, "corp").label(),
        "atmos-auth: SSO client registration for corp"
    );
}

/// The keyring backends: keyutils, the Secret Service, and the child-process scenarios.
#[cfg(target_os = "linux")]
mod linux {
    use std::io::Read;
    use std::os::unix::net::UnixListener;
    use std::process::{Command, Output};
    use std::thread;
    use std::time::Instant;

    use super::*;

    /// Short enough to keep the failure tests quick, long enough for a loaded CI machine.
    const FAIL_FAST_TIMEOUT: Duration = Duration::from_secs(2);
    const LOCKABLE_BUS_ENV: &str = "ATMOS_TEST_LOCKABLE_DBUS_ADDRESS";
    const CHILD_ENV: &str = "ATMOS_STORE_TEST_CHILD";

    /// The hints name the other Linux store, so their exact text is Linux-only.
    #[test]
    fn errors_name_the_store_and_say_what_to_do() {
        let key = EntryKey::new(Namespace::SsoSession, "corp");
        let timed_out = StoreError::TimedOut {
            kind: StoreKind::SecretService,
            op: StoreOp::Load,
            after: Duration::from_millis(5500),
        };
        assert_eq!(
            timed_out.to_string(),
            "credential store `secret-service` did not answer a load within 5s 500ms"
        );
        assert_eq!(
            timed_out.hint().unwrap(),
            "the store may be waiting for an unlock prompt nobody can answer: unlock it, raise \
       ATMOS_KEYRING_TIMEOUT, or set ATMOS_KEYRING_TYPE=keyutils"
        );
        let full = StoreError::QuotaExceeded {
            kind: StoreKind::Keyutils,
            key: key.clone(),
        };
        assert_eq!(
            full.to_string(),
            "credential store `keyutils` is full: cannot save `sso-session:corp`"
        );
        assert!(
            full.hint()
                .unwrap()
                .ends_with("or set ATMOS_KEYRING_TYPE=secret-service")
        );
        let ambiguous = StoreError::Ambiguous {
            kind: StoreKind::System,
            key,
            count: 2,
        };
        assert_eq!(
            ambiguous.to_string(),
            "credential store `system` holds 2 items for `sso-session:corp`"
        );
        assert_eq!(
            ambiguous.hint().unwrap(),
            "delete the duplicates, for example `secret-tool clear service atmos-auth username sso-session:corp`"
        );
    }

    fn session_bus() -> String {
        std::env::var("DBUS_SESSION_BUS_ADDRESS")
      .expect("no D-Bus session for the Secret Service tests: run `tests/keyring-session.sh cargo test`")
    }

    #[test]
    fn keyutils_round_trip() {
        round_trip(StoreKind::Keyutils, "keyutils-round-trip");
    }

    #[test]
    fn secret_service_round_trip() {
        session_bus();
        round_trip(StoreKind::SecretService, "secret-service-round-trip");
    }

    #[test]
    fn keyring_stores_list_their_entries() {
        session_bus();
        for kind in [
            StoreKind::Keyutils,
            StoreKind::SecretService,
            StoreKind::System,
        ] {
            lists_its_entries(kind, &format!("{kind}-lists"));
        }
    }

    #[test]
    fn system_round_trip() {
        session_bus();
        round_trip(StoreKind::System, "system-round-trip");
    }

    /// Without a runtime directory, `system` keeps role credentials in the kernel keyring and
    /// everything else in the Secret Service, each where the single-backend store of that kind
    /// finds it.
    #[test]
    fn system_puts_role_credentials_in_the_kernel_keyring() {
        session_bus();
        let system = CredentialStore::open_system_for_test(None, TIMEOUT).unwrap();
        let keyutils = CredentialStore::open(StoreKind::Keyutils, TIMEOUT).unwrap();
        let secret_service = CredentialStore::open(StoreKind::SecretService, TIMEOUT).unwrap();

        let role = key(Namespace::RoleCredentials, "system-layers");
        system.save(&role, &Secret::from("short-lived")).unwrap();
        assert_eq!(
            keyutils.load(&role).unwrap().unwrap().expose(),
            "short-lived"
        );
        assert!(secret_service.load(&role).unwrap().is_none());

        let session = key(Namespace::SsoSession, "system-layers");
        system.save(&session, &Secret::from("long-lived")).unwrap();
        assert_eq!(
            secret_service.load(&session).unwrap().unwrap().expose(),
            "long-lived"
        );
        assert!(keyutils.load(&session).unwrap().is_none());

        system.delete(&role).unwrap();
        system.delete(&session).unwrap();
        assert!(keyutils.load(&role).unwrap().is_none());
        assert!(secret_service.load(&session).unwrap().is_none());
    }

    /// With a runtime directory, `system` keeps role credentials sealed there (issue 13): none
    /// in the kernel keyring but the tier's key, none in the Secret Service; a copy an earlier
    /// run left in the kernel keyring is removed by the save, and the delete of the last entry
    /// removes the key too.
    #[test]
    fn system_puts_role_credentials_in_the_runtime_dir_tier() {
        session_bus();
        let runtime = tempfile::tempdir().unwrap();
        let private = std::os::unix::fs::PermissionsExt::from_mode(0o700);
        std::fs::set_permissions(runtime.path(), private).unwrap();
        let system = CredentialStore::open_system_for_test(Some(runtime.path()), TIMEOUT).unwrap();
        let keyutils = CredentialStore::open(StoreKind::Keyutils, TIMEOUT).unwrap();
        let secret_service = CredentialStore::open(StoreKind::SecretService, TIMEOUT).unwrap();
        let tier_key = super::role_tier::key_entry();

        let role = key(Namespace::RoleCredentials, "system-tier");
        keyutils
            .save(&role, &Secret::from("left-by-a-run-without-tier"))
            .unwrap();
        system.save(&role, &Secret::from("short-lived")).unwrap();
        assert_eq!(system.load(&role).unwrap().unwrap().expose(), "short-lived");
        assert!(keyutils.load(&role).unwrap().is_none());
        assert!(keyutils.load(&tier_key).unwrap().is_some());
        assert!(secret_service.load(&role).unwrap().is_none());
        let files = std::fs::read_dir(runtime.path().join("atmos-auth/role-credentials"))
            .unwrap()
            .filter(|entry| {
                !entry
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count();
        assert_eq!(files, 1);
        assert!(system.entries().unwrap().contains(&role));
        assert!(!system.entries().unwrap().contains(&tier_key));

        system.delete(&role).unwrap();
        assert!(system.load(&role).unwrap().is_none());
        assert!(!system.entries().unwrap().contains(&role));
        assert!(keyutils.load(&tier_key).unwrap().is_none());
    }

    /// Role credentials found only in the Secret Service (saved there by an earlier version) are
    /// moved into the kernel keyring, off the disk; a delete removes both.
    #[test]
    fn system_back_fills_the_kernel_keyring() {
        session_bus();
        let system = CredentialStore::open(StoreKind::System, TIMEOUT).unwrap();
        let keyutils = CredentialStore::open(StoreKind::Keyutils, TIMEOUT).unwrap();
        let secret_service = CredentialStore::open(StoreKind::SecretService, TIMEOUT).unwrap();
        let role = key(Namespace::RoleCredentials, "system-back-fill");
        secret_service
            .save(&role, &Secret::from("from-before"))
            .unwrap();
        keyutils.delete(&role).unwrap();

        assert_eq!(system.load(&role).unwrap().unwrap().expose(), "from-before");
        assert_eq!(
            keyutils.load(&role).unwrap().unwrap().expose(),
            "from-before"
        );
        assert!(secret_service.load(&role).unwrap().is_none());

        secret_service
            .save(&role, &Secret::from("from-before"))
            .unwrap();
        system.delete(&role).unwrap();
        assert!(keyutils.load(&role).unwrap().is_none());
        assert!(secret_service.load(&role).unwrap().is_none());
        assert!(system.load(&role).unwrap().is_none());
    }

    /// The cached path: role credentials in the kernel keyring are read with no Secret Service
    /// at all (here the bus does not exist), and its worker thread is never started.
    #[test]
    fn system_reads_cached_role_credentials_without_dbus() {
        let keyutils = CredentialStore::open(StoreKind::Keyutils, TIMEOUT).unwrap();
        let role = key(Namespace::RoleCredentials, "system-no-dbus");
        keyutils
            .save(&role, &Secret::from(expected_value(&role)))
            .unwrap();
        let output = child(
            &format!("cached-without-dbus:{}", role.id()),
            &[(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/atmos-auth-test-bus",
            )],
        );
        assert_child_passed(&output);
        keyutils.delete(&role).unwrap();
    }

    /// What `atmos-auth env` run twice relies on: a second process finds what the first saved.
    fn survives_the_process(kind: StoreKind, test: &str) {
        let store = CredentialStore::open(kind, TIMEOUT).unwrap();
        let key = key(Namespace::RoleCredentials, test);
        store
            .save(&key, &Secret::from(expected_value(&key)))
            .unwrap();
        let output = child(&format!("expect:{kind}:{}", key.id()), &[]);
        assert_child_passed(&output);
        assert!(
            store.load(&key).unwrap().is_none(),
            "the child deletes the entry"
        );
    }

    fn expected_value(key: &EntryKey) -> String {
        format!("value-of-{key}")
    }

    #[test]
    fn keyutils_survives_the_process() {
        survives_the_process(StoreKind::Keyutils, "keyutils-survives");
    }

    #[test]
    fn secret_service_survives_the_process() {
        session_bus();
        survives_the_process(StoreKind::SecretService, "secret-service-survives");
    }

    #[test]
    fn absent_secret_service_is_unavailable() {
        let output = child(
            "absent",
            &[(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/atmos-auth-test-bus",
            )],
        );
        assert_child_passed(&output);
    }

    /// A collection locked with an entry in it: reading the entry needs an unlock prompt, and with
    /// no display to show one the store must say "locked" at once.
    #[test]
    fn locked_secret_service_fails_fast() {
        let address = std::env::var(LOCKABLE_BUS_ENV).unwrap_or_else(|_| {
            panic!("{LOCKABLE_BUS_ENV} is not set: run `tests/keyring-session.sh cargo test`")
        });
        let bus = [("DBUS_SESSION_BUS_ADDRESS", address.as_str())];
        assert_child_passed(&child("seed", &bus));
        let lock = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .envs(bus)
            .output()
            .unwrap();
        assert!(
            lock.status.success(),
            "{}",
            String::from_utf8_lossy(&lock.stderr)
        );
        assert_child_passed(&child("locked", &bus));
    }

    /// A bus that accepts the connection and never answers: what a store stuck behind an unanswered
    /// prompt looks like from here.
    #[test]
    fn hung_secret_service_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("bus");
        let listener = UnixListener::bind(&socket).unwrap();
        thread::spawn(move || {
            for mut connection in listener.incoming().flatten() {
                thread::spawn(move || {
                    let mut sink = Vec::new();
                    let _ = connection.read_to_end(&mut sink);
                });
            }
        });
        let address = format!("unix:path={}", socket.display());
        let output = child("hung", &[("DBUS_SESSION_BUS_ADDRESS", &address)]);
        assert_child_passed(&output);
    }

    /// Runs `child_scenario` in a fresh copy of this test binary, with `envs` set on the child only.
    fn child(scenario: &str, envs: &[(&str, &str)]) -> Output {
        let this_module = module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, path)| path);
        Command::new(std::env::current_exe().unwrap())
            .args([
                &format!("{this_module}::child_scenario"),
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, scenario)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .envs(envs.iter().copied())
            .output()
            .unwrap()
    }

    #[track_caller]
    fn assert_child_passed(output: &Output) {
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("child scenario passed"),
            "child failed ({})\nstdout:\n{stdout}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The names of this process's threads.
    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .map(|name| name.trim_end().to_owned())
            .collect()
    }

    /// Does nothing unless started by `child` with `ATMOS_STORE_TEST_CHILD` set.
    #[test]
    fn child_scenario() {
        let Ok(scenario) = std::env::var(CHILD_ENV) else {
            return;
        };
        let key = key(Namespace::RoleCredentials, "child");
        // Shared by the `seed` and `locked` children, so it cannot carry a process id.
        let seeded = EntryKey::new(Namespace::RoleCredentials, "test/locked-seed");
        match scenario.split(':').collect::<Vec<_>>().as_slice() {
            ["absent"] => {
                let store =
                    CredentialStore::open(StoreKind::SecretService, FAIL_FAST_TIMEOUT).unwrap();
                let started = Instant::now();
                let error = store.load(&key).unwrap_err();
                assert!(
                    started.elapsed() < FAIL_FAST_TIMEOUT,
                    "took {:?}",
                    started.elapsed()
                );
                assert!(
                    matches!(
                        error,
                        StoreError::Unavailable {
                            kind: StoreKind::SecretService,
                            ..
                        }
                    ),
                    "{error:?}"
                );
                assert_eq!(
                    error.to_string(),
                    "credential store `secret-service` is unavailable"
                );
                assert!(error.hint().unwrap().starts_with("start a Secret Service"));
            }
            ["seed"] => {
                let store = CredentialStore::open(StoreKind::SecretService, TIMEOUT).unwrap();
                match store.save(&seeded, &Secret::from("seed")) {
                    // Locked by an earlier run in the same keyring session: the entry is already there.
                    Ok(()) | Err(StoreError::Locked { .. }) => {}
                    Err(error) => panic!("{error:?}"),
                }
            }
            ["locked"] => {
                let store =
                    CredentialStore::open(StoreKind::SecretService, FAIL_FAST_TIMEOUT).unwrap();
                for op in [StoreOp::Save, StoreOp::Load] {
                    let started = Instant::now();
                    let result = match op {
                        StoreOp::Save => store
                            .save(&seeded, &Secret::from("x"))
                            .map(|()| "saved".to_owned()),
                        _ => store
                            .load(&seeded)
                            .map(|loaded| format!("loaded {loaded:?}")),
                    };
                    let error = result.unwrap_err();
                    assert!(
                        started.elapsed() < FAIL_FAST_TIMEOUT,
                        "took {:?}",
                        started.elapsed()
                    );
                    assert!(
                        matches!(
                            error,
                            StoreError::Locked {
                                kind: StoreKind::SecretService,
                                ..
                            }
                        ),
                        "{error:?}"
                    );
                    assert!(
                        error
                            .hint()
                            .unwrap()
                            .starts_with("unlock your login keyring")
                    );
                }
            }
            ["hung"] => {
                let timeout = Duration::from_millis(500);
                let store = CredentialStore::open(StoreKind::SecretService, timeout).unwrap();
                for op in [StoreOp::Load, StoreOp::Save] {
                    let started = Instant::now();
                    let error = match op {
                        StoreOp::Save => store.save(&key, &Secret::from("x")).unwrap_err(),
                        _ => store.load(&key).unwrap_err(),
                    };
                    let elapsed = started.elapsed();
                    assert!(
                        elapsed >= timeout && elapsed < timeout * 3,
                        "took {elapsed:?}"
                    );
                    assert!(
                        matches!(error, StoreError::TimedOut { kind: StoreKind::SecretService, op: timed_out, after }
              if timed_out == op && after == timeout),
                        "{error:?}"
                    );
                }
            }
            ["cached-without-dbus", id] => {
                let store = CredentialStore::open(StoreKind::System, FAIL_FAST_TIMEOUT).unwrap();
                let role = EntryKey::new(Namespace::RoleCredentials, *id);
                let loaded = store.load(&role).unwrap().expect("a kernel keyring hit");
                assert_eq!(loaded.expose(), &expected_value(&role));
                assert!(
                    !thread_names().iter().any(|name| name == "store-system"),
                    "{:?}",
                    thread_names()
                );
                // Long-lived secrets do need the Secret Service, which is absent here.
                let error = store
                    .load(&EntryKey::new(Namespace::SsoSession, *id))
                    .unwrap_err();
                assert!(
                    matches!(
                        error,
                        StoreError::Unavailable {
                            kind: StoreKind::System,
                            ..
                        }
                    ),
                    "{error:?}"
                );
            }
            ["expect", kind, id] => {
                let store = CredentialStore::open(kind.parse().unwrap(), TIMEOUT).unwrap();
                let key = EntryKey::new(Namespace::RoleCredentials, *id);
                let loaded = store
                    .load(&key)
                    .unwrap()
                    .expect("the parent's entry is visible in a new process");
                assert_eq!(loaded.expose(), &expected_value(&key));
                store.delete(&key).unwrap();
            }
            other => panic!("unknown child scenario {other:?}"),
        }
        println!("child scenario passed: {scenario}");
    }
}
