//! Inputs the fuzz targets (under fuzz/) once crashed or hung on, kept in
//! `tests/data/fuzz/TARGET/` and replayed through the same function as
//! the target named by their folder. Each must now finish without a
//! panic, and pass the target's own checks.

use std::path::Path;

#[path = "../fuzz/fuzz_targets/common.rs"]
mod common;

/// Returns `(target, file name, bytes)` of every saved input, sorted.
fn saved_inputs() -> Vec<(String, String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut inputs = Vec::new();
    for folder in std::fs::read_dir(&root).unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display())) {
        let folder = folder.unwrap().path();
        let target = folder.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&folder).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            inputs.push((target.clone(), name, std::fs::read(&path).unwrap()));
        }
    }
    inputs.sort();
    inputs
}

#[test]
fn saved_inputs_are_in_target_folders() {
    let inputs = saved_inputs();
    assert!(!inputs.is_empty());
    for (target, name, _) in &inputs {
        assert!(common::TARGETS.contains(&target.as_str()), "{target}/{name}: no fuzz target named {target}");
    }
}

#[test]
fn saved_inputs_finish() {
    for (target, name, data) in saved_inputs() {
        // Printed, so that a failure shows which input it was.
        println!("replaying {target}/{name}");
        common::run(&target, &data);
    }
}
