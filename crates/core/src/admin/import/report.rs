//! What an import did (or, in a dry run, would do): counts per kind of
//! record and the lines that failed. Never a secret: error texts are made
//! here and in `tollgate-legacy`, never from the values a line holds.

use serde::Serialize;

/// Most failed lines a report lists; the rest are only counted, so that a
/// file of a million bad lines cannot fill memory.
pub const MAX_LISTED_ERRORS: usize = 10_000;

/// How the records of one kind fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub created: u64,
    /// Existed, and the record changed something about it (never its
    /// password or secret).
    pub updated: u64,
    /// Existed as the record describes it (or differed only in a password or
    /// secret, which an import never replaces).
    pub unchanged: u64,
}

impl ImportCounts {
    pub(super) fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }

    pub(super) fn remove(&mut self, outcome: Outcome) {
        let count = match outcome {
            Outcome::Created => &mut self.created,
            Outcome::Updated => &mut self.updated,
            Outcome::Unchanged => &mut self.unchanged,
        };
        *count = count.saturating_sub(1);
    }

    pub fn total(&self) -> u64 {
        self.created + self.updated + self.unchanged
    }
}

/// One line that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// Counted from 1.
    pub line: u64,
    pub error: String,
}

/// The report of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub principals: ImportCounts,
    pub api_keys: ImportCounts,
    pub access_keys: ImportCounts,
    /// By line number; at most [`MAX_LISTED_ERRORS`].
    pub errors: Vec<LineError>,
    /// Failed lines beyond those listed (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub errors_not_listed: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

impl ImportReport {
    /// Lines that failed, listed or not.
    pub fn failed_lines(&self) -> u64 {
        self.errors.len() as u64 + self.errors_not_listed
    }

    pub(super) fn counts(&mut self, kind: Kind) -> &mut ImportCounts {
        match kind {
            Kind::Principal => &mut self.principals,
            Kind::ApiKey => &mut self.api_keys,
            Kind::AccessKey => &mut self.access_keys,
        }
    }

    pub(super) fn fail(&mut self, line: u64, error: String) {
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(LineError { line, error });
        } else {
            self.errors_not_listed += 1;
        }
    }

    /// The counts, for the audit row (the errors' texts stay out of it).
    pub(super) fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "principals": self.principals,
            "apiKeys": self.api_keys,
            "accessKeys": self.access_keys,
            "failedLines": self.failed_lines(),
        })
    }
}

/// The kinds of record a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Principal,
    ApiKey,
    AccessKey,
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Created,
    Updated,
    Unchanged,
}
