//! Issue 14: `exec --server` and `shell --server`. The command gets a loopback
//! container-credentials endpoint instead of static keys; atmos-auth stays its parent, renews
//! the credentials, forwards signals and leaves nothing listening once either side is gone.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::emulator::Op;
use crate::harness::{BIN, World, test_org};

/// A running `atmos-auth` whose child talks to the test over stdout (and reads its stdin).
struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Running {
    fn start(world: &World, args: &[&str]) -> Self {
        let mut command = world.cmd(args).command;
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn atmos-auth");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Self { child, stdout }
    }

    /// The child's next line of output.
    #[track_caller]
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read");
        assert!(!line.is_empty(), "the command ended early: {}", self.rest());
        line.trim_end().to_owned()
    }

    /// Let the child go on (it waits for a line on its stdin).
    fn proceed(&mut self) {
        let stdin = self.child.stdin.as_mut().expect("piped");
        stdin.write_all(b"go\n").expect("write");
        stdin.flush().expect("flush");
    }

    fn rest(&mut self) -> String {
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest);
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        format!("--- stdout\n{rest}\n--- stderr\n{stderr}")
    }

    /// Wait for the end: (exit code, the rest of stdout, all of stderr).
    fn finish(mut self) -> (Option<i32>, String, String) {
        drop(self.child.stdin.take());
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).expect("read");
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .expect("piped")
            .read_to_string(&mut stderr)
            .expect("read");
        let status = self.child.wait().expect("wait");
        (status.code(), rest, stderr)
    }
}

/// Prints the endpoint and the token, then waits for a line on stdin before exiting 0.
const SHOW_AND_WAIT: &str = r#"printf '%s\n%s\n' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN"; read go"#;

/// The port and path of an `http://127.0.0.1:PORT/PATH` URL.
fn split(uri: &str) -> (u16, String) {
    let rest = uri
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("not a loopback URL: {uri}"));
    let (port, path) = rest.split_at(rest.find('/').expect("a path"));
    (port.parse().expect("a port"), path.to_owned())
}

/// One HTTP/1.1 request: (status, body).
fn http(port: u16, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let authorization = token
        .map(|token| format!("Authorization: {token}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Whether anything accepts connections on the port.
fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )
    .is_ok()
}

#[test]
fn the_command_gets_an_endpoint_and_a_token_instead_of_keys() {
    let world = World::new();
    world.login();
    let out = world
        .cmd(&["exec", "--server", "dev", "--", "env"])
        .env("AWS_PROFILE", "stale")
        .env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/stale")
        .env("AWS_ACCESS_KEY_ID", "AKIASTALE")
        .run()
        .success();
    let vars: std::collections::BTreeMap<&str, &str> = out
        .stdout
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    for absent in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        assert!(
            !vars.contains_key(absent),
            "{absent} is set:\n{}",
            out.stdout
        );
    }
    let (port, path) = split(vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]);
    assert!(port > 0);
    assert_eq!(path.len(), 33, "{path}");
    let token = vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
    assert!(
        token.len() == 64 && token.bytes().all(|c| c.is_ascii_hexdigit()),
        "a 256-bit token: {token}"
    );
    assert_eq!(vars["AWS_REGION"], "us-east-1");
    assert!(vars.contains_key("AWS_CONFIG_FILE"));
}

#[test]
fn the_config_default_serves_without_the_flag() {
    let world = World::new();
    world.write(
        "repo/atmos.yaml",
        &format!("{}  exec:\n    credentials: server\n", world.base_config()),
    );
    world.login();
    let out = world
        .run(&[
            "exec",
            "dev",
            "--",
            "sh",
            "-c",
            r#"echo "${AWS_CONTAINER_CREDENTIALS_FULL_URI:+served} ${AWS_ACCESS_KEY_ID:-nokeys}""#,
        ])
        .success();
    assert_eq!(out.stdout, "served nokeys\n");
    let out = world
        .run(&[
            "shell",
            "dev",
            "--",
            "-c",
            r#"echo "${AWS_CONTAINER_CREDENTIALS_FULL_URI:+served} $ATMOS_IDENTITY""#,
        ])
        .success();
    assert_eq!(out.stdout, "served plat-dev/terraform\n");
}

#[test]
fn the_aws_cli_in_a_served_shell_sees_the_identity() {
    let world = World::new();
    world.login();
    let out = world
        .run(&[
            "shell",
            "--server",
            "plat-prod/terraform",
            "--",
            "-c",
            "aws sts get-caller-identity --query Account --output text",
        ])
        .success();
    assert_eq!(out.stdout, "444444444444\n");
}

