//! `exec --server` and `shell --server`: instead of static keys, the command gets the address of
//! a container-credentials endpoint on loopback and a token for it, and atmos-auth stays its
//! parent, answering each request the way `credential-process` would (same resolver, cache and
//! cross-process locks), so credentials are renewed for as long as the command runs.
//!
//! The endpoint lives in this process only: it ends when the command ends, and dies with
//! atmos-auth (the listening socket is close-on-exec, so the command never holds it).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use zeroize::Zeroizing;

use super::aws_config;
use super::child_env::{AWS_CONFIG_FILE, ChildEnv};
use super::{Error, exit};
use crate::config::Identity;
use crate::credentials::Credentials;
use crate::identity::Resolver;
use crate::output::EnvVar;
use crate::output::container::{self, Secrets, Verdict};
use crate::output::supervise::{self, Signals};
use crate::provider::sso::LoginPolicy;
use crate::secret::Secret;
use crate::text::printable;

use super::Context;

/// How long a request in progress may delay atmos-auth's exit once the command has ended.
const STOP_GRACE: Duration = Duration::from_millis(500);
/// The most a request's head may take; an SDK's is a few hundred bytes.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How much one read from a connection takes.
const READ_CHUNK: usize = 1024;
/// Room for a response's status line and headers.
const RESPONSE_HEAD_BYTES: usize = 128;
/// How long a connection may take to send its head (in all), and to take its answer: an SDK on
/// loopback sends its head in one write.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections whose heads are read at once; more wait their turn.
const MAX_CONNECTIONS: usize = 256;
/// The pause after a failed accept (a full descriptor table) or at the bound, so the loop does
/// not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
/// The `Code` of the answer when the sign-in has ended.
const LOGIN_REQUIRED_CODE: &str = "LoginRequired";
/// The `Code` of the answer when credentials cannot be had for another reason.
const UNAVAILABLE_CODE: &str = "CredentialsUnavailable";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not generate the credential server's token")]
    Random(#[source] getrandom::Error),
    #[error("could not set up the forwarding of signals to the command")]
    Signals(#[source] std::io::Error),
    #[error("could not listen on 127.0.0.1 for the credential server")]
    Listen(#[source] std::io::Error),
}

/// The endpoint for one command: a listener on a random loopback port, a random path and token.
///
/// Hand-written rather than a general HTTP server, because another local user can connect to it:
/// each connection gets one bounded read of its request's head (size and time), at most
/// `MAX_CONNECTIONS` are read at once, a body is never read, and every connection is closed after
/// its one response (no keep-alive, so nothing can be smuggled behind a request). Heads are read
/// on threads of their own; only an authorized request reaches the one thread that resolves.
struct CredentialServer {
    listener: TcpListener,
    port: u16,
    secrets: Secrets,
    stopped: AtomicBool,
}

impl CredentialServer {
    fn bind() -> Result<Self, ServeError> {
        let secrets = Secrets::generate().map_err(ServeError::Random)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(ServeError::Listen)?;
        let port = listener.local_addr().map_err(ServeError::Listen)?.port();
        Ok(Self {
            listener,
            port,
            secrets,
            stopped: AtomicBool::new(false),
        })
    }

    /// The two variables that point an SDK here.
    fn vars(&self) -> Vec<EnvVar> {
        vec![
            EnvVar {
                name: container::FULL_URI.into(),
                value: Secret::new(format!(
                    "http://127.0.0.1:{}{}",
                    self.port, self.secrets.path
                )),
                secret: false,
            },
            EnvVar {
                name: container::AUTHORIZATION_TOKEN.into(),
                value: self.secrets.token.clone(),
                secret: true,
            },
        ]
    }

    /// Answer requests until `stop`.
    fn serve(&self, resolver: &Resolver<'_>, identity: &Identity, first: Credentials) {
        let mut cache = Cache {
            resolver,
            identity,
            served: Some(first),
            failing: false,
        };
        let (authorized, requests) = mpsc::channel::<TcpStream>();
        let reading = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let reading = &reading;
            scope.spawn(move || {
                for stream in self.listener.incoming() {
                    if self.stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else {
                        // A full descriptor table, say: the connection stays queued; do not spin.
                        std::thread::sleep(ACCEPT_BACKOFF);
                        continue;
                    };
                    // At the bound, later connections wait (in the listen queue, or here) for
                    // a slot: none is refused, and a slow one frees its slot by `IO_TIMEOUT`.
                    while reading.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                        std::thread::sleep(ACCEPT_BACKOFF);
                    }
                    reading.fetch_add(1, Ordering::SeqCst);
                    let authorized = authorized.clone();
                    scope.spawn(move || {
                        if let Some(stream) = self.admit(stream) {
                            let _ = authorized.send(stream);
                        }
                        reading.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            });
            for mut stream in requests {
                let (status, body) = cache.answer();
                let _ = respond(&mut stream, status, &body);
            }
        });
    }

    /// Read one request's head and judge it: the stream back if it may have credentials, after
    /// answering it here if not.
    fn admit(&self, mut stream: TcpStream) -> Option<TcpStream> {
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let head = read_head(&mut stream)?;
        let request = parse_head(&head)?;
        let verdict = self
            .secrets
            .judge(request.method, request.target, request.authorization);
        // Never the token, the path or the answer: only what was decided.
        tracing::debug!(status = verdict.status(), "credential server request");
        match verdict {
            Verdict::Serve => Some(stream),
            refused => {
                let _ = respond(&mut stream, refused.status(), &[]);
                None
            }
        }
    }

    /// End `serve`, once the command has ended.
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop; if even that fails, `run` leaves without waiting for it.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

/// The parts of a request's head that decide its answer.
struct Head<'a> {
    method: &'a str,
    target: &'a str,
    authorization: Option<&'a [u8]>,
}

/// The bytes up to the blank line that ends the head, read within `IO_TIMEOUT` in all and at
/// most `MAX_HEAD_BYTES`; `None` when the client is too slow, too long or gone. The buffer holds
/// the token, so it is wiped on drop (and sized so it never reallocates).
fn read_head(stream: &mut TcpStream) -> Option<Zeroizing<Vec<u8>>> {
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut head = Zeroizing::new(Vec::with_capacity(MAX_HEAD_BYTES));
    let mut chunk = Zeroizing::new([0u8; READ_CHUNK]);
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        let room = (MAX_HEAD_BYTES - head.len()).min(READ_CHUNK);
        if room == 0 {
            return None;
        }
        let read = stream.read(&mut chunk[..room]).ok()?;
        if read == 0 {
            return None;
        }
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            head.truncate(end);
            return Some(head);
        }
    }
}

