//! Each bundled rule against SigmaHQ's regression sample for it, as EVTX
//! and as JSON, and the EDR-Freeze family against benign OTRF captures.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sigma_edge::{scan_bytes, Engine};

const EDR_FREEZE: &str = "387df17d-3b04-448f-8669-9e7fd5e5fd8c";

/// (sample folder, rule id, rule ids the sample matches with the default rules)
const SAMPLES: &[(&str, &str, &[&str])] = &[
    ("proc_access_win_werfaultsecure_msmpeng_access", EDR_FREEZE, &[EDR_FREEZE]),
    (
        "proc_access_win_susp_dbgcore_dbghelp_load",
        "9f5c1d59-33be-4e60-bcab-85d2f566effd",
        &["9f5c1d59-33be-4e60-bcab-85d2f566effd"],
    ),
    (
        "image_load_win_werfaultsecure_dbgcore_dbghelp_load",
        "8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b",
        &["8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b"],
    ),
    (
        "image_load_win_susp_dbgcore_dbghelp_load",
        "416bc4a2-7217-4519-8dc7-c3271817f1d5",
        // The sample's WerFaultSecure.exe also runs from an uncommon folder.
        &["416bc4a2-7217-4519-8dc7-c3271817f1d5", "8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b"],
    ),
    (
        "proc_creation_win_hktl_edr_freeze",
        "c598cc0c-9e70-4852-b9eb-8921af79f598",
        &["c598cc0c-9e70-4852-b9eb-8921af79f598"],
    ),
    (
        "proc_creation_win_werfaultsecure_abuse",
        "1f0b4cac-9c81-41f4-95d0-8475ff46b3e2",
        &["1f0b4cac-9c81-41f4-95d0-8475ff46b3e2"],
    ),
];

fn data(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

fn rule_counts(engine: &Arc<Engine>, path: &str) -> BTreeMap<String, usize> {
    let (matches, warnings, _) = scan_bytes(engine.clone(), path, &data(path)).unwrap();
    assert_eq!(warnings, vec![], "{path}");
    let mut counts = BTreeMap::new();
    for found in matches {
        *counts.entry(found.rule_id).or_insert(0) += 1;
    }
    counts
}

fn expected(ids: &[&str]) -> BTreeMap<String, usize> {
    ids.iter().map(|id| (id.to_string(), 1)).collect()
}

#[test]
fn each_sample_matches_its_rules_as_evtx_and_json() {
    let engine = Arc::new(Engine::with_default_rules());
    for (folder, id, all_ids) in SAMPLES {
        for extension in ["evtx", "json"] {
            let path = format!("edr-freeze/{folder}/{id}.{extension}");
            assert_eq!(rule_counts(&engine, &path), expected(all_ids), "{path}");
        }
    }
}

#[test]
fn each_rule_alone_matches_its_own_sample_once() {
    for (folder, id, _) in SAMPLES {
        let (name, yaml) = sigma_edge::engine::DEFAULT_RULES
            .iter()
            .find(|(name, _)| name.trim_end_matches(".yml") == *folder)
            .expect("rule file named after its sample folder");
        let engine = Arc::new(Engine::builder().default_rules(false).rule_text(*name, *yaml).build());
        let path = format!("edr-freeze/{folder}/{id}.evtx");
        assert_eq!(rule_counts(&engine, &path), expected(&[id]), "{path}");
    }
}

#[test]
fn evtx_match_carries_the_record_identity() {
    let engine = Arc::new(Engine::with_default_rules());
    let path = format!("edr-freeze/proc_access_win_werfaultsecure_msmpeng_access/{EDR_FREEZE}.evtx");
    let (matches, _, summary) = scan_bytes(engine, &path, &data(&path)).unwrap();
    assert_eq!(summary.records, 1);
    assert_eq!(summary.format, Some("evtx"));
    let found = &matches[0];
    assert_eq!(found.record_id, Some(445923));
    assert_eq!(found.event_id, Some(10));
    assert_eq!(found.channel.as_deref(), Some("Microsoft-Windows-Sysmon/Operational"));
    assert_eq!(found.computer.as_deref(), Some("swachchhanda"));
    assert_eq!(found.timestamp.as_deref(), Some("2025-11-27T07:22:22.0338285Z"));
    assert_eq!(found.record, Some(1));
    assert_eq!(found.offset, Some(4096 + 512));
    assert_eq!(found.fields["SourceImage"], r"C:\Windows\System32\WerFaultSecure.exe");
    let reason = found.reasons.iter().find(|r| r.field == "CallTrace").unwrap();
    let value = reason.value.as_deref().unwrap();
    assert_eq!(&value[reason.start.unwrap()..reason.end.unwrap()], r"\dbgcore.DLL");
}

#[test]
fn otrf_captures_have_no_edr_freeze_event() {
    let engine = Arc::new(Engine::with_default_rules());
    let files = [
        ("otrf/cmd_lsass_memory_dumpert_syscalls_2020-10-1822561997.json", 118, 1),
        ("otrf/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json", 184, 0),
        ("otrf/rdp_interactive_taskmanager_lsass_dump_2020-09-22043748.json", 5489, 0),
        ("otrf/otrf_eid10_nearmiss_subset.jsonl", 192, 3),
    ];
    for (path, records, lsass_matches) in files {
        let (matches, warnings, summary) = scan_bytes(engine.clone(), path, &data(path)).unwrap();
        assert_eq!(warnings, vec![], "{path}");
        assert_eq!(summary.records, records, "{path}");
        let count = |id: &str| matches.iter().filter(|m| m.rule_id == id).count();
        assert_eq!(count(EDR_FREEZE), 0, "{path}");
        assert_eq!(count("9f5c1d59-33be-4e60-bcab-85d2f566effd"), lsass_matches, "{path}");
        assert_eq!(matches.len(), lsass_matches, "{path}");
    }
}
