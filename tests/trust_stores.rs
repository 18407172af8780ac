//! Where credentials are kept, and for how long (issue 11, items 3 and 4): kernel keys expire
//! with the credentials they hold, role credentials never reach the Secret Service's file on
//! disk, and a GitHub Actions job's credentials end with the job.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::emulator::Op;
use crate::harness::{BIN, DEV_PROFILE, Outcome, World, test_org};
use crate::tls_server::{TlsServer, fake_jwt, github_token_handler};

/// One key of `/proc/keys` (the keys this user may view).
#[derive(Debug)]
struct KernelKey {
    /// Seconds left before the kernel removes it; `None` for a key without timeout (`perm`).
    timeout_secs: Option<u64>,
    description: String,
}

/// The atmos-auth keys in `/proc/keys` whose description contains `needle`.
fn kernel_keys(needle: &str) -> Vec<KernelKey> {
    let table = std::fs::read_to_string("/proc/keys").expect("read /proc/keys");
    table
        .lines()
        .filter(|line| line.contains("atmos-auth:") && line.contains(needle))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            KernelKey {
                timeout_secs: parse_timeout(fields[3]),
                description: fields[8..].join(" "),
            }
        })
        .collect()
}

/// The timeout column of `/proc/keys`: `perm`, or a count of seconds, minutes, hours, days or
/// weeks, rounded down; returned as the seconds it stands for, rounded down.
fn parse_timeout(column: &str) -> Option<u64> {
    if column == "perm" {
        return None;
    }
    let (count, unit) = column.split_at(column.len() - 1);
    let count: u64 = count.parse().expect("a timeout count");
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => panic!("unknown timeout unit {other:?} in /proc/keys"),
    };
    Some(count * unit)
}

/// The label of every atmos-auth item in a Secret Service, found over D-Bus (`SearchItems`,
/// then each item's `Label`) with the `dbus-send` that `dbus_send` prepares.
pub(crate) fn secret_service_labels_with(dbus_send: impl Fn() -> Command) -> Vec<String> {
    let dbus = |args: &[&str]| {
        let output = dbus_send()
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
            ])
            .args(args)
            .output()
            .expect("run dbus-send");
        assert!(output.status.success(), "dbus-send {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let found = dbus(&[
        "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service.SearchItems",
        "dict:string:string:service,atmos-auth",
    ]);
    found
        .lines()
        .filter_map(|line| line.trim().strip_prefix("object path "))
        .map(|path| {
            let path = path.trim_matches('"');
            dbus(&[
                path,
                "org.freedesktop.DBus.Properties.Get",
                "string:org.freedesktop.Secret.Item",
                "string:Label",
            ])
        })
        .collect()
}

/// A name no other test (and no earlier run) uses, for entries in per-user keyrings.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{}x{nanos}", std::process::id())
}

/// Role credentials in the kernel keyring carry a kernel timeout of their remaining lifetime,
/// so the kernel removes them when they expire instead of keeping them for three idle days.
#[test]
fn kernel_keys_expire_with_their_credentials() {
    const LIFETIME_SECS: u64 = 50 * 60;
    let mut org = test_org();
    org.settings.role_credentials_ttl_secs = LIFETIME_SECS;
    let world = World::with_org(org);
    world.login();
    world
        .cmd(&["env", "dev"])
        .env("ATMOS_KEYRING_TYPE", "system")
        .run()
        .success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
    let keys = kernel_keys(&world.start_url);
    let roles: Vec<&KernelKey> = keys
        .iter()
        .filter(|key| key.description.contains("role-credentials:"))
        .collect();
    assert_eq!(roles.len(), 1, "one role credentials key: {keys:?}");
    let timeout = roles[0]
        .timeout_secs
        .unwrap_or_else(|| panic!("the key has no timeout: {:?}", roles[0]));
    // /proc/keys shows whole minutes: 49m for a timeout just under 50 minutes.
    assert!(
        (LIFETIME_SECS - 120..=LIFETIME_SECS).contains(&timeout),
        "timeout {timeout}s for credentials living {LIFETIME_SECS}s"
    );
}

