//! Issue 11, items 2 (transport), 5 (server text), 6 (verification URI), 7 (pagination) and 8
//! (shared account names): what a hostile or misconfigured endpoint can and cannot make
//! atmos-auth do.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::emulator::{Account, Fault, Op};
use crate::harness::{Outcome, Run, World, test_org};

/// An address no packet reaches: a client that tried it would hang until its timeout.
const UNROUTABLE: &str = "http://10.255.255.1";

const SDK_VARS: [&str; 4] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "AWS_ENDPOINT_URL_STS",
];

/// Characters that act on a terminal; none may reach stdout or stderr raw.
const TERMINAL_CONTROLS: [char; 5] = ['\u{1b}', '\u{7}', '\u{9b}', '\u{7f}', '\u{202e}'];

#[track_caller]
fn assert_no_terminal_controls(out: &Outcome) {
    for c in TERMINAL_CONTROLS {
        assert!(
            !out.stdout.contains(c) && !out.stderr.contains(c),
            "raw {c:?} reached the terminal\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout,
            out.stderr
        );
    }
}

fn refused(setting: &str, host: &str) -> String {
    format!(
        "error: the endpoint in `{setting}` is refused: it is plain http to `{host}`, which is not a loopback address\n\
         hint: use an `https://` URL; plain `http://` is only allowed to 127.0.0.1, ::1 or localhost, or unset `{setting}`\n"
    )
}

// ---------------------------------------------------------------------------------------------
// Item 2: plain http only to loopback

#[test]
fn plain_http_off_loopback_in_any_endpoint_variable_is_refused_before_any_call() {
    let world = World::new();
    world.login();
    world.emulator.reset_calls();
    for var in SDK_VARS {
        let started = Instant::now();
        let out = world
            .cmd(&["env", "dev"])
            .env(var, UNROUTABLE)
            .env("ATMOS_HTTP_TIMEOUT", "2s")
            .run()
            .code(2);
        assert_eq!(out.stderr, refused(var, "10.255.255.1"), "{var}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{var}: waited on the network"
        );
    }
    // A name that does not resolve is refused the same way, before any lookup.
    world
        .cmd(&["login", "--force"])
        .env("AWS_ENDPOINT_URL_SSO_OIDC", "http://oidc.invalid:8080/")
        .run()
        .code(2)
        .stderr_has(&refused("AWS_ENDPOINT_URL_SSO_OIDC", "oidc.invalid"));
    assert_eq!(world.emulator.calls_total(), 0);
}

#[test]
fn plain_http_off_loopback_in_the_profile_is_a_config_error() {
    let world = World::new();
    world.write(
        "repo/atmos.yaml",
        &format!(
            "{}      spec:\n        endpoint_url: http://portal.invalid:4566\n",
            world.base_config()
        ),
    );
    let expected = "endpoint `auth.providers.sso.spec.endpoint_url` is refused: it is plain http to `portal.invalid`, which is not a loopback address";
    world
        .run(&["validate"])
        .code(2)
        .stderr_has(expected)
        .stderr_has(
            "use an `https://` URL; plain `http://` is only allowed to 127.0.0.1, ::1 or localhost",
        );
    world
        .cmd(&["env", "dev"])
        .env("AWS_ENDPOINT_URL", "")
        .run()
        .code(2)
        .stderr_has(expected);
    assert_eq!(world.emulator.calls_total(), 0);
}

