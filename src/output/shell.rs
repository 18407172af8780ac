//! `shell`: which shell to start, the variables that say which identity it holds and how deeply
//! it is nested, and the line an interactive shell starts with. The environment itself is the
//! one `exec` builds; this module only adds to it. Pure: the caller reads the process
//! environment and the clock.

use std::ffi::{OsStr, OsString};
use std::time::SystemTime;

use super::list::until_text;
use super::vars::EnvVar;
use crate::secret::Secret;
use crate::text::printable;

/// The user's login shell, as login(1) and sshd set it.
pub const SHELL: &str = "SHELL";
/// The shell started when `SHELL` is unset or empty.
pub const DEFAULT_SHELL: &str = "/bin/sh";
/// The identity the shell holds; atmos-auth reads it as `--identity`, so commands run inside
/// the shell default to that identity.
pub const IDENTITY: &str = "ATMOS_IDENTITY";
/// The profile the shell was started from; atmos-auth reads it as `--profile`.
pub const PROFILE: &str = "ATMOS_PROFILE";
/// How many atmos-auth shells this one is inside, itself included.
pub const LEVEL: &str = "ATMOS_SHLVL";
/// The `ATMOS_IDENTITY` of a shell started with `--identity=false`: commands inside it use no
/// identity either, unless they name one.
const NO_IDENTITY: &str = "false";

/// The shell to run: `$SHELL`, else `/bin/sh`.
pub fn program(shell: Option<OsString>) -> OsString {
    shell
        .filter(|shell| !shell.is_empty())
        .unwrap_or_else(|| DEFAULT_SHELL.into())
}

/// The level of a shell started where `ATMOS_SHLVL` is `inherited`: one more than that, or 1
/// outside any atmos-auth shell (a value that is not a count counts as outside).
pub fn level(inherited: Option<&OsStr>) -> u32 {
    inherited
        .and_then(OsStr::to_str)
        .and_then(|value| value.trim().parse::<u32>().ok())
        .unwrap_or(0)
        .saturating_add(1)
}

/// The variables `shell` adds to `exec`'s: the identity (`None`: `--identity=false`), the
/// profile when one was selected, and the level.
pub fn vars(identity: Option<&str>, profile: Option<&str>, level: u32) -> Vec<EnvVar> {
    let plain = |name: &str, value: &str| EnvVar {
        name: name.to_owned(),
        value: Secret::new(value.to_owned()),
        secret: false,
    };
    let mut vars = vec![plain(IDENTITY, identity.unwrap_or(NO_IDENTITY))];
    if let Some(profile) = profile {
        vars.push(plain(PROFILE, profile));
    }
    vars.push(plain(LEVEL, &level.to_string()));
    vars
}

/// What the shell holds: an identity's name and when its credentials expire, or none.
pub type Holding<'a> = Option<(&'a str, SystemTime)>;

/// The one line an interactive shell starts with (no newline).
pub fn banner(holding: Holding<'_>, profile: Option<&str>, now: SystemTime) -> String {
    let profile = profile
        .map(|profile| format!(" (profile {})", printable(profile)))
        .unwrap_or_default();
    match holding {
        Some((identity, until)) => format!(
            "atmos-auth: shell as {}{profile}, credentials valid until {}; `exit` leaves it",
            printable(identity),
            until_text(until, now),
        ),
        None => format!(
            "atmos-auth: shell with no identity{profile}; every identity is an AWS profile \
             (`aws --profile NAME`); `exit` leaves it"
        ),
    }
}

/// The warning for a shell started inside another one.
pub fn nested_warning(level: u32) -> String {
    format!(
        "already inside an atmos-auth shell: this one is nested in it ({LEVEL}={level}); `exit` \
         returns to the outer one"
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// 2026-11-25T19:19:57Z
    const NOW_SECS: u64 = 1_795_634_397;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS + secs)
    }

    #[test]
    fn shell_is_dollar_shell_else_bin_sh() {
        assert_eq!(program(Some("/bin/zsh".into())), "/bin/zsh");
        assert_eq!(program(Some("".into())), DEFAULT_SHELL);
        assert_eq!(program(None), DEFAULT_SHELL);
    }

    #[test]
    fn level_counts_up_from_the_inherited_one() {
        assert_eq!(level(None), 1);
        assert_eq!(level(Some(OsStr::new("1"))), 2);
        assert_eq!(level(Some(OsStr::new(" 4 "))), 5);
        assert_eq!(level(Some(OsStr::new("x"))), 1);
        assert_eq!(level(Some(OsStr::new("-3"))), 1);
        assert_eq!(level(Some(OsStr::new(&u32::MAX.to_string()))), u32::MAX);
    }

    #[test]
    fn vars_name_the_identity_profile_and_level() {
        let pairs = |vars: Vec<EnvVar>| {
            vars.into_iter()
                .map(|v| {
                    assert!(!v.secret);
                    (v.name, v.value.expose().clone())
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs(vars(Some("plat-dev/terraform"), Some("dev"), 2)),
            [
                (IDENTITY.to_owned(), "plat-dev/terraform".to_owned()),
                (PROFILE.to_owned(), "dev".to_owned()),
                (LEVEL.to_owned(), "2".to_owned()),
            ]
        );
        assert_eq!(
            pairs(vars(None, None, 1)),
            [
                (IDENTITY.to_owned(), "false".to_owned()),
                (LEVEL.to_owned(), "1".to_owned()),
            ]
        );
    }

    #[test]
    fn banner_says_which_identity_and_until_when() {
        let now = at(0);
        assert_eq!(
            banner(
                Some(("plat-dev/terraform", at(52 * 60 + 20))),
                Some("dev"),
                now
            ),
            "atmos-auth: shell as plat-dev/terraform (profile dev), credentials valid until \
             2026-11-25T20:12:17Z (in 52m); `exit` leaves it"
        );
        assert_eq!(
            banner(None, None, now),
            "atmos-auth: shell with no identity; every identity is an AWS profile \
             (`aws --profile NAME`); `exit` leaves it"
        );
    }

    #[test]
    fn banner_text_cannot_drive_the_terminal() {
        let line = banner(Some(("a\u{1b}[2Jb", at(60))), Some("p\u{7}"), at(0));
        assert!(
            !line.contains('\u{1b}') && !line.contains('\u{7}'),
            "{line:?}"
        );
    }
}
