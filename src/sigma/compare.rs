//! Values that are not string patterns: numbers for `lt`, `lte`, `gt` and
//! `gte`, IP networks for `cidr`, and parts of a date-time for `minute`,
//! `hour`, `day`, `week`, `month` and `year`.
//!
//! Each is parsed once from the rule; evaluation parses the event's text,
//! which allocates nothing.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{Datelike, NaiveDate};

use super::modifier::{CompareOp, TimePart};

/// A number as Sigma writes it: decimal, with an optional sign and fraction.
/// `0x1f` is not a number but a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Integer(i64),
    Float(f64),
}

impl Number {
    /// Parses decimal text (surrounding spaces allowed). Hexadecimal and
    /// other forms return `None`.
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        let decimal = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && digits.bytes().filter(|&b| b == b'.').count() <= 1
            && digits.bytes().any(|b| b.is_ascii_digit());
        if !decimal {
            return None;
        }
        match text.parse::<i64>() {
            Ok(integer) => Some(Number::Integer(integer)),
            Err(_) => text.parse::<f64>().ok().map(Number::Float),
        }
    }

    fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Integer(a), Number::Integer(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Integer(integer) => integer as f64,
            Number::Float(float) => float,
        }
    }
}

/// `Field|gt: 5` and friends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub op: CompareOp,
    pub number: Number,
}

impl Comparison {
    /// Whether the event's value, read as a number, compares as required.
    /// A value that is not a decimal number never matches.
    pub fn matches(&self, value: &str) -> bool {
        let Some(ordering) = Number::parse(value).and_then(|number| number.compare(self.number)) else {
            return false;
        };
        match self.op {
            CompareOp::Less => ordering == Ordering::Less,
            CompareOp::LessOrEqual => ordering != Ordering::Greater,
            CompareOp::Greater => ordering == Ordering::Greater,
            CompareOp::GreaterOrEqual => ordering != Ordering::Less,
        }
    }
}

