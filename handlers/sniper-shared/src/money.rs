//! Amounts as eBay writes them: a decimal string and an ISO 4217 currency
//! code. Kept in minor units (cents), never in floating point, so a
//! comparison with eBay's current price is exact.

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    /// Hundredths of the currency unit.
    pub minor: i64,
    pub currency: String,
}

/// The largest amount accepted: far above any auction, far below overflow.
const MAX_MINOR: i64 = 100_000_000 * 100;

impl Amount {
    /// `"12.5"`, `"12.50"` or `"12"` in `currency`: positive, at most two
    /// decimals, at most 100,000,000; the currency three upper-case letters.
    pub fn parse(value: &str, currency: &str) -> Result<Amount, String> {
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "`{currency}` is not a currency code (three upper-case letters, such as USD)"
            ));
        }
        let (units, decimals) = value.split_once('.').unwrap_or((value, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(units) || (value.contains('.') && !digits(decimals)) || decimals.len() > 2 {
            return Err(format!(
                "`{value}` is not an amount (digits with at most two decimals, such as 25.50)"
            ));
        }
        let units: i64 = units
            .parse()
            .map_err(|_| format!("`{value}` is too large"))?;
        let cents: i64 = format!("{decimals:0<2}").parse().unwrap_or(0);
        let minor = units
            .checked_mul(100)
            .and_then(|m| m.checked_add(cents))
            .filter(|m| *m <= MAX_MINOR)
            .ok_or_else(|| format!("`{value}` is too large"))?;
        if minor == 0 {
            return Err("the amount must be above zero".into());
        }
        Ok(Amount {
            minor,
            currency: currency.to_string(),
        })
    }

    /// An amount as eBay answers it (`{"value": "12.50", "currency": "USD"}`).
    pub fn from_json(value: &serde_json::Value) -> Option<Amount> {
        let text = value["value"].as_str()?;
        // eBay writes amounts with up to two decimals; tolerate `12.500`.
        let trimmed = match text.split_once('.') {
            Some((units, decimals)) if decimals.len() > 2 => {
                let extra = &decimals[2..];
                if !extra.bytes().all(|b| b == b'0') {
                    return None;
                }
                format!("{units}.{}", &decimals[..2])
            }
            _ => text.to_string(),
        };
        Amount::parse(&trimmed, value["currency"].as_str()?).ok()
    }

    /// `12.50` (the form eBay's requests take).
    pub fn value(&self) -> String {
        format!("{}.{:02}", self.minor / 100, self.minor % 100)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"value": self.value(), "currency": self.currency})
    }

    /// Compares two amounts of the same currency; `None` across currencies.
    pub fn compare(&self, other: &Amount) -> Option<Ordering> {
        (self.currency == other.currency).then(|| self.minor.cmp(&other.minor))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_exact_and_validated() {
        assert_eq!(Amount::parse("12.5", "USD").unwrap().value(), "12.50");
        assert_eq!(Amount::parse("7", "GBP").unwrap().minor, 700);
        for bad in [
            "",
            "1.234",
            "-3",
            "1e3",
            ".5",
            "5.",
            "0",
            "0.00",
            "1000000001",
        ] {
            assert!(Amount::parse(bad, "USD").is_err(), "{bad}");
        }
        assert!(Amount::parse("5", "usd").is_err());
        let a = Amount::from_json(&json!({"value": "10.000", "currency": "USD"})).unwrap();
        let b = Amount::parse("10.01", "USD").unwrap();
        assert_eq!(a.compare(&b), Some(Ordering::Less));
        assert_eq!(a.compare(&Amount::parse("10", "EUR").unwrap()), None);
        assert_eq!(b.to_string(), "10.01 USD");
    }
}
