//! Every supported export format and container on real files. The six
//! EDR-Freeze regression events are written in each format, the OTRF
//! captures are read from a zip, and each kind of damage has a file, all
//! with the exact records, matches and warnings expected.
//! `tests/data/formats/README.md` describes how each file was made.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sigma_edge::reader::{Detect, Reader, Sink};
use sigma_edge::{Engine, Event, Match, Scanner, Summary, Warning};

mod rule_ids;
use rule_ids::{EDR_FREEZE, LSASS_DUMP, TOOL_CREATION, USER_FOLDER_LOAD, WERFAULTSECURE_ARGS, WERFAULTSECURE_LOAD};

/// The rule ids each regression event matches, in the order the fixtures
/// hold them (the order of `tests/regression.rs`).
const EXPECTED: [&[&str]; 6] = [
    &[EDR_FREEZE],
    &[LSASS_DUMP],
    &[WERFAULTSECURE_LOAD],
    // The sample's WerFaultSecure.exe also runs from an uncommon folder.
    &[USER_FOLDER_LOAD, WERFAULTSECURE_LOAD],
    &[TOOL_CREATION],
    &[WERFAULTSECURE_ARGS],
];

/// The regression events in each format: `(file, summary format)`.
const FORMATS: &[(&str, &str)] = &[
    ("edr-freeze.events.xml", "xml"),
    ("edr-freeze.wevtutil.xml", "xml"),
    ("edr-freeze.ndjson", "json"),
    ("edr-freeze.array.json", "json"),
    ("edr-freeze.winlogbeat.ndjson", "json"),
    ("edr-freeze.csv", "csv"),
    ("edr-freeze.utf16le.xml", "utf-16le"),
    ("edr-freeze.events.xml.gz", "gzip"),
];

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Scans a file with every record parsed. The raw-byte prefilter would
/// skip damaged records that cannot match without reporting them, and
/// these tests check that the readers report them.
fn scan(name: &str) -> (Vec<Match>, Vec<Warning>, Summary) {
    scan_with(name, false)
}

