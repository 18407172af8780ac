//! Shape checks for the IAM ARNs a config names (roles to assume, MFA devices) and for STS
//! role session names.
//!
//! The checks are about form only, so that a typo is reported with its position at load time.
//! Whether the role or device exists is for AWS to say when credentials are resolved.

use super::AccountId;

/// The IAM resource types an ARN in the config may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IamResource {
    Role,
    Mfa,
}

impl IamResource {
    fn prefix(self) -> &'static str {
        match self {
            Self::Role => "role/",
            Self::Mfa => "mfa/",
        }
    }

    /// What the ARN names, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Role => "role",
            Self::Mfa => "MFA device",
        }
    }

    /// An example for hints, such as `arn:aws:iam::123456789012:role/<name>`.
    pub fn example(self) -> String {
        format!("arn:aws:iam::123456789012:{}<name>", self.prefix())
    }
}

/// IAM role names are at most 64 characters; MFA device names at most 256.
fn max_name_len(resource: IamResource) -> usize {
    match resource {
        IamResource::Role => 64,
        IamResource::Mfa => 256,
    }
}

/// Checks `arn:<partition>:iam::<12-digit account>:<role|mfa>/[<path>/]<name>`. The error is
/// a clause saying what is wrong, to follow "invalid ... ARN `x`: ".
pub(crate) fn check(text: &str, resource: IamResource) -> Result<(), String> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, rest] = parts[..] else {
        return Err(
            "it must have six `:`-separated parts, `arn:<partition>:iam::<account>:<resource>`"
                .to_owned(),
        );
    };
    if arn != "arn" {
        return Err("it must start with `arn:`".to_owned());
    }
    if partition.is_empty()
        || !partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "the partition `{partition}` is not one such as `aws` or `aws-us-gov`"
        ));
    }
    if service != "iam" {
        return Err(format!("the service must be `iam`, not `{service}`"));
    }
    if !region.is_empty() {
        return Err(format!(
            "IAM ARNs have no region, but `{region}` is given; write `iam::`"
        ));
    }
    if account.parse::<AccountId>().is_err() {
        return Err(format!("the account `{account}` is not exactly 12 digits"));
    }
    let prefix = resource.prefix();
    let Some(path_and_name) = rest.strip_prefix(prefix) else {
        return Err(format!("the resource must start with `{prefix}`"));
    };
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    if name.is_empty() {
        return Err(format!("the name after `{prefix}` is missing"));
    }
    if name.len() > max_name_len(resource) || !name.chars().all(is_name_char) {
        return Err(format!(
            "the name `{name}` must be 1 to {} letters, digits or `+=,.@_-`",
            max_name_len(resource)
        ));
    }
    let path = &path_and_name[..path_and_name.len() - name.len()];
    if path.contains("//") || !path.chars().all(|c| c.is_ascii_graphic()) {
        return Err(format!("the path `/{path}` is not a valid IAM path"));
    }
    Ok(())
}

/// The characters STS and IAM allow in names: `[\w+=,.@-]`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// STS accepts role session names of 2 to 64 characters from `[\w+=,.@-]`.
pub(crate) fn is_session_name(text: &str) -> bool {
    (2..=64).contains(&text.len()) && text.chars().all(is_name_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_and_mfa_arns() {
        for good in [
            "arn:aws:iam::123456789012:role/Admin",
            "arn:aws-us-gov:iam::123456789012:role/path/to/Deploy-Role_1+=,.@",
            "arn:aws-cn:iam::000000000000:role/a",
        ] {
            assert_eq!(check(good, IamResource::Role), Ok(()), "{good}");
        }
        assert_eq!(
            check("arn:aws:iam::123456789012:mfa/alice", IamResource::Mfa),
            Ok(())
        );
        for (bad, reason) in [
            ("Admin", "six `:`-separated parts"),
            ("aws:aws:iam::123456789012:role/A", "must start with `arn:`"),
            ("arn::iam::123456789012:role/A", "the partition ``"),
            ("arn:aws:sts::123456789012:role/A", "service must be `iam`"),
            (
                "arn:aws:iam:us-east-1:123456789012:role/A",
                "have no region",
            ),
            ("arn:aws:iam::1234:role/A", "the account `1234`"),
            (
                "arn:aws:iam::123456789012:user/A",
                "must start with `role/`",
            ),
            (
                "arn:aws:iam::123456789012:role/",
                "name after `role/` is missing",
            ),
            (
                "arn:aws:iam::123456789012:role/a/",
                "name after `role/` is missing",
            ),
            ("arn:aws:iam::123456789012:role/a b", "the name `a b`"),
            ("arn:aws:iam::123456789012:role/a//b", "the path `/a//`"),
            ("arn:aws:iam::123456789012:role/A", ""),
        ] {
            let result = check(bad, IamResource::Role);
            if reason.is_empty() {
                assert_eq!(result, Ok(()));
            } else {
                assert!(
                    result.as_ref().unwrap_err().contains(reason),
                    "{bad}: {result:?}"
                );
            }
        }
        assert!(check("arn:aws:iam::123456789012:role/A", IamResource::Mfa).is_err());
    }

    #[test]
    fn session_names() {
        assert!(is_session_name("ci"));
        assert!(is_session_name("alice@example.com,team=ops_1-2"));
        assert!(is_session_name(&"x".repeat(64)));
        for bad in ["", "a", "has space", "slash/y", &"x".repeat(65)] {
            assert!(!is_session_name(bad), "{bad}");
        }
    }
}
