use crate::harness::World;
use crate::moto::Moto;

#[test]
fn whoami_reports_the_account_and_role() {
    let world = World::new();
    world.login();
    let out = world.run(&["whoami", "plat-dev/terraform"]).success();
    assert!(
        out.stdout.contains("account     222222222222"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("assumed-role/AWSReservedSSO_TerraformApplyAccess_"),
        "{}",
        out.stdout
    );
    let json: serde_json::Value = serde_json::from_str(
        &world
            .run(&["whoami", "dev", "--format", "json"])
            .success()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["identity"], "plat-dev/terraform");
    assert_eq!(json["account"], "222222222222");
    let exported = world
        .run(&["env", "dev", "--format", "json"])
        .success()
        .json_vars();
    let secret = exported["AWS_SECRET_ACCESS_KEY"].as_str().unwrap();
    assert!(!out.stdout.contains(secret) && !json.to_string().contains(secret));
}

/// moto's STS, an implementation independent of ours, answers the STS half of `whoami`.
#[test]
fn whoami_works_against_motos_sts() {
    let moto = Moto::start();
    let world = World::new();
    world.login();
    let out = world
        .cmd(&["whoami", "dev", "--format", "json"])
        .env("AWS_ENDPOINT_URL_STS", &moto.url())
        .run()
        .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    // moto answers every caller with its default account.
    assert_eq!(json["account"], "123456789012");
    assert!(
        json["arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sts::123456789012:"),
        "{}",
        out.stdout
    );
    drop(moto);
}
