//! Integration tests: each runs the real atmos-auth binary against the AWS emulator, in a
//! temporary HOME, as a user would.

mod emulator;
mod harness;
mod moto;
mod tls_server;

/// Browser login (authorization code with PKCE) through curl scripts and headless Chromium, and
/// the device-code fallback rules (issue 12).
mod browser_login;
/// A closed stdout (`| head`): quiet exits, no panic (issue 16).
mod closed_stdout;
/// Configuration errors as users see them.
mod config_errors;
/// Configuration other users could have written is refused (issue 11).
mod config_trust;
/// Profile discovery and stacking as Atmos does them (issue 15).
mod discovery;
/// Secrets bound to the endpoint that issued them; server-stated expiries capped (issue 11).
mod endpoint_binding;
/// Endpoint overrides in the SDK conventions.
mod endpoints;
/// `env` in every format, evaluated by real shells, and credential reuse.
mod env;
/// `exec`: arguments, exit codes, environment, real AWS CLI.
mod exec;
/// Injected faults: one clear line, the right exit code, and the next run works.
mod faults;
/// GitHub Actions OIDC over HTTPS with a custom CA.
mod github_oidc;
/// The process keeps its memory to itself; MFA codes stay off the command line.
mod hardening;
/// Hostile endpoints: plain http, terminal escapes, endless pages, shared account names.
mod hostile_endpoint;
/// Issue 11 review: proxies and resolvers that would take plain http off loopback.
mod hostile_remote;
/// Role chains, IAM users, credential processes.
mod identity_graph;
/// The real Secret Service and kernel keyring, and a missing one.
mod keyring;
/// No secret in logs at any level.
mod leaks;
/// `list` and `validate`.
mod list_validate;
/// Device-code login, refresh, client registration reuse.
mod login;
/// `logout`: one identity, one provider, everything; dry runs and unreachable stores (issue 12).
mod logout;
/// Several accounts at once: credential-process, generated AWS config, console, completion.
mod multi_account;
/// Issue 15: identity names in any case, tags and `--tags`, console destinations.
mod names_tags;
/// Files 0600 and directories 0700 whatever the umask; unsafe cache directories refused.
mod permissions;
/// The shipped reference profiles and the access matrix as code (issue 6).
mod profiles;
/// Issue 13: 10,000 provisioned identities: one resolves alone; `list` patterns; `list`
/// without a reachable store.
mod provisioned_scale;
/// Concurrent logins and refreshes; SIGKILL at random points.
mod races;
/// Realms: two users of one start URL side by side (issue 15).
mod realms;
/// Issue 13: role credentials of many identities sealed under `$XDG_RUNTIME_DIR`.
mod role_tier;
/// Issue 13: hundreds of accounts provisioned concurrently under throttling.
mod scale;
/// `exec --server`, `shell --server`: the per-command credential server (issue 14).
mod server;
/// `shell`: the identity's environment, nesting, exit status, the interactive banner (issue 12).
mod shell;
/// Real Terraform runs across accounts.
mod terraform;
/// Issue 11: injection-proof generated text, the console token, external credential processes.
mod trust_output;
/// Which store keeps what, and for how long (issue 11: kernel timeouts, CI credentials).
mod trust_stores;
/// `whoami` against the emulator and against moto's STS.
mod whoami;
