//! `atmos-auth console`: sign in to the AWS web console as an identity, through the AWS
//! federation endpoint (`getSigninToken`, then a `login` URL).
//!
//! The URL carries a sign-in token valid for 15 minutes, never the credentials. It is never
//! put on a command line (every local user can read `/proc/<pid>/cmdline`): the browser is
//! given the path of a private page (0600, in a 0700 directory under `$XDG_RUNTIME_DIR`, else
//! the cache directory) that redirects to the URL. Pages are deleted by the next `console` run
//! once they are a minute old. `--print-only` prints the URL instead, and writes no page.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::Zeroizing;

use super::{Context, print};
use super::{Error, exit};
use crate::identity::region_for;
use crate::provider::federation::{self, FederationError};
use crate::provider::sso::LoginPolicy;

const CONSOLE_URL: &str = "https://console.aws.amazon.com";
const ISSUER: &str = "atmos-auth";
/// The federation endpoint accepts console sessions of 15 minutes to 12 hours.
const MIN_SESSION: Duration = Duration::from_secs(15 * 60);
const MAX_SESSION: Duration = Duration::from_secs(12 * 60 * 60);
/// A page is left this long for the browser to read it before a later run deletes it.
const PAGE_LIFETIME: Duration = Duration::from_secs(60);
/// Pages are named `PAGE_PREFIX<random>.html`; only such files, and the `.PAGE_PREFIX…tmp`
/// files a run killed while writing one leaves behind (they hold the token too), are deleted.
const PAGE_PREFIX: &str = "signin-";
/// Set by the session on Linux: a private per-user tmpfs, emptied at logout.
const RUNTIME_DIR_ENV: &str = "XDG_RUNTIME_DIR";

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("console session length must be between 15m and 12h")]
    Duration,
    #[error(transparent)]
    Federation(#[from] FederationError),
    #[error("unknown console destination `{name}`")]
    UnknownDestination {
        name: String,
        known: Vec<&'static str>,
    },
    #[error(
        "console destination `{url}` is not an AWS console URL (https://console.aws.amazon.com or https://*.console.aws.amazon.com)"
    )]
    NotConsole { url: String },
    #[error("could not write the sign-in page into `{}`", dir.display())]
    Page {
        dir: PathBuf,
        source: std::io::Error,
    },
}

impl ConsoleError {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Federation(error) => error.exit_code(),
            Self::Duration
            | Self::Page { .. }
            | Self::UnknownDestination { .. }
            | Self::NotConsole { .. } => exit::USAGE,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Federation(error) => error.hint(),
            Self::UnknownDestination { known, .. } => Some(format!(
                "give a console URL, a path such as `/ec2/home`, or one of: {}",
                known.join(", ")
            )),
            Self::Duration | Self::Page { .. } | Self::NotConsole { .. } => None,
        }
    }
}

pub fn run(
    context: &Context,
    identity: Option<&str>,
    destination: Option<&str>,
    print_only: bool,
    duration: Option<Duration>,
) -> Result<i32, Error> {
    if duration.is_some_and(|d| !(MIN_SESSION..=MAX_SESSION).contains(&d)) {
        return Err(ConsoleError::Duration.into());
    }
    let endpoint = federation::endpoint().map_err(ConsoleError::from)?;
    let identity = context.identity(identity)?;
    // Checked before any request: a mistyped name costs no sign-in token.
    let destination = destination_url(destination, region_for(&context.config, identity))?;
    let credentials = context.resolver().resolve(identity, LoginPolicy::Never)?;
    let token =
        federation::sign_in_token(&endpoint, &credentials, duration).map_err(ConsoleError::from)?;
    let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let url = Zeroizing::new(format!(
        "{endpoint}?Action=login&Issuer={}&Destination={}&SigninToken={}",
        encode(ISSUER),
        encode(&destination),
        encode(&token)
    ));
    if print_only {
        print(format!("{}\n", url.as_str()).as_bytes())?;
        return Ok(exit::SUCCESS);
    }
    let page = write_page(&url)?;
    // The browser gets the page's path; only its file holds the token.
    if let Err(error) = webbrowser::open(&page.to_string_lossy()) {
        tracing::info!(%error, "could not open a browser");
        let _ = std::fs::remove_file(&page);
        eprintln!("Could not open a browser; open this URL (valid for 15 minutes):");
        print(format!("{}\n", url.as_str()).as_bytes())?;
    }
    Ok(exit::SUCCESS)
}

/// Write a page that sends the browser on to `url` into the private page directory, after
/// deleting the pages earlier runs left there, and return its path.
fn write_page(url: &str) -> Result<PathBuf, ConsoleError> {
    let dir = page_dir()?;
    let failed = |source| ConsoleError::Page {
        dir: dir.path().to_owned(),
        source,
    };
    remove_old_pages(dir.path());
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).expect("the OS random source is available");
    let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let page = dir.file(format!("{PAGE_PREFIX}{name}.html"));
    let html = html_escape(url);
    let text = Zeroizing::new(format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta http-equiv=\"refresh\" content=\"0;url={}\">\n\
         <title>AWS console sign-in</title></head>\n\
         <body><p><a href=\"{}\">Continue to the AWS console</a></p></body></html>\n",
        html.as_str(),
        html.as_str()
    ));
    page.write_atomic(text.as_bytes(), crate::fs::PRIVATE_FILE_MODE)
        .map_err(failed)?;
    Ok(page.path())
}