#[test]
fn only_a_get_on_the_path_with_the_token_is_answered_and_the_token_stays_in_memory() {
    let world = World::new();
    world.login();
    let mut running = Running::start(
        &world,
        &[
            "-vvv",
            "exec",
            "--server",
            "dev",
            "--",
            "sh",
            "-c",
            SHOW_AND_WAIT,
        ],
    );
    let (port, path) = split(&running.line());
    let token = running.line();
    assert_eq!(token.len(), 64);
    let wrong = "0".repeat(64);
    for (method, target, auth, expected) in [
        ("GET", path.as_str(), None, 401),
        ("GET", path.as_str(), Some(wrong.as_str()), 403),
        ("GET", path.as_str(), Some(&token[..63]), 403),
        ("POST", path.as_str(), Some(token.as_str()), 403),
        ("PUT", path.as_str(), Some(token.as_str()), 403),
        ("GET", "/", Some(token.as_str()), 403),
        ("GET", &format!("{path}/x"), Some(token.as_str()), 403),
        ("GET", &format!("{path}?a=b"), Some(token.as_str()), 403),
    ] {
        let (status, body) = http(port, method, target, auth);
        assert_eq!((status, body.as_str()), (expected, ""), "{method} {target}");
    }
    let (status, body) = http(port, "GET", &path, Some(&token));
    assert_eq!(status, 200, "{body}");
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    for field in ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"] {
        assert!(
            document[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}: {body}"
        );
    }
    // No process shows the token in its command line.
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            assert!(
                !String::from_utf8_lossy(&cmdline).contains(&token),
                "the token is in the argv of {}",
                entry.path().display()
            );
        }
    }
    running.proceed();
    let (code, _, stderr) = running.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("credential server request"),
        "trace logs ran: {stderr}"
    );
    let secret = document["SecretAccessKey"].as_str().unwrap();
    for needle in [token.as_str(), secret] {
        assert!(!stderr.contains(needle), "a secret in the log:\n{stderr}");
        for file in files_under(world.home.path()) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(needle),
                "a secret in {}",
                file.display()
            );
        }
    }
    assert!(!listening(port), "the listener outlived the command");
}

