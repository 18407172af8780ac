//! Issue 15: identity names as people type them (any case, aliases, several suggestions), tags
//! on identities and providers with `--tags` filters, and `console --destination` names.

use crate::emulator::Op;
use crate::harness::{DEV_PROFILE, World};

/// The dev profile with tags: two Terraform identities share one, the provider adds `corp`.
fn tagged_world() -> World {
    let world = World::new();
    world.write(
        "repo/atmos.yaml",
        &format!("{}      tags: [corp]\n", world.base_config()),
    );
    let profile = DEV_PROFILE
        .replacen(
            "      alias: dev\n",
            "      alias: dev\n      tags: [team-a, terraform]\n",
            1,
        )
        .replacen(
            "    plat-prod/terraform:\n",
            "    plat-prod/terraform:\n      tags: [terraform]\n",
            1,
        );
    world.write("repo/profiles/dev/atmos.yaml", &profile);
    world
}

/// Each character but letters and digits as `%XX`, as the federation URL carries a destination.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn identity_names_and_aliases_are_found_in_any_case() {
    let world = World::new();
    world.login();
    for name in ["PLAT-DEV/Terraform", "DEV", "plat-prod/TERRAFORM"] {
        world.run(&["env", name]).success();
    }
    assert_eq!(
        world.fetched_roles(),
        [
            ("222222222222".to_owned(), "TerraformApplyAccess".to_owned()),
            ("444444444444".to_owned(), "TerraformPlanAccess".to_owned())
        ],
        "the alias in capitals is the identity already fetched"
    );
}

#[test]
fn names_differing_only_in_case_are_a_config_error() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!(
            "{DEV_PROFILE}    Plat-Dev/Terraform:\n      kind: aws/user\n    other:\n      kind: aws/user\n      alias: DEV\n"
        ),
    );
    world.run(&["validate"]).code(2).stderr_has(
        "profiles/dev/atmos.yaml:38:5: identity `Plat-Dev/Terraform` differs from identity `plat-dev/terraform` only in case",
    ).stderr_has(
        "profiles/dev/atmos.yaml:42:14: alias `DEV` of identity `other` is already used",
    );
}

#[test]
fn a_missed_name_suggests_the_closest_ones() {
    let world = World::new();
    world
        .run(&["env", "CORE-IDENTITY/stat"])
        .code(2)
        .stderr_has("hint: did you mean `core-identity/state`? identities:");
    world
        .run(&["env", "PLAT-DEV/terrafrom"])
        .code(2)
        .stderr_has("hint: did you mean one of: `plat-dev/terraform`, `plat-prod/terraform`?");
}

#[test]
fn list_filters_and_shows_tags_with_the_providers() {
    let world = tagged_world();
    let all = world.run(&["list"]).success().stdout;
    assert!(
        all.contains("  corp,team-a,terraform\n"),
        "own tags and the provider's: {all}"
    );
    let terraform = world.run(&["list", "--tags", "terraform"]).success().stdout;
    assert!(terraform.contains("plat-dev/terraform"), "{terraform}");
    assert!(terraform.contains("plat-prod/terraform"), "{terraform}");
    assert!(!terraform.contains("plat-prod/admin"), "{terraform}");
    let both = world
        .run(&["list", "--tags", "terraform,team-a"])
        .success()
        .stdout;
    assert!(both.contains("plat-dev/terraform"), "{both}");
    assert!(
        !both.contains("plat-prod/terraform"),
        "all the tags: {both}"
    );
    let corp = world.run(&["list", "--tags", "corp"]).success().stdout;
    assert!(corp.contains("plat-prod/admin"), "inherited: {corp}");
    world
        .run(&["list", "--tags", "nope"])
        .code(2)
        .stderr_has("no identity carries all of the tags `nope`");
}

#[test]
fn login_logout_and_aws_config_act_on_the_tagged_identities() {
    let world = tagged_world();
    world.run(&["login", "--tags", "terraform"]).success();
    assert_eq!(
        world.fetched_roles(),
        [
            ("222222222222".to_owned(), "TerraformApplyAccess".to_owned()),
            ("444444444444".to_owned(), "TerraformPlanAccess".to_owned())
        ]
    );
    assert_eq!(
        world.emulator.calls(Op::StartDeviceAuthorization),
        1,
        "one sign-in"
    );
    world.emulator.reset_calls();
    world
        .run(&["logout", "--tags", "team-a"])
        .success()
        .stdout_has("Removed the AWS credentials of `plat-dev/terraform`");
    world.run(&["env", "plat-prod/terraform"]).success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 0, "kept");
    world.run(&["env", "dev"]).success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1, "removed");

    let text = world
        .run(&["aws-config", "--tags", "team-a"])
        .success()
        .stdout;
    assert!(text.contains("[profile plat-dev/terraform]"), "{text}");
    assert!(!text.contains("[profile plat-prod/terraform]"), "{text}");
    world
        .run(&["aws-config", "--tags", "team-b"])
        .code(2)
        .stderr_has("no identity carries all of the tags `team-b`");
}

