//! Log-source gating: which events a rule applies to, from its `logsource`.
//!
//! The map is SigmaHQ's own (`src/logsources.yml`): a category maps to
//! Event IDs and a service (`process_access` is Event ID 10 of `sysmon`), and
//! a service maps to channels (`sysmon` is
//! `Microsoft-Windows-Sysmon/Operational`). An Event ID 10 from another
//! channel is therefore not a `process_access` event. The Windows services
//! and category names of the Sigma taxonomy appendix that the map lacks
//! (`dns-server`, `driver-framework`, `clipboard_capture`, ...) are added.

use std::sync::OnceLock;

use yaml_rust2::{Yaml, YamlLoader};

use crate::event::Event;

const MAP_YAML: &str = include_str!("logsources.yml");

/// A rule's `logsource` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LogSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl LogSource {
    /// Reads a `logsource` map (absent keys stay `None`).
    pub fn of(yaml: &Yaml) -> LogSource {
        let text = |key: &str| match &yaml[key] {
            Yaml::String(text) => Some(text.trim().to_string()).filter(|text| !text.is_empty()),
            _ => None,
        };
        LogSource { product: text("product"), category: text("category"), service: text("service") }
    }
}

/// Which events a rule is evaluated on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Every event (`product: windows` alone, or no logsource).
    Any,
    /// Events matching any of these.
    Sources(Vec<Source>),
    /// No Windows event: the reason is reported when the rule loads.
    Never(String),
}

/// One channel set with its conditions, such as Sysmon with `EventID: 10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Channel names, lower-cased.
    pub channels: Vec<String>,
    /// Event IDs, any of which the event must have; empty for any.
    pub event_ids: Vec<u32>,
    /// Other fields that must hold one of the values, as in `EventType: CreateKey`.
    pub conditions: Vec<(String, Vec<String>)>,
}

/// What gating reads of an event, computed once per event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventKey {
    /// The channel, lower-cased (see [`event_channel`]).
    pub channel: Option<String>,
    pub event_id: Option<u32>,
}

impl EventKey {
    pub fn of(event: &Event) -> EventKey {
        EventKey { channel: event_channel(event), event_id: event.event_id() }
    }
}

/// Channels whose events can also be recognised by their provider, for
/// exports that drop the channel (`Provider_Name` or NXLog's `SourceName`).
const PROVIDER_CHANNELS: &[(&str, &str)] = &[
    ("microsoft-windows-sysmon", "microsoft-windows-sysmon/operational"),
    ("microsoft-windows-security-auditing", "security"),
    ("microsoft-windows-powershell", "microsoft-windows-powershell/operational"),
];

impl Gate {
    /// Resolves a rule's `logsource` with SigmaHQ's map.
    pub fn resolve(logsource: &LogSource) -> Gate {
        let product = logsource.product.as_deref().map(str::to_ascii_lowercase);
        if product.as_deref().is_some_and(|p| p != "windows") {
            return Gate::Never(format!(
                "logsource product '{}' is not a Windows event log",
                logsource.product.as_deref().unwrap_or_default()
            ));
        }
        let map = map();
        if let Some(category) = &logsource.category {
            return map.category(category);
        }
        if let Some(service) = &logsource.service {
            return match map.service_channels(service) {
                Some(channels) => {
                    Gate::Sources(vec![Source { channels, event_ids: Vec::new(), conditions: Vec::new() }])
                }
                None => Gate::Never(format!("logsource service '{service}' is not in the log-source map")),
            };
        }
        Gate::Any
    }

    /// Whether this gate lets `event` through.
    pub fn admits(&self, event: &Event, key: &EventKey) -> bool {
        match self {
            Gate::Any => true,
            Gate::Never(_) => false,
            Gate::Sources(sources) => sources.iter().any(|source| source.admits(event, key)),
        }
    }
}

impl Source {
    fn admits(&self, event: &Event, key: &EventKey) -> bool {
        let Some(channel) = key.channel.as_deref() else { return false };
        self.channels.iter().any(|c| c == channel)
            && (self.event_ids.is_empty() || key.event_id.is_some_and(|id| self.event_ids.contains(&id)))
            && self.conditions.iter().all(|(field, values)| {
                event.get(field).is_some_and(|v| values.iter().any(|expected| v.trim().eq_ignore_ascii_case(expected)))
            })
    }
}

