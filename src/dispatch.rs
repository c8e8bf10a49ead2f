//! Routing an event to the rules whose log-source gate admits it.
//!
//! Thousands of rules share a few dozen gates (every `process_creation`
//! rule has the same one), so the gates are deduplicated and indexed by
//! channel. An event is then checked against the gates of its own channel
//! and the gates that admit any event, each once, instead of against every
//! rule. Rules whose gate admits no Windows event are never visited.

use std::collections::HashMap;

use crate::event::Event;
use crate::logsource::{EventKey, Gate};
use crate::sigma::Rule;

/// The rules of an engine, grouped by gate.
#[derive(Debug, Clone, Default)]
pub struct Dispatch {
    gates: Vec<Gate>,
    /// For each gate, the indices of its rules, ascending.
    rules_of_gate: Vec<Vec<u32>>,
    /// Gates that admit any event (`Gate::Any`).
    any_channel: Vec<u32>,
    /// Gates with a source for this channel (lower-cased).
    by_channel: HashMap<String, Vec<u32>>,
}

impl Dispatch {
    /// Groups `rules` by gate.
    pub fn new(rules: &[Rule]) -> Dispatch {
        let mut dispatch = Dispatch::default();
        for (index, rule) in rules.iter().enumerate() {
            if matches!(rule.gate, Gate::Never(_)) {
                continue;
            }
            let gate = match dispatch.gates.iter().position(|gate| *gate == rule.gate) {
                Some(gate) => gate,
                None => dispatch.add_gate(rule.gate.clone()),
            };
            dispatch.rules_of_gate[gate].push(index as u32);
        }
        dispatch
    }

    fn add_gate(&mut self, gate: Gate) -> usize {
        let id = self.gates.len() as u32;
        match &gate {
            Gate::Any => self.any_channel.push(id),
            Gate::Sources(sources) => {
                let mut channels: Vec<&String> = sources.iter().flat_map(|source| &source.channels).collect();
                channels.sort();
                channels.dedup();
                for channel in channels {
                    self.by_channel.entry(channel.clone()).or_default().push(id);
                }
            }
            Gate::Never(_) => {}
        }
        self.gates.push(gate);
        self.rules_of_gate.push(Vec::new());
        id as usize
    }

    /// Writes to `out` the indices of the rules whose gate admits `event`,
    /// ascending.
    pub fn candidates(&self, event: &Event, key: &EventKey, out: &mut Vec<u32>) {
        out.clear();
        let channel_gates = key.channel.as_deref().and_then(|channel| self.by_channel.get(channel));
        let gates = self.any_channel.iter().chain(channel_gates.into_iter().flatten());
        for &gate in gates {
            if self.gates[gate as usize].admits(event, key) {
                out.extend_from_slice(&self.rules_of_gate[gate as usize]);
            }
        }
        // Rules come out gate by gate; matches are reported in rule order.
        out.sort_unstable();
    }

    /// The number of distinct gates that admit some event.
    pub fn gate_count(&self) -> usize {
        self.gates.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use serde_json::json;

    fn rule(name: &str, logsource: &str) -> (String, String) {
        let yaml = format!("title: t\nid: {name}\nlogsource: {logsource}\ndetection:\n  a: {{X: 'y'}}\n  condition: a\n");
        (format!("{name}.yml"), yaml)
    }

    #[test]
    fn rules_sharing_a_gate_are_grouped() {
        let mut builder = Engine::builder().default_rules(false);
        let rules = [
            rule("p1", "{category: process_creation, product: windows}"),
            rule("any", "{product: windows}"),
            rule("p2", "{category: process_creation, product: windows}"),
            rule("linux", "{category: process_creation, product: linux}"),
            rule("sec", "{service: security, product: windows}"),
        ];
        for (name, yaml) in rules {
            builder = builder.rule_text(name, yaml);
        }
        let engine = builder.build();
        let dispatch = Dispatch::new(engine.rules());
        assert_eq!(dispatch.gate_count(), 3);

        let candidates = |value: serde_json::Value| {
            let event = Event::from_json(&value).unwrap();
            let mut out = Vec::new();
            dispatch.candidates(&event, &EventKey::of(&event), &mut out);
            out
        };
        let sysmon = "Microsoft-Windows-Sysmon/Operational";
        assert_eq!(candidates(json!({"Channel": sysmon, "EventID": 1})), vec![0, 1, 2]);
        assert_eq!(candidates(json!({"Channel": sysmon, "EventID": 3})), vec![1]);
        assert_eq!(candidates(json!({"Channel": "Security", "EventID": 4688})), vec![0, 1, 2, 4]);
        assert_eq!(candidates(json!({"Channel": "Security", "EventID": 4624})), vec![1, 4]);
        assert_eq!(candidates(json!({"EventID": 1})), vec![1]);
    }
}
