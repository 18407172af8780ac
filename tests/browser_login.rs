//! The browser login (authorization code with PKCE, issue 12) and its device-code fallback.
//!
//! `BROWSER` names the browser, so each test chooses one deliberately: curl scripts that play the
//! user on the emulator's authorize page, and headless Chromium, a real browser following the
//! real redirect to atmos-auth's loopback listener. Without `BROWSER` the tests run without
//! DISPLAY and a terminal, so the device code is what runs there.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::emulator::Op;
use crate::harness::{Outcome, World};

/// Writes an executable browser script under the world's HOME and returns its path. The script
/// gets the URL as `$1`.
fn browser(world: &World, name: &str, body: &str) -> String {
    let path = world.write(&format!("bin/{name}"), &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// A browser that follows every redirect: the authorize page answers at once (auto-approve or
/// auto-deny) and the answer reaches the listener.
fn following_browser(world: &World) -> String {
    browser(world, "follow", "exec curl -sS -L -o /dev/null \"$1\"")
}

/// A browser that follows a link of the emulator's approval page, as a person clicks it.
fn clicking_browser(world: &World, link: &str) -> String {
    browser(
        world,
        &format!("click-{link}"),
        &format!(
            "base=\"${{1%%/authorize*}}\"\n\
             href=$(curl -sS \"$1\" | sed -n 's/.*id=\"{link}\" href=\"\\([^\"]*\\)\".*/\\1/p' | sed 's/&amp;/\\&/g')\n\
             exec curl -sS -L -o /dev/null \"$base$href\""
        ),
    )
}

fn login_with(world: &World, browser: &str, args: &[&str]) -> Outcome {
    world.cmd(args).env("BROWSER", browser).run()
}

/// Nothing was stored: a credential command still needs a login.
#[track_caller]
fn nothing_stored(world: &World) {
    world
        .run(&["env", "dev"])
        .code(3)
        .stderr_has("you have not logged in");
}

#[test]
fn a_named_browser_signs_in_with_the_authorization_code() {
    let world = World::new();
    let out = login_with(&world, &following_browser(&world), &["login"])
        .success()
        .stderr_has("/authorize?response_type=code&client_id=")
        .stderr_has("code_challenge_method=S256")
        .stderr_has("redirect_uri=http%3A%2F%2F127.0.0.1%3A")
        .stderr_has("Logged in to");
    assert!(!out.stderr.contains("device code"), "{}", out.stderr);
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 0);
    assert_eq!(world.emulator.calls(Op::RegisterClient), 1);
    assert_eq!(world.emulator.calls(Op::CreateToken), 1);
    // The session works without another login, and nothing secret reached the terminal.
    world.run(&["env", "plat-dev/terraform"]).success();
    for secret in world.emulator.issued_secrets() {
        assert!(!out.stderr.contains(&secret), "a secret on stderr");
    }
}

#[test]
fn the_approval_page_approve_and_deny_links_decide() {
    let world = World::new();
    world.emulator.set_auto_approve(false);
    login_with(&world, &clicking_browser(&world, "deny"), &["login"])
        .code(1)
        .stderr_has("error: sign-in was denied in the browser");
    nothing_stored(&world);
    assert_eq!(world.emulator.calls(Op::CreateToken), 0);
    login_with(&world, &clicking_browser(&world, "approve"), &["login"])
        .success()
        .stderr_has("Logged in to");
    world.run(&["env", "dev"]).success();
}

#[test]
fn a_denied_consent_ends_cleanly_with_nothing_stored() {
    let world = World::new();
    world.emulator.set_auto_deny(true);
    login_with(&world, &following_browser(&world), &["login"])
        .code(1)
        .stderr_has("error: sign-in was denied in the browser")
        .stderr_has("hint: run `atmos-auth login` again");
    assert_eq!(world.emulator.calls(Op::CreateToken), 0);
    nothing_stored(&world);
}

#[test]
fn an_answer_with_another_state_is_refused() {
    let world = World::new();
    // Takes the code the emulator hands out, but brings it back with a forged `state`.
    let forger = browser(
        &world,
        "forge",
        "location=$(curl -sS -o /dev/null -w '%{redirect_url}' \"$1\")\n\
         exec curl -sS -o /dev/null \"$(printf '%s' \"$location\" | sed 's/state=[^&]*/state=forged/')\"",
    );
    login_with(&world, &forger, &["login"])
        .code(1)
        .stderr_has(
            "error: the browser's answer does not belong to this sign-in (its `state` differs)",
        )
        .stderr_has("nothing was stored");
    assert_eq!(
        world.emulator.calls(Op::CreateToken),
        0,
        "the code is not redeemed"
    );
    nothing_stored(&world);
}

#[test]
fn no_answer_from_the_browser_times_out() {
    let world = World::new();
    let idle = browser(&world, "idle", "exit 0");
    let started = Instant::now();
    world
        .cmd(&["login"])
        .env("BROWSER", &idle)
        .env("ATMOS_LOGIN_TIMEOUT", "2s")
        .run()
        .code(1)
        .stderr_has("error: no answer came back from the browser within 2 s")
        .stderr_has("--use-device-code");
    assert!(started.elapsed() < Duration::from_secs(15));
    nothing_stored(&world);
}

#[test]
fn ctrl_c_while_waiting_for_the_browser_stores_nothing() {
    let world = World::new();
    let idle = browser(&world, "idle", "exit 0");
    let mut run = world.cmd(&["login"]).env("BROWSER", &idle);
    run.command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = run.command.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on the child we spawned and have not waited for yet.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("error: sign-in was interrupted"),
        "{stderr}"
    );
    nothing_stored(&world);
}