/// The event's channel, lower-cased: its `Channel` field, or the channel of
/// its provider when the export has no channel.
pub fn event_channel(event: &Event) -> Option<String> {
    if let Some(channel) = event.get("Channel") {
        return Some(channel.to_lowercase());
    }
    let provider = event.get("Provider_Name").or_else(|| event.get("SourceName"))?;
    PROVIDER_CHANNELS
        .iter()
        .find(|(name, _)| provider.eq_ignore_ascii_case(name))
        .map(|(_, channel)| channel.to_string())
}

struct Map {
    categories: Vec<CategoryEntry>,
    services: Vec<(String, Vec<String>)>,
}

#[derive(Clone)]
struct CategoryEntry {
    category: String,
    event_ids: Vec<u32>,
    conditions: Vec<(String, Vec<String>)>,
    service: String,
    /// `fieldmappings`: (Sigma name, name in these events).
    field_mappings: Vec<(String, String)>,
}

/// Field names that differ in one log source: the map's `fieldmappings`,
/// such as `Image` arriving as `NewProcessName` in Security Event ID 4688.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMapping {
    /// Channel names, lower-cased.
    pub channels: Vec<String>,
    /// Event IDs the mapping applies to; empty for any.
    pub event_ids: Vec<u32>,
    /// The name rules use.
    pub sigma_name: String,
    /// The name the events of that source carry.
    pub event_name: String,
}

/// Returns every field mapping of the bundled map's Windows entries.
pub fn field_mappings() -> &'static [FieldMapping] {
    static MAPPINGS: OnceLock<Vec<FieldMapping>> = OnceLock::new();
    MAPPINGS.get_or_init(|| {
        let map = map();
        let mut mappings = Vec::new();
        for entry in &map.categories {
            let Some(channels) = map.service_channels(&entry.service) else { continue };
            for (sigma_name, event_name) in &entry.field_mappings {
                mappings.push(FieldMapping {
                    channels: channels.clone(),
                    event_ids: entry.event_ids.clone(),
                    sigma_name: sigma_name.clone(),
                    event_name: event_name.clone(),
                });
            }
        }
        mappings
    })
}

/// Windows services of the Sigma taxonomy appendix (version 2.1) that
/// SigmaHQ's map lacks, with their channels.
const TAXONOMY_SERVICES: &[(&str, &str)] = &[
    ("dns-server", "DNS Server"),
    ("dns-server-analytic", "Microsoft-Windows-DNS-Server/Analytical"),
    ("dns-server-audit", "Microsoft-Windows-DNS-Server/Audit"),
    ("driver-framework", "Microsoft-Windows-DriverFrameworks-UserMode/Operational"),
];

/// Category names of the taxonomy appendix that SigmaHQ's map spells
/// differently: (taxonomy name, map name).
const TAXONOMY_CATEGORIES: &[(&str, &str)] = &[("clipboard_capture", "clipboard_change")];

fn map() -> &'static Map {
    static MAP: OnceLock<Map> = OnceLock::new();
    MAP.get_or_init(|| Map::parse(MAP_YAML))
}

