//! `whoami`'s report: who STS says the identity's credentials belong to, as text or JSON.

use serde::Serialize;

use crate::text::printable;

/// The output formats of `whoami`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// The account, ARN and user id are what STS said; they are shown terminal-safe.
#[derive(Serialize)]
pub struct Report {
    pub identity: String,
    pub account: String,
    pub arn: String,
    pub user_id: String,
    pub expiration: String,
}

/// The text of `report` in `format`, ending in a newline.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        // What STS said, with DEL, C1 and bidi controls escaped too.
        Format::Json => format!("{}\n", crate::text::json_pretty(report)),
        Format::Text => format!(
            "identity    {}\naccount     {}\narn         {}\nuser id     {}\nexpires     {}\n",
            printable(&report.identity),
            printable(&report.account),
            printable(&report.arn),
            printable(&report.user_id),
            report.expiration
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_sts_said() {
        let report = Report {
            identity: "a/b".into(),
            account: "111111111111".into(),
            arn: "arn:aws:sts::111111111111:assumed-role/R/s\x1b[2J".into(),
            user_id: "AROATEST:s".into(),
            expiration: "2026-01-01T00:00:00Z".into(),
        };
        assert_eq!(
            render(&report, Format::Text),
            "identity    a/b\naccount     111111111111\n\
             arn         arn:aws:sts::111111111111:assumed-role/R/s\\u{1b}[2J\n\
             user id     AROATEST:s\nexpires     2026-01-01T00:00:00Z\n"
        );
    }
}
