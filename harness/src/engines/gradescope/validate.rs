//! Checks a `results.json` against Gradescope's documented fields: the top level's and each
//! test's keys, their types, the number fields, and the enumerations (visibility, output
//! format, status). An unknown key is an error too: Gradescope would ignore it silently, so
//! a misspelt `visiblity` would pass unnoticed otherwise.

use serde_json::{Map, Value};

const TOP: &[&str] = &[
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
];
const TEST: &[&str] = &[
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
];
const VISIBILITIES: &[&str] = &["hidden", "after_due_date", "after_published", "visible"];
const FORMATS: &[&str] = &["text", "html", "simple_format", "md", "ansi"];
const STATUSES: &[&str] = &["passed", "failed"];

/// Every problem of `text` as a `results.json`; empty when it is valid.
pub fn problems(text: &str) -> Vec<String> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    let Some(top) = value.as_object() else {
        return vec!["the top level is not a JSON object".into()];
    };
    let mut out = Vec::new();
    fields(top, TOP, "", &mut out);
    let tests = top.get("tests").and_then(Value::as_array);
    for (i, test) in tests.into_iter().flatten().enumerate() {
        match test.as_object() {
            Some(t) => fields(t, TEST, &format!("tests[{i}]."), &mut out),
            None => out.push(format!("tests[{i}]: not an object")),
        }
    }
    let every_test_scored = tests.is_some_and(|t| {
        t.iter()
            .all(|t| t.get("score").is_some_and(Value::is_number))
    });
    if !top.contains_key("score") && !every_test_scored {
        out.push("no top-level score, and not every test has one".into());
    }
    out
}

/// The keys of one object: known, and each of the right type.
fn fields(obj: &Map<String, Value>, known: &[&str], at: &str, out: &mut Vec<String>) {
    for (key, value) in obj {
        if !known.contains(&key.as_str()) {
            out.push(format!("{at}{key}: not a field Gradescope documents"));
            continue;
        }
        if let Err(why) = check(key, value) {
            out.push(format!("{at}{key}: {why}"));
        }
    }
}

fn check(key: &str, value: &Value) -> Result<(), String> {
    match key {
        "score" | "max_score" | "execution_time" => number(value),
        "output" | "name" | "number" => string(value),
        "visibility" | "stdout_visibility" => one_of(value, VISIBILITIES),
        "output_format" | "test_output_format" | "test_name_format" | "name_format" => {
            one_of(value, FORMATS)
        }
        "status" => one_of(value, STATUSES),
        "tags" => match value.as_array() {
            Some(tags) if tags.iter().all(Value::is_string) => Ok(()),
            _ => Err(format!("not an array of strings: {value}")),
        },
        "extra_data" => value
            .is_object()
            .then_some(())
            .ok_or_else(|| format!("not an object: {value}")),
        "leaderboard" | "tests" => value
            .is_array()
            .then_some(())
            .ok_or_else(|| format!("not an array: {value}")),
        _ => Ok(()),
    }
}

fn number(value: &Value) -> Result<(), String> {
    match value.as_f64() {
        Some(n) if n.is_finite() => Ok(()),
        _ => Err(format!("not a number: {value}")),
    }
}

fn string(value: &Value) -> Result<(), String> {
    value
        .is_string()
        .then_some(())
        .ok_or_else(|| format!("not a string: {value}"))
}

fn one_of(value: &Value, allowed: &[&str]) -> Result<(), String> {
    match value.as_str() {
        Some(s) if allowed.contains(&s) => Ok(()),
        _ => Err(format!("{value} is not one of {}", allowed.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::problems;

    const GOOD: &str = r#"{"score": 2, "execution_time": 3, "output": "x", "output_format": "md",
        "visibility": "visible", "stdout_visibility": "hidden", "extra_data": {"a": 1},
        "tests": [{"name": "p.a", "number": "1.1", "tags": ["p"], "score": 1, "max_score": 1,
        "status": "passed", "output": "ok", "visibility": "after_due_date"}]}"#;

    #[test]
    fn a_documented_result_is_valid() {
        assert_eq!(problems(GOOD), Vec::<String>::new());
        assert_eq!(
            problems(r#"{"tests": [{"score": 1}]}"#),
            Vec::<String>::new()
        );
    }

    #[test]
    fn wrong_types_enums_and_keys_are_named() {
        let bad = GOOD
            .replace(r#""score": 2"#, r#""score": "2""#)
            .replace(r#""status": "passed""#, r#""status": "ok""#)
            .replace(r#""output_format": "md""#, r#""output_format": "markdown""#)
            .replace(
                r#""visibility": "after_due_date""#,
                r#""visiblity": "after_due_date""#,
            )
            .replace(r#""tags": ["p"]"#, r#""tags": [1]"#);
        let found = problems(&bad);
        for expected in [
            "score: not a number",
            "tests[0].status: \"ok\" is not one of passed, failed",
            "output_format: \"markdown\" is not one of",
            "tests[0].visiblity: not a field Gradescope documents",
            "tests[0].tags: not an array of strings",
        ] {
            assert!(
                found.iter().any(|p| p.starts_with(expected)),
                "{expected} not in {found:?}"
            );
        }
    }

    #[test]
    fn no_score_anywhere_and_malformed_json_are_invalid() {
        assert_eq!(
            problems(r#"{"tests": [{"name": "x"}]}"#),
            ["no top-level score, and not every test has one"]
        );
        assert!(problems("{").iter().any(|p| p.starts_with("not JSON")));
        assert_eq!(problems("[]"), ["the top level is not a JSON object"]);
        assert!(problems(r#"{"score": 1, "tests": {}}"#)
            .iter()
            .any(|p| p.starts_with("tests: not an array")));
    }
}
