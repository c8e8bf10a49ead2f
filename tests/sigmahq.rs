//! SigmaHQ's regression suite and rule set through `sigmahq-regression`,
//! with the figures reached so far asserted exactly, so that they cannot
//! slip back unnoticed.
//!
//! The SigmaHQ checkout is not part of the repository: the test reads the
//! folder named by `SIGMAHQ_DIR`, else the data folder that development
//! machines keep beside the repository ([`sigmahq_dir`]). When there is
//! none it prints a notice and passes.

use std::path::PathBuf;
use std::process::Command;

/// Rules whose regression sample has more matching events than the
/// `match_count` of their `info.yml`: each extra event satisfies the rule.
const MORE_THAN_MATCH_COUNT: &[&str] = &[
    "0b9ad457-2554-44c1-82c2-d56a99c42377",
    "8fbf3271-1ef6-4e94-8210-03c2317947f6",
    "45e112d0-7759-4c2a-aa36-9f8fb79d3393",
    "c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e",
];

const LOADED: &str = "3755 of 3780 rules loaded from rules, rules-compliance, rules-dfir, \
                      rules-emerging-threats, rules-placeholder, rules-threat-hunting";

fn sigmahq_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SIGMAHQ_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/sigmahq"),
    };
    if dir.join("regression_data").is_dir() {
        return Some(dir);
    }
    println!("skipped: no SigmaHQ checkout at {} (set SIGMAHQ_DIR to run this test)", dir.display());
    None
}

/// Runs the tool and returns its exit code and output lines.
fn run(arguments: &[&str], dir: &PathBuf) -> (Option<i32>, Vec<String>) {
    let output = Command::new(env!("CARGO_BIN_EXE_sigmahq-regression"))
        .args(arguments)
        .arg(dir)
        .output()
        .expect("sigmahq-regression runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (output.status.code(), stdout.lines().map(str::to_string).collect())
}

fn summary_lines(lines: &[String]) -> Vec<&str> {
    lines.iter().map(String::as_str).filter(|line| !line.starts_with("    ")).collect()
}

#[test]
fn regression_figures_hold() {
    let Some(dir) = sigmahq_dir() else { return };
    let (code, lines) = run(&[], &dir);
    let summary = summary_lines(&lines);
    let warnings = MORE_THAN_MATCH_COUNT.len();
    assert_eq!(summary.len(), warnings + 3, "{summary:#?}");

    for (line, id) in summary.iter().zip(MORE_THAN_MATCH_COUNT) {
        assert!(line.starts_with(&format!("WARN {id} ")), "{line}");
    }
    assert_eq!(summary[warnings], "202 passed, 0 failed");
    assert_eq!(summary[warnings + 1], LOADED);
    assert_eq!(summary[warnings + 2], "  25 not loaded: a placeholder has no values configured");
    assert_eq!(code, Some(0));
}

#[test]
fn exact_counts_fail_only_the_undercounted_samples() {
    let Some(dir) = sigmahq_dir() else { return };
    let (code, lines) = run(&["--exact"], &dir);
    let failed: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("FAIL "))
        .filter_map(|rest| rest.split(' ').next())
        .collect();
    assert_eq!(failed, MORE_THAN_MATCH_COUNT);
    assert!(lines.iter().any(|line| line == "198 passed, 4 failed"));
    assert_eq!(code, Some(1));
}
