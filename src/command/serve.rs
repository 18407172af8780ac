//! `exec --server` and `shell --server`: instead of static keys, the command gets the address of
//! a container-credentials endpoint on loopback and a token for it, and atmos-auth stays its
//! parent, answering each request the way `credential-process` would (same resolver, cache and
//! cross-process locks), so credentials are renewed for as long as the command runs.
//!
//! The endpoint lives in this process only: it ends when the command ends, and dies with
//! atmos-auth (the listening socket is close-on-exec, so the command never holds it).

use std::ffi::OsString;
use std::io::Cursor;
use std::time::{Duration, Instant, SystemTime};

use super::aws_config;
use super::exec::{AWS_CONFIG_FILE, ChildEnv};
use crate::config::Identity;
use crate::credentials::Credentials;
use crate::error::{Error, exit};
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
    Listen(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The endpoint for one command: a listener on a random loopback port, a random path and token.
struct CredentialServer {
    server: tiny_http::Server,
    secrets: Secrets,
}

impl CredentialServer {
    fn bind() -> Result<Self, ServeError> {
        let secrets = Secrets::generate().map_err(ServeError::Random)?;
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(ServeError::Listen)?;
        Ok(Self { server, secrets })
    }

    /// The two variables that point an SDK here.
    fn vars(&self) -> Vec<EnvVar> {
        let port = self
            .server
            .server_addr()
            .to_ip()
            .map(|address| address.port())
            .unwrap_or_default();
        vec![
            EnvVar {
                name: container::FULL_URI.into(),
                value: Secret::new(format!("http://127.0.0.1:{port}{}", self.secrets.path)),
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
        for request in self.server.incoming_requests() {
            let authorization = request
                .headers()
                .iter()
                .find(|header| header.field.equiv("Authorization"))
                .map(|header| header.value.as_bytes().to_vec());
            let verdict = self.secrets.judge(
                request.method().as_str(),
                request.url(),
                authorization.as_deref(),
            );
            // Never the token, the path or the answer: only what was decided.
            tracing::debug!(status = verdict.status(), "credential server request");
            let response = match verdict {
                Verdict::Serve => cache.answer(),
                refused => tiny_http::Response::new(
                    refused.status().into(),
                    Vec::new(),
                    Cursor::new(zeroize::Zeroizing::new(Vec::new())),
                    Some(0),
                    None,
                ),
            };
            let _ = request.respond(response);
        }
    }

    /// End `serve`, once the command has ended.
    fn stop(&self) {
        self.server.unblock();
    }
}

type Response = tiny_http::Response<Cursor<zeroize::Zeroizing<Vec<u8>>>>;

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
    fn answer(&mut self) -> Response {
        match self.credentials() {
            Ok(credentials) => {
                let body = container::render(credentials);
                self.failing = false;
                json(200, zeroize::Zeroizing::new(body.as_bytes().to_vec()))
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
                json(
                    container::UNAVAILABLE,
                    zeroize::Zeroizing::new(body.into_bytes()),
                )
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

fn json(status: u16, body: zeroize::Zeroizing<Vec<u8>>) -> Response {
    let length = body.len();
    let content_type =
        tiny_http::Header::from_bytes("Content-Type", "application/json").expect("a valid header");
    tiny_http::Response::new(
        status.into(),
        vec![content_type],
        Cursor::new(body),
        Some(length),
        None,
    )
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
