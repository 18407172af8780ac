//! Tests for the `file` store, [`FileLock`] and [`write_atomic`].
//!
//! Every test works in its own temp directory with cheap key derivation
//! (`open_file_for_test`). Scenarios that need another process (a different umask, concurrent
//! writers, a lock holder killed by `SIGKILL`) run this test binary again as a child
//! (`child_scenario`), with the scenario in `ATMOS_FILE_STORE_TEST_CHILD` on the child only. The
//! test process never changes its own umask or environment.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::file_format::HEADER_LEN;
use super::password::{PasswordError, password_from};
use super::tests::{assert_child_passed, child_scenario_command};
use super::*;
use crate::fs::{
    Exposure, FileLock, LockError, LockMode, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE,
    create_private_dir, write_atomic,
};

const TIMEOUT: Duration = Duration::from_secs(5);
const PASSWORD: &str = "correct horse battery";
const SENTINEL: &str = "sentinel-secret-5e1d07";
const CHILD_ENV: &str = "ATMOS_FILE_STORE_TEST_CHILD";

fn open(path: &Path) -> CredentialStore {
    CredentialStore::open_file_for_test(path, Secret::from(PASSWORD), TIMEOUT).unwrap()
}

fn open_with(path: &Path, password: &str) -> Result<CredentialStore, StoreError> {
    CredentialStore::open_file_for_test(path, Secret::from(password), TIMEOUT)
}

/// `<temp>/store/credentials.enc`: the directory does not exist yet.
fn store_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("store").join(DEFAULT_FILE_NAME)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    lock.into()
}

fn key(id: &str) -> EntryKey {
    EntryKey::new(Namespace::RoleCredentials, id)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store = open(&path);
    assert_eq!(store.kind(), StoreKind::File);
    assert_eq!(store.file_path(), Some(path.as_path()));
    let key = key("plat-dev/terraform");
    assert!(store.load(&key).unwrap().is_none());
    store.delete(&key).unwrap();
    assert!(!path.exists(), "reading and deleting create nothing");

    store.save(&key, &Secret::from(SENTINEL)).unwrap();
    assert_eq!(store.load(&key).unwrap().unwrap().expose(), SENTINEL);
    let on_disk = fs::read(&path).unwrap();
    assert!(
        !on_disk
            .windows(SENTINEL.len())
            .any(|window| window == SENTINEL.as_bytes()),
        "the value is encrypted"
    );
    store.save(&key, &Secret::from(r#"{"v":2}"#)).unwrap();

    let other = open(&path);
    assert_eq!(other.load(&key).unwrap().unwrap().expose(), r#"{"v":2}"#);
    let same_id_other_namespace = EntryKey::new(Namespace::SsoClient, key.id());
    assert!(other.load(&same_id_other_namespace).unwrap().is_none());
    other
        .save(&same_id_other_namespace, &Secret::from("client"))
        .unwrap();
    drop(store);

    let reopened = open(&path);
    assert_eq!(
        reopened
            .load(&same_id_other_namespace)
            .unwrap()
            .unwrap()
            .expose(),
        "client"
    );
    reopened.delete(&key).unwrap();
    assert!(other.load(&key).unwrap().is_none());
    reopened.delete(&key).unwrap();
    assert!(other.load(&same_id_other_namespace).unwrap().is_some());
    assert!(
        other.save(&key, &Secret::from("")).is_err(),
        "empty values are refused as by every store"
    );
}

#[test]
fn open_without_a_password_is_refused() {
    let error = CredentialStore::open(StoreKind::File, TIMEOUT).unwrap_err();
    assert!(matches!(error, StoreError::PasswordRequired), "{error:?}");
    assert_eq!(
        error.to_string(),
        "credential store `file` needs a password"
    );
    assert_eq!(
        error.hint().unwrap(),
        "set ATMOS_KEYRING_PASSWORD, or run atmos-auth in a terminal to be asked for it"
    );
    assert_eq!(error.kind(), StoreKind::File);
}

#[test]
fn default_path_is_in_the_user_data_dir() {
    let path = default_file_path().unwrap();
    assert!(
        path.ends_with("atmos-auth/credentials.enc"),
        "{}",
        path.display()
    );
}

#[test]
fn wrong_password_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    // Opened before the file exists, so `open` cannot check its password.
    let early = open_with(&path, "the wrong password").unwrap();
    let store = open(&path);
    store.save(&key("kept"), &Secret::from(SENTINEL)).unwrap();
    let before = fs::read(&path).unwrap();

    let error = open_with(&path, "the wrong password").unwrap_err();
    assert!(
        matches!(&error, StoreError::WrongPassword { path: reported } if reported == &path),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "wrong password for credential store `file` at `{}`",
            path.display()
        )
    );
    assert_eq!(
        error.hint().unwrap(),
        format!(
            "check ATMOS_KEYRING_PASSWORD or what you typed; if the password is lost, delete `{}` \
       and log in again",
            path.display()
        )
    );
    for result in [
        early.save(&key("other"), &Secret::from("x")),
        early.delete(&key("kept")),
        early.load(&key("kept")).map(drop),
    ] {
        assert!(
            matches!(result, Err(StoreError::WrongPassword { .. })),
            "{result:?}"
        );
    }
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(
        store.load(&key("kept")).unwrap().unwrap().expose(),
        SENTINEL
    );
}

#[test]
fn short_passwords_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = open_with(&store_path(&dir), "1234567").unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::InvalidPassword {
                problem: PasswordProblem::TooShort { min_chars: 8 }
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the password for credential store `file` is shorter than 8 characters"
    );
    // Characters, not bytes.
    assert!(open_with(&store_path(&dir), "ünïcödé").is_err());
    open_with(&store_path(&dir), "ünïcödé!").unwrap();
}

