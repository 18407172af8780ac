//! Machines: GitHub Actions OIDC → AssumeRoleWithWebIdentity, over HTTPS trusted through
//! `AWS_CA_BUNDLE`.

use crate::emulator::Op;
use crate::harness::World;
use crate::tls_server::{TlsServer, fake_jwt, github_token_handler};

const PROFILE: &str = "\
auth:
  keyring:
    type: keyutils
  providers:
    github:
      kind: github/oidc
      region: us-west-2
  identities:
    plat-dev/terraform:
      kind: aws/assume-role
      default: true
      via:
        provider: github
      principal:
        assume_role: arn:aws:iam::222222222222:role/TerraformPlanAccess
";

fn world() -> World {
    let world = World::new();
    world.write("repo/profiles/github-plan/atmos.yaml", PROFILE);
    world
}

#[test]
fn a_workflow_token_becomes_role_credentials() {
    let world = world();
    let jwt = fake_jwt("sts.amazonaws.com");
    let server = TlsServer::start(github_token_handler("request-token-sentinel", &jwt));
    let out = world
        .cmd(&["env", "--format", "json"])
        .env("ATMOS_PROFILE", "github-plan")
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &server.url("/token?api-version=2.0"),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-sentinel")
        .env("AWS_CA_BUNDLE", server.ca_bundle_path().to_str().unwrap())
        .run()
        .success();
    let vars = out.json_vars();
    assert_eq!(vars["AWS_REGION"], "us-west-2");
    let request = &server.requests()[0];
    assert_eq!(request.query("api-version").as_deref(), Some("2.0"));
    assert_eq!(
        request.query("audience").as_deref(),
        Some("sts.amazonaws.com")
    );
    let call = world
        .emulator
        .requests()
        .into_iter()
        .find(|r| r.op == Op::AssumeRoleWithWebIdentity)
        .unwrap();
    assert_eq!(
        call.role_arn.as_deref(),
        Some("arn:aws:iam::222222222222:role/TerraformPlanAccess")
    );
    assert_eq!(call.status, 200);
    assert!(!out.stderr.contains(&jwt) && !out.stdout.contains(&jwt));
    for file in walk(world.home.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
        assert!(
            !text.contains(&jwt),
            "the web token was written to {}",
            file.display()
        );
    }
}

#[test]
fn outside_github_actions_the_error_says_so() {
    let world = world();
    world
        .cmd(&["env"])
        .env("ATMOS_PROFILE", "github-plan")
        .run()
        .code(2)
        .stderr_has("only works inside a GitHub Actions job");
    world
        .cmd(&["env"])
        .env("ATMOS_PROFILE", "github-plan")
        .env("GITHUB_ACTIONS", "true")
        .run()
        .code(2)
        .stderr_has("id-token: write");
    assert_eq!(world.emulator.calls_total(), 0);
}

#[test]
fn an_untrusted_certificate_points_at_aws_ca_bundle() {
    let world = world();
    let server = TlsServer::start(github_token_handler("t", &fake_jwt("sts.amazonaws.com")));
    world
        .cmd(&["env"])
        .env("ATMOS_PROFILE", "github-plan")
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &server.url("/token?api-version=2.0"),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t")
        .run()
        .code(1)
        .stderr_has("AWS_CA_BUNDLE");
    assert!(
        server.requests().is_empty(),
        "no request went past the TLS handshake"
    );
}

#[test]
fn a_plain_http_token_url_is_refused_off_loopback() {
    let world = world();
    let run = |url: &str| {
        world
            .cmd(&["env"])
            .env("ATMOS_PROFILE", "github-plan")
            .env("GITHUB_ACTIONS", "true")
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", url)
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t")
            .run()
    };
    let out = run("http://10.255.255.1/token").code(2);
    assert_eq!(
        out.stderr,
        "error: `ACTIONS_ID_TOKEN_REQUEST_URL` is plain http to a host that is not loopback: `http://10.255.255.1/token`\n\
         hint: use an `https://` URL; plain `http://` is only allowed to 127.0.0.1, ::1 or localhost; check what sets `ACTIONS_ID_TOKEN_REQUEST_URL`\n"
    );
    // Loopback passes the rule, and then finds nothing listening.
    run("http://127.0.0.1:9/token")
        .code(1)
        .stderr_has("could not reach the GitHub OIDC token endpoint `127.0.0.1`");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path))
        } else {
            out.push(path)
        }
    }
    out
}
