//! Issue 13: the role-credential tier of the default store. An ordinary user's role credentials
//! for 50 identities are kept, sealed, under `$XDG_RUNTIME_DIR` with the key in the kernel
//! keyring: none in the Secret Service (which writes them to disk), none under HOME, all read back
//! without an upstream call; damaged or swapped files are a miss with a warning, a runtime
//! directory that is not the user's own is refused, and `logout` removes the files.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::emulator::{Account, Op, Organization};
use crate::harness::{BIN, Outcome, World, test_org};
use crate::trust_stores::{NobodySession, chown_tree, secret_service_labels_with};

/// Users of /etc/passwd (D-Bus needs one) that no other test runs as, one per test, so no two
/// tests share a persistent keyring or a key quota.
const TIER_USERS: [u32; 5] = [9, 10, 13, 38, 39];

const PERMISSION_SETS: [&str; 5] = ["Admin", "Apply", "Plan", "Read", "State"];

/// Ten accounts with five permission sets each: fifty identities.
fn fifty_identity_org() -> Organization {
    let mut org = test_org();
    org.accounts = (0..10)
        .map(|i| Account {
            id: format!("{:012}", 100_000_000_000_u64 + i),
            name: format!("acct-{i:02}"),
            email: format!("aws+acct-{i:02}@example.com"),
            permission_sets: PERMISSION_SETS.iter().map(|s| s.to_string()).collect(),
        })
        .collect();
    org
}

fn identity_names() -> Vec<String> {
    (0..10)
        .flat_map(|i| PERMISSION_SETS.map(|set| format!("acct-{i:02}/{set}")))
        .collect()
}

/// A world of `uid` with the fifty identities in profile `dev`, its own runtime directory (0700,
/// outside HOME) and its own Secret Service.
struct TierWorld {
    world: World,
    session: NobodySession,
    runtime: tempfile::TempDir,
}

impl TierWorld {
    fn new(uid: u32) -> Self {
        let world = World::with_org(fifty_identity_org());
        let mut config = String::from("accounts:\n");
        for i in 0..10 {
            config += &format!("  acct-{i:02}: \"{:012}\"\n", 100_000_000_000_u64 + i);
        }
        config += &format!(
            "auth:\n  providers:\n    sso:\n      kind: aws/iam-identity-center\n      \
             region: us-east-1\n      start_url: {}\n",
            world.start_url
        );
        world.write("repo/atmos.yaml", &config);
        let mut profile = String::from("description: fifty identities\nauth:\n  identities:\n");
        for name in identity_names() {
            let (account, set) = name.split_once('/').unwrap();
            profile += &format!(
                "    {name}:\n      kind: aws/permission-set\n      via: {{provider: sso}}\n      \
                 principal: {{name: {set}, account: {{name: {account}}}}}\n"
            );
        }
        world.write("repo/profiles/dev/atmos.yaml", &profile);
        chown_tree(world.home.path(), uid);
        let runtime = tempfile::tempdir().unwrap();
        std::os::unix::fs::chown(runtime.path(), Some(uid), Some(uid)).unwrap();
        std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        Self {
            world,
            session: NobodySession::start_as(uid),
            runtime,
        }
    }

    fn tier_dir(&self) -> PathBuf {
        self.runtime.path().join("atmos-auth/role-credentials")
    }

