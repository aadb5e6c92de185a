//! The shared run's judges from hand-built observations.
use super::*;

/// A run that made tmp/ and the ten files (sizes 10 + i), listed and printed them, and
/// removed tmp/.
fn observed() -> Observed {
    let mut seen = Seen {
        tmp_created: true,
        tmp_removed: true,
        exact: true,
        ..Seen::default()
    };
    for (i, n) in names().into_iter().enumerate() {
        seen.created.insert(n.clone());
        seen.deleted.insert(n.clone());
        let w = watch::Written {
            size: 10 + i as u64,
            bytes: None,
        };
        seen.written.insert(n, w);
    }
    let mut stdout: Vec<String> = names();
    stdout.extend(
        names()
            .into_iter()
            .enumerate()
            .map(|(i, n)| format!("{n} {}", 10 + i)),
    );
    Observed {
        stdout,
        stderr: Vec::new(),
        exit: Exit::Code(0),
        seen,
        before: BTreeMap::new(),
        after: BTreeMap::new(),
    }
}

#[test]
fn a_correct_run_passes_all_three() {
    let o = observed();
    for (id, judge) in RUN.judges {
        let j = judge(&o);
        assert!(
            matches!(j, crate::scenario::Judged::Verdict(Ok(_))),
            "{id}: {j:?}"
        );
    }
}

#[test]
fn a_wrong_size_fails_stat_only() {
    let mut o = observed();
    o.stdout[13] = "tmpfile3.txt 99".into();
    assert!(judge_stat(&o).is_err());
    assert!(judge_created(&o).is_ok() && judge_cleanup(&o).is_ok());
}

#[test]
fn tmp_left_behind_fails_cleanup_only() {
    let mut o = observed();
    o.after.insert("tmp".into(), "folder".into());
    assert!(judge_cleanup(&o).is_err());
    assert!(judge_created(&o).is_ok() && judge_stat(&o).is_ok());
}
