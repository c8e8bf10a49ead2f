//! Results never depend on the prefilter: every test input scanned with it
//! on and off gives the same matches, and generated events around the
//! literals (case, escapes, push boundaries) agree too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use sigma_edge::{Engine, Match, Scanner, Summary};

fn data_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            data_files(&path, out);
        } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "yml" | "txt")) {
            out.push(path);
        }
    }
}

fn scan(engine: &Arc<Engine>, bytes: &[u8], piece: usize, prefilter: bool) -> (Vec<Match>, Summary) {
    let mut scanner = Scanner::new(engine.clone(), "input");
    scanner.set_prefilter(prefilter);
    let mut matches = Vec::new();
    for chunk in bytes.chunks(piece.max(1)) {
        match scanner.push(chunk) {
            Ok(found) => matches.extend(found),
            Err(_) => return (matches, scanner.summary().clone()),
        }
    }
    let (rest, summary) = scanner.finish().unwrap();
    matches.extend(rest);
    (matches, summary)
}

#[test]
fn test_files_match_alike_with_and_without() {
    let engine = Arc::new(Engine::with_default_rules());
    assert!(engine.prefilter().is_some(), "the default rules have a prefilter");
    let mut files = Vec::new();
    data_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"), &mut files);
    assert!(files.len() >= 16, "found only {} test files", files.len());

    let mut skipped = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let (on, on_summary) = scan(&engine, &bytes, 1 << 20, true);
        let (off, off_summary) = scan(&engine, &bytes, 1 << 20, false);
        assert_eq!(on, off, "{}", file.display());
        assert_eq!(on_summary.records, off_summary.records, "{}", file.display());
        assert_eq!(off_summary.records_skipped, 0);
        skipped += on_summary.records_skipped;
    }
    // The OTRF captures hold thousands of records with no EDR-Freeze literal.
    assert!(skipped > 5000, "the prefilter skipped only {skipped} records");
}

#[test]
fn edr_freeze_literal_in_evtx_is_found() {
    let engine = Arc::new(Engine::builder().default_rules(false).rule_text(
        "edr.yml",
        sigma_edge::engine::DEFAULT_RULES[0].1,
    ).build());
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/edr-freeze/proc_access_win_werfaultsecure_msmpeng_access/387df17d-3b04-448f-8669-9e7fd5e5fd8c.evtx");
    let bytes = std::fs::read(path).unwrap();
    for piece in [1000, 4096, 65536, 1 << 20] {
        let (matches, summary) = scan(&engine, &bytes, piece, true);
        assert_eq!(matches.len(), 1, "piece {piece}");
        assert_eq!(summary.records_skipped, 0);
    }
    let other = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/edr-freeze/proc_creation_win_hktl_edr_freeze/c598cc0c-9e70-4852-b9eb-8921af79f598.evtx");
    let (matches, summary) = scan(&engine, &std::fs::read(other).unwrap(), 1 << 20, true);
    assert_eq!(matches.len(), 0);
    assert_eq!(summary.records, 1);
    assert_eq!(summary.records_skipped, 1);
}

/// Writes `text` as JSON string content, escaping backslashes one of the
/// ways exporters do.
fn json_escape(text: &str, unicode_backslash: bool) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' if unicode_backslash => out.push_str("\\u005c"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

fn random_case(text: &str, mask: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect()
}

prop_compose! {
    fn event_line()(
        source in prop::sample::select(vec![
            r"C:\Windows\System32\WerFaultSecure.exe", r"C:\Windows\System32\WerFault.exe",
            r"C:\Users\Public\tool.exe", r"C:\Windows\System32\svchost.exe",
        ]),
        target in prop::sample::select(vec![
            r"C:\ProgramData\Microsoft\Windows Defender\MsMpEng.exe", r"C:\Windows\System32\lsass.exe",
            r"C:\Windows\explorer.exe",
        ]),
        trace in prop::sample::select(vec![
            r"C:\Windows\System32\dbgcore.DLL+164cc", r"C:\Windows\System32\dbghelp.dll+1",
            r"C:\Windows\System32\ntdll.dll+9c584", r"C:\Windows\System32\dbgcore_x.dll+1",
        ]),
        event_id in prop::sample::select(vec![10, 7, 1]),
        mask in any::<u64>(),
        unicode_backslash in any::<bool>(),
        pad in "[a-zA-Z0-9 ]{0,40}",
    ) -> String {
        let field = |text: &str| json_escape(&random_case(text, mask), unicode_backslash);
        format!(
            r#"{{"EventID":{event_id},"Channel":"Microsoft-Windows-Sysmon/Operational","SourceImage":"{}","TargetImage":"{}","Image":"{}","ImageLoaded":"{}","CallTrace":"{}","Pad":"{pad}"}}"#,
            field(source), field(target), field(source), field(trace), field(trace),
        )
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_ndjson_agrees_with_and_without_prefilter(
        lines in prop::collection::vec(event_line(), 1..40),
        piece in 1usize..300,
        as_array in any::<bool>(),
    ) {
        let engine = Arc::new(Engine::with_default_rules());
        let input = if as_array {
            format!("[\n{}\n]", lines.join(",\n"))
        } else {
            lines.join("\n")
        };
        let (on, on_summary) = scan(&engine, input.as_bytes(), piece, true);
        let (off, off_summary) = scan(&engine, input.as_bytes(), 1 << 20, false);
        prop_assert_eq!(on, off);
        prop_assert_eq!(on_summary.records, lines.len() as u64);
        prop_assert_eq!(off_summary.records, lines.len() as u64);
    }
}