    /// The tier's files (not its lock or temp files).
    fn tier_files(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.tier_dir()) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = dir
            .map(|entry| entry.unwrap().path())
            .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        files.sort();
        files
    }

    /// atmos-auth as this world's user, in a fresh session keyring, with `XDG_RUNTIME_DIR` set
    /// to `runtime` (none when `None`).
    fn command(&self, args: &[&str], runtime: Option<&Path>) -> Command {
        let template = self.world.cmd(args).command;
        let mut command = self.session.command("keyctl");
        command.args(["session", "-", BIN]);
        command.args(template.get_args());
        for (name, value) in template.get_envs() {
            if let Some(value) = value
                && name != "DBUS_SESSION_BUS_ADDRESS"
            {
                command.env(name, value);
            }
        }
        if let Some(runtime) = runtime {
            command.env("XDG_RUNTIME_DIR", runtime);
        }
        command.current_dir(self.world.root());
        command
    }

    fn run_in(&self, args: &[&str], runtime: Option<&Path>) -> Outcome {
        let output = self
            .command(args, runtime)
            .stdin(Stdio::null())
            .output()
            .expect("run atmos-auth as another user");
        Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: without_keyctl_line(&output.stderr),
        }
    }

    fn run(&self, args: &[&str]) -> Outcome {
        self.run_in(args, Some(self.runtime.path()))
    }

    /// `credential-process` for every identity at once; the access key id of each.
    fn fetch_all_at_once(&self) -> Vec<String> {
        let children: Vec<_> = identity_names()
            .iter()
            .map(|name| {
                self.command(&["credential-process", name], Some(self.runtime.path()))
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|child| {
                let output = child.wait_with_output().unwrap();
                let stderr = without_keyctl_line(&output.stderr);
                assert!(output.status.success(), "{output:?}");
                assert_eq!(stderr, "", "a clean run says nothing");
                let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
                json["AccessKeyId"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// The descriptions of the atmos-auth keys this user's kernel keyrings hold.
    fn kernel_keys(&self) -> Vec<String> {
        let output = self
            .session
            .command("keyctl")
            .args(["session", "-", "sh", "-c"])
            .arg("keyctl get_persistent @s >/dev/null && cat /proc/keys")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| line.contains("atmos-auth:"))
            .map(|line| {
                line.split_whitespace()
                    .skip(8)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn role_credential_labels(&self) -> Vec<String> {
        secret_service_labels_with(|| self.session.command("dbus-send"))
            .into_iter()
            .filter(|label| label.contains("role credentials"))
            .collect()
    }
}

/// `stderr` without the line `keyctl session` prints before it starts atmos-auth.
fn without_keyctl_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("Joined session keyring: ") => rest.to_owned(),
        _ => text.into_owned(),
    }
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_symlink() {
            continue;
        }
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            found.push(path);
        }
    }
    found
}

/// Issue 13: an ordinary user (20,000 bytes of kernel key quota, about a dozen role credentials)
/// with 50 identities. All 50 are cached: sealed files in the runtime directory, the key in the
/// kernel keyring, nothing in the Secret Service and nothing under HOME; the next 50 calls are
/// all served from the tier; `logout` removes every file.
#[test]
fn fifty_identities_of_an_ordinary_user_are_cached_off_the_disk() {
    let tier = TierWorld::new(TIER_USERS[0]);
    let login = tier.run(&["login"]);
    assert_eq!(login.code, Some(0), "{login:?}");

    let first = tier.fetch_all_at_once();
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 50);
    assert_eq!(first.iter().collect::<BTreeSet<_>>().len(), 50);
    let files = tier.tier_files();
    assert_eq!(files.len(), 50, "one file per identity: {files:?}");
    for path in [tier.runtime.path().join("atmos-auth"), tier.tier_dir()] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o700, "{}", path.display());
    }
    for file in &files {
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o600, "{}", file.display());
    }
    assert_eq!(tier.role_credential_labels(), Vec::<String>::new());
    let kernel = tier.kernel_keys();
    assert!(
        kernel.iter().any(|key| key.contains("#role-tier-key")),
        "{kernel:?}"
    );
    assert!(
        kernel
            .iter()
            .all(|key| !key.contains(&tier.world.start_url)),
        "role credentials in the kernel keyring: {kernel:?}"
    );
    for key_id in &first {
        let home = files_containing(tier.world.home.path(), key_id);
        let runtime = files_containing(tier.runtime.path(), key_id);
        assert!(
            home.is_empty() && runtime.is_empty(),
            "{key_id} in the clear: {home:?} {runtime:?}"
        );
    }

    let second = tier.fetch_all_at_once();
    assert_eq!(second, first, "the same credentials, from the tier");
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 50);

    let logout = tier.run(&["logout", "--all"]);
    assert_eq!(logout.code, Some(0), "{logout:?}");
    let removed = format!(
        "Removed AWS role credentials for us-east-1|{}|",
        tier.world.start_url
    );
    let lines: Vec<&str> = logout
        .stdout
        .lines()
        .filter(|line| line.starts_with(&removed))
        .collect();
    assert_eq!(lines.len(), 50, "{}", logout.stdout);
    assert!(
        lines
            .iter()
            .all(|line| line.ends_with("from the `system` store.")),
        "{lines:?}"
    );
    assert_eq!(tier.tier_files(), Vec::<PathBuf>::new());
    // The kernel reclaims an unlinked key a moment later: wait (5 s at most) until it is gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut kernel = tier.kernel_keys();
    while kernel.iter().any(|key| key.contains("#role-tier-key"))
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
        kernel = tier.kernel_keys();
    }
    assert!(
        kernel.iter().all(|key| !key.contains("#role-tier-key")),
        "the key outlived the files: {kernel:?}"
    );
}