#[test]
fn https_and_loopback_http_endpoints_are_accepted() {
    let world = World::new();
    let localhost = world.emulator.url().replace("127.0.0.1", "localhost");
    world
        .cmd(&["login"])
        .env("AWS_ENDPOINT_URL", &localhost)
        .run()
        .success();
    // STS is not called for a permission set: an https STS endpoint only has to pass the rule.
    world
        .cmd(&["env", "dev"])
        .env("AWS_ENDPOINT_URL", &localhost)
        .env(
            "AWS_ENDPOINT_URL_STS",
            "https://sts.us-east-1.amazonaws.com",
        )
        .run()
        .success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn the_console_federation_endpoint_must_be_https_off_loopback() {
    let world = World::new();
    world.login();
    world.emulator.reset_calls();
    world
        .cmd(&["console", "dev", "--print-only"])
        .env(
            "ATMOS_CONSOLE_FEDERATION_URL",
            "http://signin.invalid/federation",
        )
        .run()
        .code(2)
        .stderr_has(&refused("ATMOS_CONSOLE_FEDERATION_URL", "signin.invalid"));
    assert_eq!(
        world.emulator.calls_total(),
        0,
        "refused before any credentials were fetched for it"
    );
}

// ---------------------------------------------------------------------------------------------
// Item 5: what a server says cannot drive the terminal

#[test]
fn a_hostile_error_message_is_shown_escaped() {
    let world = World::new();
    world.login();
    for verbose in [false, true] {
        world
            .emulator
            .inject(Op::GetRoleCredentials, Fault::HostileMessage);
        let args: &[&str] = if verbose {
            &["-v", "env", "dev"]
        } else {
            &["env", "dev"]
        };
        let out = world
            .run(args)
            .code(1)
            .stderr_has("error: `GetRoleCredentials` was refused: InvalidRequestException: Denied\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{1b}[31m red \\u{9b}0m \\u{202e}gnp.exe\\u{7f}\n");
        assert_no_terminal_controls(&out);
    }
}

#[test]
fn a_hostile_user_code_and_verification_uri_are_shown_escaped() {
    let world = World::new();
    world.emulator.inject(
        Op::StartDeviceAuthorization,
        Fault::DevicePrompt {
            user_code: "ABCD-\u{1b}[2JEFGH".into(),
            verification_uri: "https://device.example/\u{1b}]8;;https://evil.example\u{7}x\u{202e}"
                .into(),
        },
    );
    let out = world
        .login()
        .stderr_has("https://device.example/\\u{1b}]8;;https://evil.example\\u{7}x\\u{202e}")
        .stderr_has("confirm the code ABCD-\\u{1b}[2JEFGH");
    assert_no_terminal_controls(&out);
}

#[test]
fn hostile_account_names_are_shown_escaped() {
    let mut org = test_org();
    org.accounts.push(Account {
        id: "666666666666".into(),
        name: "evil\u{1b}]0;pwned\u{7}\u{202e}".into(),
        email: "evil@example.com".into(),
        permission_sets: vec!["ReadOnlyAccess".into()],
    });
    let world = World::with_org(org);
    world.login();
    // The hint lists the accounts the portal shows.
    world.write(
        "repo/profiles/dev/atmos.yaml",
        "auth:\n  identities:\n    gone/ro:\n      kind: aws/permission-set\n      default: true\n      via:\n        provider: sso\n      principal:\n        name: ReadOnlyAccess\n        account:\n          name: no-such-account\n",
    );
    let out = world
        .run(&["env"])
        .code(2)
        .stderr_has("evil\\u{1b}]0;pwned\\u{7}\\u{202e}");
    assert_no_terminal_controls(&out);
}

// ---------------------------------------------------------------------------------------------
// Item 6: the verification URI is opened only when it is https (or loopback http)

/// `Run` with a terminal as stdin (a pseudo-terminal), which is when a browser may open, and a
/// `$BROWSER` that records what it was asked to open in `opened`.
fn run_at_a_terminal(run: Run, opened: &Path) -> Outcome {
    let browser = opened.with_extension("sh");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (master, slave) = pty();
    let mut command = run.env("BROWSER", browser.to_str().unwrap()).command;
    let child = command
        .stdin(Stdio::from(slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn atmos-auth");
    let output = child.wait_with_output().unwrap();
    drop(master);
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A pseudo-terminal pair (master, slave).
fn pty() -> (OwnedFd, std::fs::File) {
    // SAFETY: plain libc calls on a descriptor this function owns; each result is checked.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "posix_openpt");
        let master = OwnedFd::from_raw_fd(master);
        assert_eq!(libc::grantpt(master.as_raw_fd()), 0, "grantpt");
        assert_eq!(libc::unlockpt(master.as_raw_fd()), 0, "unlockpt");
        let mut name: [libc::c_char; 128] = [0; 128];
        assert_eq!(
            libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
        let path = std::ffi::CStr::from_ptr(name.as_ptr())
            .to_str()
            .unwrap()
            .to_owned();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(path)
            .expect("open the pty slave");
        (master, slave)
    }
}

/// What the recording browser was asked to open, waiting a little for it to run.
fn opened_urls(opened: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(opened).unwrap_or_default();
        if !text.is_empty() || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_loopback_verification_uri_opens_in_the_browser() {
    let world = World::new();
    let opened = world.home.path().join("opened");
    run_at_a_terminal(world.cmd(&["login", "--use-device-code"]), &opened).success();
    let urls = opened_urls(&opened);
    assert!(
        urls.starts_with(&format!("{}/device?user_code=", world.emulator.url())),
        "{urls:?}"
    );
}

#[test]
fn a_plain_http_verification_uri_is_printed_with_a_warning_and_not_opened() {
    let world = World::new();
    world.emulator.inject(
        Op::StartDeviceAuthorization,
        Fault::DevicePrompt {
            user_code: "ABCD-EFGH".into(),
            verification_uri: "http://phish.invalid/device".into(),
        },
    );
    let opened = world.home.path().join("opened");
    run_at_a_terminal(world.cmd(&["login", "--use-device-code"]), &opened)
        .success()
        .stderr_has("    http://phish.invalid/device\n")
        .stderr_has("warning: not opening the sign-in URL in a browser: it is plain http to `phish.invalid`, which is not a loopback address");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!opened.exists(), "the browser was asked to open it");
}

// ---------------------------------------------------------------------------------------------
// Item 7: pagination ends

#[test]
fn a_list_that_never_ends_is_an_error_not_a_hang() {
    let world = World::new();
    world.login();
    world.emulator.reset_calls();
    // Fifty endless pages, then the emulator's own answer (which rejects the made-up token):
    // enough to tell a client that stops from one that follows.
    world
        .emulator
        .inject_n(Op::ListAccounts, Fault::EndlessPages, 50);
    let started = Instant::now();
    let out = world.run(&["env", "core-identity/state"]).code(1);
    assert_eq!(
        out.stderr,
        "error: `ListAccounts` did not end: the portal sent a page token it had sent before\n\
         hint: the SSO portal endpoint is broken or is not AWS: check `spec.endpoint_url` and any AWS_ENDPOINT_URL* setting\n"
    );
    assert_eq!(world.emulator.calls(Op::ListAccounts), 2);
    assert!(started.elapsed() < Duration::from_secs(10));
    world.emulator.clear_faults();

    // The same for the roles of each account, which auto-provisioning lists at login.
    world.auto_provision();
    world
        .emulator
        .inject_n(Op::ListAccountRoles, Fault::EndlessPages, 50);
    world.run(&["login", "--force"]).code(1).stderr_has(
        "error: `ListAccountRoles` did not end: the portal sent a page token it had sent before\n",
    );
    // Accounts are listed concurrently: each listing stopped at its first repeated token.
    let mut asks: std::collections::BTreeMap<String, usize> = Default::default();
    for call in world.emulator.requests() {
        if call.op == Op::ListAccountRoles {
            *asks.entry(call.account_id.unwrap_or_default()).or_default() += 1;
        }
    }
    assert!(asks.values().all(|&n| n <= 2), "{asks:?}");
    assert!(asks.values().any(|&n| n == 2), "{asks:?}");
}

// ---------------------------------------------------------------------------------------------
// Item 8: an account name two accounts share is an error, never a guess

fn org_with_two_core_identity_accounts() -> crate::emulator::Organization {
    let mut org = test_org();
    org.accounts.push(Account {
        id: "666666666666".into(),
        name: "core-identity".into(),
        email: "aws+core-identity-2@example.com".into(),
        permission_sets: vec!["TerraformStateAccess".into()],
    });
    org
}

#[test]
fn an_account_name_shared_by_two_accounts_is_an_error_listing_both() {
    let world = World::with_org(org_with_two_core_identity_accounts());
    world.login();
    let out = world.run(&["env", "core-identity/state"]).code(2);
    assert_eq!(
        out.stderr,
        "error: account name `core-identity` is shared by 2 accounts: 111111111111, 666666666666\n\
         hint: name the account by id in the identity's principal, for example `account: { id: \"111111111111\" }`\n"
    );
    assert!(
        world.fetched_roles().is_empty(),
        "no credentials for a guess"
    );
}

#[test]
fn provisioned_identities_of_accounts_sharing_a_name_carry_the_account_id() {
    let world = World::with_org(org_with_two_core_identity_accounts());
    world.auto_provision();
    world
        .login()
        .stderr_has("accounts 111111111111, 666666666666 share the name `core-identity`");
    let table = world.run(&["list"]).success().stdout;
    for name in [
        "core-identity-111111111111/TerraformStateAccess (provisioned)",
        "core-identity-111111111111/ReadOnlyAccess (provisioned)",
        "core-identity-666666666666/TerraformStateAccess (provisioned)",
        "plat-dev/ReadOnlyAccess (provisioned)",
    ] {
        assert!(table.contains(name), "{name} missing:\n{table}");
    }
    assert!(
        !table.contains("core-identity/TerraformStateAccess"),
        "{table}"
    );
    world
        .run(&["env", "core-identity-666666666666/TerraformStateAccess"])
        .success();
    assert_eq!(
        world.fetched_roles(),
        [("666666666666".to_owned(), "TerraformStateAccess".to_owned())]
    );
}

/// Names are found in any case (issue 15), so account names differing only in case are one
/// name: a member account renamed `Plat-Dev` must not take over `plat-dev/ReadOnlyAccess`, which
/// the user has been sending to plat-dev. Both accounts' identities carry the account id, and the
/// bare name finds neither.
#[test]
fn account_names_differing_only_in_case_carry_the_account_id() {
    let mut org = test_org();
    org.accounts.push(Account {
        id: "666666666666".into(),
        name: "Plat-Dev".into(),
        email: "aws+plat-dev-2@example.com".into(),
        permission_sets: vec!["ReadOnlyAccess".into()],
    });
    let world = World::with_org(org);
    world.auto_provision();
    let login = world.login();
    let out = world.run(&["env", "plat-dev/ReadOnlyAccess"]);
    assert!(
        world.fetched_roles().is_empty(),
        "credentials of a guess between two accounts: {:?}\n{out:?}",
        world.fetched_roles()
    );
    out.code(2)
        .stderr_has("unknown identity `plat-dev/ReadOnlyAccess`");
    login.stderr_has(
        "accounts 222222222222, 666666666666 share the name `plat-dev` (names match in any \
         case)",
    );
    let table = world.run(&["list"]).success().stdout;
    for name in [
        "plat-dev-222222222222/ReadOnlyAccess (provisioned)",
        "Plat-Dev-666666666666/ReadOnlyAccess (provisioned)",
    ] {
        assert!(table.contains(name), "{name} missing:\n{table}");
    }
    world
        .run(&["env", "plat-dev-666666666666/readonlyaccess"])
        .success();
    assert_eq!(
        world.fetched_roles(),
        [("666666666666".to_owned(), "ReadOnlyAccess".to_owned())]
    );
}

/// A hostile or broken portal: an account name of 100,000 characters, and 300 accounts whose
/// names make no identity name. AWS caps account names at 50 characters and permission set
/// names at 32: a provisioned name longer than 128 is skipped, and the warnings stay a screen
/// long (ten of a kind, then how many more), each name in them cut short.
#[test]
fn huge_or_countless_bad_account_names_do_not_flood_the_terminal() {
    let mut org = test_org();
    org.accounts.push(Account {
        id: "777777777777".into(),
        name: "x".repeat(100_000),
        email: "aws+huge@example.com".into(),
        permission_sets: vec!["ReadOnlyAccess".into()],
    });
    for i in 0..300 {
        org.accounts.push(Account {
            id: format!("{:012}", 800_000_000_000_u64 + i),
            name: format!(" bad {i}"),
            email: format!("aws+bad{i}@example.com"),
            permission_sets: vec!["ReadOnlyAccess".into()],
        });
    }
    let world = World::with_org(org);
    world.auto_provision();
    let login = world.login();
    let list = world.run(&["list"]).success().stdout;
    assert!(!list.contains("xxxxxxxxxx"), "the huge name is an identity");
    assert!(
        list.contains("plat-dev/ReadOnlyAccess (provisioned)"),
        "{list}"
    );
    let lines: Vec<&str> = login.stderr.lines().collect();
    assert!(lines.len() < 40, "{} lines of warnings", lines.len());
    assert!(
        lines.iter().all(|line| line.chars().count() < 400),
        "a line of {} characters",
        lines.iter().map(|line| line.len()).max().unwrap_or(0)
    );
    login.stderr_has("WARN … and 291 more permission sets skipped\n");
}

/// The same from a pull request to the profiles: a permission set name and a profile
/// description of 70,000 characters are shown by `list` and `profiles`, which padded their
/// columns with the formatter's width (at most 65,535) and panicked.
#[test]
fn a_huge_name_or_description_in_a_profile_is_listed() {
    let world = World::new();
    let permission_set = "P".repeat(70_000);
    let description = "d".repeat(70_000);
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &crate::harness::DEV_PROFILE
            .replace(
                "description: Developers",
                &format!("description: {description}"),
            )
            .replace(
                "name: TerraformPlanAccess",
                &format!("name: {permission_set}"),
            ),
    );
    let list = world.run(&["list"]).success().stdout;
    assert!(list.contains(&permission_set), "not listed");
    let profiles = world.run(&["profiles"]).success().stdout;
    assert!(profiles.contains(&description), "not listed");
}
