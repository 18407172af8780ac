//! Realms: independent sets of stored entries and cache files, so several users (or one person
//! twice) hold sessions for the same start URL and identity names side by side.
//!
//! The realm of this process is chosen once, at start-up (`--realm`, `ATMOS_AUTH_REALM`,
//! `auth.realm`). Every id that [`crate::store::bound_id`] makes, and every user-keys id, then starts
//! with `<realm>~`; ids made without a realm are exactly those of earlier versions. `~` appears
//! in no identity name or region, so the realm of any stored entry can be read back from its id.

use std::sync::OnceLock;

/// Longest realm name.
pub const MAX_REALM_CHARS: usize = 64;
/// Between a realm and the rest of an id.
const SEPARATOR: char = '~';

static CURRENT: OnceLock<Option<String>> = OnceLock::new();

/// What is wrong with `name` as a realm name, if anything.
pub fn realm_problem(name: &str) -> Option<String> {
    let is_separator = |c: char| c == '-' || c == '_';
    if name.is_empty() {
        Some("is empty".to_owned())
    } else if name.chars().count() > MAX_REALM_CHARS {
        Some(format!("is longer than {MAX_REALM_CHARS} characters"))
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || is_separator(*c)))
    {
        Some(format!(
            "contains `{}`; use lower-case letters, digits, `-` and `_`",
            c.escape_debug()
        ))
    } else if name.starts_with(is_separator) || name.ends_with(is_separator) {
        Some("starts or ends with `-` or `_`".to_owned())
    } else {
        None
    }
}

/// Sets this process's realm; only the first call counts. `realm` must have passed
/// [`realm_problem`].
pub fn set_current(realm: Option<String>) {
    let _ = CURRENT.set(realm);
}

/// This process's realm, if any.
pub fn current() -> Option<&'static str> {
    CURRENT.get().and_then(Option::as_deref)
}

/// `id` in this process's realm: `<realm>~<id>`, or `id` itself without a realm.
pub fn qualify(id: String) -> String {
    match current() {
        Some(realm) => format!("{realm}{SEPARATOR}{id}"),
        None => id,
    }
}

/// The realm of a stored id, `None` for an id made without a realm.
pub fn realm_of(id: &str) -> Option<&str> {
    id.split_once(SEPARATOR)
        .map(|(head, _)| head)
        .filter(|head| realm_problem(head).is_none())
}

/// `id` without its realm, when it is in this process's realm; `None` for another realm's id.
pub fn in_current(id: &str) -> Option<&str> {
    match (current(), realm_of(id)) {
        (None, None) => Some(id),
        (Some(realm), Some(of)) if realm == of => Some(&id[realm.len() + 1..]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_names_are_checked() {
        for good in ["work", "client-a", "a_b", "x1", &"a".repeat(64)] {
            assert_eq!(realm_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "Work",
            "-a",
            "a-",
            "_a",
            "a b",
            "a~b",
            "a/b",
            &"a".repeat(65),
        ] {
            assert!(realm_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn realm_is_read_back_from_ids() {
        assert_eq!(realm_of("work~plat-dev/terraform@ab"), Some("work"));
        assert_eq!(realm_of("plat-dev/terraform@ab"), None);
        assert_eq!(realm_of("us-east-1|https://x/~y@ab"), None);
    }
}
