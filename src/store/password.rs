//! The `file` store's password: where the CLI gets it, and what it must be.
//!
//! It owns [`read_file_password`] (the environment, else a terminal prompt) and the minimum
//! length. The store never reads the environment or a terminal itself: it takes the password as a
//! [`Secret`] from the CLI, which calls [`read_file_password`].

use std::ffi::OsString;
use std::io::{self, IsTerminal};
use std::path::Path;

use super::StoreError;
use crate::secret::Secret;

/// Environment variable holding the `file` store's password.
pub const KEYRING_PASSWORD_ENV: &str = "ATMOS_KEYRING_PASSWORD";
/// The shortest password the `file` store accepts, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// What is wrong with a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("is shorter than {min_chars} characters")]
    TooShort { min_chars: usize },
    #[error("is not valid UTF-8")]
    NotUtf8,
    #[error("and its confirmation differ")]
    Mismatch,
}

/// The password for the `file` store at `path`: `ATMOS_KEYRING_PASSWORD` if set, else a prompt
/// on the terminal when stdin is one (asked twice when the file does not exist yet, since a typo
/// there would lock the user out), else [`StoreError::PasswordRequired`].
pub fn read_file_password(path: &Path) -> Result<Secret<String>, StoreError> {
    password_from(
        std::env::var_os(KEYRING_PASSWORD_ENV),
        io::stdin().is_terminal(),
        !path.exists(),
        |prompt| rpassword::prompt_password(prompt).map(Secret::new),
    )
    .map_err(|error| match error {
        PasswordError::Store(error) => error,
        PasswordError::Prompt(source) => StoreError::Io {
            what: "read the password for",
            path: path.to_owned(),
            source,
        },
    })
}

pub(super) enum PasswordError {
    Store(StoreError),
    Prompt(io::Error),
}

impl From<StoreError> for PasswordError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// [`read_file_password`] with its inputs passed in: the variable's value, whether stdin is a
/// terminal, whether to ask twice, and the prompt.
pub(super) fn password_from(
    env: Option<OsString>,
    terminal: bool,
    confirm: bool,
    mut prompt: impl FnMut(&str) -> io::Result<Secret<String>>,
) -> Result<Secret<String>, PasswordError> {
    let password = match env {
        Some(value) => {
            Secret::new(
                value
                    .into_string()
                    .map_err(|_| StoreError::InvalidPassword {
                        problem: PasswordProblem::NotUtf8,
                    })?,
            )
        }
        None if terminal => {
            let password =
                prompt("atmos-auth credential file password: ").map_err(PasswordError::Prompt)?;
            check_password(&password)?;
            if confirm {
                let again = prompt("Repeat the password: ").map_err(PasswordError::Prompt)?;
                if again != password {
                    return Err(StoreError::InvalidPassword {
                        problem: PasswordProblem::Mismatch,
                    }
                    .into());
                }
            }
            password
        }
        None => return Err(StoreError::PasswordRequired.into()),
    };
    check_password(&password)?;
    Ok(password)
}

pub(super) fn check_password(password: &Secret<String>) -> Result<(), StoreError> {
    if password.expose().chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::InvalidPassword {
            problem: PasswordProblem::TooShort {
                min_chars: MIN_PASSWORD_CHARS,
            },
        });
    }
    Ok(())
}
