//! Value modifiers: the `|name` suffixes of a detection key such as
//! `CommandLine|base64offset|contains`.
//!
//! [`Modifiers::parse`] reads the names and checks that they fit together.
//! Every modifier of Sigma 2.1 is known here. What a chain does to a value
//! is decided by its [`ValueKind`]: most chains keep the value a string
//! pattern, and at most one type modifier (`re`, `cidr`, `exists`, a
//! comparison, a time part or `fieldref`) turns it into something else.
//! Transformations (`windash`, the base64 and UTF-16 encodings, `expand`)
//! and anchors (`contains`, `startswith`, `endswith`) apply in the order
//! written, so `base64offset|contains` encodes first and then searches
//! anywhere, while `contains|base64` fails because wildcards cannot be
//! encoded.

use std::fmt;

/// One modifier as parsed from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    /// Values of a list must all match instead of any.
    All,
    /// Case-sensitive string matching.
    Cased,
    /// The field test is negated: the field differs from every value.
    Neq,
    /// The value is `true` or `false`: whether the field is present.
    Exists,
    /// Each of `-`, `/`, `–`, `—` and `―` may be any of them.
    Windash,
    Base64,
    Base64Offset,
    /// UTF-16 little endian; `wide` is the same modifier.
    Utf16Le,
    Utf16Be,
    /// UTF-16 little endian after a byte order mark.
    Utf16,
    /// `%name%` placeholders are replaced by their configured values.
    Expand,
    /// The value is a regular expression.
    Re,
    RegexFlag(RegexFlag),
    Compare(CompareOp),
    TimePart(TimePart),
    /// The value is an IPv4 or IPv6 network in CIDR notation.
    Cidr,
    /// The value names another field of the same event.
    FieldRef,
}

/// The sub-modifiers of `re`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexFlag {
    /// `i`: case-insensitive.
    IgnoreCase,
    /// `m`: `^` and `$` match at line ends.
    MultiLine,
    /// `s`: `.` matches a newline too.
    DotAll,
}

/// The numeric comparisons `lt`, `lte`, `gt` and `gte`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// The time-part modifiers: a number taken from a date-time field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    /// The ISO 8601 week of the year, 1 to 53.
    Week,
    Month,
    Year,
}

/// What a modifier chain makes of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A string pattern with wildcards (the default).
    Text,
    Regex,
    Cidr,
    Compare(CompareOp),
    TimePart(TimePart),
    Exists,
    FieldRef,
}

/// The parsed modifiers of one detection key, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modifiers {
    pub list: Vec<Modifier>,
    pub kind: ValueKind,
}

/// Why a modifier chain was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModifierError {
    /// A name that is no Sigma modifier.
    Unknown(String),
    /// A combination the specification does not define.
    Invalid(String),
}

impl fmt::Display for ModifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModifierError::Unknown(name) => write!(f, "unknown modifier '{name}'"),
            ModifierError::Invalid(message) => f.write_str(message),
        }
    }
}

impl Modifier {
    /// Reads a modifier name (case-sensitive, as Sigma writes them).
    pub fn from_name(name: &str) -> Option<Modifier> {
        let modifier = match name {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "cased" => Modifier::Cased,
            "neq" => Modifier::Neq,
            "exists" => Modifier::Exists,
            "windash" => Modifier::Windash,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" | "wide" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "expand" => Modifier::Expand,
            "re" => Modifier::Re,
            "i" | "ignorecase" => Modifier::RegexFlag(RegexFlag::IgnoreCase),
            "m" | "multiline" => Modifier::RegexFlag(RegexFlag::MultiLine),
            "s" | "dotall" => Modifier::RegexFlag(RegexFlag::DotAll),
            "lt" => Modifier::Compare(CompareOp::Less),
            "lte" => Modifier::Compare(CompareOp::LessOrEqual),
            "gt" => Modifier::Compare(CompareOp::Greater),
            "gte" => Modifier::Compare(CompareOp::GreaterOrEqual),
            "minute" => Modifier::TimePart(TimePart::Minute),
            "hour" => Modifier::TimePart(TimePart::Hour),
            "day" => Modifier::TimePart(TimePart::Day),
            "week" => Modifier::TimePart(TimePart::Week),
            "month" => Modifier::TimePart(TimePart::Month),
            "year" => Modifier::TimePart(TimePart::Year),
            "cidr" => Modifier::Cidr,
            "fieldref" => Modifier::FieldRef,
            _ => return None,
        };
        Some(modifier)
    }