#[test]
fn passwords_come_from_the_environment_or_a_terminal() {
    let never = |_: &str| -> std::io::Result<Secret<String>> { panic!("prompted") };
    let from_env = password_from(Some("from-the-env".into()), true, true, never);
    assert_eq!(from_env.ok().unwrap().expose(), "from-the-env");

    let short = password_from(Some("short".into()), false, false, never);
    assert!(matches!(
        short,
        Err(PasswordError::Store(StoreError::InvalidPassword {
            problem: PasswordProblem::TooShort { .. }
        }))
    ));

    let none = password_from(None, false, false, never);
    assert!(matches!(
        none,
        Err(PasswordError::Store(StoreError::PasswordRequired))
    ));

    let mut prompts = Vec::new();
    let typed = password_from(None, true, true, |prompt| {
        prompts.push(prompt.to_owned());
        Ok(Secret::from("typed twice"))
    });
    assert_eq!(typed.ok().unwrap().expose(), "typed twice");
    assert_eq!(prompts.len(), 2, "a new file asks twice: {prompts:?}");

    let mut answers = ["first try", "second try"].into_iter();
    let mismatch = password_from(None, true, true, |_| {
        Ok(Secret::from(answers.next().unwrap()))
    });
    assert!(matches!(
        mismatch,
        Err(PasswordError::Store(StoreError::InvalidPassword {
            problem: PasswordProblem::Mismatch
        }))
    ));

    let once = password_from(None, true, false, |_| Ok(Secret::from("typed once")));
    assert_eq!(once.ok().unwrap().expose(), "typed once");
}

#[test]
fn modes_are_exact_whatever_the_umask() {
    for umask in ["000", "277"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("b").join(DEFAULT_FILE_NAME);
        let output = child(
            &format!("save-under-umask:{umask}:umask"),
            &path,
            |command| {
                let umask = libc::mode_t::from_str_radix(umask, 8).unwrap();
                // SAFETY: umask is async-signal-safe and touches only the child's own state.
                unsafe {
                    std::os::unix::process::CommandExt::pre_exec(command, move || {
                        libc::umask(umask);
                        Ok(())
                    });
                }
            },
        );
        assert_child_passed(&output);
        assert_eq!(mode(&path), 0o600, "file, umask {umask}");
        assert_eq!(mode(&lock_path(&path)), 0o600, "lock file, umask {umask}");
        assert_eq!(mode(path.parent().unwrap()), 0o700, "dir, umask {umask}");
        let parent_mode = mode(&dir.path().join("a"));
        assert_eq!(parent_mode & 0o077, 0, "parent dir, umask {umask}");
        let mut names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["credentials.enc", "credentials.enc.lock"]);
        assert_eq!(
            open(&path).load(&key("umask")).unwrap().unwrap().expose(),
            "umask"
        );
    }
}