/// A file of the tier that is not what atmos-auth wrote for the entry (another identity's file
/// copied over it, a changed byte) is a cache miss with a warning, never a failure; one whose key
/// is gone (`keyctl purge`, a reboot) is a silent miss. Each is replaced by the refetch.
#[test]
fn swapped_tampered_or_orphaned_tier_files_are_misses() {
    let tier = TierWorld::new(TIER_USERS[1]);
    assert_eq!(tier.run(&["login"]).code, Some(0));
    let fetch = |name: &str| tier.run(&["credential-process", name]);
    let (a, b) = ("acct-00/Admin", "acct-01/Read");
    let key_a = fetch(a).success().stdout;
    fetch(b).success();
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 2);
    let files = tier.tier_files();
    assert_eq!(files.len(), 2);
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();

    // Swap: each file now holds the other entry's sealed credentials.
    std::fs::write(&files[0], &bytes[1]).unwrap();
    std::fs::write(&files[1], &bytes[0]).unwrap();
    let warning = format!(
        "does not hold what atmos-auth wrote there for `role-credentials:us-east-1|{}",
        tier.world.start_url
    );
    for name in [a, b] {
        fetch(name).success().stderr_has(&warning);
    }
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 4);
    let refetched_a = fetch(a).success();
    assert_eq!(refetched_a.stderr, "");
    assert_ne!(refetched_a.stdout, key_a, "the swapped file was not served");
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 4);

    // One changed byte in the ciphertext.
    for file in tier.tier_files() {
        let mut changed = std::fs::read(&file).unwrap();
        let last = changed.len() - 20;
        changed[last] ^= 0x01;
        std::fs::write(&file, changed).unwrap();
    }
    fetch(a).success().stderr_has(&warning);
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 5);

    // The key purged: the files are unreadable garbage, removed without a word.
    let purged = tier
        .session
        .command("keyctl")
        .args(["session", "-", "sh", "-c"])
        .arg("keyctl get_persistent @s >/dev/null && keyctl purge -s user 'atmos-auth:role-credentials:#role-tier-key'")
        .output()
        .unwrap();
    assert!(purged.status.success(), "{purged:?}");
    let out = fetch(b).success();
    assert_eq!(out.stderr, "", "a lost key is no cause for a warning");
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 6);
    fetch(b).success();
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 6);
}

/// The runtime directory must be the user's own and closed to others, as logind makes it. One
/// of another user (what `su` without a login session leaves in the environment) or one others
/// can enter is refused with a warning naming it, nothing is written there, and the run goes on
/// with the kernel keyring; no runtime directory at all is that too, silently.
#[test]
fn a_runtime_dir_not_closed_to_others_is_refused() {
    let tier = TierWorld::new(TIER_USERS[2]);
    assert_eq!(tier.run(&["login"]).code, Some(0));
    let foreign = tempfile::tempdir().unwrap();
    let open = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(open.path(), Some(TIER_USERS[2]), Some(TIER_USERS[2])).unwrap();
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cases = [
        (
            foreign.path(),
            "it belongs to another user (uid 0); it must be your own; role credentials are kept \
             in the kernel keyring only",
        ),
        (
            open.path(),
            "group or others have access to it (mode 0755); run `chmod 700` on it; role \
             credentials are kept in the kernel keyring only",
        ),
    ];
    for (runtime, warning) in cases {
        let out = tier.run_in(&["credential-process", "acct-00/Admin"], Some(runtime));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(
            out.stderr,
            format!(
                " WARN refusing `{}`: {warning}, which holds about a dozen for an ordinary user\n",
                runtime.display()
            )
        );
        assert_eq!(std::fs::read_dir(runtime).unwrap().count(), 0);
    }
    // Served from the kernel keyring, where the first refused run left it.
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 1);
    let out = tier.run_in(&["credential-process", "acct-00/Admin"], None);
    assert_eq!(out.stderr, "");
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 1);
    assert!(
        tier.kernel_keys()
            .iter()
            .any(|key| key.contains(&tier.world.start_url)),
        "kept in the kernel keyring"
    );
    assert_eq!(tier.tier_files(), Vec::<PathBuf>::new());
}

/// `logout --all` from a shell without the runtime directory (cron, `su -`, a container, a
/// `ssh` without logind) cannot see the tier's files, but the kernel keyring holding their key is
/// the same: it removes the key, so the role credentials cached by the login session can no
/// longer be read there; `logout NAME` does the same. Before, they were served after the logout
/// without any login.
#[test]
fn logout_all_without_the_runtime_dir_makes_the_tier_unreadable() {
    let tier = TierWorld::new(TIER_USERS[3]);
    assert_eq!(tier.run(&["login"]).code, Some(0));
    let fetch = |name: &str| tier.run(&["credential-process", name]).success();
    fetch("acct-00/Admin");
    assert_eq!(tier.tier_files().len(), 1);
    // `logout NAME` too: the next call in the login session asks for new credentials.
    tier.run_in(&["logout", "acct-00/Admin"], None).success();
    fetch("acct-00/Admin");
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 2);
    assert_eq!(tier.tier_files().len(), 1);

    let dry = tier.run_in(&["logout", "--all", "--dry-run"], None);
    assert_eq!(dry.code, Some(0), "{dry:?}");
    fetch("acct-00/Admin");
    assert_eq!(
        tier.world.emulator.calls(Op::GetRoleCredentials),
        2,
        "a dry run removes nothing"
    );
    let logout = tier.run_in(&["logout", "--all", "-v"], None);
    assert_eq!(logout.code, Some(0), "{logout:?}");
    assert!(
        logout.stderr.contains(
            "removed the key of the role credentials cached in a runtime directory this run \
             cannot see"
        ),
        "{}",
        logout.stderr
    );

    // Back in the login session: nothing is served from the tier, a login is needed.
    let after = tier.run(&["credential-process", "acct-00/Admin"]);
    assert_eq!(after.code, Some(3), "served after logout: {after:?}");
    assert_eq!(tier.world.emulator.calls(Op::GetRoleCredentials), 2);
    assert_eq!(
        tier.tier_files(),
        Vec::<PathBuf>::new(),
        "the unreadable file is removed"
    );
}