/// `$XDG_RUNTIME_DIR/atmos-auth/console` when the session has one (memory, never disk), else
/// the cache's `console` directory; either is opened as `paths` opens private directories
/// (created 0700, refused when others could write to it) and then made 0700.
fn page_dir() -> Result<crate::fs::PrivateDir, ConsoleError> {
    let runtime = std::env::var_os(RUNTIME_DIR_ENV)
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute() && dir.is_dir());
    let (dir, opened) = match runtime {
        Some(runtime) => (
            runtime.join("atmos-auth/console"),
            crate::paths::open_private_dir(&runtime, &["atmos-auth", "console"]),
        ),
        None => (
            crate::paths::cache_dir()
                .unwrap_or_default()
                .join("console"),
            crate::paths::cache_subdir("console"),
        ),
    };
    // Readable by others is harmless for the cache, not for pages holding a sign-in token.
    opened
        .and_then(|private| private.make_private().map(|()| private))
        .map_err(|source| ConsoleError::Page { dir, source })
}

/// Delete the pages in `dir` older than `PAGE_LIFETIME`, and the temp files of pages whose
/// writer was killed before renaming them; younger ones may not be read (or written) yet.
fn remove_old_pages(dir: &Path) {
    let now = SystemTime::now();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(PAGE_PREFIX)
            || name
                .strip_prefix('.')
                .is_some_and(|temp| temp.starts_with(PAGE_PREFIX) && temp.ends_with(".tmp"));
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| now.duration_since(at).unwrap_or_default() > PAGE_LIFETIME);
        if ours && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The console pages `--destination` knows by name: the name, the page's path under
/// `CONSOLE_URL`, and what follows the `?region=` query (a fragment for pages inside a
/// service's console). The one table of them; the error's list of names comes from it.
const DESTINATIONS: &[(&str, &str, &str)] = &[
    ("acm", "acm/home", ""),
    ("apigateway", "apigateway/main/apis", ""),
    ("athena", "athena/home", ""),
    ("backup", "backup/home", ""),
    ("billing", "billing/home", ""),
    ("cloudformation", "cloudformation/home", ""),
    ("cloudtrail", "cloudtrail/home", ""),
    ("cloudwatch", "cloudwatch/home", ""),
    ("codebuild", "codesuite/codebuild/projects", ""),
    ("codepipeline", "codesuite/codepipeline/pipelines", ""),
    ("config", "config/home", ""),
    ("cost-explorer", "costmanagement/home", "#/cost-explorer"),
    ("dynamodb", "dynamodbv2/home", ""),
    ("ec2", "ec2/home", ""),
    ("ecr", "ecr/home", ""),
    ("ecs", "ecs/v2/home", ""),
    ("efs", "efs/home", ""),
    ("eks", "eks/home", ""),
    ("elasticache", "elasticache/home", ""),
    ("elb", "ec2/home", "#LoadBalancers:"),
    ("glue", "glue/home", ""),
    ("guardduty", "guardduty/home", ""),
    ("iam", "iam/home", ""),
    ("kinesis", "kinesis/home", ""),
    ("kms", "kms/home", ""),
    ("lambda", "lambda/home", ""),
    ("logs", "cloudwatch/home", "#logsV2:log-groups"),
    ("organizations", "organizations/v2/home", ""),
    ("rds", "rds/home", ""),
    ("route53", "route53/v2/home", ""),
    ("s3", "s3/home", ""),
    ("secretsmanager", "secretsmanager/home", ""),
    ("securityhub", "securityhub/home", ""),
    ("sns", "sns/v3/home", ""),
    ("sqs", "sqs/v3/home", ""),
    ("ssm", "systems-manager/home", ""),
    ("sso", "singlesignon/home", ""),
    ("stepfunctions", "states/home", ""),
    ("vpc", "vpc/home", ""),
    ("waf", "wafv2/homev2", ""),
];

/// The console URL `--destination` asks for, in `region`: a known service name (any case), a
/// path on the console (`/…`), or a console URL; none is the console's home page.
fn destination_url(destination: Option<&str>, region: &str) -> Result<String, ConsoleError> {
    let Some(destination) = destination else {
        return Ok(format!("{CONSOLE_URL}/console/home?region={region}"));
    };
    if destination.contains("://") {
        let host = destination
            .strip_prefix("https://")
            .and_then(|rest| rest.split(['/', '?', '#']).next());
        // Only ASCII letters, digits, `.` and `-` in the host: no userinfo (`@`), port (`:`),
        // `\` (a browser reads it as `/`), percent-encoding, whitespace or IDN lookalikes, so the
        // host compared is the host a browser opens.
        let console = host.is_some_and(|host| {
            let host = host.to_ascii_lowercase();
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && (host == "console.aws.amazon.com" || host.ends_with(".console.aws.amazon.com"))
        });
        return if console {
            Ok(destination.to_owned())
        } else {
            Err(ConsoleError::NotConsole {
                url: destination.to_owned(),
            })
        };
    }
    if destination.starts_with('/') {
        return Ok(format!("{CONSOLE_URL}{destination}"));
    }
    DESTINATIONS
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(destination))
        .map(|(_, path, fragment)| format!("{CONSOLE_URL}/{path}?region={region}{fragment}"))
        .ok_or_else(|| ConsoleError::UnknownDestination {
            name: destination.to_owned(),
            known: DESTINATIONS.iter().map(|(name, _, _)| *name).collect(),
        })
}

/// `text` safe inside a double-quoted HTML attribute.
fn html_escape(text: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}