#[test]
fn writable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store_dir = path.parent().unwrap();
    open(&path).save(&key("a"), &Secret::from("a")).unwrap();
    let before = fs::read(&path).unwrap();

    set_mode(store_dir, 0o770);
    let error = open_with(&path, PASSWORD).unwrap_err();
    assert!(
        matches!(&error, StoreError::Insecure { path: refused, exposure: Exposure::Writable { mode: 0o770 } }
      if refused == store_dir),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "credential store `file` refuses `{}`: it is writable by group or others (mode 0770)",
            store_dir.display()
        )
    );
    assert_eq!(
        error.hint().unwrap(),
        format!("run `chmod go-w {}`", store_dir.display())
    );
    set_mode(store_dir, 0o700);

    let store = open(&path);
    set_mode(&path, 0o602);
    for result in [
        store.load(&key("a")).map(drop),
        store.save(&key("b"), &Secret::from("b")),
    ] {
        assert!(
            matches!(&result, Err(StoreError::Insecure { path: refused, exposure: Exposure::Writable { mode: 0o602 } })
        if refused == &path),
            "{result:?}"
        );
    }
    assert_eq!(fs::read(&path).unwrap(), before);
}

/// Needs root to give a directory away: ignored by a bare `cargo test`, run by tests/run.sh,
/// and failing rather than passing when that is not root.
#[test]
#[ignore = "needs root to chown a directory to another user; tests/run.sh runs it"]
fn owned_by_another_user_is_refused() {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert_eq!(
        uid, 0,
        "only root can chown a directory: run tests/run.sh as root"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store_dir = path.parent().unwrap();
    fs::create_dir(store_dir).unwrap();
    set_mode(store_dir, 0o700);
    std::os::unix::fs::chown(store_dir, Some(65534), Some(65534)).unwrap();
    let error = open_with(&path, PASSWORD).unwrap_err();
    assert!(
        matches!(
            &error,
            StoreError::Insecure {
                exposure: Exposure::Owner { uid: 65534 },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .ends_with("it belongs to another user (uid 65534)")
    );
}

#[test]
fn concurrent_writers_in_threads_lose_nothing() {
    const WRITERS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    thread::scope(|scope| {
        for writer in 0..WRITERS {
            let path = &path;
            scope.spawn(move || {
                let store = open(path);
                store
                    .save(
                        &key(&format!("thread-{writer}")),
                        &Secret::from(format!("v{writer}")),
                    )
                    .unwrap();
            });
        }
    });
    let store = open(&path);
    for writer in 0..WRITERS {
        let loaded = store.load(&key(&format!("thread-{writer}"))).unwrap();
        assert_eq!(loaded.unwrap().expose(), &format!("v{writer}"));
    }
}

#[test]
fn concurrent_writers_in_processes_lose_nothing() {
    const WRITERS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let children: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let mut command = child_command(&format!("save:{writer}"), &path);
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    for child in children {
        assert_child_passed(&child.wait_with_output().unwrap());
    }
    let store = open(&path);
    for writer in 0..WRITERS {
        let loaded = store.load(&key(&format!("process-{writer}"))).unwrap();
        assert_eq!(loaded.unwrap().expose(), &format!("v{writer}"));
    }
}

/// The kernel releases a `flock` when its holder dies, however it dies.
#[test]
fn a_killed_lock_holder_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let short = Duration::from_millis(300);
    let store = CredentialStore::open_file_for_test(&path, Secret::from(PASSWORD), short).unwrap();
    store.save(&key("before"), &Secret::from("x")).unwrap();

    let mut holder = child_command("hold", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    assert!(
        lines.any(|line| line.unwrap().ends_with("holding the lock")),
        "the holder never took the lock"
    );

    let error = FileLock::exclusive(lock_path(&path), Duration::from_millis(100)).unwrap_err();
    assert!(
        matches!(&error, LockError::TimedOut { path: locked, mode: LockMode::Exclusive, .. }
      if locked == &lock_path(&path)),
        "{error:?}"
    );
    let started = Instant::now();
    let error = store.save(&key("blocked"), &Secret::from("x")).unwrap_err();
    assert!(started.elapsed() >= short, "{:?}", started.elapsed());
    assert!(
        matches!(
            &error,
            StoreError::Lock {
                op: StoreOp::Save,
                source: LockError::TimedOut { .. }
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "credential store `file` could not take its lock to save"
    );
    assert!(
        error
            .hint()
            .unwrap()
            .starts_with("another atmos-auth process is using")
    );

    holder.kill().unwrap(); // SIGKILL: no destructor, no unlock.
    holder.wait().unwrap();
    let started = Instant::now();
    let lock = FileLock::exclusive(lock_path(&path), TIMEOUT).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    drop(lock);
    store.save(&key("after"), &Secret::from("y")).unwrap();
    assert_eq!(store.load(&key("before")).unwrap().unwrap().expose(), "x");
}

#[test]
fn damaged_files_are_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store = open(&path);
    store.save(&key("a"), &Secret::from(SENTINEL)).unwrap();
    let good = fs::read(&path).unwrap();

    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let mut body_flipped = good.clone();
    body_flipped[HEADER_LEN] ^= 0x80;
    let mut newer = good.clone();
    newer[8] = 2;
    let mut greedy = good.clone();
    greedy[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
    let cases: [(&str, Vec<u8>, Damage); 8] = [
        ("empty", Vec::new(), Damage::Truncated),
        ("magic only", good[..5].to_vec(), Damage::Truncated),
        (
            "header cut",
            good[..HEADER_LEN + 3].to_vec(),
            Damage::Truncated,
        ),
        (
            "not ours",
            b"[default]\nregion = eu-west-1\n".to_vec(),
            Damage::NotOurs,
        ),
        ("tag", tampered, Damage::Tampered),
        ("body", body_flipped, Damage::Tampered),
        ("version", newer, Damage::UnknownFormat { version: 2 }),
        ("cost", greedy, Damage::BadKdf),
    ];
    for (case, bytes, damage) in cases {
        fs::write(&path, &bytes).unwrap();
        let opened = open_with(&path, PASSWORD).map(drop);
        let saved = store.save(&key("b"), &Secret::from("b"));
        let loaded = store.load(&key("a")).map(drop);
        for result in [opened, saved, loaded] {
            assert!(
                matches!(&result, Err(StoreError::Corrupt { path: reported, damage: found })
          if reported == &path && *found == damage),
                "{case}: {result:?}"
            );
        }
        assert_eq!(fs::read(&path).unwrap(), bytes, "{case}: file changed");
    }
    let error = open_with(&path, PASSWORD).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "credential store file `{}` is unreadable: its key derivation cost is out of range",
            path.display()
        )
    );
    assert_eq!(
        error.hint().unwrap(),
        format!(
            "atmos-auth left `{}` as it was: move it aside and log in again",
            path.display()
        )
    );
}

/// The cost of a file "from before" in the key derivation tests: the least argon2 accepts.
const WEAK: KdfParams = KdfParams {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};
/// The current cost in those tests: more memory and more passes than [`WEAK`].
const CURRENT: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 2,
    parallelism: 1,
};

fn open_kdf(path: &Path, kdf: KdfParams, floor: KdfParams) -> Result<CredentialStore, StoreError> {
    CredentialStore::open_file_with_kdf(path, Secret::from(PASSWORD), TIMEOUT, kdf, floor)
}

/// The cost and salt in the file's header.
fn header_kdf_and_salt(path: &Path) -> (KdfParams, Vec<u8>) {
    let bytes = fs::read(path).unwrap();
    let cost = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let kdf = KdfParams {
        memory_kib: cost(10),
        iterations: cost(14),
        parallelism: cost(18),
    };
    (kdf, bytes[22..38].to_vec())
}

/// A file with a lower cost than the current one (but above the floor) is read as it is, and
/// the next write re-encrypts it at the current cost under a new salt: no silent downgrade.
#[test]
fn a_cheaper_file_is_upgraded_on_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let before = open_kdf(&path, WEAK, WEAK).unwrap();
    before.save(&key("a"), &Secret::from(SENTINEL)).unwrap();
    let (kdf, old_salt) = header_kdf_and_salt(&path);
    assert_eq!(kdf, WEAK);

    let store = open_kdf(&path, CURRENT, WEAK).unwrap();
    assert_eq!(store.load(&key("a")).unwrap().unwrap().expose(), SENTINEL);
    assert_eq!(
        header_kdf_and_salt(&path).0,
        WEAK,
        "reading rewrites nothing"
    );
    store.save(&key("b"), &Secret::from("b")).unwrap();
    let (kdf, salt) = header_kdf_and_salt(&path);
    assert_eq!(kdf, CURRENT);
    assert_ne!(salt, old_salt, "the stronger key has a new salt");

    // Every entry survives, for a handle that now accepts nothing below the current cost; a
    // handle still configured with the old cost reads it too and does not lower it again.
    let strict = open_kdf(&path, CURRENT, CURRENT).unwrap();
    assert_eq!(strict.load(&key("a")).unwrap().unwrap().expose(), SENTINEL);
    assert_eq!(strict.load(&key("b")).unwrap().unwrap().expose(), "b");
    before.save(&key("c"), &Secret::from("c")).unwrap();
    assert_eq!(header_kdf_and_salt(&path).0, CURRENT);
}

/// A header below the floor is refused as possibly tampered with, and the file is left alone.
#[test]
fn a_file_below_the_cost_floor_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    open_kdf(&path, WEAK, WEAK)
        .unwrap()
        .save(&key("a"), &Secret::from(SENTINEL))
        .unwrap();
    let bytes = fs::read(&path).unwrap();
    let error = open_kdf(&path, CURRENT, CURRENT).unwrap_err();
    assert!(
        matches!(&error, StoreError::Corrupt { path: reported, damage: Damage::WeakKdf } if reported == &path),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "credential store file `{}` is unreadable: its key derivation cost is below the \
             minimum, so it may have been tampered with",
            path.display()
        )
    );
    assert_eq!(
        fs::read(&path).unwrap(),
        bytes,
        "the file is left as it was"
    );
}

