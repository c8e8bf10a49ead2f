//! Value modifiers: the `|name` suffixes of a detection key such as
//! `CallTrace|contains`.

/// The modifiers this engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Cased,
}

/// Sigma 2.1 modifiers this engine recognises but does not evaluate yet;
/// a rule that uses one is rejected with its name.
const NOT_YET_SUPPORTED: &[&str] = &[
    "exists", "neq", "windash", "re", "i", "m", "s", "base64", "base64offset", "utf16le", "utf16be",
    "utf16", "wide", "lt", "lte", "gt", "gte", "minute", "hour", "day", "week", "month", "year", "cidr",
    "expand", "fieldref",
];

/// The modifiers of one detection key, checked for conflicts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Modifiers {
    pub list: Vec<Modifier>,
}

impl Modifiers {
    /// Parses the names after the field, as in `["contains", "all"]`.
    pub fn parse(names: &[&str]) -> Result<Modifiers, String> {
        let mut list = Vec::new();
        for name in names {
            let modifier = match *name {
                "contains" => Modifier::Contains,
                "startswith" => Modifier::StartsWith,
                "endswith" => Modifier::EndsWith,
                "all" => Modifier::All,
                "cased" => Modifier::Cased,
                known if NOT_YET_SUPPORTED.contains(&known) => {
                    return Err(format!("modifier '{known}' is not supported yet"));
                }
                unknown => return Err(format!("unknown modifier '{unknown}'")),
            };
            if list.contains(&modifier) {
                return Err(format!("modifier '{name}' is given twice"));
            }
            list.push(modifier);
        }
        let anchors = list
            .iter()
            .filter(|m| matches!(m, Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith))
            .count();
        if anchors > 1 {
            return Err("only one of 'contains', 'startswith' and 'endswith' can be used".to_string());
        }
        Ok(Modifiers { list })
    }

    pub fn has(&self, modifier: Modifier) -> bool {
        self.list.contains(&modifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_modifiers() {
        let parsed = Modifiers::parse(&["contains", "all"]).unwrap();
        assert!(parsed.has(Modifier::Contains));
        assert!(parsed.has(Modifier::All));
        assert!(!parsed.has(Modifier::Cased));
    }

    #[test]
    fn rejects_unsupported_and_conflicting() {
        assert_eq!(Modifiers::parse(&["re"]).unwrap_err(), "modifier 're' is not supported yet");
        assert_eq!(Modifiers::parse(&["bogus"]).unwrap_err(), "unknown modifier 'bogus'");
        assert!(Modifiers::parse(&["contains", "endswith"]).is_err());
        assert!(Modifiers::parse(&["all", "all"]).is_err());
    }
}