const CI_PROFILE: &str = "\
auth:
  providers:
    github:
      kind: github/oidc
      region: us-west-2
  identities:
    ci/deploy:
      kind: aws/assume-role
      default: true
      via:
        provider: github
      principal:
        assume_role: ROLE_ARN
";

/// Under GitHub Actions, web-identity credentials (and roles chained from them) stay in the
/// process: nothing reaches the per-user kernel keyring or the Secret Service, which outlive
/// the job and which the next job on a self-hosted runner could read.
#[test]
fn ci_credentials_end_with_the_job() {
    // A Secret Service of this test's own: listing every item of the suite's shared daemon while
    // other tests delete theirs made gnome-keyring drop off the bus (NoReply), failing every
    // later test that needed it.
    let session = NobodySession::start_as(0);
    let world = World::new();
    let role = format!("arn:aws:iam::222222222222:role/{}", unique("CiJob"));
    world.write(
        "repo/profiles/ci/atmos.yaml",
        &CI_PROFILE.replace("ROLE_ARN", &role),
    );
    let jwt = fake_jwt("sts.amazonaws.com");
    let server = TlsServer::start(github_token_handler("request-token-sentinel", &jwt));
    for store in ["system", "keyutils", "secret-service"] {
        let out = world
            .cmd(&["env", "--format", "json"])
            .env("ATMOS_PROFILE", "ci")
            .env("ATMOS_KEYRING_TYPE", store)
            .env("DBUS_SESSION_BUS_ADDRESS", session.address())
            .env("GITHUB_ACTIONS", "true")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                &server.url("/token?api-version=2.0"),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-sentinel")
            .env("AWS_CA_BUNDLE", server.ca_bundle_path().to_str().unwrap())
            .run()
            .success();
        assert!(out.json_vars().contains_key("AWS_SESSION_TOKEN"));
        let kernel = kernel_keys(&role);
        assert!(
            kernel.is_empty(),
            "{store}: in the kernel keyring: {kernel:?}"
        );
        let stored: Vec<String> = secret_service_labels_with(|| session.command("dbus-send"))
            .into_iter()
            .filter(|label| label.contains(&role))
            .collect();
        assert!(
            stored.is_empty(),
            "{store}: in the Secret Service: {stored:?}"
        );
    }
    assert_eq!(world.emulator.calls(Op::AssumeRoleWithWebIdentity), 3);
}