/// An IPv4 or IPv6 network for `cidr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `fe80::/10`, or an address alone (a network of
    /// one). Host bits set below the prefix are ignored.
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr =
            address.parse().map_err(|_| format!("'{text}' is not an IPv4 or IPv6 network such as 10.0.0.0/8"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|&bits| bits <= max)
                .ok_or_else(|| format!("'{text}' has a prefix length outside 0 to {max}"))?,
        };
        Ok(Network { address, prefix })
    }

    /// Whether the event's value is an address inside the network. An
    /// IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) counts as its IPv4 form.
    pub fn contains(&self, value: &str) -> bool {
        let Ok(address) = value.trim().parse::<IpAddr>() else { return false };
        match (self.address, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => same_prefix_v4(network, address, self.prefix),
            (IpAddr::V4(network), IpAddr::V6(address)) => {
                address.to_ipv4_mapped().is_some_and(|address| same_prefix_v4(network, address, self.prefix))
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => same_prefix_v6(network, address, self.prefix),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

fn same_prefix_v4(network: Ipv4Addr, address: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(network) & mask == u32::from(address) & mask
}

fn same_prefix_v6(network: Ipv6Addr, address: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(network) & mask == u128::from(address) & mask
}

/// `Field|hour: 3` and the other time parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeMatch {
    pub part: TimePart,
    pub number: i64,
}

impl TimeMatch {
    /// Whether the event's date-time has this part. The value is read as
    /// written, without converting time zones: `2025-11-27T07:22:22Z` has
    /// hour 7 whatever its zone.
    pub fn matches(&self, value: &str) -> bool {
        time_part(value, self.part) == Some(self.number)
    }
}

/// Takes one part of a date-time written as `YYYY-MM-DD` followed by
/// `T` or a space and `HH:MM` (seconds, fraction and zone may follow).
pub fn time_part(value: &str, part: TimePart) -> Option<i64> {
    let value = value.trim().as_bytes();
    let year = digits(value, 0, 4)?;
    if value.get(4) != Some(&b'-') || value.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(value, 5, 2)?;
    let day = digits(value, 8, 2)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32)?;

    let clock = || -> Option<(i64, i64)> {
        if !matches!(value.get(10), Some(b'T' | b't' | b' ')) || value.get(13) != Some(&b':') {
            return None;
        }
        let hour = digits(value, 11, 2).filter(|&hour| hour < 24)?;
        let minute = digits(value, 14, 2).filter(|&minute| minute < 60)?;
        Some((hour, minute))
    };
    match part {
        TimePart::Year => Some(year),
        TimePart::Month => Some(month),
        TimePart::Day => Some(day),
        TimePart::Week => Some(i64::from(date.iso_week().week())),
        TimePart::Hour => clock().map(|(hour, _)| hour),
        TimePart::Minute => clock().map(|(_, minute)| minute),
    }
}

/// Reads `count` ASCII digits at `start` as a number.
fn digits(text: &[u8], start: usize, count: usize) -> Option<i64> {
    let slice = text.get(start..start + count)?;
    slice.iter().try_fold(0i64, |number, &byte| {
        byte.is_ascii_digit().then(|| number * 10 + i64::from(byte - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_decimal_only() {
        assert_eq!(Number::parse("10"), Some(Number::Integer(10)));
        assert_eq!(Number::parse(" -3 "), Some(Number::Integer(-3)));
        assert_eq!(Number::parse("2.5"), Some(Number::Float(2.5)));
        assert_eq!(Number::parse("0x1fffff"), None);
        assert_eq!(Number::parse("1e3"), None);
        assert_eq!(Number::parse(""), None);
        assert_eq!(Number::parse("."), None);
        assert_eq!(Number::parse("inf"), None);
    }

    #[test]
    fn comparisons() {
        let greater = Comparison { op: CompareOp::Greater, number: Number::Integer(10) };
        assert!(greater.matches("11"));
        assert!(!greater.matches("10"));
        assert!(greater.matches("10.5"));
        assert!(!greater.matches("0x20"));
        assert!(!greater.matches("abc"));
        let at_most = Comparison { op: CompareOp::LessOrEqual, number: Number::Float(2.5) };
        assert!(at_most.matches("2.5"));
        assert!(at_most.matches("-1"));
        assert!(!at_most.matches("3"));
        let less = Comparison { op: CompareOp::Less, number: Number::Integer(0) };
        assert!(less.matches("-1"));
        let at_least = Comparison { op: CompareOp::GreaterOrEqual, number: Number::Integer(4624) };
        assert!(at_least.matches("4624"));
        assert!(!at_least.matches("4623"));
    }

    #[test]
    fn ipv4_networks() {
        // The specification's example: `DestinationIp|cidr: 10.0.0.0/8`.
        let network = Network::parse("10.0.0.0/8").unwrap();
        assert!(network.contains("10.1.2.3"));
        assert!(!network.contains("11.0.0.1"));
        assert!(network.contains("::ffff:10.9.9.9"));
        assert!(!network.contains("not an address"));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains("8.8.8.8"));
        assert!(Network::parse("192.168.1.7").unwrap().contains("192.168.1.7"));
        assert!(!Network::parse("192.168.1.7").unwrap().contains("192.168.1.8"));
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("10.0.0/8").is_err());
    }

    #[test]
    fn ipv6_networks() {
        let network = Network::parse("fe80::/10").unwrap();
        assert!(network.contains("fe80::1"));
        assert!(network.contains("FEBF::1"));
        assert!(!network.contains("fec0::1"));
        assert!(!network.contains("10.0.0.1"));
        assert!(Network::parse("::1/128").unwrap().contains("::1"));
        assert!(Network::parse("::/0").unwrap().contains("2001:db8::1"));
    }

    #[test]
    fn time_parts_of_windows_timestamps() {
        let value = "2025-11-27T07:22:22.0338285Z";
        assert_eq!(time_part(value, TimePart::Year), Some(2025));
        assert_eq!(time_part(value, TimePart::Month), Some(11));
        assert_eq!(time_part(value, TimePart::Day), Some(27));
        assert_eq!(time_part(value, TimePart::Hour), Some(7));
        assert_eq!(time_part(value, TimePart::Minute), Some(22));
        assert_eq!(time_part(value, TimePart::Week), Some(48));
        assert_eq!(time_part("2025-11-27 23:05:00.000", TimePart::Hour), Some(23));
        // 2021-01-03 is a Sunday in ISO week 53 of 2020.
        assert_eq!(time_part("2021-01-03", TimePart::Week), Some(53));
        assert_eq!(time_part("2021-01-03", TimePart::Hour), None);
        assert_eq!(time_part("2025-02-30T00:00", TimePart::Day), None);
        assert_eq!(time_part("yesterday", TimePart::Year), None);
        assert!(TimeMatch { part: TimePart::Hour, number: 7 }.matches(value));
        assert!(!TimeMatch { part: TimePart::Hour, number: 8 }.matches(value));
    }
}