#[test]
fn the_default_cost_is_above_the_floor() {
    assert!(!KdfParams::DEFAULT.weaker_than(KdfParams::FLOOR));
}

#[test]
fn debug_never_shows_the_password_or_the_secret() {
    const PASSWORD_SENTINEL: &str = "sentinel-password-77c2";
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store =
        CredentialStore::open_file_for_test(&path, Secret::from(PASSWORD_SENTINEL), TIMEOUT)
            .unwrap();
    store.save(&key("debug"), &Secret::from(SENTINEL)).unwrap();
    // A second handle opened on the existing file caches the key at once.
    let reopened =
        CredentialStore::open_file_for_test(&path, Secret::from(PASSWORD_SENTINEL), TIMEOUT)
            .unwrap();
    let loaded = reopened.load(&key("debug"));
    let wrong = open_with(&path, "another password");
    for debug in [
        format!("{store:?}"),
        format!("{reopened:?}"),
        format!("{loaded:?}"),
        format!("{wrong:?}"),
    ] {
        assert!(!debug.contains(SENTINEL), "{debug}");
        assert!(!debug.contains(PASSWORD_SENTINEL), "{debug}");
    }
    let debug = format!("{reopened:?}");
    assert!(debug.contains("password: <redacted>"), "{debug}");
    assert!(debug.contains("key: <redacted>"), "{debug}");
}