#[test]
fn tags_are_validated() {
    let world = tagged_world();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &DEV_PROFILE.replacen(
            "      alias: dev\n",
            "      alias: dev\n      tags: [\"a b\"]\n",
            1,
        ),
    );
    world
        .run(&["validate"])
        .code(2)
        .stderr_has("profiles/dev/atmos.yaml:8:14: invalid tag `a b` in `auth.identities.plat-dev/terraform.tags`");
}

#[test]
fn provisioned_identities_carry_provisioned_and_the_permission_set() {
    let world = World::new();
    world.auto_provision();
    world.login();
    let out = world
        .run(&["list", "--tags", "provisioned,ReadOnlyAccess"])
        .success()
        .stdout;
    assert!(out.contains("core-audit/ReadOnlyAccess"), "{out}");
    assert!(out.contains("  ReadOnlyAccess,provisioned\n"), "{out}");
    assert!(!out.contains("plat-dev/terraform"), "written: {out}");
    assert!(!out.contains("AdministratorAccess"), "{out}");
    // A written name that differs from a provisioned one only in case is a config error.
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{DEV_PROFILE}    plat-dev/readonlyaccess:\n      kind: aws/user\n"),
    );
    world.run(&["list"]).code(2).stderr_has(
        "profiles/dev/atmos.yaml:38:5: identity `plat-dev/readonlyaccess` differs from the provisioned identity `plat-dev/ReadOnlyAccess` only in case",
    );
}

#[test]
fn console_destinations_by_name_path_or_console_url() {
    let world = World::new();
    world.login();
    let federation = format!("{}/federation", world.emulator.url());
    let destination = |page: &str| {
        let out = world
            .cmd(&["console", "dev", "--print-only", "--destination", page])
            .env("ATMOS_CONSOLE_FEDERATION_URL", &federation)
            .run()
            .success();
        let url = out.stdout.trim().to_owned();
        let start = url.find("&Destination=").expect("a destination") + "&Destination=".len();
        let end = url.find("&SigninToken=").expect("a token");
        url[start..end].to_owned()
    };
    for (page, expected) in [
        (
            "logs",
            "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups",
        ),
        (
            "EC2",
            "https://console.aws.amazon.com/ec2/home?region=us-east-1",
        ),
        (
            "stepfunctions",
            "https://console.aws.amazon.com/states/home?region=us-east-1",
        ),
        (
            "/iam/home#/roles",
            "https://console.aws.amazon.com/iam/home#/roles",
        ),
        (
            "https://eu-west-1.console.aws.amazon.com/ec2/home",
            "https://eu-west-1.console.aws.amazon.com/ec2/home",
        ),
    ] {
        assert_eq!(destination(page), encoded(expected), "{page}");
    }
    world.emulator.reset_calls();
    for page in [
        "https://console.aws.amazon.com.evil.example/",
        "https://evil.example/console.aws.amazon.com",
        "https://user@console.aws.amazon.com/",
        // A browser reads `\` as `/`: the host would be evil.example.
        "https://evil.example\\.console.aws.amazon.com/",
        "https://evil.example%2F.console.aws.amazon.com/",
        "https://evil.example\t.console.aws.amazon.com/",
        "https://evil\u{2215}example.console.aws.amazon.com/",
    ] {
        world
            .cmd(&["console", "dev", "--print-only", "--destination", page])
            .env("ATMOS_CONSOLE_FEDERATION_URL", &federation)
            .run()
            .code(2)
            .stderr_has("is not an AWS console URL");
    }
    world
        .cmd(&["console", "dev", "--print-only", "--destination", "s4"])
        .env("ATMOS_CONSOLE_FEDERATION_URL", &federation)
        .run()
        .code(2)
        .stderr_has("unknown console destination `s4`")
        .stderr_has("or one of: acm, apigateway, athena,")
        .stderr_has(" s3, secretsmanager,");
    assert_eq!(
        world.emulator.calls(Op::GetSigninToken),
        0,
        "refused before any sign-in token"
    );
}
