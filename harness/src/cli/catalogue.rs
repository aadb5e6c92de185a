//! `sysgrade list` and `sysgrade explain`: the catalogue as students read it.

use super::emit;
use crate::exercises::{self, HYGIENE};
use crate::explain;
use std::fmt::Write;

/// Every scenario id with what a correct program does there, one per line.
pub(super) fn list() -> i32 {
    let rows: Vec<(String, &str)> = exercises::ALL
        .iter()
        .flat_map(|e| {
            e.scenarios
                .iter()
                .map(move |s| (format!("{}.{}", e.id, s.id), s.summary))
                .chain(std::iter::once((
                    format!("{}.{HYGIENE}", e.id),
                    explain::HYGIENE_SUMMARY,
                )))
        })
        .collect();
    let width = rows.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (id, summary) in rows {
        let _ = writeln!(out, "{id:<width$}  {summary}");
    }
    emit(&out);
    0
}

/// What a correct program does, each scenario and how it is checked; exit 2 for an
/// unknown exercise, with the nearest id.
pub(super) fn explain(id: &str) -> i32 {
    match (exercises::get(id), explain::text(id)) {
        (Some(_), Some(text)) => {
            emit(text);
            0
        }
        _ => {
            let unknown = crate::error::Error::UnknownExercise {
                id: id.into(),
                hint: crate::suggest::did_you_mean(id, exercises::ALL.iter().map(|e| e.id)),
            };
            eprintln!("error: {unknown}");
            2
        }
    }
}