#[test]
fn hostile_local_clients_do_not_cut_the_command_off() {
    let world = World::new();
    world.login();
    let mut running = Running::start(
        &world,
        &["exec", "--server", "dev", "--", "sh", "-c", SHOW_AND_WAIT],
    );
    let (port, path) = split(&running.line());
    let token = running.line();
    let hostile = |request: &[u8]| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let _ = stream.write_all(request);
        stream
    };
    // Another local user needs neither the path nor the token to send these: a body announced
    // and never sent, one too large to buffer, a head that never ends, and a flood that holds
    // connections open without a byte.
    let mut held = vec![
        hostile(b"GET / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"),
        hostile(b"GET / HTTP/1.1\r\nContent-Length: 1099511627776\r\n\r\n"),
        hostile(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n"),
        hostile(&[b'X'; 256 * 1024]),
    ];
    held.extend((0..200).map(|_| hostile(b"")));
    let started = Instant::now();
    let (status, body) = http(port, "GET", &path, Some(&token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("AccessKeyId"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // A refused request is answered and closed: nothing queued behind it is read.
    let mut smuggler = hostile(
        format!(
            "GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET {path} HTTP/1.1\r\nAuthorization: {token}\r\n\r\n"
        )
        .as_bytes(),
    );
    smuggler
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    smuggler.read_to_string(&mut answer).expect("closed");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(!answer.contains("AccessKeyId"), "{answer}");
    drop(held);
    running.proceed();
    let (code, _, stderr) = running.finish();
    assert_eq!(code, Some(0), "{stderr}");
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    assert!(
        !files.is_empty(),
        "nothing to search under {}",
        dir.display()
    );
    files
}

#[test]
fn boto3_gets_new_credentials_after_the_first_expire() {
    let mut org = test_org();
    org.settings.role_credentials_ttl_secs = 20;
    let world = World::with_org(org);
    world.write(
        "repo/atmos.yaml",
        &format!("{}  refresh_margin: 5s\n", world.base_config()),
    );
    world.login();
    // Each call: the key boto3 signed with, and the expiry the endpoint states for it.
    let script = r#"
import json, os, sys, time, urllib.request
import boto3
session = boto3.Session()
sts = session.client("sts")
def served():
    request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
    return json.load(urllib.request.urlopen(request))
for n in range(2):
    account = sts.get_caller_identity()["Account"]
    key = session.get_credentials().get_frozen_credentials().access_key
    print(account, key, served()["Expiration"], int(time.time()), flush=True)
    if n == 0:
        time.sleep(25)
"#;
    let out = world
        .run(&["exec", "--server", "dev", "--", "python3", "-c", script])
        .success();
    let calls: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|line| line.split(' ').collect())
        .collect();
    assert_eq!(calls.len(), 2, "{}", out.stdout);
    let expiry = |text: &str| {
        humantime::parse_rfc3339(text)
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let (first, second) = (&calls[0], &calls[1]);
    assert_eq!((first[0], second[0]), ("222222222222", "222222222222"));
    assert_ne!(first[1], second[1], "the second call used new keys");
    let first_expiry = expiry(first[2]);
    let second_issued = expiry(second[2]) - 20;
    assert!(
        second_issued >= first_expiry,
        "the second pair (issued {second_issued}) came after the first expired ({first_expiry})"
    );
    assert!(second[3].parse::<u64>().unwrap() >= first_expiry);
    assert_eq!(world.emulator.calls(Op::GetCallerIdentity), 2);
}

#[test]
fn twenty_clients_at_once_after_expiry_make_one_upstream_call() {
    let mut org = test_org();
    org.settings.role_credentials_ttl_secs = 20;
    let world = World::with_org(org);
    world.write(
        "repo/atmos.yaml",
        &format!("{}  refresh_margin: 5s\n", world.base_config()),
    );
    world.login();
    world.emulator.reset_calls();
    // The pair fetched at the start is due for renewal after 15 s; then 20 clients ask at once.
    let script = r#"sleep 16; for i in $(seq 20); do curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" & done; wait"#;
    let out = world
        .run(&["exec", "--server", "dev", "--", "sh", "-c", script])
        .success();
    assert_eq!(out.stdout, "200\n".repeat(20));
    // One for the command's start, one for the whole burst.
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 2);
}

#[test]
fn an_ended_session_answers_503_once_said_and_the_next_login_serves_again() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60;
    let world = World::with_org(org);
    // Every request renews: the role credentials (1 h) are always inside a 2 h margin.
    world.write(
        "repo/atmos.yaml",
        &format!("{}  refresh_margin: 2h\n", world.base_config()),
    );
    world.login();
    let mut running = Running::start(
        &world,
        &["exec", "--server", "dev", "--", "sh", "-c", SHOW_AND_WAIT],
    );
    let (port, path) = split(&running.line());
    let token = running.line();
    assert_eq!(http(port, "GET", &path, Some(&token)).0, 200);
    world.emulator.revoke_refresh_tokens();
    for _ in 0..2 {
        let (status, body) = http(port, "GET", &path, Some(&token));
        assert_eq!(status, 503, "{body}");
        let document: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(document["Code"], "LoginRequired");
        assert!(
            document["Message"]
                .as_str()
                .unwrap()
                .contains("run `atmos-auth login` in another terminal"),
            "{body}"
        );
    }
    world.login();
    let (status, body) = http(port, "GET", &path, Some(&token));
    assert_eq!(status, 200, "{body}");
    running.proceed();
    let (code, _, stderr) = running.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        stderr,
        "atmos-auth: the sign-in behind `plat-dev/terraform` has ended: run `atmos-auth login` in \
         another terminal; the next request after that gets credentials\n"
    );
}

#[test]
fn the_exit_status_is_the_commands() {
    let world = World::new();
    world.login();
    world
        .run(&["exec", "--server", "dev", "--", "sh", "-c", "exit 7"])
        .code(7);
    world
        .run(&["exec", "--server", "dev", "--", "sh", "-c", "kill -KILL $$"])
        .code(128 + 9);
    world
        .run(&["exec", "--server", "dev", "--", "no-such-command-atmos"])
        .code(127)
        .stderr_has("could not run `no-such-command-atmos`");
}

#[test]
fn signals_sent_to_atmos_auth_reach_the_command() {
    let world = World::new();
    world.login();
    for (signal, name) in [(2, "INT"), (15, "TERM"), (1, "HUP"), (3, "QUIT")] {
        let script = format!(
            "trap 'echo got {name}; exit 9' {name}; echo ready; while :; do sleep 0.1; done"
        );
        let mut running = Running::start(
            &world,
            &["exec", "--server", "dev", "--", "sh", "-c", &script],
        );
        assert_eq!(running.line(), "ready");
        let pid = running.child.id() as i32;
        // SAFETY: `pid` is our unreaped child.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let (code, rest, stderr) = running.finish();
        assert_eq!(
            (code, rest.as_str()),
            (Some(9), format!("got {name}\n").as_str()),
            "{stderr}"
        );
    }
}