/// The cache directory is reached without following a symlink another user could have planted:
/// a `.cache` that links to another user's directory is refused, and so is an `atmos-auth` that
/// is a symlink at all; nothing is written through either (issue 11, item 10).
#[test]
fn a_symlinked_cache_dir_is_refused() {
    let world = World::new();
    world.login();
    let home = world.home.path();
    let cache = home.join(".cache");
    std::fs::rename(&cache, home.join("old-cache")).unwrap();

    let theirs = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(theirs.path(), Some(12345), Some(12345)).unwrap();
    std::os::unix::fs::symlink(theirs.path(), &cache).unwrap();
    let out = world.run(&["env", "dev"]).code(2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with(&format!(
            "error: could not use the cache directory: refusing `{}`: it belongs to another user \
             (uid 12345); set XDG_CACHE_HOME to a directory of your own\n",
            theirs.path().display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_dir(theirs.path()).unwrap().count(), 0);

    // A link to a private directory of the user's own is refused too, one level down.
    std::fs::remove_file(&cache).unwrap();
    std::fs::create_dir(&cache).unwrap();
    std::fs::rename(home.join("old-cache/atmos-auth"), home.join("mine")).unwrap();
    std::os::unix::fs::symlink(home.join("mine"), cache.join("atmos-auth")).unwrap();
    world
        .run(&["env", "dev"])
        .code(2)
        .stderr_has("it is a symbolic link; remove it");

    // Put back as a real directory, everything works again.
    std::fs::remove_file(cache.join("atmos-auth")).unwrap();
    std::fs::rename(home.join("mine"), cache.join("atmos-auth")).unwrap();
    world.run(&["env", "dev"]).success();
}

/// The unprivileged user the quota test runs as: it must exist in /etc/passwd, which D-Bus
/// needs, and its kernel key quota is the default 20,000 bytes (root's is far larger).
const NOBODY: u32 = 65534;

/// `program` run as `uid` (and the group of the same number), with only `envs` in its
/// environment.
fn as_user(uid: u32, program: &str, envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new("setpriv");
    command
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "--",
            program,
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(envs.iter().copied());
    command
}

/// A D-Bus session bus with an unlocked gnome-keyring, both run as an ordinary user (by default
/// [`NOBODY`]): that user's Secret Service. Both processes are stopped on drop. Its kernel
/// keyrings (persistent keyring, quota) are that user's own too, apart from every other test's.
pub(crate) struct NobodySession {
    uid: u32,
    _dir: tempfile::TempDir,
    address: String,
    bus_pid: i32,
    keyring: Child,
}

impl NobodySession {
    fn start() -> Self {
        Self::start_as(NOBODY)
    }

    /// The session of `uid`, which must be in /etc/passwd (D-Bus needs it).
    pub(crate) fn start_as(uid: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().display().to_string();
        let (data, run) = (format!("{home}/data"), format!("{home}/run"));
        for made in [&data, &run] {
            std::fs::create_dir(made).unwrap();
        }
        for owned in [home.as_str(), &data, &run] {
            std::os::unix::fs::chown(owned, Some(uid), Some(uid)).unwrap();
        }
        let envs = [
            ("HOME", home.as_str()),
            ("XDG_DATA_HOME", data.as_str()),
            ("XDG_RUNTIME_DIR", run.as_str()),
        ];
        let bus = as_user(uid, "dbus-daemon", &envs)
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .output()
            .expect("start dbus-daemon as nobody");
        let printed = String::from_utf8_lossy(&bus.stdout).into_owned();
        let mut lines = printed.lines();
        let (Some(address), Some(pid)) = (lines.next(), lines.next()) else {
            panic!("dbus-daemon printed {printed:?}: {bus:?}");
        };
        let address = address.to_owned();
        let bus_pid = pid.trim().parse().unwrap();
        let mut keyring = as_user(uid, "gnome-keyring-daemon", &envs)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon as nobody");
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"atmos-auth-test").unwrap();
        drop(stdin);
        let session = Self {
            uid,
            _dir: dir,
            address,
            bus_pid,
            keyring,
        };
        session.wait_for_the_daemon();
        // The first call creates the login collection.
        let activated = session
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--reply-timeout=10000",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.ReadAlias",
                "string:default",
            ])
            .output()
            .unwrap();
        assert!(activated.status.success(), "{activated:?}");
        session.wait_until_unlocked();
        session
    }

    /// Waits (10 s at most) until our gnome-keyring owns `org.freedesktop.secrets`. Calling the
    /// service before that would make D-Bus activate a second daemon, one nobody unlocked, which
    /// can win the name.
    fn wait_for_the_daemon(&self) {
        for _ in 0..200 {
            let owned = self
                .command("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&owned.stdout).contains("boolean true") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "gnome-keyring of uid {} never claimed its bus name",
            self.uid
        );
    }

    /// gnome-keyring unlocks the login collection a moment after it answers: a first call made
    /// before that finds it locked. Waits (5 s at most) until it says it is unlocked.
    fn wait_until_unlocked(&self) {
        for _ in 0..100 {
            let locked = self
                .command("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets/aliases/default",
                    "org.freedesktop.DBus.Properties.Get",
                    "string:org.freedesktop.Secret.Collection",
                    "string:Locked",
                ])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&locked.stdout).contains("boolean false") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the Secret Service of uid {} stayed locked", self.uid);
    }

    /// The bus address, for a command that should use this Secret Service.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// `program` run as this session's user on this bus.
    pub(crate) fn command(&self, program: &str) -> Command {
        as_user(
            self.uid,
            program,
            &[("DBUS_SESSION_BUS_ADDRESS", &self.address)],
        )
    }
}