#[test]
fn registrations_are_kept_per_grant_type_and_reused() {
    let world = World::new();
    let follow = following_browser(&world);
    login_with(&world, &follow, &["login"]).success();
    login_with(&world, &follow, &["login", "--force"]).success();
    assert_eq!(
        world.emulator.calls(Op::RegisterClient),
        1,
        "the code flow reuses its client"
    );
    // The device code needs a client of its own...
    login_with(&world, &follow, &["login", "--force", "--use-device-code"]).success();
    assert_eq!(world.emulator.calls(Op::RegisterClient), 2);
    // ...and each is reused afterwards, whichever ran last.
    login_with(&world, &follow, &["login", "--force"]).success();
    login_with(&world, &follow, &["login", "--force", "--use-device-code"]).success();
    assert_eq!(world.emulator.calls(Op::RegisterClient), 2);
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 2);
}

#[test]
fn a_browser_session_refreshes_with_its_own_client() {
    let mut org = crate::harness::test_org();
    org.settings.access_token_ttl_secs = 60; // inside the refresh buffer: the next use refreshes
    let world = World::with_org(org);
    // A device-code client exists too, so refreshing with the wrong one would be refused.
    world.run(&["login"]).success();
    login_with(&world, &following_browser(&world), &["login", "--force"]).success();
    let before = world.emulator.calls(Op::CreateToken);
    world.run(&["env", "dev"]).success();
    assert_eq!(
        world.emulator.calls(Op::CreateToken),
        before + 1,
        "one refresh"
    );
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
}

/// Arguments, extra environment, and the line that must say why.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn the_device_code_runs_where_no_browser_can_be_opened_and_says_why() {
    let world = World::new();
    let follow = following_browser(&world);
    let cases: [Case<'_>; 5] = [
        (
            &["login"],
            &[],
            "Signing in with a device code: no browser can be opened here (neither DISPLAY nor WAYLAND_DISPLAY is set; set BROWSER to name one).",
        ),
        (
            &["login", "--use-device-code"],
            &[("BROWSER", &follow)],
            "Signing in with a device code: `--use-device-code` was given.",
        ),
        (
            &["login", "--no-browser"],
            &[("BROWSER", &follow)],
            "Signing in with a device code: `--no-browser` was given.",
        ),
        (
            &["login"],
            &[("CI", "true")],
            "Signing in with a device code: CI is set, so no browser is opened.",
        ),
        (
            &["login"],
            &[("DISPLAY", ":0")],
            "Signing in with a device code: standard input is not a terminal, so no browser is opened.",
        ),
    ];
    for (n, (args, env, line)) in cases.iter().enumerate() {
        let argv: Vec<&str> = args.iter().copied().chain(["--force"]).collect();
        let mut run = world.cmd(&argv);
        for (name, value) in *env {
            run = run.env(name, value);
        }
        run.run().success().stderr_has(line);
        assert_eq!(
            world.emulator.calls(Op::StartDeviceAuthorization),
            n + 1,
            "{args:?} {env:?}"
        );
    }
}

#[test]
fn the_provider_setting_login_device_code_wins_over_a_browser() {
    let world = World::new();
    world.write(
        "repo/atmos.yaml",
        &format!("{}      login: device-code\n", world.base_config()),
    );
    login_with(&world, &following_browser(&world), &["login"])
        .success()
        .stderr_has("Signing in with a device code: the provider sets `login: device-code`.");
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
}

/// Headless Chromium as `BROWSER`: it loads the emulator's authorize page, follows the redirect
/// to atmos-auth's listener and renders the page it answers with. Its DOM is written to `dom`.
/// It is kept off the test session's D-Bus and Secret Service (no bus address, the `basic`
/// password store): the keyring there belongs to the tests, and a browser talking to it made
/// the daemon restart locked under other tests.
fn chromium(world: &World) -> (String, PathBuf) {
    let dom = world.home.path().join("chromium.dom");
    let profile = world.home.path().join("chromium-profile");
    let script = browser(
        world,
        "chromium-headless",
        &format!(
            "exec env -u DBUS_SESSION_BUS_ADDRESS chromium --headless --no-sandbox --disable-gpu \
             --disable-quic --no-first-run --disable-background-networking \
             --disable-component-update --disable-sync --password-store=basic \
             --user-data-dir='{}' --dump-dom \"$1\" > '{}' 2>/dev/null",
            profile.display(),
            dom.display()
        ),
    );
    (script, dom)
}

