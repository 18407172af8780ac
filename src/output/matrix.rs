//! The access matrix as text: an aligned table, a Markdown table or JSON.
//!
//! It owns only the formats; what a cell holds is decided by `crate::matrix`. Every text that
//! came from a profile or the matrix file is escaped for a terminal here.

use serde_json::json;

use crate::matrix::{Cell, Matrix};
use crate::text::{json_pretty, printable};

/// The output formats of `matrix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Json,
}

/// The text of `matrix` in `format`, ending in a newline.
pub fn render(matrix: &Matrix, format: Format) -> String {
    match format {
        Format::Table => table(matrix),
        Format::Markdown => markdown(matrix),
        Format::Json => {
            let mut text = json_pretty(&to_json(matrix));
            text.push('\n');
            text
        }
    }
}

/// The header and the rows of cell texts, escaped for a terminal.
fn grid(matrix: &Matrix) -> Vec<Vec<String>> {
    let mut lines = vec![
        std::iter::once("profile".to_owned())
            .chain(matrix.tiers.iter().map(|t| t.name.clone()))
            .map(|t| printable(&t))
            .collect::<Vec<_>>(),
    ];
    for row in &matrix.rows {
        lines.push(
            std::iter::once(row.profile.clone())
                .chain(row.cells.iter().map(Cell::text))
                .map(|t| printable(&t))
                .collect(),
        );
    }
    lines
}

fn table(matrix: &Matrix) -> String {
    let grid = grid(matrix);
    let columns = grid[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            grid.iter()
                .map(|line| line[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &grid {
        let mut text = String::new();
        for (c, cell) in line.iter().enumerate() {
            text.push_str(cell);
            if c + 1 < columns {
                let pad = widths[c] - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// The seeds' shape: `| profile | Root | … |`, `|---|…|`, one line per profile.
fn markdown(matrix: &Matrix) -> String {
    let grid = grid(matrix);
    let line = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut out = line(&grid[0]);
    out.push_str(&format!("|{}\n", "---|".repeat(grid[0].len())));
    for row in &grid[1..] {
        out.push_str(&line(row));
    }
    out
}

fn to_json(matrix: &Matrix) -> serde_json::Value {
    let tiers: Vec<_> = matrix
        .tiers
        .iter()
        .map(|t| json!({ "name": t.name, "accounts": t.accounts }))
        .collect();
    let profiles: Vec<_> = matrix
        .rows
        .iter()
        .map(|row| {
            let cells: Vec<_> = row
                .cells
                .iter()
                .map(|cell| {
                    let accounts: Vec<_> = cell
                        .accounts
                        .iter()
                        .map(|a| {
                            json!({
                                "account": a.account,
                                "level": a.level.to_string(),
                                "identity": a.grant.as_ref().map(|g| &g.identity),
                                "principal": a.grant.as_ref().map(|g| &g.principal),
                            })
                        })
                        .collect();
                    json!({
                        "tier": cell.tier,
                        "level": cell.level().map_or("mixed".to_owned(), |l| l.to_string()),
                        "accounts": accounts,
                    })
                })
                .collect();
            json!({ "name": row.profile, "description": row.description, "cells": cells })
        })
        .collect();
    let problems: Vec<_> = matrix.problems.iter().map(|p| p.to_string()).collect();
    json!({ "tiers": tiers, "profiles": profiles, "problems": problems })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::compute;
    use crate::matrix::tests::{declared, humans, machines};

    #[test]
    fn renders_an_aligned_table_markdown_and_json() {
        let matrix = compute(&declared().tiers, &[humans(), machines()]);
        assert_eq!(
            render(&matrix, Format::Table),
            "\
profile   Root   Core accounts                                  Dev
humans    State  Write                                          Write
machines  State  mixed: Write (core-identity), Read (core-dns)  Read
"
        );
        assert_eq!(
            render(&matrix, Format::Markdown),
            "\
| profile | Root | Core accounts | Dev |
|---|---|---|---|
| humans | State | Write | Write |
| machines | State | mixed: Write (core-identity), Read (core-dns) | Read |
"
        );
        let json: serde_json::Value = serde_json::from_str(&render(&matrix, Format::Json)).unwrap();
        assert_eq!(json["profiles"][1]["cells"][1]["level"], "mixed");
        assert_eq!(
            json["profiles"][0]["cells"][2]["accounts"][0],
            json!({"account": "plat-dev", "level": "Write", "identity": "plat-dev/admin", "principal": "AdministratorAccess"})
        );
        assert_eq!(json["profiles"][0]["description"], "The humans");
        assert_eq!(
            json["tiers"][1]["accounts"],
            json!(["core-identity", "core-dns"])
        );
    }
}