fn scan_with(name: &str, prefilter: bool) -> (Vec<Match>, Vec<Warning>, Summary) {
    let engine = Arc::new(Engine::with_default_rules());
    let mut scanner = Scanner::new(engine, name);
    scanner.set_prefilter(prefilter);
    let mut matches = scanner.push(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (rest, summary) = scanner.finish().unwrap_or_else(|e| panic!("{name}: {e}"));
    matches.extend(rest);
    (matches, scanner.take_warnings(), summary)
}

/// Groups the rule ids of the matches in `file` by record number, sorted.
fn ids_by_record(matches: &[Match], file: &str) -> BTreeMap<u64, Vec<String>> {
    let mut records: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for found in matches.iter().filter(|m| m.file.as_deref() == Some(file)) {
        records.entry(found.record.unwrap_or(0)).or_default().push(found.rule_id.clone());
    }
    records.values_mut().for_each(|ids| ids.sort());
    records
}

fn expected_ids() -> BTreeMap<u64, Vec<String>> {
    let records = EXPECTED.iter().enumerate();
    records.map(|(index, ids)| (index as u64 + 1, sorted(ids))).collect()
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    ids.sort();
    ids
}

fn warning(file: &str, record: Option<u64>, offset: u64, message: &str) -> Warning {
    Warning { file: file.to_string(), record, offset, message: message.to_string() }
}

#[test]
fn each_format_finds_each_event_with_its_rules() {
    for (name, format) in FORMATS {
        let path = format!("formats/{name}");
        let (matches, warnings, summary) = scan(&path);
        assert_eq!(warnings, vec![], "{name}");
        assert_eq!(summary.format, Some(*format), "{name}");
        assert_eq!(summary.records, 6, "{name}");
        assert_eq!(summary.matches, 7, "{name}");
        assert_eq!(summary.bytes, data(&path).len() as u64, "{name}");
        assert_eq!(ids_by_record(&matches, &path), expected_ids(), "{name}");
    }
}

#[test]
fn edr_freeze_match_same_in_every_format() {
    for (name, _) in FORMATS {
        let (matches, _, _) = scan(&format!("formats/{name}"));
        let found = matches.iter().find(|m| m.rule_id == EDR_FREEZE).expect("an EDR-Freeze match");
        assert_eq!(found.record, Some(1), "{name}");
        assert_eq!(found.record_id, Some(445923), "{name}");
        assert_eq!(found.event_id, Some(10), "{name}");
        assert_eq!(found.channel.as_deref(), Some("Microsoft-Windows-Sysmon/Operational"), "{name}");
        assert_eq!(found.computer.as_deref(), Some("swachchhanda"), "{name}");
        assert_eq!(found.fields["SourceImage"], r"C:\Windows\System32\WerFaultSecure.exe", "{name}");
        let target = r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.25100.9008-0\MsMpEng.exe";
        assert_eq!(found.fields["TargetImage"], target, "{name}");
    }
}

#[test]
fn prefilter_changes_no_match() {
    let mut files: Vec<String> = FORMATS.iter().map(|(name, _)| format!("formats/{name}")).collect();
    files.extend(["formats/edr-freeze.zip", "formats/otrf-captures.zip"].map(String::from));
    let defects = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats/defects");
    let mut names: Vec<String> = std::fs::read_dir(defects).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    files.extend(names.into_iter().map(|name| format!("formats/defects/{name}")));
    for file in &files {
        let (all, _, all_summary) = scan_with(file, false);
        let (filtered, _, filtered_summary) = scan_with(file, true);
        assert_eq!(filtered, all, "{file}");
        assert_eq!(filtered_summary.records, all_summary.records, "{file}");
    }
}

#[test]
fn record_offsets_point_at_each_record() {
    let expectations: &[(&str, u64, u64)] = &[
        // (file, offset of record 1, offset of record 2)
        ("edr-freeze.events.xml", 67, 3435),
        ("edr-freeze.wevtutil.xml", 0, 1945),
        ("edr-freeze.ndjson", 0, 1818),
        ("edr-freeze.csv", 547, 1611),
        // Two bytes of byte order mark, then two bytes per character.
        ("edr-freeze.utf16le.xml", 2, 2 + 2 * 1945),
    ];
    for (name, first, second) in expectations {
        let path = format!("formats/{name}");
        let (matches, _, _) = scan(&path);
        let offset = |record: u64| matches.iter().find(|m| m.record == Some(record)).and_then(|m| m.offset);
        assert_eq!(offset(1), Some(*first), "{name}");
        assert_eq!(offset(2), Some(*second), "{name}");
    }
}

#[test]
fn zip_members_scanned_as_inputs() {
    let archive = "formats/edr-freeze.zip";
    let (matches, warnings, summary) = scan(archive);
    assert_eq!(warnings, vec![]);
    assert_eq!(summary.format, Some("zip"));
    assert_eq!(summary.records, 6 * FORMATS.len() as u64 + 6);
    for (name, _) in FORMATS {
        let member = format!("{archive}:{name}");
        assert_eq!(ids_by_record(&matches, &member), expected_ids(), "{member}");
    }
    let evtx_ids = ["387df17d-3b04-448f-8669-9e7fd5e5fd8c", LSASS_DUMP, WERFAULTSECURE_LOAD, USER_FOLDER_LOAD, TOOL_CREATION, WERFAULTSECURE_ARGS];
    for (sample, ids) in evtx_ids.iter().zip(EXPECTED) {
        let member = format!("{archive}:evtx/{sample}.evtx");
        assert_eq!(ids_by_record(&matches, &member), BTreeMap::from([(1, sorted(ids))]), "{member}");
    }
}

#[test]
fn otrf_zip_has_no_edr_freeze_event() {
    let archive = "formats/otrf-captures.zip";
    let (matches, warnings, summary) = scan(archive);
    assert_eq!(warnings, vec![]);
    assert_eq!(summary.records, 118 + 184 + 5489 + 192);
    assert_eq!(matches.iter().filter(|m| m.rule_id == EDR_FREEZE).count(), 0);
    let members = [
        ("cmd_lsass_memory_dumpert_syscalls_2020-10-1822561997.json", 1),
        ("psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json", 0),
        ("rdp_interactive_taskmanager_lsass_dump_2020-09-22043748.json", 0),
        ("otrf_eid10_nearmiss_subset.jsonl", 3),
    ];
    for (member, lsass_matches) in members {
        let file = format!("{archive}:{member}");
        let in_member: Vec<_> = matches.iter().filter(|m| m.file.as_deref() == Some(file.as_str())).collect();
        assert_eq!(in_member.len(), lsass_matches, "{member}");
        assert!(in_member.iter().all(|m| m.rule_id == LSASS_DUMP), "{member}");
    }
}

#[test]
fn xml_event_with_mismatched_tag_is_skipped() {
    let path = "formats/defects/xml-mismatched-tag.xml";
    let (matches, warnings, summary) = scan(path);
    assert_eq!(summary.records, 3);
    let message = "invalid XML: expected </EventID>, found </Channel> (at byte 3610); the event is skipped";
    assert_eq!(warnings, vec![warning(path, Some(2), 3435, message)]);
    let expected = BTreeMap::from([(1, sorted(&[EDR_FREEZE])), (3, sorted(&[WERFAULTSECURE_LOAD]))]);
    assert_eq!(ids_by_record(&matches, path), expected);
}

#[test]
fn xml_cut_inside_an_event() {
    let path = "formats/defects/xml-truncated.xml";
    let (matches, warnings, summary) = scan(path);
    assert_eq!(summary.records, 2);
    assert_eq!(warnings, vec![warning(path, Some(2), 1945, "truncated XML event: the input ends inside it")]);
    assert_eq!(ids_by_record(&matches, path), BTreeMap::from([(1, sorted(&[EDR_FREEZE]))]));
}

#[test]
fn xml_undefined_entity_is_kept_and_reported() {
    let path = "formats/defects/xml-undefined-entity.xml";
    let (matches, warnings, summary) = scan(path);
    assert_eq!(summary.records, 1);
    assert_eq!(summary.warnings, 1);
    assert_eq!(warnings, vec![warning(path, Some(1), 0, "undefined entity &nbsp; kept as written")]);
    assert_eq!(ids_by_record(&matches, path), BTreeMap::from([(1, sorted(&[EDR_FREEZE]))]));
    let events = read_events(path);
    assert_eq!(events[0].get("TargetUser"), Some("NT AUTHORITY\\SYSTEM&nbsp;"));
}

#[test]
fn csv_row_with_extra_field_is_skipped() {
    let path = "formats/defects/csv-field-count.csv";
    let (matches, warnings, summary) = scan(path);
    assert_eq!(summary.records, 3);
    let message = "row has 34 fields but the header has 33; skipped";
    assert_eq!(warnings, vec![warning(path, Some(2), 1445, message)]);
    let expected = BTreeMap::from([(1, sorted(&[EDR_FREEZE])), (3, sorted(&[WERFAULTSECURE_LOAD]))]);
    assert_eq!(ids_by_record(&matches, path), expected);
}

#[test]
fn csv_quoted_field_keeps_quotes_and_line_breaks() {
    let path = "formats/defects/csv-quoted-newlines.csv";
    let (matches, warnings, _) = scan(path);
    assert_eq!(warnings, vec![]);
    assert_eq!(ids_by_record(&matches, path), BTreeMap::from([(1, sorted(&[WERFAULTSECURE_ARGS]))]));
    let events = read_events(path);
    let command_line = r"C:\Windows\System32\WerFaultSecure.exe /h /pid 3472 /tid 3476 /encfile 304 /cancel 364 /type 268310";
    assert_eq!(events[0].get("CommandLine"), Some(format!("{command_line} \"quoted\"\r\nsecond line").as_str()));
}

#[test]
fn json_bad_line_is_skipped() {
    let path = "formats/defects/json-bad-line.ndjson";
    let (matches, warnings, summary) = scan(path);
    assert_eq!(summary.records, 3);
    assert_eq!(warnings.len(), 1);
    assert_eq!((warnings[0].record, warnings[0].offset), (Some(2), 1818));
    assert!(warnings[0].message.starts_with("invalid JSON: "), "{}", warnings[0].message);
    let expected = BTreeMap::from([(1, sorted(&[EDR_FREEZE])), (3, sorted(&[LSASS_DUMP]))]);
    assert_eq!(ids_by_record(&matches, path), expected);
}

#[test]
fn utf16_unpaired_surrogate_stays_in_its_value() {
    let path = "formats/defects/utf16-unpaired-surrogate.xml";
    let (matches, warnings, _) = scan(path);
    assert_eq!(warnings, vec![]);
    assert_eq!(ids_by_record(&matches, path), BTreeMap::from([(1, sorted(&[EDR_FREEZE]))]));
    let events = read_events(path);
    assert_eq!(events[0].get("TargetUser"), Some("NT AUTHORITY\\SYST\u{FFFD}EM"));
    assert_eq!(events[0].get("SourceUser"), Some("swachchhanda\\xodih"));
}

#[test]
fn utf16_odd_length_is_reported() {
    let path = "formats/defects/utf16-odd-length.xml";
    let (matches, warnings, summary) = scan(path);
    assert_eq!(summary.records, 1);
    let odd = "the UTF-16 input has an odd number of bytes; its last byte became U+FFFD";
    // The stray text is the line end after the event and the U+FFFD.
    let stray = "text outside <Event> elements ignored: \"\u{FFFD}\"";
    assert_eq!(warnings, vec![warning(path, None, 3892, odd), warning(path, None, 3888, stray)]);
    assert_eq!(ids_by_record(&matches, path), BTreeMap::from([(1, sorted(&[EDR_FREEZE]))]));
}

#[test]
fn gzip_crc_mismatch_is_reported() {
    let path = "formats/defects/gzip-bad-crc.ndjson.gz";
    let (matches, warnings, summary) = scan(path);
    assert_eq!(summary.records, 6);
    let message = "gzip member 1: the decompressed data does not match the stored CRC-32 and size; it may be damaged";
    assert_eq!(warnings, vec![warning(path, None, 0, message)]);
    assert_eq!(ids_by_record(&matches, path), expected_ids());
}

#[test]
fn gzip_cut_keeps_what_was_inflated() {
    let path = "formats/defects/gzip-truncated.ndjson.gz";
    let (matches, warnings, summary) = scan(path);
    // Two whole lines and part of the third were inflated.
    assert_eq!(summary.records, 3);
    let cut = "truncated gzip data: the input ends inside member 1; the content before the cut was read";
    assert_eq!(warnings.len(), 2);
    assert_eq!(warnings[0], warning(path, None, 0, cut));
    assert_eq!((warnings[1].record, warnings[1].offset), (Some(3), 3595));
    assert!(warnings[1].message.starts_with("invalid JSON: EOF while parsing"), "{}", warnings[1].message);
    let expected: BTreeMap<u64, Vec<String>> = expected_ids().into_iter().take(2).collect();
    assert_eq!(ids_by_record(&matches, path), expected);
}

#[test]
fn zip_unsupported_members_are_reported() {
    let path = "formats/defects/zip-unsupported-members.zip";
    let (matches, warnings, summary) = scan(path);
    assert_eq!(summary.records, 1);
    let unknown = "unknown format: expected EVTX, JSON, NDJSON, XML or CSV (plain, UTF-16, gzip or zip), \
                   but the member starts with \"Exported from th\"; it was not read";
    assert_eq!(
        warnings,
        vec![
            warning(path, None, 0, "member bzip2.ndjson uses compression method 12 (bzip2), which is not supported; skipped"),
            warning(path, None, 918, "member encrypted.ndjson is encrypted, which is not supported; skipped"),
            warning(&format!("{path}:notes.txt"), None, 0, unknown),
        ]
    );
    let member = format!("{path}:good.ndjson");
    assert_eq!(ids_by_record(&matches, &member), BTreeMap::from([(1, sorted(&[EDR_FREEZE]))]));
}

#[test]
fn zip_cut_inside_a_member() {
    let path = "formats/defects/zip-truncated.zip";
    let (matches, warnings, summary) = scan(path);
    let member = format!("{path}:edr-freeze.wevtutil.xml");
    assert_eq!(summary.records, 3);
    let cut = "truncated zip archive: the input ends inside member edr-freeze.wevtutil.xml; the content before the cut was read";
    assert_eq!(
        warnings,
        vec![warning(path, None, 1099, cut), warning(&member, Some(3), 3846, "truncated XML event: the input ends inside it")]
    );
    let expected: BTreeMap<u64, Vec<String>> = expected_ids().into_iter().take(2).collect();
    assert_eq!(ids_by_record(&matches, &member), expected);
}

/// The regression EVTX contains one record in its only chunk. A copy cut
/// after the record keeps it, and a copy cut inside the record loses it.
#[test]
fn evtx_cut_inside_its_chunk() {
    let path = format!("edr-freeze/proc_access_win_werfaultsecure_msmpeng_access/{EDR_FREEZE}.evtx");
    let whole = data(&path);
    let record_start = 4096 + 512;
    let record_size = u32::from_le_bytes(whole[record_start + 4..record_start + 8].try_into().unwrap()) as usize;
    let engine = Arc::new(Engine::with_default_rules());

    let after_record = record_start + record_size + 100;
    let (matches, warnings, summary) = scan_cut(&engine, &whole[..after_record]);
    assert_eq!((summary.records, summary.matches, summary.warnings), (1, 1, 1));
    assert_eq!(matches[0].rule_id, EDR_FREEZE);
    let message = format!(
        "truncated EVTX file: the last chunk has {} of 65536 bytes; its complete records are read",
        after_record - 4096
    );
    assert_eq!(warnings, vec![warning("cut.evtx", None, 4096, &message)]);

    let inside_record = record_start + record_size / 2;
    let (matches, warnings, summary) = scan_cut(&engine, &whole[..inside_record]);
    assert_eq!((summary.records, summary.matches, summary.warnings), (1, 0, 2));
    assert_eq!(matches, vec![]);
    let message = format!(
        "truncated EVTX file: the last chunk has {} of 65536 bytes; its complete records are read",
        inside_record - 4096
    );
    let lost = "chunk 1: Failed to parse record number 1: Failed to create record model, reason: unfinished element start";
    assert_eq!(warnings, vec![warning("cut.evtx", None, 4096, &message), warning("cut.evtx", Some(1), 4096, lost)]);
}

/// Scans bytes named `cut.evtx` with every record parsed.
fn scan_cut(engine: &Arc<Engine>, bytes: &[u8]) -> (Vec<Match>, Vec<Warning>, Summary) {
    let mut scanner = Scanner::new(engine.clone(), "cut.evtx");
    scanner.set_prefilter(false);
    let mut matches = scanner.push(bytes).unwrap();
    let (rest, summary) = scanner.finish().unwrap();
    matches.extend(rest);
    (matches, scanner.take_warnings(), summary)
}

/// Collects the events of a file, to look at fields no rule reports.
#[derive(Default)]
struct Events(Vec<Event>);

impl Sink for Events {
    fn record(&mut self, event: Event, _: u64, _: u64) {
        self.0.push(event);
    }
    fn warning(&mut self, _: Option<u64>, _: u64, _: String) {}
    fn member_record(&mut self, _: &str, event: Event, _: u64, _: u64) {
        self.0.push(event);
    }
    fn member_warning(&mut self, _: &str, _: Option<u64>, _: u64, _: String) {}
    fn unknown_format(&mut self, seen: String) {
        panic!("unknown format: {seen}");
    }
    fn prefilter(&self) -> Option<&sigma_edge::prefilter::Prefilter> {
        None
    }
    fn skipped(&mut self, _: u64) {}
}

fn read_events(name: &str) -> Vec<Event> {
    let mut reader = Detect::new(0);
    let mut events = Events::default();
    reader.push(&data(name), &mut events);
    reader.finish(&mut events);
    events.0
}
