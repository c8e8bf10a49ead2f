//! The alias table: how a field path in any export shape maps to the Sysmon
//! and Windows field name that Sigma rules use.
//!
//! | shape | path | Sigma name |
//! |---|---|---|
//! | evtx JSON | `Event.System.EventID`, `Event.EventData.SourceImage` | `EventID`, `SourceImage` |
//! | evtx JSON | `Event.UserData.<element>.Param` | `Param` |
//! | Winlogbeat | `winlog.event_data.SourceImage`, `winlog.channel` | `SourceImage`, `Channel` |
//! | Winlogbeat/ECS | `process.executable` on a Sysmon Event ID 10 | `SourceImage` |
//! | Winlogbeat/ECS | `process.hash.sha256`, `process.pe.imphash` on Event ID 1 | `Hashes` (rebuilt) |
//! | Winlogbeat/ECS | `user.domain` and `user.name` on Event ID 1 | `User` (rebuilt) |
//! | flat | `SourceImage` | `SourceImage` |
//! | any, name with spaces | `Event.EventData.Threat Name` | `Threat Name` and `ThreatName` |
//! | log-source map `fieldmappings` | `NewProcessName` in Security Event ID 4688 | `NewProcessName` and `Image` |

use std::borrow::Cow;

use crate::event::Event;
use crate::logsource;

/// Prefixes whose remainder is the Sigma name.
const STRIPPED_PREFIXES: &[&str] = &[
    "Event.System.",
    "Event.EventData.",
    "winlog.event_data.",
    "winlog.user_data.",
    "event_data.",
    "EventData.",
    "System.",
];

/// Winlogbeat's `winlog.*` metadata and its Sigma names.
const RENAMES: &[(&str, &str)] = &[
    ("winlog.channel", "Channel"),
    ("winlog.event_id", "EventID"),
    ("winlog.computer_name", "Computer"),
    ("winlog.record_id", "EventRecordID"),
    ("winlog.provider_name", "Provider_Name"),
    ("winlog.provider_guid", "Provider_Guid"),
    ("winlog.process.pid", "Execution_ProcessID"),
    ("winlog.process.thread.id", "Execution_ThreadID"),
    ("winlog.user.identifier", "Security_UserID"),
    ("winlog.task", "Task"),
    ("winlog.opcode", "Opcode"),
    ("winlog.version", "Version"),
    ("winlog.keywords", "Keywords"),
    ("event.code", "EventID"),
    ("host.name", "Computer"),
];

/// Returns the Sigma name for a flattened field path.
pub fn sigma_name(path: &str) -> Cow<'_, str> {
    if let Some(rest) = path.strip_prefix("Event.UserData.") {
        // `Event.UserData.<element>.Param`: the element name varies by provider.
        return Cow::Borrowed(rest.rsplit('.').next().unwrap_or(rest));
    }
    for prefix in STRIPPED_PREFIXES {
        if let Some(rest) = path.strip_prefix(prefix) {
            return Cow::Borrowed(rest);
        }
    }
    for (from, to) in RENAMES {
        if path == *from {
            return Cow::Borrowed(to);
        }
    }
    Cow::Borrowed(path)
}

const SYSMON_CHANNEL: &str = "microsoft-windows-sysmon/operational";

/// ECS fields that Winlogbeat's Sysmon module moves out of `event_data`, by
/// Sysmon Event ID: `(event id, ECS path, Sysmon name)`.
const ECS_SYSMON: &[(u32, &str, &str)] = &[
    (1, "process.executable", "Image"),
    (1, "process.command_line", "CommandLine"),
    (1, "process.pid", "ProcessId"),
    (1, "process.entity_id", "ProcessGuid"),
    (1, "process.working_directory", "CurrentDirectory"),
    (1, "process.parent.executable", "ParentImage"),
    (1, "process.parent.command_line", "ParentCommandLine"),
    (1, "process.parent.pid", "ParentProcessId"),
    (1, "process.parent.entity_id", "ParentProcessGuid"),
    (1, "process.pe.original_file_name", "OriginalFileName"),
    (1, "process.pe.description", "Description"),
    (1, "process.pe.product", "Product"),
    (1, "process.pe.company", "Company"),
    (1, "process.pe.file_version", "FileVersion"),
    (7, "process.executable", "Image"),
    (7, "process.pid", "ProcessId"),
    (7, "process.entity_id", "ProcessGuid"),
    (7, "file.path", "ImageLoaded"),
    (7, "file.pe.original_file_name", "OriginalFileName"),
    (10, "process.executable", "SourceImage"),
    (10, "process.pid", "SourceProcessId"),
    (10, "process.entity_id", "SourceProcessGUID"),
    (10, "process.thread.id", "SourceThreadId"),
];

