//! `atmos-auth profiles`: the profiles discovered for the config root with their descriptions
//! and the directory each loads from (the first of the search order holding it; copies later
//! in the order are named as shadowed), the selected ones marked. It loads files only: no
//! network, no credential store.

use std::path::Path;

use super::print;
use super::{Error, exit};
use crate::cli::Settings;
use crate::config;

/// Shown for a profile that does not load, instead of its description.
const INVALID: &str = "(invalid; run `atmos-auth validate --all-profiles`)";

pub fn run(settings: &Settings) -> Result<i32, Error> {
    let options = settings.load.clone();
    let (root, found) = config::discover_profiles(&options)?;
    let selected: Vec<String> = options
        .selected_profile()
        .map(|selection| {
            selection
                .split(',')
                .map(|name| name.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut rows = Vec::with_capacity(found.len());
    for profile in found {
        let mut options = settings.load.clone();
        options.profile = Some(profile.name.clone());
        options.config_dir = Some(root.clone());
        let description = match config::load(&options) {
            Ok(config) => config.description.unwrap_or_default(),
            Err(_) => INVALID.to_owned(),
        };
        let mut origin = format!("from {}", shown(&profile.dir, &root));
        for dir in &profile.shadowed {
            origin.push_str(&format!(", shadows {}", shown(dir, &root)));
        }
        rows.push(Row {
            selected: selected.contains(&profile.name),
            name: profile.name,
            description,
            origin,
        });
    }
    let text = render(&rows);
    print(text.as_bytes())?;
    Ok(exit::SUCCESS)
}

/// A directory relative to the config root when under it, else as is.
fn shown(dir: &Path, root: &Path) -> String {
    dir.strip_prefix(root).unwrap_or(dir).display().to_string()
}

struct Row {
    selected: bool,
    name: String,
    description: String,
    origin: String,
}

/// `* name  description  from dir` for a selected profile, `  name  description  from dir` for
/// the others, names and descriptions padded to one width; control characters shown as escapes.
fn render(rows: &[Row]) -> String {
    let width = |field: fn(&Row) -> &str| {
        rows.iter()
            .map(|row| field(row).chars().count())
            .max()
            .unwrap_or(0)
    };
    let names = width(|row| &row.name);
    let descriptions = width(|row| &row.description);
    let mut out = String::new();
    for row in rows {
        let mark = if row.selected { '*' } else { ' ' };
        let mut line = format!("{mark} ");
        crate::text::pad(&mut line, &row.name, names + 2);
        crate::text::pad(&mut line, &row.description, descriptions + 2);
        line.push_str(&row.origin);
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
        let row = |selected, name: &str, description: &str, origin: &str| Row {
            selected,
            name: name.to_owned(),
            description: description.to_owned(),
            origin: origin.to_owned(),
        };
        let rows = [
            row(
                false,
                "developers",
                "Limited access",
                "from profiles/developers",
            ),
            row(true, "devops", "Full\x1b[31m", "from profiles/devops"),
            row(
                false,
                "bare",
                "",
                "from /home/u/.config/atmos/profiles/bare",
            ),
        ];
        assert_eq!(
            render(&rows),
            "  developers  Limited access  from profiles/developers\n\
             * devops      Full\\u{1b}[31m       from profiles/devops\n\
             \x20 bare                        from /home/u/.config/atmos/profiles/bare\n"
        );
    }
}
