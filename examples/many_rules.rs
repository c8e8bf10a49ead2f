//! Times a scan with a large rule set, such as all of SigmaHQ: how long the
//! rules take to compile, and how many events per second are evaluated
//! against all of them. The prefilter is off, so every record is parsed
//! and evaluated. Prints one JSON object.
//!
//! Usage: cargo run --release --example many_rules -- FILE RULE_DIR...

use std::sync::Arc;
use std::time::Instant;

use sigma_edge::{Engine, Scanner};

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let Some((file, rule_dirs)) = arguments.split_first().filter(|(_, dirs)| !dirs.is_empty()) else {
        eprintln!("usage: many_rules FILE RULE_DIR...");
        std::process::exit(2);
    };

    let start = Instant::now();
    let mut builder = Engine::builder().default_rules(false);
    for dir in rule_dirs {
        builder = builder.rule_dir(dir);
    }
    let engine = Arc::new(builder.build());
    let load_seconds = start.elapsed().as_secs_f64();

    let bytes = std::fs::read(file).unwrap_or_else(|error| {
        eprintln!("{file}: cannot be read: {error}");
        std::process::exit(2);
    });
    let start = Instant::now();
    let mut scanner = Scanner::new(engine.clone(), file.as_str());
    scanner.set_prefilter(false);
    let mut matches = scanner.push(&bytes).expect("a supported format").len();
    let (rest, summary) = scanner.finish().expect("a supported format");
    matches += rest.len();
    let seconds = start.elapsed().as_secs_f64();

    println!(
        r#"{{"rules":{},"ruleErrors":{},"loadSeconds":{load_seconds:.3},"records":{},"matches":{matches},"seconds":{seconds:.3},"eventsPerSecond":{:.0}}}"#,
        engine.rules().len(),
        engine.errors().len(),
        summary.records,
        summary.records as f64 / seconds,
    );
}