/// Sysmon's `Hashes` field, which Winlogbeat's Sysmon module splits into
/// `<prefix>.hash.<algorithm>` and `<prefix>.pe.imphash` and then deletes:
/// `(event id, prefix)`.
const ECS_HASHES: &[(u32, &str)] = &[(1, "process"), (6, "file"), (7, "file")];

/// Hash algorithms in the order Sysmon writes them in `Hashes`: `(Sysmon
/// name, ECS name)`.
const HASH_ALGORITHMS: &[(&str, &str)] = &[("SHA1", "sha1"), ("MD5", "md5"), ("SHA256", "sha256"), ("IMPHASH", "imphash")];

/// Sysmon's `User` (`DOMAIN\name`), which Winlogbeat's Sysmon module splits
/// into `user.domain` and `user.name` and then deletes, by Event ID.
const ECS_USER_EVENTS: &[u32] = &[1, 3];

/// Adds the Sigma names of fields that arrived under another name, unless
/// the event already has them:
/// - a name with spaces (Defender's `Threat Name`) also as the name without
///   them (`ThreatName`), the form Sigma rules use;
/// - the log-source map's `fieldmappings` (`Image` for Security 4688's
///   `NewProcessName`, `Signature` for Defender's `ThreatName`);
/// - Winlogbeat's ECS names of Sysmon fields, and the `Hashes` and `User`
///   fields it splits up.
pub fn add_aliases(event: &mut Event) {
    let mut additions: Vec<(String, Option<String>)> = Vec::new();
    for field in event.fields() {
        if field.name.contains(' ') {
            let name: String = field.name.chars().filter(|c| *c != ' ').collect();
            if !event.has(&name) && !additions.iter().any(|(added, _)| *added == name) {
                additions.push((name, field.value.as_deref().map(str::to_string)));
            }
        }
    }
    for (name, value) in additions.drain(..) {
        event.push(&name, value.as_deref());
    }

    let Some(event_id) = event.event_id() else { return };
    let channel = logsource::event_channel(event);
    let mapped = logsource::field_mappings().iter().filter(|mapping| {
        channel.as_ref().is_some_and(|channel| mapping.channels.contains(channel))
            && (mapping.event_ids.is_empty() || mapping.event_ids.contains(&event_id))
    });
    let sysmon = channel.as_deref().is_none_or(|channel| channel == SYSMON_CHANNEL);
    let ecs = ECS_SYSMON
        .iter()
        .filter(|(id, _, _)| sysmon && *id == event_id)
        .map(|(_, from, to)| (*to, *from));
    let pairs = mapped.map(|m| (m.sigma_name.as_str(), m.event_name.as_str())).chain(ecs);

    let mut found: Vec<(&str, String)> = Vec::new();
    for (sigma_name, event_name) in pairs {
        if event.has(sigma_name) || found.iter().any(|(name, _)| *name == sigma_name) {
            continue;
        }
        if let Some(value) = event.get(event_name) {
            found.push((sigma_name, value.to_string()));
        }
    }
    for (name, value) in found {
        additions.push((name.to_string(), Some(value)));
    }
    if channel.as_deref() != Some("security") {
        additions.extend(rebuild_hashes(event, event_id).map(|hashes| ("Hashes".to_string(), Some(hashes))));
        additions.extend(rebuild_user(event, event_id).map(|user| ("User".to_string(), Some(user))));
    }
    for (name, value) in additions {
        event.push(&name, value.as_deref());
    }
}