/// The DOM Chromium dumps once it has rendered the last page (it may still be writing when
/// atmos-auth exits).
fn dumped_dom(path: &PathBuf) -> String {
    for _ in 0..150 {
        if let Ok(dom) = std::fs::read_to_string(path)
            && dom.contains("</html>")
        {
            return dom;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("Chromium wrote no page to {}", path.display());
}

#[test]
fn a_real_browser_signs_in_through_the_loopback_redirect() {
    let world = World::new();
    let (script, dom) = chromium(&world);
    let started = Instant::now();
    login_with(&world, &script, &["login", "plat-dev/terraform"])
        .success()
        .stderr_has("Logged in to")
        .stderr_has("Credentials for plat-dev/terraform");
    eprintln!("headless Chromium login took {:?}", started.elapsed());
    let page = dumped_dom(&dom);
    assert!(
        page.contains("You can close this tab"),
        "Chromium did not get the listener's page: {page}"
    );
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 0);
    world.run(&["env", "dev"]).success();
}

#[test]
fn a_real_browser_denying_consent_stores_nothing() {
    let world = World::new();
    world.emulator.set_auto_deny(true);
    let (script, dom) = chromium(&world);
    login_with(&world, &script, &["login"])
        .code(1)
        .stderr_has("error: sign-in was denied in the browser");
    let page = dumped_dom(&dom);
    assert!(page.contains("Sign-in failed"), "{page}");
    nothing_stored(&world);
}

/// Another local user can reach the loopback listener before the browser does. A huge request, a
/// request that never ends (slowloris) and a request for another path neither grow the process
/// without bound nor hold the listener: the real answer still signs in, and the port is closed
/// afterwards.
#[test]
fn the_loopback_listener_bounds_what_another_local_user_sends() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let world = World::new();
    let waiting = browser(
        &world,
        "waiting",
        "printf '%s' \"$1\" > \"$HOME/url\"\n\
         i=0; while [ ! -e \"$HOME/go\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n\
         exec curl -sS -L -o /dev/null \"$1\"",
    );
    let mut run = world.cmd(&["login"]).env("BROWSER", &waiting);
    run.command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = run.command.spawn().unwrap();
    let url_file = world.home.path().join("url");
    let started = Instant::now();
    while !url_file.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = std::fs::read_to_string(&url_file).unwrap();
    let port: u16 = url
        .split("redirect_uri=http%3A%2F%2F127.0.0.1%3A")
        .nth(1)
        .and_then(|rest| rest.split('%').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no loopback port in {url}"));
    let address = ("127.0.0.1", port);

    // Slowloris: half a request line, never finished, held open through the login.
    let mut slow = TcpStream::connect(address).unwrap();
    slow.write_all(b"GET /oauth/cal").unwrap();

    // Another path gets a 404 and the wait goes on.
    let mut other = TcpStream::connect(address).unwrap();
    other
        .write_all(b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");

    // A request line of 64 MiB is cut off long before its end.
    let mut huge = TcpStream::connect(address).unwrap();
    huge.set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    huge.write_all(b"GET /oauth/callback?code=").unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let sent = (0..64)
        .take_while(|_| huge.write_all(&chunk).is_ok())
        .count();
    assert!(sent < 64, "the listener read a 64 MiB request line");

    world.write("go", "");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("Logged in to"), "{stderr}");
    assert!(
        TcpStream::connect(address).is_err(),
        "the listener is closed after the answer"
    );
    drop(slow);
    world.run(&["env", "dev"]).success();
}

/// A text browser (`BROWSER=w3m` over SSH) runs in the foreground until it exits, and it follows
/// the redirect to the listener while it runs: the listener answers it meanwhile.
#[test]
fn a_text_browser_in_the_foreground_reaches_the_listener() {
    let world = World::new();
    // webbrowser runs a browser named like a text browser in the foreground and waits for it.
    let w3m = browser(
        &world,
        "w3m",
        "exec curl -sS -L --max-time 15 -o /dev/null \"$1\"",
    );
    let started = Instant::now();
    world
        .cmd(&["login"])
        .env("BROWSER", &w3m)
        .env("ATMOS_LOGIN_TIMEOUT", "5s")
        .run()
        .success()
        .stderr_has("Logged in to");
    assert!(started.elapsed() < Duration::from_secs(10));
    world.run(&["env", "dev"]).success();
}