impl Map {
    /// Parses the bundled map. It is part of the crate and covered by tests,
    /// so a malformed entry is skipped rather than reported.
    fn parse(text: &str) -> Map {
        let mut map = Map { categories: Vec::new(), services: Vec::new() };
        let documents = YamlLoader::load_from_str(text).unwrap_or_default();
        let Some(Yaml::Hash(sources)) = documents.first().map(|doc| &doc["logsources"]) else {
            return map;
        };
        for entry in sources.values() {
            let product = entry["product"].as_str();
            let windows = product.is_none_or(|p| p == "windows")
                && entry["rewrite"]["product"].as_str().is_none_or(|p| p == "windows");
            if !windows {
                continue;
            }
            if let (Some(category), Some(service)) =
                (entry["category"].as_str(), entry["rewrite"]["service"].as_str())
            {
                let (event_ids, conditions) = conditions(&entry["conditions"]);
                let field_mappings = match &entry["fieldmappings"] {
                    Yaml::Hash(pairs) => pairs
                        .iter()
                        .filter_map(|(from, to)| Some((from.as_str()?.to_string(), to.as_str()?.to_string())))
                        .collect(),
                    _ => Vec::new(),
                };
                map.categories.push(CategoryEntry {
                    category: category.to_string(),
                    event_ids,
                    conditions,
                    service: service.to_string(),
                    field_mappings,
                });
            } else if let (Some(service), Yaml::Array(sources)) = (entry["service"].as_str(), &entry["sources"]) {
                let channels = sources
                    .iter()
                    .filter_map(Yaml::as_str)
                    .filter_map(|s| s.strip_prefix("WinEventLog:"))
                    .map(str::to_lowercase)
                    .collect();
                map.services.push((service.to_string(), channels));
            }
        }
        map.add_taxonomy();
        map
    }

    /// Adds the taxonomy's services and category names that the map lacks.
    fn add_taxonomy(&mut self) {
        for (service, channel) in TAXONOMY_SERVICES {
            if self.service_channels(service).is_none() {
                self.services.push((service.to_string(), vec![channel.to_lowercase()]));
            }
        }
        for (taxonomy_name, map_name) in TAXONOMY_CATEGORIES {
            let known = self.categories.iter().any(|entry| entry.category == *taxonomy_name);
            let renamed: Vec<CategoryEntry> = self
                .categories
                .iter()
                .filter(|entry| !known && entry.category == *map_name)
                .map(|entry| CategoryEntry { category: taxonomy_name.to_string(), ..entry.clone() })
                .collect();
            self.categories.extend(renamed);
        }
    }

    fn service_channels(&self, service: &str) -> Option<Vec<String>> {
        let channels: Vec<String> = self
            .services
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(service))
            .flat_map(|(_, channels)| channels.iter().cloned())
            .collect();
        (!channels.is_empty()).then_some(channels)
    }

    fn category(&self, category: &str) -> Gate {
        let sources: Vec<Source> = self
            .categories
            .iter()
            .filter(|entry| entry.category.eq_ignore_ascii_case(category))
            .filter_map(|entry| {
                Some(Source {
                    channels: self.service_channels(&entry.service)?,
                    event_ids: entry.event_ids.clone(),
                    conditions: entry.conditions.clone(),
                })
            })
            .collect();
        if sources.is_empty() {
            return Gate::Never(format!("logsource category '{category}' is not in the log-source map"));
        }
        Gate::Sources(sources)
    }
}

/// Splits a map entry's `conditions` into its Event IDs and the rest.
fn conditions(yaml: &Yaml) -> (Vec<u32>, Vec<(String, Vec<String>)>) {
    let mut event_ids = Vec::new();
    let mut others = Vec::new();
    let Yaml::Hash(map) = yaml else { return (event_ids, others) };
    for (field, values) in map {
        let values: Vec<String> = match values {
            Yaml::Array(items) => items.iter().filter_map(scalar_text).collect(),
            single => scalar_text(single).into_iter().collect(),
        };
        match field.as_str() {
            Some("EventID") => event_ids.extend(values.iter().filter_map(|v| v.parse::<u32>().ok())),
            Some(name) => others.push((name.to_string(), values)),
            None => {}
        }
    }
    (event_ids, others)
}