    /// The modifier's Sigma name (`wide` reads back as `utf16le`).
    pub fn name(self) -> &'static str {
        match self {
            Modifier::Contains => "contains",
            Modifier::StartsWith => "startswith",
            Modifier::EndsWith => "endswith",
            Modifier::All => "all",
            Modifier::Cased => "cased",
            Modifier::Neq => "neq",
            Modifier::Exists => "exists",
            Modifier::Windash => "windash",
            Modifier::Base64 => "base64",
            Modifier::Base64Offset => "base64offset",
            Modifier::Utf16Le => "utf16le",
            Modifier::Utf16Be => "utf16be",
            Modifier::Utf16 => "utf16",
            Modifier::Expand => "expand",
            Modifier::Re => "re",
            Modifier::RegexFlag(RegexFlag::IgnoreCase) => "i",
            Modifier::RegexFlag(RegexFlag::MultiLine) => "m",
            Modifier::RegexFlag(RegexFlag::DotAll) => "s",
            Modifier::Compare(CompareOp::Less) => "lt",
            Modifier::Compare(CompareOp::LessOrEqual) => "lte",
            Modifier::Compare(CompareOp::Greater) => "gt",
            Modifier::Compare(CompareOp::GreaterOrEqual) => "gte",
            Modifier::TimePart(TimePart::Minute) => "minute",
            Modifier::TimePart(TimePart::Hour) => "hour",
            Modifier::TimePart(TimePart::Day) => "day",
            Modifier::TimePart(TimePart::Week) => "week",
            Modifier::TimePart(TimePart::Month) => "month",
            Modifier::TimePart(TimePart::Year) => "year",
            Modifier::Cidr => "cidr",
            Modifier::FieldRef => "fieldref",
        }
    }

    fn is_anchor(self) -> bool {
        matches!(self, Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith)
    }

    /// Modifiers that rewrite a string value into other strings.
    pub fn is_transformation(self) -> bool {
        matches!(
            self,
            Modifier::Windash
                | Modifier::Base64
                | Modifier::Base64Offset
                | Modifier::Utf16Le
                | Modifier::Utf16Be
                | Modifier::Utf16
                | Modifier::Expand
        )
    }

    /// The value kind a type modifier produces.
    fn kind(self) -> Option<ValueKind> {
        match self {
            Modifier::Re => Some(ValueKind::Regex),
            Modifier::Cidr => Some(ValueKind::Cidr),
            Modifier::Compare(op) => Some(ValueKind::Compare(op)),
            Modifier::TimePart(part) => Some(ValueKind::TimePart(part)),
            Modifier::Exists => Some(ValueKind::Exists),
            Modifier::FieldRef => Some(ValueKind::FieldRef),
            _ => None,
        }
    }
}

impl Modifiers {
    /// Parses the names after the field, as in `["contains", "all"]`, and
    /// checks that they fit together.
    pub fn parse(names: &[&str]) -> Result<Modifiers, ModifierError> {
        let mut list = Vec::with_capacity(names.len());
        for name in names {
            let modifier = Modifier::from_name(name).ok_or_else(|| ModifierError::Unknown(name.to_string()))?;
            // A transformation may be repeated (base64 of base64 is a value);
            // any other modifier given twice is a mistake.
            if !modifier.is_transformation() && list.contains(&modifier) {
                return Err(invalid(format!("modifier '{name}' is given twice")));
            }
            list.push(modifier);
        }

        let kind = value_kind(&list)?;
        check_anchors(&list)?;
        check_kind_allows(&list, kind)?;
        Ok(Modifiers { list, kind })
    }

    pub fn has(&self, modifier: Modifier) -> bool {
        self.list.contains(&modifier)
    }

    /// The anchor modifier, if any.
    pub fn anchor(&self) -> Option<Modifier> {
        self.list.iter().copied().find(|m| m.is_anchor())
    }
}

fn invalid(message: String) -> ModifierError {
    ModifierError::Invalid(message)
}

/// Finds the one type modifier of the chain, if any.
fn value_kind(list: &[Modifier]) -> Result<ValueKind, ModifierError> {
    let mut typed = list.iter().filter(|m| m.kind().is_some());
    let Some(first) = typed.next() else { return Ok(ValueKind::Text) };
    if let Some(second) = typed.next() {
        return Err(invalid(format!("modifiers '{}' and '{}' cannot be combined", first.name(), second.name())));
    }
    // `kind` is `Some` for every modifier the filter above let through.
    Ok(first.kind().unwrap_or(ValueKind::Text))
}

fn check_anchors(list: &[Modifier]) -> Result<(), ModifierError> {
    let anchors: Vec<&Modifier> = list.iter().filter(|m| m.is_anchor()).collect();
    if anchors.len() > 1 {
        return Err(invalid(format!(
            "only one of 'contains', 'startswith' and 'endswith' can be used, found '{}' and '{}'",
            anchors[0].name(),
            anchors[1].name()
        )));
    }
    Ok(())
}

/// Checks the other modifiers against what the value kind accepts.
fn check_kind_allows(list: &[Modifier], kind: ValueKind) -> Result<(), ModifierError> {
    let type_position = list.iter().position(|m| m.kind().is_some());
    for (position, &modifier) in list.iter().enumerate() {
        if matches!(modifier, Modifier::All | Modifier::Neq) || modifier.kind().is_some() {
            continue;
        }
        let allowed = match kind {
            ValueKind::Text => !matches!(modifier, Modifier::RegexFlag(_)),
            ValueKind::Regex => {
                // Flags and anchors refine the expression once it exists.
                let after = type_position.is_some_and(|at| position > at);
                after && (matches!(modifier, Modifier::RegexFlag(_)) || modifier.is_anchor())
            }
            ValueKind::FieldRef => modifier.is_anchor() || modifier == Modifier::Cased,
            ValueKind::Cidr | ValueKind::Compare(_) | ValueKind::TimePart(_) | ValueKind::Exists => false,
        };
        if !allowed {
            return Err(invalid(rejection(modifier, kind, list, position, type_position)));
        }
    }
    if kind == ValueKind::Exists && list.contains(&Modifier::All) {
        return Err(invalid("modifier 'exists' takes one boolean, so 'all' cannot be used with it".to_string()));
    }
    Ok(())
}

