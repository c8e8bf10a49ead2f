//! Loading a folder of rules natively: every rule that can load does, and
//! each one that cannot is reported with its file, id and reason.

use std::path::Path;

use sigma_edge::Engine;

const GOOD: &str = "title: good\nid: good-1\nlogsource: {product: windows}\ndetection:\n  a: {Image|endswith: '\\\\x.exe'}\n  condition: a\n";
const BAD_MODIFIER: &str = "title: bad\nid: bad-1\nlogsource: {product: windows}\ndetection:\n  a: {Image|bogus: x}\n  condition: a\n";
const TWO_DOCUMENTS: &str = "title: first\nid: doc-1\nlogsource: {product: windows}\ndetection:\n  a: {A: '1'}\n  condition: a\n---\ntitle: second\nid: doc-2\nlogsource: {product: windows}\ndetection:\n  a: {A: '1'}\n  condition: missing\n";

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn folder_loads_good_rules_and_reports_the_rest() {
    let dir = std::env::temp_dir().join(format!("sigma-edge-rule-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write(&dir, "a/good.yml", GOOD.as_bytes());
    write(&dir, "b/bad.yaml", BAD_MODIFIER.as_bytes());
    write(&dir, "b/two.yml", TWO_DOCUMENTS.as_bytes());
    write(&dir, "c/latin1.yml", b"title: caf\xe9\n");
    write(&dir, "c/notes.txt", b"not a rule");

    let engine = Engine::builder().default_rules(false).rule_dir(&dir).build();
    std::fs::remove_dir_all(&dir).unwrap();

    let ids: Vec<&str> = engine.rules().iter().map(|rule| rule.id.as_str()).collect();
    assert_eq!(ids, vec!["good-1", "doc-1"]);
    let errors: Vec<(String, Option<&str>, &str)> = engine
        .errors()
        .iter()
        .map(|error| {
            let file = Path::new(&error.file).strip_prefix(&dir).unwrap().display().to_string();
            (file, error.rule_id.as_deref(), error.code())
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            ("c/latin1.yml".to_string(), None, "read"),
            ("b/bad.yaml".to_string(), Some("bad-1"), "invalid"),
            ("b/two.yml".to_string(), Some("doc-2"), "condition"),
        ]
    );
    assert!(engine.errors()[1].to_string().ends_with("unknown modifier 'bogus'"));
}

#[test]
fn missing_path_is_a_read_error() {
    let engine = Engine::builder().default_rules(false).rule_dir("/no/such/folder").build();
    assert_eq!(engine.rules().len(), 0);
    assert_eq!(engine.errors().len(), 1);
    assert_eq!(engine.errors()[0].code(), "read");
    assert_eq!(engine.errors()[0].file, "/no/such/folder");
}