/// Rebuilds `Hashes` as `SHA1=...,MD5=...,SHA256=...,IMPHASH=...` from the
/// ECS hash fields, when the event has them and no `Hashes`.
fn rebuild_hashes(event: &Event, event_id: u32) -> Option<String> {
    let &(_, prefix) = ECS_HASHES.iter().find(|(id, _)| *id == event_id)?;
    if event.has("Hashes") {
        return None;
    }
    let mut parts = Vec::new();
    for (sysmon, ecs) in HASH_ALGORITHMS {
        let path = if *ecs == "imphash" { format!("{prefix}.pe.imphash") } else { format!("{prefix}.hash.{ecs}") };
        if let Some(value) = event.get(&path) {
            parts.push(format!("{sysmon}={value}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// Rebuilds `User` as `domain\name` from `user.domain` and `user.name`.
fn rebuild_user(event: &Event, event_id: u32) -> Option<String> {
    if !ECS_USER_EVENTS.contains(&event_id) || event.has("User") {
        return None;
    }
    Some(format!("{}\\{}", event.get("user.domain")?, event.get("user.name")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_map_to_sigma_names() {
        assert_eq!(sigma_name("Event.EventData.CallTrace"), "CallTrace");
        assert_eq!(sigma_name("Event.System.Provider_Name"), "Provider_Name");
        assert_eq!(sigma_name("Event.UserData.LogFileCleared.SubjectUserName"), "SubjectUserName");
        assert_eq!(sigma_name("winlog.event_data.TargetImage"), "TargetImage");
        assert_eq!(sigma_name("winlog.channel"), "Channel");
        assert_eq!(sigma_name("SourceImage"), "SourceImage");
        assert_eq!(sigma_name("process.executable"), "process.executable");
    }

    #[test]
    fn winlogbeat_ecs_fields_get_sysmon_names() {
        let event = Event::from_json(&json!({
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 10,
                       "event_data": {"TargetImage": "C:\\MsMpEng.exe"}},
            "process": {"executable": "C:\\Windows\\System32\\WerFaultSecure.exe"}
        }))
        .unwrap();
        assert_eq!(event.get("EventID"), Some("10"));
        assert_eq!(event.get("SourceImage"), Some("C:\\Windows\\System32\\WerFaultSecure.exe"));
        assert_eq!(event.get("TargetImage"), Some("C:\\MsMpEng.exe"));
    }

    #[test]
    fn names_with_spaces_get_their_sigma_name() {
        let event = Event::from_json(&json!({
            "Event": {
                "System": {"EventID": 1119, "Channel": "Microsoft-Windows-Windows Defender/Operational"},
                "EventData": {"Threat Name": "Tool:Win32/EICAR_Test_File", "Source Name": "Real-Time Protection"}
            }
        }))
        .unwrap();
        assert_eq!(event.get("ThreatName"), Some("Tool:Win32/EICAR_Test_File"));
        assert_eq!(event.get("SourceName"), Some("Real-Time Protection"));
        assert_eq!(event.get("Threat Name"), Some("Tool:Win32/EICAR_Test_File"));
    }

    #[test]
    fn antivirus_field_mappings_apply_to_defender_detections() {
        let event = Event::from_json(&json!({
            "Channel": "Microsoft-Windows-Windows Defender/Operational", "EventID": 1116,
            "Threat Name": "HackTool:Win64/Mimikatz", "Path": "file:_C:\\m.exe"
        }))
        .unwrap();
        assert_eq!(event.get("Signature"), Some("HackTool:Win64/Mimikatz"));
        assert_eq!(event.get("Filename"), Some("file:_C:\\m.exe"));
        let other = Event::from_json(&json!({
            "Channel": "Microsoft-Windows-Windows Defender/Operational", "EventID": 5001, "Path": "x"
        }))
        .unwrap();
        assert_eq!(other.get("Filename"), None);
    }

    #[test]
    fn winlogbeat_split_fields_are_rebuilt() {
        let event = Event::from_json(&json!({
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "1"},
            "process": {"hash": {"sha1": "aa", "sha256": "bb"}, "pe": {"imphash": "cc"}},
            "user": {"domain": "HOST", "name": "alice"}
        }))
        .unwrap();
        assert_eq!(event.get("Hashes"), Some("SHA1=aa,SHA256=bb,IMPHASH=cc"));
        assert_eq!(event.get("User"), Some("HOST\\alice"));
    }

    #[test]
    fn present_hashes_are_not_rebuilt() {
        let event = Event::from_json(&json!({
            "EventID": 1, "Hashes": "MD5=11", "process": {"hash": {"md5": "22"}}
        }))
        .unwrap();
        let hashes: Vec<_> = event.fields().iter().filter(|f| &*f.name == "Hashes").collect();
        assert_eq!(hashes.len(), 1);
        assert_eq!(event.get("Hashes"), Some("MD5=11"));
    }

    #[test]
    fn security_4688_gets_image() {
        let event = Event::from_json(&json!({
            "Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\x.exe"
        }))
        .unwrap();
        assert_eq!(event.get("Image"), Some("C:\\x.exe"));
        let sysmon = Event::from_json(&json!({
            "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 4688, "NewProcessName": "C:\\x.exe"
        }))
        .unwrap();
        assert_eq!(sysmon.get("Image"), None);
    }
}