impl Drop for NobodySession {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        // SAFETY: kill has no memory-safety preconditions; the pid is the bus this test started.
        unsafe { libc::kill(self.bus_pid, libc::SIGTERM) };
    }
}

/// Fills the kernel key quota of the session keyring's owner with throwaway keys (gone with the
/// session), then runs the rest of the command line: `sh -c FILL_QUOTA sh PROGRAM ARGS...`.
/// Fillers of an earlier session are reclaimed by the kernel's key garbage collector a moment
/// after it ended, which would free quota during this run: first wait until they are gone.
const FILL_QUOTA: &str = "\
tries=0
while grep -q atmos-auth-test-filler /proc/keys && [ $tries -lt 200 ]; do
  sleep 0.05
  tries=$((tries + 1))
done
keyctl get_persistent @s >/dev/null
i=0
for size in 1000 50; do
  while head -c $size /dev/zero | keyctl padd user atmos-auth-test-filler-$i @s >/dev/null 2>&1; do
    i=$((i + 1))
  done
done
exec \"$@\"";

/// Runs atmos-auth like `world.cmd(args)`, but as [`NOBODY`] on `session`'s bus, in a fresh
/// session keyring whose owner's kernel key quota is full.
fn run_with_full_kernel_keyring(world: &World, session: &NobodySession, args: &[&str]) -> Outcome {
    let template = world.cmd(args).command;
    let mut command = session.command("keyctl");
    command.args(["session", "-", "sh", "-c", FILL_QUOTA, "sh", BIN]);
    command.args(template.get_args());
    for (name, value) in template.get_envs() {
        if let Some(value) = value
            && name != "DBUS_SESSION_BUS_ADDRESS"
        {
            command.env(name, value);
        }
    }
    command.current_dir(world.root());
    let output = command.output().expect("run atmos-auth as nobody");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

/// With the kernel keyring full (a real `EDQUOT`: an ordinary user's quota, filled), the
/// `system` store does not fall back to the Secret Service, which keeps its items in a file on
/// disk: role credentials are served for this run only, with one warning saying why and what to
/// do, and fetched again next time (issue 11, item 3).
#[test]
fn a_full_kernel_keyring_keeps_role_credentials_off_the_disk() {
    let world = World::new();
    chown_tree(world.home.path(), NOBODY);
    let session = NobodySession::start();
    let run = |args: &[&str]| run_with_full_kernel_keyring(&world, &session, args);

    let login = run(&["login"]);
    assert_eq!(login.code, Some(0), "{login:?}");
    for _ in 0..2 {
        let out = run(&["env", "dev"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stdout.contains("AWS_SECRET_ACCESS_KEY="), "{out:?}");
        assert_eq!(
            out.stderr.matches("not cached").count(),
            1,
            "one warning: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("credential store `keyutils` is full")
                && out.stderr.contains("raise /proc/sys/kernel/keys/maxbytes"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 2);

    let labels = secret_service_labels_with(|| session.command("dbus-send"));
    assert!(
        labels.iter().any(|label| label.contains("SSO token")),
        "the search sees the session's items: {labels:?}"
    );
    let roles: Vec<&String> = labels
        .iter()
        .filter(|label| label.contains("role credentials"))
        .collect();
    assert!(
        roles.is_empty(),
        "role credentials in the Secret Service: {roles:?}"
    );
}

/// Cache files (provisioned identity lists, generated AWS configs, locks) are named by a hash of
/// what they belong to. These two regions, with one start URL at one endpoint, are an FNV-1a
/// collision: with the old 64-bit FNV names, the second provider was shown the identities the
/// first one had listed. Names are now 128 bits of SHA-256.
#[test]
fn providers_never_share_a_cache_file() {
    let world = World::new();
    let base = |region: &str| {
        format!(
            "{}      auto_provision_identities: true\n",
            world.base_config().replace("us-east-1", region)
        )
    };
    world.write("repo/atmos.yaml", &base("9957fa04f73de6e4"));
    world.write("other/atmos.yaml", &base("b85b12283388218b"));
    world.write("other/profiles/dev/atmos.yaml", DEV_PROFILE);
    world
        .login()
        .stderr_has("Found 10 permission sets across your accounts.");
    let mine = world.run(&["list"]).success().stdout;
    assert!(mine.contains("(provisioned)"), "{mine}");
    let other = world
        .cmd(&["list"])
        .current_dir(&world.home.path().join("other"))
        .run()
        .success()
        .stdout;
    assert!(
        !other.contains("(provisioned)"),
        "another provider's identities: {other}"
    );
}

/// A uid of its own (not in passwd: the kernel keyring needs none), so no other test shares
/// its persistent keyring or its key quota.
const LEGACY_UID: u32 = 12345;

/// Empties [`LEGACY_UID`]'s persistent keyring, even when the test fails. Root can reach it
/// whatever its quota; the user cannot even start a session keyring once it is full.
struct ClearLegacyUser;

impl Drop for ClearLegacyUser {
    fn drop(&mut self) {
        let _ = Command::new("keyctl")
            .args(["session", "-", "sh", "-c"])
            .arg(format!(
                "keyctl clear $(keyctl get_persistent @s {LEGACY_UID})"
            ))
            .output();
    }
}

/// Fills the quota with the role credentials an earlier version left (keyed without endpoint
/// binding, no timeout), then logs in, runs the command the refusal gives, and logs in again.
const LEGACY_SCENARIO: &str = r#"
ring=$(keyctl get_persistent @s) || exit 1
i=0
for size in 1000 50; do
  while head -c $size /dev/zero | keyctl padd user \
      "atmos-auth:role-credentials:us-east-1|https://old.awsapps.com/start|22222222222$i|Admin" \
      $ring >/dev/null 2>&1; do
    i=$((i + 1))
  done
done
[ $i -gt 5 ] || exit 2
"$BIN" login >/dev/null 2>"$OUT/refused"
echo $? >"$OUT/refused-code"
command=$(sed -n 's/.*free it with `\([^`]*\)`.*/\1/p' "$OUT/refused")
[ -n "$command" ] || exit 3
sh -c "$command" >/dev/null || exit 4
# The kernel reclaims invalidated keys' quota a moment later.
tries=0
while grep -q 'https://old.awsapps.com' /proc/keys && [ $tries -lt 200 ]; do
  sleep 0.05
  tries=$((tries + 1))
done
exec "$BIN" login
"#;

/// An earlier version left role credentials in the per-user persistent keyring without a
/// timeout, under keys this version never reads, and every run keeps that keyring alive: once
/// they fill an ordinary user's quota, nothing can be stored. The refusal must give that user
/// a command that frees it, not only a sysctl only root can raise.
#[test]
fn a_kernel_keyring_filled_by_an_earlier_version_can_be_freed_by_its_user() {
    let world = World::new();
    let out = world.home.path().join("out");
    std::fs::create_dir(&out).unwrap();
    chown_tree(world.home.path(), LEGACY_UID);
    let _clear = ClearLegacyUser;
    let template = world.cmd(&["login"]).command;
    let mut command = Command::new("setpriv");
    command
        .args([
            &format!("--reuid={LEGACY_UID}"),
            &format!("--regid={LEGACY_UID}"),
            "--clear-groups",
            "--",
            "keyctl",
            "session",
            "-",
            "sh",
            "-c",
            LEGACY_SCENARIO,
        ])
        .env_clear();
    for (name, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    let output = command
        .env("ATMOS_KEYRING_TYPE", "keyutils")
        .env("BIN", BIN)
        .env("OUT", &out)
        .current_dir(world.root())
        .output()
        .unwrap();
    let refused = std::fs::read_to_string(out.join("refused")).unwrap_or_default();
    let code = std::fs::read_to_string(out.join("refused-code")).unwrap_or_default();
    assert_ne!(code.trim(), "0", "the first login was stored: {refused}");
    assert!(
        refused.contains("credential store `keyutils` is full"),
        "{refused}"
    );
    assert!(
        output.status.success(),
        "{:?}\nstderr: {}\nfirst login: {refused}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
