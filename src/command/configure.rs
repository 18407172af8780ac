//! `atmos-auth configure IDENTITY`: store an IAM user's long-lived access keys in the credential
//! store, for an `aws/user` identity. They are asked for at the terminal (the secret without
//! echo) or read as two lines from stdin, and never written anywhere else.

use std::io::{BufRead, IsTerminal, Write};

use super::Context;
use super::{Error, exit};
use crate::config::IdentityKind;
use crate::credentials::AccessKeys;
use crate::identity::user_keys_id;
use crate::secret::Secret;
use crate::store::{EntryKey, Namespace};
use crate::typed_entry;

#[derive(Debug, thiserror::Error)]
pub enum ConfigureError {
    #[error("identity `{identity}` is not of kind aws/user: only IAM user keys are configured")]
    NotAUser { identity: String },
    #[error("no access key id was given")]
    MissingKeyId,
    #[error("no secret access key was given")]
    MissingSecret,
    #[error("could not read the keys")]
    Read(#[source] std::io::Error),
}

pub fn run(context: &Context, identity: &str) -> Result<i32, Error> {
    let identity = context.identity(Some(identity))?;
    if !matches!(identity.kind, IdentityKind::User { .. }) {
        return Err(ConfigureError::NotAUser {
            identity: identity.name.clone(),
        }
        .into());
    }
    let keys = if std::io::stdin().is_terminal() {
        prompt()?
    } else {
        read_lines()?
    };
    let id = user_keys_id(&context.config, identity);
    typed_entry::save(
        &context.store,
        &EntryKey::new(Namespace::UserKeys, id),
        &keys,
    )?;
    // Session credentials made from older keys must not outlive them.
    context.resolver().forget(identity)?;
    eprintln!(
        "Stored the access keys for {} in the {} credential store.",
        identity.name,
        context.store.kind()
    );
    Ok(exit::SUCCESS)
}

fn prompt() -> Result<AccessKeys, ConfigureError> {
    eprint!("AWS access key id: ");
    let _ = std::io::stderr().flush();
    let mut id = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut id)
        .map_err(ConfigureError::Read)?;
    let secret =
        rpassword::prompt_password("AWS secret access key: ").map_err(ConfigureError::Read)?;
    keys(id.trim(), Secret::new(secret))
}

/// Two lines: the access key id, then the secret.
fn read_lines() -> Result<AccessKeys, ConfigureError> {
    let mut lines = std::io::stdin().lock().lines();
    let id = lines
        .next()
        .transpose()
        .map_err(ConfigureError::Read)?
        .unwrap_or_default();
    let secret = Secret::new(
        lines
            .next()
            .transpose()
            .map_err(ConfigureError::Read)?
            .unwrap_or_default(),
    );
    keys(id.trim(), secret)
}

fn keys(id: &str, secret: Secret<String>) -> Result<AccessKeys, ConfigureError> {
    if id.is_empty() {
        return Err(ConfigureError::MissingKeyId);
    }
    let trimmed = secret.expose().trim();
    if trimmed.is_empty() {
        return Err(ConfigureError::MissingSecret);
    }
    Ok(AccessKeys {
        access_key_id: id.to_owned(),
        secret_access_key: Secret::new(trimmed.to_owned()),
    })
}
