//! `atmos-auth profiles`: the profiles under the config root with their descriptions, the
//! selected one marked. It loads files only: no network, no credential store.

use super::print;
use crate::cli::Global;
use crate::config;
use crate::error::{Error, exit};

/// Shown for a profile that does not load, instead of its description.
const INVALID: &str = "(invalid; run `atmos-auth validate --all-profiles`)";

pub fn run(global: &Global) -> Result<i32, Error> {
    let options = global.load_options();
    let (root, names) = config::profiles_under(&options)?;
    let selected = options.selected_profile().map(str::to_owned);
    let mut rows = Vec::with_capacity(names.len());
    for name in names {
        let mut options = global.load_options();
        options.profile = Some(name.clone());
        options.config_dir = Some(root.clone());
        let description = match config::load(&options) {
            Ok(config) => config.description.unwrap_or_default(),
            Err(_) => INVALID.to_owned(),
        };
        rows.push((
            selected.as_deref() == Some(name.as_str()),
            name,
            description,
        ));
    }
    let text = render(&rows);
    print(text.as_bytes())?;
    Ok(exit::SUCCESS)
}

/// `* name  description` for the selected profile, `  name  description` for the others,
/// names padded to one width; control characters shown as escapes.
fn render(rows: &[(bool, String, String)]) -> String {
    let width = rows
        .iter()
        .map(|(_, name, _)| name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (selected, name, description) in rows {
        let mark = if *selected { '*' } else { ' ' };
        let line = format!("{mark} {name:<width$}  {description}");
        out.push_str(&crate::text::printable(line.trim_end()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_aligned_and_the_selected_one_marked() {
        let rows = [
            (false, "developers".to_owned(), "Limited access".to_owned()),
            (true, "devops".to_owned(), "Full access\x1b[31m".to_owned()),
            (false, "bare".to_owned(), String::new()),
        ];
        assert_eq!(
            render(&rows),
            "  developers  Limited access\n* devops      Full access\\u{1b}[31m\n  bare\n"
        );
    }
}
