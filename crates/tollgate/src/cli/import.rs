//! `tollgate import FILE|-`: principals, API keys and access keys from the
//! legacy systems, as JSON Lines (DESIGN.md §10). The file is read in
//! pieces and imported in batches as it goes, so its size does not matter;
//! a terminal sees a progress bar on stderr. Exit status 1 if any line
//! failed (the good ones are imported all the same).

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::io::{AsyncRead, AsyncReadExt as _};
use tollgate_core::admin::{ImportCounts, ImportOptions, ImportReport};
use tollgate_core::{AdminContext, AdminService};
use tollgate_http::admin::views::ImportReportView;

use super::output::print_json;

/// How much of the input is read at once.
const READ_CHUNK: usize = 256 * 1024;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// JSON Lines to import, one record a line; `-` reads standard input
    #[arg(value_name = "FILE|-")]
    input: PathBuf,
    /// Report what the import would do, and write nothing
    #[arg(long)]
    dry_run: bool,
}

impl ImportArgs {
    pub async fn run(self, admin: &AdminService, json: bool) -> anyhow::Result<()> {
        let from_stdin = self.input.as_os_str() == "-";
        let (mut input, size, source): (Box<dyn AsyncRead + Unpin + Send>, Option<u64>, String) =
            if from_stdin {
                (Box::new(tokio::io::stdin()), None, "stdin".to_owned())
            } else {
                let path = &self.input;
                let file = tokio::fs::File::open(path)
                    .await
                    .with_context(|| format!("cannot open {}", path.display()))?;
                let size = file.metadata().await.ok().map(|meta| meta.len());
                (Box::new(file), size, path.display().to_string())
            };
        let progress = progress_bar(size);
        let mut importer = admin.importer(ImportOptions { dry_run: self.dry_run });
        let mut buffer = vec![0; READ_CHUNK];
        loop {
            let read = input.read(&mut buffer).await.with_context(|| format!("cannot read {source}"))?;
            if read == 0 {
                break;
            }
            importer.feed(&buffer[..read]).await?;
            progress.set_position(importer.bytes_read());
        }
        let report = importer.finish(&AdminContext::cli(), &source).await?;
        progress.finish_and_clear();
        if json {
            print_json(&ImportReportView::from(&report));
        } else {
            print!("{}", human(&report, self.dry_run));
        }
        match report.failed_lines() {
            0 => Ok(()),
            1 => anyhow::bail!("1 line was not imported"),
            failed => anyhow::bail!("{failed} lines were not imported"),
        }
    }
}

/// A bar by bytes for a file, a counter for a pipe; nothing unless stderr
/// is a terminal (logs and scripts get no escape codes).
fn progress_bar(size: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match size {
        Some(size) => {
            (ProgressBar::new(size), "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec}, {eta} left")
        }
        None => (ProgressBar::new_spinner(), "{spinner} {bytes} {binary_bytes_per_sec}"),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// One line per kind of record, then each line that failed.
fn human(report: &ImportReport, dry_run: bool) -> String {
    let counts = |label: &str, counts: &ImportCounts| {
        format!(
            "{label:<13}{} created, {} updated, {} unchanged\n",
            counts.created, counts.updated, counts.unchanged
        )
    };
    let mut text = String::new();
    if dry_run {
        text.push_str("dry run: nothing was written; an import would do this\n");
    }
    text.push_str(&counts("principals:", &report.principals));
    text.push_str(&counts("API keys:", &report.api_keys));
    text.push_str(&counts("access keys:", &report.access_keys));
    for error in &report.errors {
        text.push_str(&format!("line {}: {}\n", error.line, error.error));
    }
    if report.errors_not_listed > 0 {
        text.push_str(&format!("… and {} more lines that failed\n", report.errors_not_listed));
    }
    text
}