fn parse_head(head: &[u8]) -> Option<Head<'_>> {
    let mut lines = head
        .split(|byte| *byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let request_line = std::str::from_utf8(lines.next()?).ok()?;
    let mut parts = request_line.split(' ');
    let method = parts.next()?;
    let target = parts.next()?;
    parts.next()?.strip_prefix("HTTP/1.")?;
    let authorization = lines.find_map(|line| {
        let colon = line.iter().position(|byte| *byte == b':')?;
        let (name, value) = line.split_at(colon);
        name.eq_ignore_ascii_case(b"authorization")
            .then(|| value[1..].trim_ascii())
    });
    Some(Head {
        method,
        target,
        authorization,
    })
}

/// One response, then the connection closes.
fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Service Unavailable",
    };
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let mut response = Zeroizing::new(Vec::with_capacity(RESPONSE_HEAD_BYTES + body.len()));
    write!(
        response,
        "HTTP/1.1 {status} {reason}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    response.extend_from_slice(body);
    stream.write_all(&response)?;
    stream.flush()
}

/// The credentials last served, reused while the resolver would reuse them, so a cached
/// request costs no store read.
struct Cache<'r, 'c> {
    resolver: &'r Resolver<'c>,
    identity: &'c Identity,
    served: Option<Credentials>,
    /// Whether the last attempt failed (its line was printed once, not once per request).
    failing: bool,
}

