//! A real Terraform run across two accounts: the built-in `s3` backend and a
//! `terraform_remote_state` data source, each with its own AWS profile from the generated
//! config, against moto's S3 and STS. No provider download is needed, so it runs offline.

use std::path::Path;
use std::process::Command;

use crate::harness::World;
use crate::moto::Moto;

fn backend(moto: &Moto, key: &str, profile: &str) -> String {
    format!(
        r#"bucket = "tfstate"
    key = "{key}"
    region = "us-east-1"
    endpoint = "{url}"
    sts_endpoint = "{url}"
    force_path_style = true
    skip_metadata_api_check = true
    profile = "{profile}""#,
        url = moto.url()
    )
}

fn module(world: &World, dir: &str, text: &str) -> std::path::PathBuf {
    // Inside the config root, as stacks of an Atmos repository are.
    let path = world.write(&format!("repo/components/{dir}/main.tf"), text);
    path.parent().unwrap().to_path_buf()
}

fn create_bucket(moto: &Moto) {
    let out = Command::new("python3")
        .args(["-c", "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y').create_bucket(Bucket='tfstate')", &moto.url()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn terraform(world: &World, dir: &Path, args: &[&str]) -> crate::harness::Outcome {
    let mut full = vec!["exec", "--identity=false", "--", "terraform"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-input=false", "-no-color"]);
    world.cmd(&full).current_dir(dir).run()
}

#[test]
fn one_terraform_plan_reads_two_accounts_through_generated_profiles() {
    let version = Command::new("terraform")
        .arg("version")
        .output()
        .expect("terraform is installed (see .ci/run)");
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("Terraform v1."));
    let moto = Moto::start();
    create_bucket(&moto);
    let world = World::new();
    world.login();
    // The network stack lives in plat-prod; the app stack in plat-dev reads its outputs.
    let network = module(
        &world,
        "network",
        &format!(
            "terraform {{\n  backend \"s3\" {{\n    {}\n  }}\n}}\noutput \"vpc_id\" {{ value = \"vpc-0123\" }}\n",
            backend(&moto, "network/terraform.tfstate", "plat-prod/terraform")
        ),
    );
    terraform(&world, &network, &["init"]).success();
    terraform(&world, &network, &["apply", "-auto-approve"])
        .success()
        .stdout_has("vpc_id = \"vpc-0123\"");
    let app = module(
        &world,
        "app",
        &format!(
            "terraform {{\n  backend \"s3\" {{\n    {}\n  }}\n}}\ndata \"terraform_remote_state\" \"network\" {{\n  backend = \"s3\"\n  config = {{\n    {}\n  }}\n}}\noutput \"network_vpc\" {{ value = data.terraform_remote_state.network.outputs.vpc_id }}\n",
            backend(&moto, "app/terraform.tfstate", "plat-dev/terraform"),
            backend(&moto, "network/terraform.tfstate", "plat-prod/terraform")
                .replace('\n', "\n  ")
        ),
    );
    terraform(&world, &app, &["init"]).success();
    terraform(&world, &app, &["plan"])
        .success()
        .stdout_has("+ network_vpc = \"vpc-0123\"");
    let accounts: std::collections::BTreeSet<_> = world.fetched_roles().into_iter().collect();
    assert_eq!(
        accounts.into_iter().collect::<Vec<_>>(),
        [
            ("222222222222".to_owned(), "TerraformApplyAccess".to_owned()),
            ("444444444444".to_owned(), "TerraformPlanAccess".to_owned())
        ]
    );
    // The same plan without atmos-auth has no credentials at all.
    let bare = Command::new("terraform")
        .args(["plan", "-input=false", "-no-color"])
        .current_dir(&app)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", world.home.path())
        .output()
        .unwrap();
    assert!(!bare.status.success());
    let stderr = String::from_utf8_lossy(&bare.stderr);
    // Terraform 1.0 says "no valid credential sources"; releases built on the Go SDK v2 fail
    // earlier, on the profile they cannot find without the generated config.
    let stderr = stderr.to_lowercase();
    assert!(
        stderr.contains("no valid credential sources")
            || stderr.contains("failed to get shared config profile"),
        "{stderr}"
    );
}

#[test]
fn exec_credentials_alone_serve_a_terraform_backend() {
    let moto = Moto::start();
    create_bucket(&moto);
    let world = World::new();
    world.login();
    let dir = module(
        &world,
        "plain",
        &format!(
            "terraform {{\n  backend \"s3\" {{\n    {}\n  }}\n}}\noutput \"ok\" {{ value = true }}\n",
            backend(&moto, "plain/terraform.tfstate", "x").replace("\n    profile = \"x\"", "")
        ),
    );
    world
        .cmd(&[
            "exec",
            "plat-dev/terraform",
            "--",
            "terraform",
            "init",
            "-input=false",
            "-no-color",
        ])
        .current_dir(&dir)
        .run()
        .success();
    world
        .cmd(&[
            "exec",
            "plat-dev/terraform",
            "--",
            "terraform",
            "plan",
            "-input=false",
            "-no-color",
        ])
        .current_dir(&dir)
        .run()
        .success();
}

/// Issue 14: Terraform's S3 backend reads the served credentials (no keys in its environment).
#[test]
fn terraform_plan_under_exec_server_reaches_the_backend() {
    let moto = Moto::start();
    create_bucket(&moto);
    let world = World::new();
    world.login();
    let dir = module(
        &world,
        "served",
        &format!(
            "terraform {{\n  backend \"s3\" {{\n    {}\n  }}\n}}\noutput \"ok\" {{ value = true }}\n",
            backend(&moto, "served/terraform.tfstate", "x").replace("\n    profile = \"x\"", "")
        ),
    );
    let served = |args: &[&str]| {
        let mut full = vec!["exec", "--server", "plat-dev/terraform", "--", "terraform"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["-input=false", "-no-color"]);
        world.cmd(&full).current_dir(&dir).run()
    };
    served(&["init"]).success();
    served(&["plan"]).success().stdout_has("+ ok = true");
    // The backend's calls were signed with the served keys: moto's STS says whose they are.
    world
        .cmd(&[
            "exec",
            "--server",
            "plat-dev/terraform",
            "--",
            "sh",
            "-c",
            "test -z \"$AWS_ACCESS_KEY_ID\" && test -n \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\"",
        ])
        .run()
        .success();
}
