//! Keeping PrairieLearn's results under its 1 MB: the longest texts (tests' outputs and
//! messages, the top-level output) are cut first, all to one common length, and each cut says
//! so; the top-level message then says that outputs were cut and why.

use serde_json::Value;

/// PrairieLearn's limit on `results.json`.
pub const LIMIT: usize = 1_000_000;
/// What the rendered results are fitted into: below [`LIMIT`], leaving room for what the
/// host adds.
pub const BUDGET: usize = 960_000;

/// Appended where a text was cut.
fn cut_note(bytes: usize) -> String {
    format!("\n… [{bytes} bytes cut here to keep the results under PrairieLearn's 1 MB]")
}

/// Added to the top-level message when anything was cut.
pub const CUT_MESSAGE: &str = "Some outputs were too long for PrairieLearn (results must stay under 1 MB): the longest were cut, each where it says so.";

/// The rendered size of `value`, as `render` writes it.
fn size(value: &Value) -> usize {
    serde_json::to_string_pretty(value).map_or(0, |s| s.len())
}

/// The size of `text` as a JSON string (quotes and escapes included).
fn json_len(text: &str) -> usize {
    2 + text.chars().map(escaped_len).sum::<usize>()
}

fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The longest prefix of `text` whose JSON size is at most `max`.
fn prefix(text: &str, max: usize) -> &str {
    let mut used = 2;
    for (i, c) in text.char_indices() {
        used += escaped_len(c);
        if used > max {
            return &text[..i];
        }
    }
    text
}

/// JSON pointers to the texts that may be cut: the top-level output, each test's output and
/// message.
fn texts(value: &Value) -> Vec<String> {
    let mut out = vec!["/output".to_string()];
    let tests = value["tests"].as_array().map_or(0, Vec::len);
    for i in 0..tests {
        out.push(format!("/tests/{i}/output"));
        out.push(format!("/tests/{i}/message"));
    }
    out
}

/// The largest common length `cap` such that cutting every text longer than it frees at least
/// `excess` bytes (0 when even that is not enough).
fn cap(sizes: &[usize], excess: usize) -> usize {
    let freed = |cap: usize| sizes.iter().map(|s| s.saturating_sub(cap)).sum::<usize>();
    let (mut lo, mut hi) = (0, sizes.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if freed(mid) >= excess {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Cuts the longest texts of `value` until its rendering is at most `budget` bytes; says so
/// in the top-level message. Returns whether anything was cut.
pub fn fit(value: &mut Value, budget: usize) -> bool {
    if size(value) <= budget {
        return false;
    }
    // Room for the message's note; the cut notes are inside each cap. Measured again after
    // each pass, as escapes make a text's size in JSON differ from its length.
    let reserve = CUT_MESSAGE.len() + 64;
    for _ in 0..8 {
        let excess = (size(value) + reserve).saturating_sub(budget);
        if excess == 0 {
            break;
        }
        cut_all(value, excess);
    }
    if size(value) + CUT_MESSAGE.len() + 2 > budget {
        // Nothing else helped (thousands of tests): every cuttable text goes.
        for pointer in texts(value) {
            if let Some(slot) = value.pointer_mut(&pointer) {
                *slot = Value::String(cut_note(0).trim_start().to_string());
            }
        }
    }
    let message = value["message"].as_str().unwrap_or_default().to_string();
    value["message"] = Value::String(format!("{message}\n{CUT_MESSAGE}"));
    true
}

/// Cuts every text longer than the common cap that frees `excess` bytes.
fn cut_all(value: &mut Value, excess: usize) {
    let pointers = texts(value);
    let sizes: Vec<usize> = pointers
        .iter()
        .map(|p| value.pointer(p).and_then(Value::as_str).map_or(0, json_len))
        .collect();
    let cap = cap(&sizes, excess);
    for (pointer, size) in pointers.iter().zip(sizes) {
        if size <= cap {
            continue;
        }
        let Some(slot) = value.pointer_mut(pointer) else {
            continue;
        };
        let text = slot.as_str().unwrap_or_default();
        let note = cut_note(text.len());
        let kept = prefix(text, cap.saturating_sub(json_len(&note)));
        let note = cut_note(text.len() - kept.len());
        *slot = Value::String(format!("{kept}{note}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn results(outputs: &[String]) -> Value {
        let tests: Vec<Value> = outputs
            .iter()
            .enumerate()
            .map(|(i, o)| json!({"name": format!("t{i}"), "message": "m", "output": o}))
            .collect();
        json!({"gradable": true, "score": 1.0, "message": "sysgrade: 1/1 points", "output": "", "tests": tests})
    }

    #[test]
    fn small_results_are_left_as_they_are() {
        let mut v = results(&["a".repeat(100)]);
        let before = v.clone();
        assert!(!fit(&mut v, BUDGET));
        assert_eq!(v, before);
    }

    #[test]
    fn the_longest_outputs_are_cut_first_and_each_cut_says_so() {
        let big = "x".repeat(3_000_000);
        let control = "\u{1}".repeat(400_000); // 6 bytes each in JSON
        let small = "kept whole".to_string();
        let mut v = results(&[big, control, small.clone()]);
        assert!(fit(&mut v, BUDGET));
        let size = serde_json::to_string_pretty(&v).unwrap().len();
        assert!(size <= BUDGET && size > BUDGET / 2, "{size}");
        assert_eq!(v["tests"][2]["output"], small.as_str());
        for i in [0, 1] {
            let out = v["tests"][i]["output"].as_str().unwrap();
            assert!(out.contains("bytes cut here to keep the results under PrairieLearn's 1 MB"));
        }
        assert!(v["message"].as_str().unwrap().ends_with(CUT_MESSAGE));
    }

    #[test]
    fn many_long_outputs_share_the_room() {
        let outputs: Vec<String> = (0..300).map(|i| format!("{i}").repeat(20_000)).collect();
        let mut v = results(&outputs);
        assert!(fit(&mut v, BUDGET));
        assert!(serde_json::to_string_pretty(&v).unwrap().len() <= BUDGET);
    }

    #[test]
    fn the_cap_frees_what_is_needed() {
        assert_eq!(cap(&[10, 50, 100], 60), 45);
        assert_eq!(cap(&[10, 10], 100), 0);
    }
}
