//! Sigma semantics as a user sees them: a rule's detection, an event as
//! JSON, and whether the engine matches. Values come from the Sigma
//! specification's own examples where it gives them, plus the traps that
//! engines get wrong (escapes, `null` against `''`, EventID types,
//! non-ASCII case).

use serde_json::{json, Value};
use sigma_edge::{Engine, Event};

/// Removes the indentation common to every non-empty line.
fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines().map(|line| line.get(indent..).unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// A rule for every Windows event with this `detection` body.
fn rule_yaml(detection: &str) -> String {
    let body: String = dedent(detection).lines().map(|line| format!("    {line}\n")).collect();
    format!("title: test\nid: test-rule\nlogsource:\n    product: windows\ndetection:\n{body}")
}

fn engine(detection: &str) -> Engine {
    let engine = Engine::builder().default_rules(false).rule_text("test.yml", rule_yaml(detection)).build();
    assert_eq!(engine.errors(), &[], "the rule loads");
    engine
}

fn load_error(detection: &str) -> String {
    let engine = Engine::builder().default_rules(false).rule_text("test.yml", rule_yaml(detection)).build();
    assert_eq!(engine.rules().len(), 0, "the rule must not load");
    engine.errors()[0].to_string()
}

fn matches(engine: &Engine, event: Value) -> bool {
    !engine.evaluate(&Event::from_json(&event).unwrap()).is_empty()
}

/// Whether a one-key selection matches an event with only that field.
fn field_matches(key: &str, value: &str, field: Value) -> bool {
    let engine = engine(&format!("selection:\n    {key}: {value}\ncondition: selection"));
    let name = key.split('|').next().unwrap_or(key);
    matches(&engine, json!({ name: field }))
}

#[test]
fn plain_values_match_whole_and_ignore_case() {
    assert!(field_matches("Field", "'whoami.exe'", json!("WHOAMI.EXE")));
    assert!(!field_matches("Field", "'whoami.exe'", json!("C:\\whoami.exe")));
    assert!(field_matches("Field", "'ÄRGER'", json!("ärger")));
    assert!(field_matches("Field", "'ΣΊΣΥΦΟΣ'", json!("σίσυφοσ")));
}

#[test]
fn cased_respects_case() {
    assert!(field_matches("Field|cased", "'Whoami'", json!("Whoami")));
    assert!(!field_matches("Field|cased", "'Whoami'", json!("whoami")));
    assert!(field_matches("Field|contains|cased", "'Ab'", json!("xAbx")));
    assert!(!field_matches("Field|contains|cased", "'Ab'", json!("xabx")));
}

#[test]
fn wildcards_from_the_specification() {
    // `prog?.exe` covers progA.exe and progB.exe; `antivirus_V*.exe` any version.
    assert!(field_matches("Field", "'prog?.exe'", json!("progA.exe")));
    assert!(!field_matches("Field", "'prog?.exe'", json!("prog.exe")));
    assert!(field_matches("Field", "'antivirus_V*.exe'", json!("antivirus_V21.2.1.exe")));
    assert!(field_matches("Field", "'antivirus_V*.exe'", json!("antivirus_V.exe")));
}

#[test]
fn escapes_from_the_specification() {
    // A plain backslash not followed by a wildcard, single or doubled.
    assert!(field_matches("Field", r"'C:\Windows\x.exe'", json!(r"C:\Windows\x.exe")));
    assert!(field_matches("Field", r"'C:\\Windows\\x.exe'", json!(r"C:\Windows\x.exe")));
    // `\*` and `\?` are plain characters.
    assert!(field_matches("Field", r"'a\*b'", json!("a*b")));
    assert!(!field_matches("Field", r"'a\*b'", json!("axxb")));
    assert!(field_matches("Field", r"'a\?'", json!("a?")));
    assert!(!field_matches("Field", r"'a\?'", json!("ab")));
    // `\\*` is a backslash followed by a wildcard.
    assert!(field_matches("Field", r"'C:\\*'", json!(r"C:\Users\x")));
    assert!(!field_matches("Field", r"'C:\\*'", json!("C:x")));
    // `\\\*` is a backslash and a plain star.
    assert!(field_matches("Field", r"'C:\\\*'", json!(r"C:\*")));
    assert!(!field_matches("Field", r"'C:\\\*'", json!(r"C:\x")));
    // Four backslashes are two plain ones.
    assert!(field_matches("Field", r"'\\\\server'", json!(r"\\server")));
    // A trailing backslash is a plain one.
    assert!(field_matches("Field|endswith", r"'\Windows\'", json!(r"C:\Windows\")));
    assert!(!field_matches("Field|endswith", r"'\Windows\'", json!(r"C:\Windows")));
}

#[test]
fn anchors() {
    assert!(field_matches("Field|startswith", "'adm'", json!("ADMIN")));
    assert!(!field_matches("Field|startswith", "'adm'", json!("xadm")));
    assert!(field_matches("Field|endswith", r"'\cmd.exe'", json!(r"C:\Windows\System32\cmd.exe")));
    assert!(!field_matches("Field|endswith", r"'\cmd.exe'", json!(r"C:\cmd.exe.bak")));
    assert!(field_matches("Field|contains", "'Test executable'", json!("A test executable here")));
}

#[test]
fn lists_are_or_unless_all() {
    let any = "selection:\n    Field|contains:\n        - 'a'\n        - 'b'\ncondition: selection";
    let all = "selection:\n    Field|contains|all:\n        - 'a'\n        - 'b'\ncondition: selection";
    assert!(matches(&engine(any), json!({"Field": "xa"})));
    assert!(!matches(&engine(all), json!({"Field": "xa"})));
    assert!(matches(&engine(all), json!({"Field": "b and a"})));
}

#[test]
fn maps_are_and_lists_of_maps_are_or() {
    let map = "selection:\n    A: '1'\n    B: '2'\ncondition: selection";
    assert!(matches(&engine(map), json!({"A": "1", "B": "2"})));
    assert!(!matches(&engine(map), json!({"A": "1", "B": "3"})));
    let list = "selection:\n    - A: '1'\n    - B: '2'\ncondition: selection";
    assert!(matches(&engine(list), json!({"A": "0", "B": "2"})));
    assert!(!matches(&engine(list), json!({"A": "0", "B": "0"})));
}

#[test]
fn null_and_empty_string() {
    let null = engine("selection:\n    Field: null\ncondition: selection");
    assert!(matches(&null, json!({"Other": "x"})));
    assert!(matches(&null, json!({"Field": null})));
    assert!(!matches(&null, json!({"Field": ""})));
    assert!(!matches(&null, json!({"Field": "x"})));

    let empty = engine("selection:\n    Field: ''\ncondition: selection");
    assert!(matches(&empty, json!({"Field": ""})));
    assert!(!matches(&empty, json!({"Other": "x"})));
    assert!(!matches(&empty, json!({"Field": null})));

    // The specification's `not null` idiom: a null filter, negated.
    let not_null = engine("selection:\n    EventID: 4738\nfilter:\n    PasswordLastSet: null\ncondition: selection and not filter");
    assert!(matches(&not_null, json!({"EventID": 4738, "PasswordLastSet": "2024-01-01"})));
    assert!(!matches(&not_null, json!({"EventID": 4738})));
}

#[test]
fn event_id_numbers_and_strings() {
    let number = engine("selection:\n    EventID: 10\ncondition: selection");
    assert!(matches(&number, json!({"EventID": 10})));
    assert!(matches(&number, json!({"EventID": "10"})));
    assert!(matches(&number, json!({"Event": {"System": {"EventID": {"#text": 10, "#attributes": {"Qualifiers": 0}}}}})));
    assert!(!matches(&number, json!({"EventID": 100})));
    let text = engine("selection:\n    EventID: '10'\ncondition: selection");
    assert!(matches(&text, json!({"EventID": 10})));
}

#[test]
fn hexadecimal_values_are_strings() {
    // Unquoted, YAML would read 0x1fffff as the number 2097151.
    let unquoted = engine("selection:\n    GrantedAccess: 0x1fffff\ncondition: selection");
    assert!(matches(&unquoted, json!({"GrantedAccess": "0x1FFFFF"})));
    assert!(!matches(&unquoted, json!({"GrantedAccess": "2097151"})));
    let quoted = engine("selection:\n    GrantedAccess: '0x1fffff'\ncondition: selection");
    assert!(matches(&quoted, json!({"GrantedAccess": "0x1fffff"})));
    assert_eq!(
        load_error("selection:\n    GrantedAccess|gt: 0x10\ncondition: selection"),
        "test.yml (rule test-rule): invalid 'detection': search 'selection': 'GrantedAccess|gt': \
         lt, lte, gt and gte take a decimal number, found '0x10'"
    );
}

#[test]
fn keywords_match_any_field() {
    // The specification's example: 'EVILSERVICE' or 'svchost.exe -n evil'.
    let keywords = engine("keywords:\n    - 'EVILSERVICE'\n    - 'svchost.exe -n evil'\ncondition: keywords");
    assert!(matches(&keywords, json!({"ImagePath": "C:\\svchost.exe -n evil -k", "Other": "x"})));
    assert!(matches(&keywords, json!({"ServiceName": "EvilService"})));
    assert!(!matches(&keywords, json!({"ServiceName": "GoodService"})));

    // `'|all'` makes the keywords AND-ed; they may sit in different fields.
    let all = engine("keywords_cmdlet:\n    '|all':\n        - 'OabVirtualDirectory'\n        - ' -ExternalUrl '\ncondition: keywords_cmdlet");
    assert!(matches(&all, json!({"Payload": "Set-OabVirtualDirectory -ExternalUrl http://x"})));
    assert!(matches(&all, json!({"A": "OabVirtualDirectory", "B": "x -ExternalUrl y"})));
    assert!(!matches(&all, json!({"Payload": "Set-OabVirtualDirectory"})));

    let single = engine("keywords: 'mimikatz'\ncondition: keywords");
    assert!(matches(&single, json!({"CommandLine": "Invoke-Mimikatz"})));
}

#[test]
fn conditions_combine_searches() {
    let engine = engine(
        "selection_a:\n    A: '1'\nselection_b:\n    B: '1'\nfilter_x:\n    X: '1'\n_hidden:\n    H: '1'\n\
         condition: 1 of selection_* and not 1 of filter_*",
    );
    assert!(matches(&engine, json!({"A": "1"})));
    assert!(matches(&engine, json!({"B": "1"})));
    assert!(!matches(&engine, json!({"A": "1", "X": "1"})));
    assert!(!matches(&engine, json!({"H": "1"})));

    let them = self::engine("a:\n    A: '1'\nb:\n    B: '1'\n_c:\n    C: '1'\ncondition: all of them");
    assert!(matches(&them, json!({"A": "1", "B": "1"})));
    assert!(!matches(&them, json!({"A": "1"})));

    let listed = self::engine("a:\n    A: '1'\nb:\n    B: '1'\ncondition:\n    - a\n    - b");
    assert!(matches(&listed, json!({"B": "1"})));
}

#[test]
fn exists() {
    let present = engine("selection:\n    EventID: 4738\n    PasswordLastSet|exists: true\ncondition: selection");
    assert!(matches(&present, json!({"EventID": 4738, "PasswordLastSet": null})));
    assert!(matches(&present, json!({"EventID": 4738, "PasswordLastSet": ""})));
    assert!(!matches(&present, json!({"EventID": 4738})));
    let absent = engine("selection:\n    Field|exists: false\ncondition: selection");
    assert!(matches(&absent, json!({"Other": 1})));
    assert!(!matches(&absent, json!({"Field": "x"})));
    assert!(load_error("selection:\n    Field|exists: 'yes'\ncondition: selection").contains("'exists' takes true or false"));
}

#[test]
fn neq() {
    assert!(field_matches("Field|neq", "'a'", json!("b")));
    assert!(!field_matches("Field|neq", "'a'", json!("A")));
    let list = engine("selection:\n    Field|neq:\n        - 'a'\n        - 'b'\ncondition: selection");
    assert!(matches(&list, json!({"Field": "c"})));
    assert!(!matches(&list, json!({"Field": "b"})));
    // An absent field differs from every value.
    assert!(matches(&list, json!({"Other": "x"})));
    assert!(field_matches("Field|contains|neq", "'evil'", json!("good")));
    assert!(!field_matches("Field|contains|neq", "'evil'", json!("so evil")));
}

#[test]
fn windash_all_five_dashes() {
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        let command = format!("powershell {dash}enc ZQBjAGgAbwA=");
        assert!(field_matches("Field|windash|contains", "' -enc '", json!(command)), "{dash}");
        assert!(field_matches("Field|contains|windash", "' /enc '", json!(command)), "{dash}");
    }
    assert!(!field_matches("Field|windash|contains", "' -enc '", json!("powershell +enc x")));
}

#[test]
fn regular_expressions() {
    assert!(field_matches("Field|re", r"'^C:\\Users\\[^\\]+\\AppData'", json!(r"C:\Users\bob\AppData\x")));
    // Case-sensitive unless `i`.
    assert!(!field_matches("Field|re", "'cmd'", json!("CMD.exe")));
    assert!(field_matches("Field|re|i", "'cmd'", json!("CMD.exe")));
    // `m`: ^ and $ at line ends; `s`: . matches a newline.
    assert!(!field_matches("Field|re", "'^two$'", json!("one\ntwo")));
    assert!(field_matches("Field|re|m", "'^two$'", json!("one\ntwo")));
    assert!(!field_matches("Field|re", "'one.two'", json!("one\ntwo")));
    assert!(field_matches("Field|re|s", "'one.two'", json!("one\ntwo")));
    // Unanchored unless startswith or endswith anchors it.
    assert!(field_matches("Field|re", "'b+'", json!("abbc")));
    assert!(!field_matches("Field|re|startswith", "'b+'", json!("abbc")));
    assert!(field_matches("Field|re|endswith", "'b+c'", json!("abbc")));
    assert!(load_error("selection:\n    Field|re: '(?<=a)b'\ncondition: selection").contains("look-around"));
    // Perl classes and case folding are Unicode-aware.
    assert!(field_matches("Field|re", r"'^\w+$'", json!("Ärger")));
    assert!(field_matches("Field|re|i", "'ärger'", json!("ÄRGER")));
    // Unicode property classes are outside Sigma's flavor and not compiled in.
    let error = load_error(r"selection:
    Field|re: '\p{Greek}'
condition: selection");
    assert!(error.ends_with(r"Unicode property classes (\p{..}, \P{..}) are not supported"), "{error}");
    assert!(field_matches("Field|re", r"'a\\p'", json!(r"a\p")));
}

#[test]
fn base64_and_base64offset() {
    // base64 encodes the whole value: 'cmd' is 'Y21k'.
    assert!(field_matches("Field|base64", "'cmd'", json!("Y21k")));
    assert!(field_matches("Field|base64|contains", "'cmd'", json!("xxY21kxx")));
    // base64offset finds the value at any byte offset of an encoded text.
    for text in ["IEX (foo)", "x IEX (foo)", "xy IEX (foo)", "xyzIEX"] {
        let encoded = base64_encode(text.as_bytes());
        assert!(field_matches("Field|base64offset|contains", "'IEX'", json!(encoded)), "{text}");
    }
    assert!(!field_matches("Field|base64offset|contains", "'IEX'", json!(base64_encode(b"nothing here"))));
    assert!(load_error("selection:\n    Field|contains|base64: 'cmd'\ncondition: selection").contains("wildcards"));
}

#[test]
fn utf16_encodings() {
    // The specification's examples: cmd is 63 00 6d 00 64 00 in UTF-16LE,
    // 00 63 00 6d 00 64 in UTF-16BE, and FF FE 63 00 6d 00 64 00 with a BOM.
    assert!(field_matches("Field|utf16le|base64offset|contains", "'cmd'", json!(base64_encode(&utf16le("/c cmd /k")))));
    assert!(field_matches("Field|wide|base64offset|contains", "'cmd'", json!(base64_encode(&utf16le("/c cmd /k")))));
    let mut be = Vec::new();
    "cmd".encode_utf16().for_each(|unit| be.extend(unit.to_be_bytes()));
    assert!(field_matches("Field|utf16be|base64", "'cmd'", json!(base64_encode(&be))));
    let mut bom = vec![0xFF, 0xFE];
    bom.extend(utf16le("cmd"));
    assert!(field_matches("Field|utf16|base64", "'cmd'", json!(base64_encode(&bom))));
    assert!(field_matches("Field|wide|contains", "'cmd'", json!("x c\u{0}m\u{0}d\u{0} x")));
}

#[test]
fn numeric_comparisons() {
    assert!(field_matches("Field|lt", "10", json!(9)));
    assert!(!field_matches("Field|lt", "10", json!(10)));
    assert!(field_matches("Field|lte", "10", json!("10")));
    assert!(field_matches("Field|gt", "10", json!(10.5)));
    assert!(!field_matches("Field|gt", "10", json!("ten")));
    assert!(field_matches("Field|gte", "-1", json!(-1)));
}

#[test]
fn time_parts() {
    let time = json!("2025-11-27T07:22:22.0338285Z");
    assert!(field_matches("Field|minute", "22", time.clone()));
    assert!(field_matches("Field|hour", "7", time.clone()));
    assert!(field_matches("Field|day", "27", time.clone()));
    assert!(field_matches("Field|week", "48", time.clone()));
    assert!(field_matches("Field|month", "11", time.clone()));
    assert!(field_matches("Field|year", "2025", time.clone()));
    assert!(!field_matches("Field|hour", "8", time));
    let night = engine("selection:\n    UtcTime|hour:\n        - 0\n        - 1\n        - 2\ncondition: selection");
    assert!(matches(&night, json!({"UtcTime": "2025-01-02 01:30:00.000"})));
    assert!(!matches(&night, json!({"UtcTime": "2025-01-02 13:30:00.000"})));
}

#[test]
fn cidr_networks() {
    // The specification's example: `DestinationIp|cidr: 10.0.0.0/8`.
    assert!(field_matches("DestinationIp|cidr", "10.0.0.0/8", json!("10.20.30.40")));
    assert!(!field_matches("DestinationIp|cidr", "10.0.0.0/8", json!("192.168.0.1")));
    assert!(field_matches("DestinationIp|cidr", "'fe80::/10'", json!("fe80::1ff:fe23:4567:890a")));
    assert!(!field_matches("DestinationIp|cidr", "'fe80::/10'", json!("2001:db8::1")));
    let private = engine(
        "selection:\n    DestinationIp|cidr:\n        - '127.0.0.0/8'\n        - '172.16.0.0/12'\n        - '::1/128'\ncondition: selection",
    );
    assert!(matches(&private, json!({"DestinationIp": "172.31.255.255"})));
    assert!(matches(&private, json!({"DestinationIp": "::1"})));
    assert!(!matches(&private, json!({"DestinationIp": "172.32.0.0"})));
}

#[test]
fn field_references() {
    let same = engine("selection:\n    TargetFilename|fieldref: Image\ncondition: selection");
    assert!(matches(&same, json!({"TargetFilename": "C:\\A.exe", "Image": "c:\\a.exe"})));
    assert!(!matches(&same, json!({"TargetFilename": "C:\\A.exe", "Image": "C:\\B.exe"})));
    assert!(!matches(&same, json!({"TargetFilename": "C:\\A.exe"})));
    let suffix = engine("selection:\n    CommandLine|fieldref|endswith: Image\ncondition: selection");
    assert!(matches(&suffix, json!({"CommandLine": "run C:\\a.exe", "Image": "C:\\A.EXE"})));
    let differs = engine("selection:\n    User|fieldref|neq: ParentUser\ncondition: selection");
    assert!(matches(&differs, json!({"User": "alice", "ParentUser": "SYSTEM"})));
    assert!(!matches(&differs, json!({"User": "alice", "ParentUser": "Alice"})));
}

#[test]
fn expand_with_configured_placeholders() {
    let yaml = rule_yaml(
        "selection:\n    EventID: 4624\n    WorkstationName|expand: '%Workstations%'\ncondition: selection",
    );
    let engine = Engine::builder()
        .default_rules(false)
        .placeholder("Workstations", ["WS-*", "LAPTOP-01"])
        .rule_text("test.yml", yaml.clone())
        .build();
    assert_eq!(engine.errors(), &[]);
    assert!(matches(&engine, json!({"EventID": 4624, "WorkstationName": "ws-0042"})));
    assert!(matches(&engine, json!({"EventID": 4624, "WorkstationName": "LAPTOP-01"})));
    assert!(!matches(&engine, json!({"EventID": 4624, "WorkstationName": "SRV-01"})));

    let unconfigured = Engine::builder().default_rules(false).rule_text("test.yml", yaml).build();
    assert_eq!(unconfigured.rules().len(), 0);
    assert_eq!(unconfigured.errors()[0].code(), "placeholder");
    assert!(unconfigured.errors()[0].to_string().contains("placeholder %Workstations% has no values configured"));
    // Without `expand`, percent signs are plain text.
    assert!(field_matches("Field", "'%Workstations%'", json!("%workstations%")));
}

#[test]
fn invalid_modifier_chains_name_the_problem() {
    assert!(load_error("selection:\n    Field|bogus: 'x'\ncondition: selection").ends_with("unknown modifier 'bogus'"));
    assert!(load_error("selection:\n    Field|startswith|endswith: 'x'\ncondition: selection").contains("only one of"));
    assert!(load_error("selection:\n    Field|cidr: 'not a network'\ncondition: selection").contains("not an IPv4 or IPv6 network"));
    assert!(load_error("selection:\n    Field|i: 'x'\ncondition: selection").contains("needs 're' before it"));
}

/// A rule with this `logsource` body and `detection` body.
fn engine_for(logsource: &str, detection: &str) -> Engine {
    let body: String = dedent(detection).lines().map(|line| format!("    {line}\n")).collect();
    let yaml = format!("title: test\nid: test-rule\nlogsource: {logsource}\ndetection:\n{body}");
    let engine = Engine::builder().default_rules(false).rule_text("test.yml", yaml).build();
    assert_eq!(engine.errors(), &[], "the rule loads");
    engine
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

#[test]
fn process_creation_from_sysmon_and_security() {
    let engine = engine_for(
        "{category: process_creation, product: windows}",
        "selection:\n    Image|endswith: '\\whoami.exe'\n    ParentImage|endswith: '\\cmd.exe'\ncondition: selection",
    );
    let sysmon = json!({"Channel": SYSMON, "EventID": 1, "Image": "C:\\Windows\\whoami.exe", "ParentImage": "C:\\cmd.exe"});
    assert!(matches(&engine, sysmon));
    // Security 4688 names them NewProcessName and ParentProcessName.
    let security = json!({
        "Event": {
            "System": {"Channel": "Security", "EventID": 4688},
            "EventData": {"NewProcessName": "C:\\Windows\\whoami.exe", "ParentProcessName": "C:\\cmd.exe"}
        }
    });
    assert!(matches(&engine, security));
    let wrong_id = json!({"Channel": "Security", "EventID": 4689, "NewProcessName": "C:\\whoami.exe", "ParentProcessName": "C:\\cmd.exe"});
    assert!(!matches(&engine, wrong_id));
    let wrong_channel = json!({"Channel": "System", "EventID": 1, "Image": "C:\\whoami.exe", "ParentImage": "C:\\cmd.exe"});
    assert!(!matches(&engine, wrong_channel));
}

#[test]
fn services_gate_by_channel() {
    let engine = engine_for("{product: windows, service: security}", "selection:\n    EventID: 1102\ncondition: selection");
    assert!(matches(&engine, json!({"Channel": "Security", "EventID": 1102})));
    assert!(!matches(&engine, json!({"Channel": "System", "EventID": 1102})));
    // An export without a channel is placed by its provider.
    assert!(matches(&engine, json!({"Provider_Name": "Microsoft-Windows-Security-Auditing", "EventID": 1102})));
}

#[test]
fn antivirus_uses_the_map_field_names() {
    let engine = engine_for(
        "{category: antivirus}",
        "selection:\n    Signature|contains: 'Mimikatz'\n    Filename|endswith: '.exe'\ncondition: selection",
    );
    let detection = json!({
        "Event": {
            "System": {"Channel": "Microsoft-Windows-Windows Defender/Operational", "EventID": 1116},
            "EventData": {"Threat Name": "HackTool:Win32/Mimikatz", "Path": "file:_C:\\m.exe"}
        }
    });
    assert!(matches(&engine, detection));
    let other_id = json!({"Channel": "Microsoft-Windows-Windows Defender/Operational", "EventID": 5007,
                          "Threat Name": "HackTool:Win32/Mimikatz", "Path": "file:_C:\\m.exe"});
    assert!(!matches(&engine, other_id));
}

#[test]
fn registry_add_needs_create_key() {
    let engine = engine_for("{category: registry_add, product: windows}", "selection:\n    TargetObject|contains: '\\Run'\ncondition: selection");
    let create = json!({"Channel": SYSMON, "EventID": 12, "EventType": "CreateKey", "TargetObject": "HKLM\\Run"});
    assert!(matches(&engine, create));
    let delete = json!({"Channel": SYSMON, "EventID": 12, "EventType": "DeleteKey", "TargetObject": "HKLM\\Run"});
    assert!(!matches(&engine, delete));
}

const RAR_RULE: &str = concat!(
    "title: Data Compressed - rar.exe\n",
    "id: 6f3e2987-db24-4c78-a860-b4f4095a7095\n",
    "name: rar_compression\n",
    "logsource:\n",
    "    category: process_creation\n",
    "    product: windows\n",
    "detection:\n",
    "    selection:\n",
    "        Image|endswith: '\\rar.exe'\n",
    "    condition: selection\n",
);

/// The specification's example filter: administrators' accounts start with `adm_`.
const ADMIN_FILTER: &str = concat!(
    "title: Filter Administrator account\n",
    "description: The valid administrator account start with adm_\n",
    "logsource:\n",
    "    category: process_creation\n",
    "    product: windows\n",
    "filter:\n",
    "    rules:\n",
    "        - 6f3e2987-db24-4c78-a860-b4f4095a7095 # Data Compressed - rar.exe\n",
    "        - df0841c0-9846-4e9f-ad8a-7df91571771b # Login on jump host\n",
    "    selection:\n",
    "        User|startswith: 'adm_'\n",
    "    condition: selection\n",
);

fn rar_event(user: &str) -> Value {
    json!({"Channel": SYSMON, "EventID": 1, "Image": "C:\\Program Files\\WinRAR\\rar.exe", "User": user})
}

#[test]
fn filter_from_the_specification() {
    // The filter comes first: it applies once every document is loaded.
    let engine = Engine::builder()
        .default_rules(false)
        .rule_text("mf_admin.yml", ADMIN_FILTER)
        .rule_text("rar.yml", RAR_RULE)
        .build();
    assert_eq!(engine.errors(), &[]);
    assert_eq!(engine.filters().len(), 1);
    assert_eq!(engine.rules()[0].filters, vec!["Filter Administrator account".to_string()]);
    assert!(matches(&engine, rar_event("CORP\\bob")));
    assert!(!matches(&engine, rar_event("adm_bob")));
    // `and not filter` adds no requirement: the rule's literal still rules input out.
    let literals: Vec<&str> = engine.prefilter().expect("a prefilter").literals().collect();
    assert_eq!(literals, vec!["rar.exe"]);
}

#[test]
fn filter_by_name_and_log_source() {
    let by_name = ADMIN_FILTER.replace("- 6f3e2987-db24-4c78-a860-b4f4095a7095", "- rar_compression");
    let engine = Engine::builder().default_rules(false).rule_text("rar.yml", RAR_RULE).rule_text("f.yml", by_name).build();
    assert!(!matches(&engine, rar_event("adm_bob")));

    // A filter for another log source leaves the rule alone, with a note.
    let other_source = ADMIN_FILTER.replace("category: process_creation", "category: file_event");
    let engine = Engine::builder().default_rules(false).rule_text("rar.yml", RAR_RULE).rule_text("f.yml", other_source).build();
    assert!(matches(&engine, rar_event("adm_bob")));
    assert!(engine.notes().iter().any(|note| note.code == "unused-filter" && note.message.contains("applies to no loaded rule")), "{:?}", engine.notes());
}

#[test]
fn filter_without_rules_is_an_error() {
    let broken: String = ADMIN_FILTER.lines().filter(|line| !line.contains("rules:") && !line.contains("- ")).map(|line| format!("{line}\n")).collect();
    let engine = Engine::builder().default_rules(false).rule_text("f.yml", broken).build();
    assert_eq!(engine.errors().len(), 1);
    assert_eq!(engine.errors()[0].to_string(), "f.yml: missing required key 'filter.rules'");
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Standard base64 with padding, written out so the test does not share
/// the engine's encoder.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let group = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let bits = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(ALPHABET[(bits >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
