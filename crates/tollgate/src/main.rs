//! `tollgate`: the server and its admin command line.

use std::process::ExitCode;

use clap::Parser as _;
use tollgate::cli::{Cli, Command};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A usage error exits 2, as clap's own do.
    if let Err(err) = cli.check_usage() {
        err.exit();
    }
    let config = match cli.config() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let logs = init_logging(&cli, &config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            drop(logs);
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cli.run_with(config));
    // Every log line is out before the last word, which comes after them.
    drop(runtime);
    drop(logs);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, so `--json` output on stdout stays machine-readable:
/// `RUST_LOG` filters them (default `info` for `serve`, `warn` otherwise),
/// `[log] format` picks text or one JSON object a line.
///
/// A thread of its own writes them, as many lines per write as have queued
/// (the access log is a line per request: written by the request's own
/// thread, one locked write each, it halved a busy server's throughput).
/// Nothing is dropped: a full queue (128 Ki lines) makes loggers wait. The
/// guard flushes what is left when dropped.
fn init_logging(cli: &Cli, log: &tollgate::config::LogConfig) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("tollgate-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let default_level = if matches!(cli.command, Command::Serve { .. }) { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    if log.format == tollgate::config::LogFormat::Json {
        subscriber.json().flatten_event(true).init();
        return guard;
    }
    // Colour only for a person at a terminal: log files and journald get
    // plain text, and NO_COLOR (no-color.org) turns it off anywhere.
    let colour =
        std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    subscriber.with_ansi(colour).init();
    guard
}
