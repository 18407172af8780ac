//! Which interactive login runs: the authorization code with PKCE through a browser, or the device
//! code, and why. Pure: the command layer finds out what the machine offers
//! ([`BrowserSupport`]) and what the user asked for; this module only decides.
//!
//! The code flow needs a browser on this machine, since the answer comes back to a loopback
//! listener. Without one (an SSH session, a container, CI) the device code is the login that
//! works, and the user is told in one line why it was chosen.

use std::fmt;
use std::time::Duration;

use super::device::BrowserPolicy;
use crate::config::{IdentityCenter, LoginMethod};

/// The variable that sets how long the code flow waits for the browser's answer (a duration
/// such as `90s`); 600 s, as the AWS CLI waits, when unset.
pub const LOGIN_TIMEOUT_ENV: &str = "ATMOS_LOGIN_TIMEOUT";
pub const DEFAULT_BROWSER_TIMEOUT_SECS: u64 = 600;

/// What the machine offers for opening a browser, as the command layer found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserSupport {
    /// `BROWSER` names one: it is used wherever atmos-auth runs, containers included.
    Named,
    /// A graphical session, or a platform that always has one.
    Desktop,
    /// Linux or BSD without `DISPLAY` or `WAYLAND_DISPLAY`: an SSH session or a container.
    NoDisplay,
    /// `CI` is set: nobody is there to approve anything in a browser.
    Ci,
    /// Standard input is not a terminal: a script, not a person.
    NotATerminal,
}

impl BrowserSupport {
    fn can_open(self) -> bool {
        matches!(self, Self::Named | Self::Desktop)
    }
}

/// An interactive login as asked for: the command-line switches and what the machine offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginRequest {
    /// `--use-device-code`.
    pub use_device_code: bool,
    /// `--no-browser`.
    pub no_browser: bool,
    pub browser: BrowserSupport,
    /// How long the code flow waits for the browser's answer.
    pub browser_timeout: Duration,
}

/// The login that runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Authorization code with PKCE: the browser is opened on the authorize page.
    AuthorizationCode { timeout: Duration },
    /// Device code, for the reason given; the verification page is opened when `browser` says so.
    DeviceCode {
        why: Fallback,
        browser: BrowserPolicy,
    },
}

/// Why the device code was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    UseDeviceCode,
    NoBrowser,
    ProviderSetting,
    NoDisplay,
    Ci,
    NotATerminal,
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UseDeviceCode => "`--use-device-code` was given",
            Self::NoBrowser => "`--no-browser` was given",
            Self::ProviderSetting => "the provider sets `login: device-code`",
            Self::NoDisplay => {
                "no browser can be opened here (neither DISPLAY nor WAYLAND_DISPLAY is set; \
                 set BROWSER to name one)"
            }
            Self::Ci => "CI is set, so no browser is opened",
            Self::NotATerminal => "standard input is not a terminal, so no browser is opened",
        })
    }
}

impl LoginRequest {
    /// The login for `provider`: the user's switches first, then the provider's setting, then
    /// what the machine offers.
    pub fn flow(&self, provider: &IdentityCenter) -> Flow {
        let device = |why| Flow::DeviceCode {
            why,
            browser: if self.browser.can_open() && !self.no_browser {
                BrowserPolicy::Open
            } else {
                BrowserPolicy::Never
            },
        };
        if self.use_device_code {
            return device(Fallback::UseDeviceCode);
        }
        if self.no_browser {
            return device(Fallback::NoBrowser);
        }
        if provider.login == LoginMethod::DeviceCode {
            return device(Fallback::ProviderSetting);
        }
        match self.browser {
            BrowserSupport::Named | BrowserSupport::Desktop => Flow::AuthorizationCode {
                timeout: self.browser_timeout,
            },
            BrowserSupport::NoDisplay => device(Fallback::NoDisplay),
            BrowserSupport::Ci => device(Fallback::Ci),
            BrowserSupport::NotATerminal => device(Fallback::NotATerminal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(login: LoginMethod) -> IdentityCenter {
        IdentityCenter {
            region: "us-east-1".into(),
            start_url: "https://example.awsapps.com/start".into(),
            session_duration: None,
            endpoint_url: None,
            auto_provision_identities: false,
            login,
        }
    }

    fn request(browser: BrowserSupport) -> LoginRequest {
        LoginRequest {
            use_device_code: false,
            no_browser: false,
            browser,
            browser_timeout: Duration::from_secs(600),
        }
    }

    const CODE: Flow = Flow::AuthorizationCode {
        timeout: Duration::from_secs(600),
    };

    fn device(why: Fallback, browser: BrowserPolicy) -> Flow {
        Flow::DeviceCode { why, browser }
    }

    #[test]
    fn a_browser_named_or_on_a_desktop_gets_the_code_flow() {
        let sso = provider(LoginMethod::Browser);
        assert_eq!(request(BrowserSupport::Named).flow(&sso), CODE);
        assert_eq!(request(BrowserSupport::Desktop).flow(&sso), CODE);
    }

    #[test]
    fn without_a_browser_the_device_code_runs_and_opens_nothing() {
        let sso = provider(LoginMethod::Browser);
        for (support, why) in [
            (BrowserSupport::NoDisplay, Fallback::NoDisplay),
            (BrowserSupport::Ci, Fallback::Ci),
            (BrowserSupport::NotATerminal, Fallback::NotATerminal),
        ] {
            assert_eq!(
                request(support).flow(&sso),
                device(why, BrowserPolicy::Never)
            );
        }
    }

    #[test]
    fn switches_and_the_provider_setting_win_over_a_browser() {
        let sso = provider(LoginMethod::Browser);
        let mut asked = request(BrowserSupport::Named);
        asked.use_device_code = true;
        assert_eq!(
            asked.flow(&sso),
            device(Fallback::UseDeviceCode, BrowserPolicy::Open)
        );
        asked.no_browser = true;
        assert_eq!(
            asked.flow(&sso),
            device(Fallback::UseDeviceCode, BrowserPolicy::Never)
        );
        asked.use_device_code = false;
        assert_eq!(
            asked.flow(&sso),
            device(Fallback::NoBrowser, BrowserPolicy::Never)
        );
        assert_eq!(
            request(BrowserSupport::Desktop).flow(&provider(LoginMethod::DeviceCode)),
            device(Fallback::ProviderSetting, BrowserPolicy::Open)
        );
    }
}
