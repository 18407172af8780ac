use crate::emulator::Op;
use crate::harness::World;

#[test]
fn the_providers_endpoint_url_is_used_when_no_variable_overrides_it() {
    let world = World::new();
    world.write(
        "repo/atmos.yaml",
        &format!(
            "{}      spec:\n        endpoint_url: {}\n",
            world.base_config(),
            world.emulator.url()
        ),
    );
    world
        .cmd(&["login"])
        .env("AWS_ENDPOINT_URL", "")
        .run()
        .success();
    world
        .cmd(&["env", "dev"])
        .env("AWS_ENDPOINT_URL", "")
        .run()
        .success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn a_service_specific_variable_wins_over_the_global_one() {
    let world = World::new();
    // The global endpoint points nowhere; each SSO service's own variable points at the emulator.
    let run = |args: &[&str]| {
        world
            .cmd(args)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &world.emulator.url())
            .env("AWS_ENDPOINT_URL_SSO", &world.emulator.url())
            .run()
    };
    run(&["login"]).success();
    run(&["env", "dev"]).success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn an_unreachable_endpoint_is_one_clear_line() {
    let world = World::new();
    // The login needs only SSO OIDC; the portal is unreachable.
    let run = |args: &[&str]| {
        world
            .cmd(args)
            .env("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9")
            .run()
    };
    run(&["login"]).success();
    let out = run(&["env", "dev"]).code(1);
    assert!(
        out.stderr.starts_with(
            "error: could not reach AWS for `GetRoleCredentials`\nhint: check the network"
        ),
        "{}",
        out.stderr
    );
}
