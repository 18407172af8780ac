//! Text that did not come from the program itself (names from a profile, and everything a
//! server says: user codes, verification URIs, error messages, account names), made safe to
//! write to a terminal.
//!
//! A terminal obeys control characters: ESC starts sequences that move the cursor, recolour,
//! rewrite the title or the clipboard, and bidi controls reorder what the eye reads. Each such
//! character is written as a visible `\u{…}` escape (`\n`, `\r`, `\t` as those two characters),
//! so the text shows what was sent and cannot act on the terminal.

/// Whether `c` would act on a terminal or reorder text: C0, DEL, C1 and the bidi embedding,
/// override and isolate controls (U+202A–U+202E, U+2066–U+2069).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character written as an escape.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `value` as pretty JSON with every unsafe character written as a `\uXXXX` escape: the same
/// JSON value, safe to show on a terminal. serde_json escapes C0 controls itself but writes DEL,
/// C1 controls (U+009B is CSI) and bidi controls as they are.
pub fn json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let json = serde_json::to_string_pretty(value).expect("the value serializes");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        // Outside strings, the only control is the pretty printer's newline; inside them, every
        // unsafe character left is above U+001F and below U+FFFF, so one escape writes it.
        if is_unsafe(c) && c != '\n' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// `value` as YAML, safe to show on a terminal. serde_saphyr escapes C0, DEL and C1 controls
/// but writes bidi controls as they are, in any scalar style; a document that would hold one (or
/// any other unsafe character) is written instead as its JSON from [`json_pretty`], which is
/// YAML's flow style: the same document to a YAML reader, with every such character escaped.
pub fn yaml<T: serde::Serialize>(value: &T) -> String {
    let yaml = serde_saphyr::to_string(value).expect("the value serializes");
    if yaml.chars().any(|c| is_unsafe(c) && c != '\n') {
        let mut json = json_pretty(value);
        json.push('\n');
        json
    } else {
        yaml
    }
}

/// `names` joined with commas, or `none`: the lists hints name (identities, accounts).
pub fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Appends `text` to `out`, then spaces up to `width` characters. The formatter's own padding
/// (`{:<width$}`) panics on a width above 65,535, which a name from a profile or a portal can
/// reach.
pub fn pad(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    let count = text.chars().count();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(count)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_characters_and_takes_any_width() {
        let mut out = String::new();
        pad(&mut out, "é1", 4);
        assert_eq!(out, "é1  ");
        let long = "x".repeat(70_000);
        let mut out = String::new();
        pad(&mut out, &long, 70_001);
        assert_eq!(out.len(), 70_001);
        pad(&mut out, "ab", 1);
        assert!(out.ends_with(" ab"));
    }

    #[test]
    fn json_keeps_the_value_and_loses_every_unsafe_character() {
        let hostile = "arn:aws:sts::1:assumed-role/a\u{9b}2J\u{202e}b\u{7f}/\u{1b}[31m\nx";
        let value = serde_json::json!({ "arn": hostile, "list": [hostile] });
        let json = json_pretty(&value);
        assert!(!json.chars().any(|c| is_unsafe(c) && c != '\n'), "{json}");
        assert!(
            json.contains(r"a\u009b2J\u202eb\u007f/\u001b[31m\nx"),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap(),
            value
        );
    }

    #[test]
    fn yaml_keeps_the_value_and_loses_every_unsafe_character() {
        let hostile = "a\u{9b}2J\u{202e}b\u{7f}/\u{1b}[31m\u{2066}x\u{2069}\tc";
        let value = serde_json::json!({ "arn": hostile, "list": [hostile] });
        let text = yaml(&value);
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text}");
        assert_eq!(
            serde_saphyr::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
        let plain = serde_json::json!({ "name": "plat-dev/Admin — ✓", "tags": ["a", "b"] });
        assert_eq!(yaml(&plain), serde_saphyr::to_string(&plain).unwrap());
    }

    #[test]
    fn plain_text_is_untouched() {
        let text = "plat-dev/Terraform Apply — ünïcode ✓";
        assert_eq!(printable(text), text);
    }

    #[test]
    fn c0_c1_del_and_escape_become_visible_escapes() {
        assert_eq!(
            printable("a\u{1b}[31mred\u{7}\u{7f}\u{9b}2J\n\t"),
            "a\\u{1b}[31mred\\u{7}\\u{7f}\\u{9b}2J\\n\\t"
        );
    }

    #[test]
    fn bidi_controls_become_visible_escapes() {
        assert_eq!(
            printable("evil\u{202e}txt.exe\u{2066}x\u{2069}"),
            "evil\\u{202e}txt.exe\\u{2066}x\\u{2069}"
        );
    }

    #[test]
    fn nothing_unsafe_survives() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!printable(&all).chars().any(is_unsafe));
    }
}
