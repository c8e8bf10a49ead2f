//! Native side of `pkg-scripts/bench`: scans a file with the EDR-Freeze
//! rule alone or with the default family, prefilter on or off, or times a
//! bare case-insensitive search for the EDR-Freeze literal in the same
//! bytes. Prints one JSON object. One measurement per process, so the
//! caller can read each one's peak memory.
//!
//! Usage: cargo run --release --example bench -- edr-freeze|family|bare on|off FILE

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use sigma_edge::engine::DEFAULT_RULES;
use sigma_edge::prefilter::Prefilter;
use sigma_edge::{Engine, Scanner};

const PIECE: usize = 1 << 20;
const EDR_FREEZE_LITERAL: &str = "werfaultsecure.exe";

fn read_pieces(path: &str, mut each: impl FnMut(&[u8])) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0; PIECE];
    let mut total = 0;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(total);
        }
        total += read as u64;
        each(&buffer[..read]);
    }
}

fn scan(path: &str, rules: &str, engine: &Arc<Engine>, prefilter: bool) -> std::io::Result<String> {
    let start = Instant::now();
    let mut scanner = Scanner::new(engine.clone(), path);
    scanner.set_prefilter(prefilter);
    let mut matches = 0;
    let mut first_match = None;
    read_pieces(path, |piece| {
        let found = scanner.push(piece).expect("a supported format").len();
        if found > 0 && first_match.is_none() {
            first_match = Some(start.elapsed().as_secs_f64());
        }
        matches += found;
    })?;
    let (rest, summary) = scanner.finish().expect("a supported format");
    matches += rest.len();
    let seconds = start.elapsed().as_secs_f64();
    Ok(format!(
        r#"{{"runtime":"native","file":"{path}","rules":"{rules}","prefilter":{prefilter},"bytes":{},"records":{},"skipped":{},"matches":{matches},"warnings":{},"seconds":{seconds:.4},"firstMatchSeconds":{}}}"#,
        summary.bytes,
        summary.records,
        summary.records_skipped,
        summary.warnings,
        first_match.map_or("null".to_string(), |s| format!("{s:.4}")),
    ))
}

fn bare(path: &str) -> std::io::Result<String> {
    let utf16 = std::fs::File::open(path)?.bytes().take(8).filter_map(Result::ok).eq(b"ElfFile\0".iter().copied());
    let prefilter = Prefilter::new(&[EDR_FREEZE_LITERAL.to_string()]);
    let start = Instant::now();
    let mut hits = 0u64;
    let bytes = read_pieces(path, |piece| {
        let mut rest = piece;
        loop {
            let found = if utf16 { prefilter.find_utf16le(rest) } else { prefilter.find(rest) };
            let Some(position) = found else { break };
            hits += 1;
            rest = &rest[position + 1..];
        }
    })?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(format!(
        r#"{{"runtime":"native","file":"{path}","rules":"bare","prefilter":true,"bytes":{bytes},"matches":{hits},"seconds":{seconds:.4}}}"#
    ))
}

fn main() -> std::io::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [rules, prefilter, path] = arguments.as_slice() else {
        eprintln!("usage: bench edr-freeze|family|bare on|off FILE");
        std::process::exit(2);
    };
    let prefilter = prefilter == "on";
    let engine = match rules.as_str() {
        "bare" => return bare(path).map(|line| println!("{line}")),
        "edr-freeze" => Engine::builder().default_rules(false).rule_text(DEFAULT_RULES[0].0, DEFAULT_RULES[0].1).build(),
        _ => Engine::with_default_rules(),
    };
    println!("{}", scan(path, rules, &Arc::new(engine), prefilter)?);
    Ok(())
}