#[test]
fn killing_the_command_leaves_no_listener() {
    let world = World::new();
    world.login();
    let mut running = Running::start(
        &world,
        &[
            "exec",
            "--server",
            "dev",
            "--",
            "sh",
            "-c",
            r#"echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; echo $$; exec sleep 60"#,
        ],
    );
    let (port, _) = split(&running.line());
    let child: i32 = running.line().parse().unwrap();
    assert!(listening(port));
    // SAFETY: a pid of a process this test started.
    assert_eq!(unsafe { libc::kill(child, libc::SIGKILL) }, 0);
    let (code, _, _) = running.finish();
    assert_eq!(code, Some(128 + 9));
    assert!(!listening(port));
}

#[test]
fn killing_atmos_auth_leaves_no_listener_and_the_command_gets_a_prompt_refusal() {
    let world = World::new();
    world.login();
    let script = r#"printf '%s\n' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" $$; read go; curl -s -m 20 -o /dev/null -w '%{http_code}' -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; echo " curl=$?""#;
    let mut running = Running::start(
        &world,
        &["exec", "--server", "dev", "--", "sh", "-c", script],
    );
    let (port, _) = split(&running.line());
    let child: i32 = running.line().parse().unwrap();
    // Waiting for atmos-auth would close the command's stdin: keep it.
    let mut stdin = running.child.stdin.take().unwrap();
    running.child.kill().unwrap();
    running.child.wait().unwrap();
    assert!(!listening(port), "the listener outlived atmos-auth");
    // The command lives on; its next request is refused at once rather than left waiting.
    let started = Instant::now();
    stdin.write_all(b"go\n").unwrap();
    stdin.flush().unwrap();
    let answer = running.line();
    assert_eq!(answer, "000 curl=7", "connection refused");
    assert!(started.elapsed() < Duration::from_secs(5));
    // SAFETY: a pid of a process this test started (already gone is fine too).
    unsafe { libc::kill(child, libc::SIGKILL) };
}

/// Under a pseudo-terminal (`script`), the command is in the terminal's foreground process
/// group, and Ctrl+C reaches it once, from the terminal, not a second time from atmos-auth.
#[test]
fn under_a_terminal_the_command_is_in_the_foreground_and_gets_ctrl_c_once() {
    let world = World::new();
    world.login();
    let child = r#"
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
print("foreground", os.getpgrp() == os.tcgetpgrp(0), flush=True)
print("ready", flush=True)
seen = [signal.sigwaitinfo({signal.SIGINT}).si_code]
while True:
    info = signal.sigtimedwait({signal.SIGINT}, 1.5)
    if info is None:
        break
    seen.append(info.si_code)
print("seen", seen, flush=True)
sys.exit(42)
"#;
    let inner = world
        .cmd(&["exec", "--server", "dev", "--", "python3", "-c", child])
        .command;
    let line = shell_quote(
        &std::iter::once(BIN.to_owned())
            .chain(inner.get_args().map(|a| a.to_string_lossy().into_owned()))
            .collect::<Vec<_>>(),
    );
    let mut script = Command::new("script");
    // `exec`: the shell `script` starts would otherwise share the group and die of Ctrl+C.
    script
        .args(["-qfec", &format!("exec {line}"), "/dev/null"])
        .env_clear();
    for (name, value) in inner.get_envs() {
        if let Some(value) = value {
            script.env(name, value);
        }
    }
    script.current_dir(inner.get_current_dir().unwrap());
    script
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut process = script.spawn().expect("script (util-linux) is installed");
    let mut stdout = BufReader::new(process.stdout.take().unwrap());
    let mut seen = Vec::new();
    loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "ended: {seen:?}");
        let line = line.trim().to_owned();
        seen.push(line.clone());
        if line == "ready" {
            break;
        }
    }
    assert!(seen.contains(&"foreground True".to_owned()), "{seen:?}");
    // Ctrl+C typed at the terminal.
    let mut stdin = process.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = process.wait().unwrap();
    drop(stdin);
    // 128 is SI_KERNEL: sent by the terminal; a forwarded copy would be SI_USER (0).
    assert!(rest.contains("seen [128]"), "{rest}");
    assert_eq!(status.code(), Some(42), "{rest}");
}

fn shell_quote(words: &[String]) -> String {
    words
        .iter()
        .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn default_profiles_of_the_users_own_files_do_not_outrank_the_endpoint() {
    let world = World::new();
    world.login();
    world.write(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIAFAKEDEFAULT00000\naws_secret_access_key = stale\n",
    );
    world.write(
        ".aws/config",
        "[default]\nregion = us-east-1\ncredential_process = sh -c 'exit 1'\n",
    );
    let out = world
        .run(&[
            "exec",
            "--server",
            "plat-prod/terraform",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
            "--query",
            "Account",
            "--output",
            "text",
        ])
        .success();
    assert_eq!(out.stdout, "444444444444\n");
}