fn rejection(
    modifier: Modifier,
    kind: ValueKind,
    list: &[Modifier],
    position: usize,
    type_position: Option<usize>,
) -> String {
    let type_name = type_position.map(|at| list[at].name()).unwrap_or("re");
    match (kind, modifier) {
        (ValueKind::Text, Modifier::RegexFlag(_)) => {
            format!("modifier '{}' is a flag of 're' and needs 're' before it", modifier.name())
        }
        (ValueKind::Regex, _) if type_position.is_some_and(|at| position < at) => {
            format!("modifier 're' applies to the value as written, so '{}' cannot come before it", modifier.name())
        }
        (ValueKind::Regex, Modifier::Cased) => {
            "modifier 'cased' does not apply to 're', which is case-sensitive unless 'i' is given".to_string()
        }
        _ => format!("modifier '{}' cannot be combined with '{type_name}'", modifier.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(names: &[&str]) -> Result<Modifiers, String> {
        Modifiers::parse(names).map_err(|error| error.to_string())
    }

    #[test]
    fn every_sigma_2_1_modifier_is_known() {
        let names = [
            "contains", "startswith", "endswith", "all", "cased", "neq", "exists", "windash", "base64",
            "base64offset", "utf16le", "utf16be", "utf16", "wide", "expand", "re", "i", "m", "s", "lt", "lte",
            "gt", "gte", "minute", "hour", "day", "week", "month", "year", "cidr", "fieldref",
        ];
        for name in names {
            assert!(Modifier::from_name(name).is_some(), "{name}");
        }
        assert_eq!(Modifier::from_name("wide"), Some(Modifier::Utf16Le));
    }

    #[test]
    fn text_chains_keep_their_order() {
        let parsed = parse(&["wide", "base64offset", "contains"]).unwrap();
        assert_eq!(parsed.kind, ValueKind::Text);
        assert_eq!(parsed.list, vec![Modifier::Utf16Le, Modifier::Base64Offset, Modifier::Contains]);
        assert_eq!(parsed.anchor(), Some(Modifier::Contains));
        assert_eq!(parse(&["contains", "windash"]).unwrap().kind, ValueKind::Text);
        assert_eq!(parse(&["contains", "all", "cased"]).unwrap().kind, ValueKind::Text);
    }

    #[test]
    fn type_modifiers_set_the_kind() {
        assert_eq!(parse(&["re", "i", "m", "s"]).unwrap().kind, ValueKind::Regex);
        assert_eq!(parse(&["re", "contains"]).unwrap().kind, ValueKind::Regex);
        assert_eq!(parse(&["cidr"]).unwrap().kind, ValueKind::Cidr);
        assert_eq!(parse(&["gte"]).unwrap().kind, ValueKind::Compare(CompareOp::GreaterOrEqual));
        assert_eq!(parse(&["hour", "neq"]).unwrap().kind, ValueKind::TimePart(TimePart::Hour));
        assert_eq!(parse(&["exists"]).unwrap().kind, ValueKind::Exists);
        assert_eq!(parse(&["fieldref", "endswith"]).unwrap().kind, ValueKind::FieldRef);
    }

    #[test]
    fn conflicting_chains_are_rejected() {
        assert_eq!(parse(&["bogus"]).unwrap_err(), "unknown modifier 'bogus'");
        assert_eq!(parse(&["all", "all"]).unwrap_err(), "modifier 'all' is given twice");
        assert_eq!(
            parse(&["contains", "endswith"]).unwrap_err(),
            "only one of 'contains', 'startswith' and 'endswith' can be used, found 'contains' and 'endswith'"
        );
        assert_eq!(parse(&["i"]).unwrap_err(), "modifier 'i' is a flag of 're' and needs 're' before it");
        assert_eq!(
            parse(&["base64", "re"]).unwrap_err(),
            "modifier 're' applies to the value as written, so 'base64' cannot come before it"
        );
        assert_eq!(parse(&["re", "cidr"]).unwrap_err(), "modifiers 're' and 'cidr' cannot be combined");
        assert_eq!(parse(&["cidr", "contains"]).unwrap_err(), "modifier 'contains' cannot be combined with 'cidr'");
        assert_eq!(parse(&["gt", "base64"]).unwrap_err(), "modifier 'base64' cannot be combined with 'gt'");
        assert!(parse(&["exists", "all"]).is_err());
        assert!(parse(&["re", "cased"]).is_err());
    }

    #[test]
    fn transformations_may_repeat() {
        assert!(parse(&["base64", "base64"]).is_ok());
    }
}
