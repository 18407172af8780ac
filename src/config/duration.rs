//! The one rule for durations a user writes (config keys, environment variables, flags):
//! humantime syntax, and a range each use states. A duration is added to the clock or to a
//! deadline later, so an unbounded one (`500000000000y` parses) would overflow and panic there.

use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The durations a use accepts, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub min: Duration,
    pub max: Duration,
}

impl Bounds {
    pub const fn secs(min: u64, max: u64) -> Self {
        Self {
            min: Duration::from_secs(min),
            max: Duration::from_secs(max),
        }
    }
}

/// `auth.refresh_margin`: at most the longest role session, beyond which every use refreshes.
pub const REFRESH_MARGIN: Bounds = Bounds::secs(0, 12 * HOUR);
/// A provider's `session.duration`: IAM Identity Center sessions last 15 minutes to 90 days.
pub const SSO_SESSION: Bounds = Bounds::secs(15 * MINUTE, 90 * DAY);
/// An `aws/assume-role` identity's `principal.duration`: STS role sessions.
pub const ASSUME_ROLE_SESSION: Bounds = Bounds::secs(15 * MINUTE, 12 * HOUR);
/// An `aws/user` identity's `principal.duration`: STS sessions of IAM users.
pub const USER_SESSION: Bounds = Bounds::secs(15 * MINUTE, 36 * HOUR);
/// A `credential_process` identity's `spec.timeout`: the program may wait for a person (an MFA
/// prompt, a browser), but not forever.
pub const PROCESS_TIMEOUT: Bounds = Bounds::secs(1, HOUR);
/// `ATMOS_KEYRING_TIMEOUT`: how long to wait for a credential store or its lock.
pub const STORE_TIMEOUT: Bounds = Bounds::secs(0, 10 * MINUTE);
/// `ATMOS_LOGIN_TIMEOUT`: how long a browser login waits for the browser's answer.
pub const BROWSER_LOGIN: Bounds = Bounds::secs(1, HOUR);
/// `ATMOS_HTTP_TIMEOUT`: one HTTP attempt.
pub const HTTP_ATTEMPT: Bounds = Bounds {
    min: Duration::from_millis(1),
    max: Duration::from_secs(10 * MINUTE),
};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DurationError {
    #[error("`{text}` is not a duration such as `90s`, `15m` or `1h 30m`: {reason}")]
    Invalid {
        text: String,
        reason: humantime::DurationError,
    },
    #[error("`{text}` is outside {} to {}", short(bounds.min), short(bounds.max))]
    OutOfRange { text: String, bounds: Bounds },
}

/// Parses `text` (such as `15m`, `8h` or `1h 30m`) and checks it is within `bounds`.
pub fn parse(text: &str, bounds: Bounds) -> Result<Duration, DurationError> {
    let duration = humantime::parse_duration(text).map_err(|reason| DurationError::Invalid {
        text: text.to_owned(),
        reason,
    })?;
    if (bounds.min..=bounds.max).contains(&duration) {
        Ok(duration)
    } else {
        Err(DurationError::OutOfRange {
            text: text.to_owned(),
            bounds,
        })
    }
}

/// A limit as people write it: `36h` rather than humantime's `1day 12h`.
pub fn short(duration: Duration) -> String {
    match duration.as_secs() {
        _ if duration.is_zero() => "0s".to_owned(),
        secs if duration.subsec_nanos() == 0 && secs % DAY == 0 && secs >= 2 * DAY => {
            format!("{}d", secs / DAY)
        }
        secs if duration.subsec_nanos() == 0 && secs % HOUR == 0 => format!("{}h", secs / HOUR),
        secs if duration.subsec_nanos() == 0 && secs % MINUTE == 0 => {
            format!("{}m", secs / MINUTE)
        }
        _ => humantime::format_duration(duration).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_within_bounds_parse() {
        assert_eq!(parse("1h 30m", SSO_SESSION), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("0s", REFRESH_MARGIN), Ok(Duration::ZERO));
        assert_eq!(parse("90d", SSO_SESSION), Ok(Duration::from_secs(90 * DAY)));
    }

    #[test]
    fn huge_and_out_of_range_durations_are_errors_not_panics() {
        assert_eq!(
            parse("500000000000y", SSO_SESSION).unwrap_err().to_string(),
            "`500000000000y` is outside 15m to 90d"
        );
        assert_eq!(
            parse("99999999999999999999s", SSO_SESSION)
                .unwrap_err()
                .to_string(),
            "`99999999999999999999s` is not a duration such as `90s`, `15m` or `1h 30m`: number is too large or cannot be represented without a lack of precision (values below 1ns are not supported)"
        );
        assert_eq!(
            parse("11m", ASSUME_ROLE_SESSION).unwrap_err().to_string(),
            "`11m` is outside 15m to 12h"
        );
        assert_eq!(
            parse("soon", STORE_TIMEOUT).unwrap_err().to_string(),
            "`soon` is not a duration such as `90s`, `15m` or `1h 30m`: expected number at 0"
        );
        assert_eq!(short(HTTP_ATTEMPT.min), "1ms");
        assert_eq!(short(USER_SESSION.max), "36h");
    }
}
