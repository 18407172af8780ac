//! Where credentials are kept, and for how long (issue 11, items 3 and 4): kernel keys expire
//! with the credentials they hold, role credentials never reach the Secret Service's file on
//! disk, and a GitHub Actions job's credentials end with the job.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::emulator::Op;
use crate::harness::{World, test_org};
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

/// The label of every atmos-auth item in the Secret Service of the test session, found over
/// D-Bus (`SearchItems`, then each item's `Label`).
fn secret_service_labels() -> Vec<String> {
    let dbus = |args: &[&str]| {
        let output = Command::new("dbus-send")
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

fn require_secret_service() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run the tests through tests/keyring-session.sh, which starts a private Secret Service"
    );
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
    require_secret_service();
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
        let stored: Vec<String> = secret_service_labels()
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
