//! Reading the fields of an import record's password object: which fields a
//! format takes, their JSON types, and building the canonical object back.

use serde_json::{Map, Value};

use crate::error::{LegacyHashError, name_for_message};

/// Longest `hash` accepted. The longest legitimate one, an ASP.NET V3 blob
/// with a generous salt and subkey, is well under a kilobyte.
pub(crate) const MAX_HASH_CHARS: usize = 4096;

/// The fields of one record, checked against what its format takes.
pub(crate) struct Fields<'a> {
    format: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// Refuses any field not in `allowed`, naming it.
    pub(crate) fn new(
        format: &'static str,
        map: &'a Map<String, Value>,
        allowed: &'static [&'static str],
    ) -> Result<Self, LegacyHashError> {
        if let Some(unknown) = map.keys().find(|key| !allowed.contains(&key.as_str())) {
            return Err(LegacyHashError::UnknownField { format, field: name_for_message(unknown), allowed });
        }
        Ok(Self { format, map })
    }

    /// The `hash` field: a non-empty string of bounded length.
    pub(crate) fn hash(&self) -> Result<&'a str, LegacyHashError> {
        let hash = self
            .optional_str("hash")?
            .ok_or(LegacyHashError::MissingField { format: self.format, field: "hash" })?;
        if hash.is_empty() {
            return Err(self.malformed("the hash is empty"));
        }
        if hash.len() > MAX_HASH_CHARS {
            return Err(self.malformed("the hash is longer than 4096 characters"));
        }
        Ok(hash)
    }

    /// A string field; absent and `null` both mean "not given", as PHP
    /// exports write `null` for a user without a salt.
    pub(crate) fn optional_str(&self, field: &'static str) -> Result<Option<&'a str>, LegacyHashError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.wrong_type(field, "a string")),
        }
    }

    /// A whole-number field (absent or `null`: not given).
    pub(crate) fn optional_u64(&self, field: &'static str) -> Result<Option<u64>, LegacyHashError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => {
                number.as_u64().map(Some).ok_or_else(|| self.wrong_type(field, "a whole number, 0 or more"))
            }
            Some(_) => Err(self.wrong_type(field, "a whole number")),
        }
    }

    fn wrong_type(&self, field: &'static str, expected: &'static str) -> LegacyHashError {
        LegacyHashError::WrongType { format: self.format, field, expected }
    }

    fn malformed(&self, reason: &'static str) -> LegacyHashError {
        LegacyHashError::Malformed { format: self.format, reason }
    }
}

/// Checks `value` against `min..=max`, naming `what` when it is outside.
pub(crate) fn in_range(
    format: &'static str,
    what: &'static str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<u32, LegacyHashError> {
    if (min..=max).contains(&value) {
        // Every cap in this crate fits a u32; the fallback cannot be reached.
        u32::try_from(value).map_err(|_| LegacyHashError::OutOfRange { format, what, value, min, max })
    } else {
        Err(LegacyHashError::OutOfRange { format, what, value, min, max })
    }
}

/// The canonical object of a format whose only field is `hash`.
pub(crate) fn hash_only(format: &'static str, hash: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("format".to_owned(), Value::from(format));
    map.insert("hash".to_owned(), Value::from(hash));
    map
}

/// A canonical decimal: digits only, no sign, no leading zero. Legacy code
/// compares whole strings, so `rounds=05000` or `0100` iterations written by
/// hand would never have matched there and must not match here either.
pub(crate) fn canonical_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 19
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_decimals_only() {
        assert_eq!(canonical_decimal("5000"), Some(5000));
        assert_eq!(canonical_decimal("0"), Some(0));
        assert_eq!(canonical_decimal("05000"), None);
        assert_eq!(canonical_decimal("+5"), None);
        assert_eq!(canonical_decimal(""), None);
        assert_eq!(canonical_decimal("99999999999999999999999"), None);
    }
}