#[test]
fn locks_exclude_each_other_and_are_released_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entry.lock");
    let quick = Duration::from_millis(50);
    let first = FileLock::shared(&path, quick).unwrap();
    let second = FileLock::shared(&path, quick).unwrap();
    assert_eq!(second.mode(), LockMode::Shared);
    assert_eq!(mode(&path), 0o600);

    let started = Instant::now();
    let error = FileLock::exclusive(&path, quick).unwrap_err();
    assert!(started.elapsed() >= quick && started.elapsed() < quick * 10);
    assert_eq!(error.path(), path);
    assert_eq!(
        error.to_string(),
        format!(
            "another process held the lock on `{}` for 50ms (exclusive lock wanted)",
            path.display()
        )
    );
    drop((first, second));

    let exclusive = FileLock::exclusive(&path, Duration::ZERO).unwrap();
    assert_eq!(exclusive.path(), path);
    assert!(FileLock::shared(&path, Duration::ZERO).is_err());
    assert!(FileLock::exclusive(&path, Duration::ZERO).is_err());
    drop(exclusive);
    FileLock::shared(&path, Duration::ZERO).unwrap();

    let missing = dir.path().join("no-such-dir").join("entry.lock");
    let error = FileLock::exclusive(&missing, quick).unwrap_err();
    assert!(matches!(&error, LockError::Io { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("failed to lock `{}`", missing.display())
    );
}

#[test]
fn a_waiting_lock_is_granted_when_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entry.lock");
    let held = FileLock::exclusive(&path, Duration::ZERO).unwrap();
    let waiter = thread::spawn({
        let path = path.clone();
        move || FileLock::exclusive(&path, TIMEOUT).map(drop)
    });
    thread::sleep(Duration::from_millis(100));
    drop(held);
    waiter.join().unwrap().unwrap();
}