impl Cache<'_, '_> {
    /// The status and body for an authorized request.
    fn answer(&mut self) -> (u16, Zeroizing<Vec<u8>>) {
        match self.credentials() {
            Ok(credentials) => {
                let body = container::render(credentials);
                self.failing = false;
                (200, Zeroizing::new(body.as_bytes().to_vec()))
            }
            Err(error) => {
                let error = Error::from(error);
                let (code, message) = if error.exit_code() == exit::LOGIN_REQUIRED {
                    (
                        LOGIN_REQUIRED_CODE,
                        format!(
                            "the sign-in behind `{}` has ended: run `atmos-auth login` in another \
                             terminal; the next request after that gets credentials",
                            printable(&self.identity.name)
                        ),
                    )
                } else {
                    (
                        UNAVAILABLE_CODE,
                        format!(
                            "no credentials for `{}`: {}",
                            printable(&self.identity.name),
                            printable(&error.to_string())
                        ),
                    )
                };
                if !self.failing {
                    eprintln!("atmos-auth: {message}");
                }
                self.failing = true;
                let body = container::render_failure(code, &format!("atmos-auth: {message}"));
                (container::UNAVAILABLE, Zeroizing::new(body.into_bytes()))
            }
        }
    }

    fn credentials(&mut self) -> Result<&Credentials, crate::provider::ProviderError> {
        let fresh = self
            .served
            .as_ref()
            .is_some_and(|c| c.usable(self.resolver.margin(), SystemTime::now()));
        if !fresh {
            self.served = None;
            // Nobody can answer a prompt: the command owns the terminal.
            let credentials = self.resolver.resolve(self.identity, LoginPolicy::Never)?;
            self.served = Some(credentials);
        }
        Ok(self.served.as_ref().expect("set above"))
    }
}

/// Run `argv` under a credential server for the identity `child` holds.
pub fn run(context: &Context, child: ChildEnv<'_>, argv: &[OsString]) -> Result<i32, Error> {
    let signals = &Signals::take().map_err(ServeError::Signals)?;
    let ChildEnv { holding, mut vars } = child;
    let Some((identity, first)) = holding else {
        // `--identity=false`: nothing to serve; the command still gets every identity as a
        // profile, and atmos-auth still forwards its signals and returns its status.
        return Ok(supervise::run(signals, argv, &vars)?);
    };
    let server = CredentialServer::bind()?;
    vars.retain(|var| !container::REPLACED.contains(&var.name.as_str()));
    let config_file = aws_config::generate_for_server(&context.config)?;
    for var in &mut vars {
        if var.name == AWS_CONFIG_FILE {
            var.value = Secret::new(config_file.to_string_lossy().into_owned());
        }
    }
    vars.push(EnvVar {
        name: container::SHARED_CREDENTIALS_FILE.into(),
        value: Secret::new(container::EMPTY_FILE.into()),
        secret: false,
    });
    vars.extend(server.vars());
    let listening = &server;
    std::thread::scope(|scope| {
        let serving = scope.spawn(move || listening.serve(&context.resolver(), identity, first));
        let code = supervise::run(signals, argv, &vars);
        server.stop();
        let code = code?;
        // A request still being resolved (waiting for another process's lock, say) must not
        // keep atmos-auth alive after its command: give it a moment, then leave without it.
        let deadline = Instant::now() + STOP_GRACE;
        while !serving.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if !serving.is_finished() {
            std::process::exit(code);
        }
        Ok(code)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_gives_method_target_and_authorization_whatever_its_case() {
        let head = b"GET /p HTTP/1.1\r\nhost: 127.0.0.1:1\r\nauthorization:  t0ken \r\nx: y";
        let parsed = parse_head(head).expect("a request");
        assert_eq!((parsed.method, parsed.target), ("GET", "/p"));
        assert_eq!(parsed.authorization, Some(&b"t0ken"[..]));
        let bare = parse_head(b"GET /p HTTP/1.0").expect("a request");
        assert_eq!(bare.authorization, None);
        assert!(parse_head(b"GET /p").is_none());
        assert!(parse_head(b"GET /p HTTP/2.0").is_none());
        assert!(parse_head(b"").is_none());
    }
}