fn scalar_text(yaml: &Yaml) -> Option<String> {
    match yaml {
        Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
        Yaml::Integer(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(name: &str) -> LogSource {
        LogSource { product: Some("windows".into()), category: Some(name.into()), service: None }
    }

    #[test]
    fn process_access_is_sysmon_event_10() {
        let Gate::Sources(sources) = Gate::resolve(&category("process_access")) else { panic!("not mapped") };
        assert_eq!(
            sources,
            vec![Source {
                channels: vec!["microsoft-windows-sysmon/operational".into()],
                event_ids: vec![10],
                conditions: Vec::new(),
            }]
        );
    }

    #[test]
    fn process_creation_has_sysmon_and_security() {
        let Gate::Sources(sources) = Gate::resolve(&category("process_creation")) else { panic!("not mapped") };
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[1].channels, vec!["security".to_string()]);
        assert_eq!(sources[1].event_ids, vec![4688]);
    }

    #[test]
    fn services_map_to_channels() {
        let powershell = LogSource { product: Some("windows".into()), category: None, service: Some("powershell".into()) };
        let Gate::Sources(sources) = Gate::resolve(&powershell) else { panic!("not mapped") };
        assert_eq!(
            sources[0].channels,
            vec!["microsoft-windows-powershell/operational".to_string(), "powershellcore/operational".to_string()]
        );
    }

    #[test]
    fn field_mappings_come_from_the_map() {
        let mappings = field_mappings();
        let find = |sigma: &str| mappings.iter().find(|m| m.sigma_name == sigma).unwrap();
        assert_eq!(find("Image").event_name, "NewProcessName");
        assert_eq!(find("Image").channels, vec!["security".to_string()]);
        assert_eq!(find("Image").event_ids, vec![4688]);
        assert_eq!(find("ParentImage").event_name, "ParentProcessName");
        assert_eq!(find("Signature").event_name, "ThreatName");
        assert_eq!(find("Filename").event_name, "Path");
        assert_eq!(find("Filename").channels, vec!["microsoft-windows-windows defender/operational".to_string()]);
        assert!(find("Filename").event_ids.contains(&1116));
    }

    #[test]
    fn antivirus_category_is_defender() {
        let antivirus = LogSource { product: None, category: Some("antivirus".into()), service: None };
        let Gate::Sources(sources) = Gate::resolve(&antivirus) else { panic!("not mapped") };
        assert_eq!(sources[0].channels, vec!["microsoft-windows-windows defender/operational".to_string()]);
        assert_eq!(sources[0].event_ids.len(), 12);
    }

    /// Every Windows category and service of the bundled map resolves to
    /// channels.
    #[test]
    fn every_windows_map_entry_resolves() {
        let documents = YamlLoader::load_from_str(MAP_YAML).unwrap();
        let Yaml::Hash(entries) = &documents[0]["logsources"] else { panic!("no logsources") };
        let mut checked = 0;
        for entry in entries.values() {
            let product = entry["product"].as_str().or(entry["rewrite"]["product"].as_str());
            let logsource = LogSource {
                product: product.map(str::to_string),
                category: entry["category"].as_str().map(str::to_string),
                service: entry["service"].as_str().map(str::to_string),
            };
            if product != Some("windows") || (logsource.category.is_none() && logsource.service.is_none()) {
                continue;
            }
            assert!(matches!(Gate::resolve(&logsource), Gate::Sources(_)), "{logsource:?}");
            checked += 1;
        }
        assert_eq!(checked, 86);
    }

    #[test]
    fn taxonomy_services_and_names_resolve() {
        let service = |name: &str| LogSource { product: Some("windows".into()), category: None, service: Some(name.into()) };
        let Gate::Sources(sources) = Gate::resolve(&service("dns-server")) else { panic!("not mapped") };
        assert_eq!(sources[0].channels, vec!["dns server".to_string()]);
        let Gate::Sources(sources) = Gate::resolve(&service("driver-framework")) else { panic!("not mapped") };
        assert_eq!(sources[0].channels, vec!["microsoft-windows-driverframeworks-usermode/operational".to_string()]);
        let Gate::Sources(sources) = Gate::resolve(&category("clipboard_capture")) else { panic!("not mapped") };
        assert_eq!(sources[0].event_ids, vec![24]);
    }

    #[test]
    fn registry_add_needs_its_event_type() {
        let Gate::Sources(sources) = Gate::resolve(&category("registry_add")) else { panic!("not mapped") };
        assert_eq!(sources[0].event_ids, vec![12]);
        assert_eq!(sources[0].conditions, vec![("EventType".to_string(), vec!["CreateKey".to_string()])]);
    }

    #[test]
    fn other_products_never_match() {
        let linux = LogSource { product: Some("linux".into()), category: Some("process_creation".into()), service: None };
        assert!(matches!(Gate::resolve(&linux), Gate::Never(_)));
        assert!(matches!(Gate::resolve(&category("no_such_category")), Gate::Never(_)));
    }
}