#[test]
fn write_atomic_replaces_the_file_with_an_exact_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    fs::write(&path, "old").unwrap();
    set_mode(&path, 0o644);
    write_atomic(&path, b"new", PRIVATE_FILE_MODE).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    assert_eq!(mode(&path), 0o600);
    write_atomic(&path, b"newer", 0o640).unwrap();
    assert_eq!(mode(&path), 0o640);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["state.json"], "no temp file is left behind");

    let error = write_atomic(&dir.path().join("missing/state.json"), b"x", 0o600).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn private_dirs_are_created_0700() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("x").join("y");
    create_private_dir(&nested).unwrap();
    assert_eq!(mode(&nested), PRIVATE_DIR_MODE);
    create_private_dir(&nested).unwrap();
}

fn child_command(scenario: &str, path: &Path) -> Command {
    let scenario = format!("{scenario}:{}", path.display());
    child_scenario_command(module_path!(), CHILD_ENV, &scenario)
}

/// Runs `child_scenario` in a fresh copy of this test binary, after `setup` on the command.
fn child(scenario: &str, path: &Path, setup: impl FnOnce(&mut Command)) -> Output {
    let mut command = child_command(scenario, path);
    setup(&mut command);
    command.output().unwrap()
}

/// The child half of the tests above, started by `child_command` with
/// `ATMOS_FILE_STORE_TEST_CHILD` set; on its own it has nothing to run, so it is ignored (and
/// tests/run.sh skips it by name).
#[test]
#[ignore = "started only by its parent test, through child_command"]
fn child_scenario() {
    let scenario =
        std::env::var(CHILD_ENV).expect("started by child_command, which sets the scenario");
    let (scenario, path) = scenario.split_once(":/").expect("scenario:/path");
    let path = PathBuf::from(format!("/{path}"));
    match scenario.split(':').collect::<Vec<_>>().as_slice() {
        ["save-under-umask", _, value] => {
            open(&path)
                .save(&key("umask"), &Secret::from(*value))
                .unwrap();
        }
        ["save", writer] => {
            open(&path)
                .save(
                    &key(&format!("process-{writer}")),
                    &Secret::from(format!("v{writer}")),
                )
                .unwrap();
        }
        ["hold"] => {
            let _lock = FileLock::exclusive(lock_path(&path), TIMEOUT).unwrap();
            println!("holding the lock");
            // Killed by the parent long before this ends.
            thread::sleep(Duration::from_secs(60));
        }
        other => panic!("unknown child scenario {other:?}"),
    }
    println!("child scenario passed: {scenario}");
}

#[test]
fn lists_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store = open(&path);
    assert_eq!(store.entries().unwrap(), Vec::new(), "no file yet");
    let session = EntryKey::new(Namespace::SsoSession, "us-east-1|https://x/start@ab");
    store
        .save(&key("plat-dev/terraform"), &Secret::from(SENTINEL))
        .unwrap();
    store.save(&session, &Secret::from(SENTINEL)).unwrap();
    let mut listed = open(&path).entries().unwrap();
    listed.sort_by_key(EntryKey::user);
    assert_eq!(listed, [key("plat-dev/terraform"), session.clone()]);
    store.delete(&session).unwrap();
    assert_eq!(store.entries().unwrap(), [key("plat-dev/terraform")]);
}
