//! The bulk import (DESIGN.md §10): JSON Lines of principals, API keys and
//! access keys from the legacy systems, fed in as bytes arrive (a file, a
//! pipe, a request body) and written in batches — one lookup per kind and
//! one transaction per [`BATCH_RECORDS`] records — so a million principals
//! take minutes and the memory a batch needs, whatever the file's size.
//!
//! The same file imported again changes nothing; a password or secret
//! Tollgate holds is never replaced; good lines are imported whatever the
//! others hold. A dry run decides every record the same way and writes
//! nothing: it remembers what it would have written instead, so its memory
//! grows with what the file would create or change.

use std::collections::HashSet;

mod lines;
mod record;
mod report;
mod resolve;

pub use self::lines::MAX_LINE_BYTES;
use self::lines::{Line, LineSplitter};
use self::record::Record;
use self::report::Outcome;
pub use self::report::{ImportCounts, ImportReport, LineError, MAX_LISTED_ERRORS};
use self::resolve::{Layers, Plan, View};
use super::{AdminError, AdminService};
use crate::context::AdminContext;
use crate::login::CreatedKey;
use crate::model::CredentialId;

/// Records per batch: per lookup query and per write transaction.
pub const BATCH_RECORDS: usize = 1000;

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Decide and report every record, write nothing (no audit row either).
    pub dry_run: bool,
}

/// One import in progress: [`feed`](Importer::feed) it bytes as they come,
/// then [`finish`](Importer::finish) it for the report.
pub struct Importer<'a> {
    admin: &'a AdminService,
    options: ImportOptions,
    splitter: LineSplitter,
    lines: Vec<(u64, Line)>,
    pending: Vec<(u64, Record)>,
    /// What earlier batches would have written (dry run only; a real run
    /// reads it back from the database).
    done: View,
    report: ImportReport,
    bytes: u64,
}

impl AdminService {
    /// Starts an import.
    pub fn importer(&self, options: ImportOptions) -> Importer<'_> {
        Importer {
            admin: self,
            options,
            splitter: LineSplitter::default(),
            lines: Vec::new(),
            pending: Vec::with_capacity(BATCH_RECORDS),
            done: View::default(),
            report: ImportReport::default(),
            bytes: 0,
        }
    }
}

impl Importer<'_> {
    /// Takes the next bytes of the input (any chunk size; lines may span
    /// chunks). Writes a batch whenever one is full. An error is the
    /// database's: the batches written before it stay written.
    pub async fn feed(&mut self, chunk: &[u8]) -> Result<(), AdminError> {
        self.bytes += chunk.len() as u64;
        self.splitter.split(chunk, &mut self.lines);
        self.take_lines().await
    }

    /// Bytes fed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Imports what is left and returns the report; records the import in
    /// the audit trail (one `import.run` row naming `source`, with the
    /// counts) unless it was a dry run.
    pub async fn finish(mut self, context: &AdminContext, source: &str) -> Result<ImportReport, AdminError> {
        self.splitter.finish(&mut self.lines);
        self.take_lines().await?;
        self.write_batch().await?;
        let mut report = self.report;
        report.errors.sort_by_key(|error| error.line);
        if !self.options.dry_run {
            let details = report.summary();
            self.admin.audit(context, "import.run", source, Some(details)).await;
        }
        Ok(report)
    }

    async fn take_lines(&mut self) -> Result<(), AdminError> {
        let admin = self.admin;
        let keyed = move |secret: &[u8]| admin.keys.credential_hash(secret);
        for (number, line) in std::mem::take(&mut self.lines) {
            let text = match line {
                Line::TooLong => {
                    let error = format!("the line is longer than {MAX_LINE_BYTES} bytes");
                    self.report.fail(number, error);
                    continue;
                }
                Line::Text(text) => text,
            };
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match record::parse(&text, &keyed) {
                Ok(record) => self.pending.push((number, record)),
                Err(error) => self.report.fail(number, error),
            }
            if self.pending.len() >= BATCH_RECORDS {
                self.write_batch().await?;
            }
        }
        Ok(())
    }

    /// Decides the pending records and (unless dry) writes them together.
    async fn write_batch(&mut self) -> Result<(), AdminError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let records = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH_RECORDS));
        let lookup = resolve::lookup(&records);
        let stored = View::from_found(self.admin.store.import_lookup(&lookup).await?);
        let now = self.admin.now();
        let mut plan = Plan::default();
        let mut layers = Layers { done: &mut self.done, stored: &stored };
        for (line, record) in records {
            match resolve::resolve(record, line, &mut layers, &mut plan, now) {
                (kind, Ok(outcome)) => self.report.counts(kind).add(outcome),
                (_, Err(error)) => self.report.fail(line, error),
            }
        }
        if self.options.dry_run {
            return Ok(());
        }
        self.done.clear();
        self.commit(plan).await
    }

    async fn commit(&mut self, plan: Plan) -> Result<(), AdminError> {
        let Plan { mut batch, inserts, changed } = plan;
        batch.at = Some(self.admin.now());
        let new_api_keys: Vec<(CredentialId, [u8; 32])> =
            batch.api_keys.iter().map(|key| (key.id, key.key_hash)).collect();
        let new_access_keys: Vec<(CredentialId, String)> =
            batch.access_keys.iter().map(|key| (key.id, key.access_key.clone())).collect();
        let written = self.admin.store.import_batch(batch).await?;

        // A row somebody else created between the lookup and the commit
        // took the place of this line's: it did not happen.
        let went_in: HashSet<uuid::Uuid> = written
            .principals
            .iter()
            .map(|id| id.0)
            .chain(written.api_keys.iter().chain(&written.access_keys).map(|id| id.0))
            .collect();
        if went_in.len() < inserts.len() {
            for (line, kind, id) in &inserts {
                if !went_in.contains(id) {
                    self.report.counts(*kind).remove(Outcome::Created);
                    self.report.fail(
                        *line,
                        "not created: its name, id or key was taken meanwhile (or its principal's was); \
                         import the file again"
                            .to_owned(),
                    );
                }
            }
        }
        // This node's logins know the new keys at once; other nodes catch
        // up through the change counter the batch moved.
        for (id, hash) in &new_api_keys {
            if went_in.contains(&id.0) {
                self.admin.created(CreatedKey::ApiKey(hash));
            }
        }
        for (id, access_key) in &new_access_keys {
            if went_in.contains(&id.0) {
                self.admin.created(CreatedKey::AccessKey(access_key));
            }
        }
        if changed {
            self.admin.changed();
        }
        Ok(())
    }
}
