//! Prometheus metrics: logins by contract and outcome, their latency, and the
//! tokens issued. Never a secret, never a principal name in a label.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Instant;

use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tollgate_core::Contract;
use tollgate_core::tally::LoginTally;

/// Installs the process-wide recorder once and returns its handle.
pub fn install_recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
            let batches = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .ok()?
                .set_buckets_for_metric(Matcher::Full("tollgate_store_batch_ops".into()), &batches)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            metrics::gauge!("tollgate_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .clone()
}

/// The `# HELP` line of every metric Tollgate records.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("tollgate_logins_total", "Login attempts by contract and outcome.");
    describe_histogram!("tollgate_login_duration_seconds", "Time to answer a login, by contract.");
    describe_counter!("tollgate_tokens_issued_total", "Tokens issued, by contract.");
    describe_counter!("tollgate_token_checks_total", "Token checks (/auth/verify) by result.");
    describe_histogram!("tollgate_token_check_duration_seconds", "Time to answer a token check.");
    describe_counter!(
        "tollgate_credential_lookups_total",
        "Database lookups of credentials and tokens that no cache, keyed tag or key filter settled."
    );
    describe_counter!(
        "tollgate_password_verifications_total",
        "Password verifications started (argon2id or legacy)."
    );
    describe_counter!("tollgate_lockouts_total", "Names locked after repeated failed logins.");
    describe_counter!("tollgate_rate_limited_total", "Logins answered 429 for their address, by contract.");
    describe_gauge!(
        "tollgate_legacy_credentials",
        "Imported credentials still in a legacy format, by format."
    );
    describe_gauge!("tollgate_build_info", "1, labelled with the running version.");
    describe_counter!(
        "tollgate_cache_lookups_total",
        "Cache lookups of the login service, by cache and hit or miss."
    );
    describe_gauge!("tollgate_db_connections", "Database connections of this process, open and idle.");
    describe_histogram!("tollgate_store_batch_ops", "Writes committed together by one group commit.");
    describe_counter!("tollgate_store_commits_total", "Group commits, by result.");
}

/// Every `every`: folds recorded latencies into their histogram buckets (the
/// exporter keeps every raw sample until then: without this, memory grows
/// with each request until `/metrics` is next scraped, unbounded if never),
/// and samples what is read rather than counted — the process (CPU, memory,
/// open files), the login caches, the database connections.
pub fn spawn_upkeep(
    handle: PrometheusHandle,
    every: std::time::Duration,
    service: std::sync::Arc<tollgate_core::LoginService>,
) -> tokio::task::JoinHandle<()> {
    let process = metrics_process::Collector::default();
    process.describe();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            handle.run_upkeep();
            process.collect();
            for (cache, hits, misses) in service.cache_counts() {
                let cache = cache.label();
                metrics::counter!("tollgate_cache_lookups_total", "cache" => cache, "result" => "hit")
                    .absolute(hits);
                metrics::counter!("tollgate_cache_lookups_total", "cache" => cache, "result" => "miss")
                    .absolute(misses);
            }
            let connections = service.store().connections();
            metrics::gauge!("tollgate_db_connections", "state" => "open").set(connections.open as f64);
            metrics::gauge!("tollgate_db_connections", "state" => "idle").set(connections.idle as f64);
        }
    })
}

/// How a login attempt ended, as a metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    InvalidRequest,
    BadCredentials,
    Overloaded,
    RateLimited,
    Error,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::InvalidRequest => "invalid_request",
            Outcome::BadCredentials => "bad_credentials",
            Outcome::Overloaded => "overloaded",
            Outcome::RateLimited => "rate_limited",
            Outcome::Error => "error",
        }
    }
}

/// One labelled series; labels are `&'static str`, told apart by address.
#[derive(PartialEq, Eq)]
enum Series {
    Logins(usize, Outcome),
    LoginDuration(usize),
    TokensIssued(usize),
    Checks(usize),
    CheckDuration,
}

fn address(label: &'static str) -> usize {
    label.as_ptr() as usize
}

thread_local! {
    // Each worker thread keeps the handles it used: going through the
    // registry (hashing name and labels, allocating the key) showed in
    // profiles of every login and check. A few dozen series at most, so a
    // list beats hashing.
    static COUNTERS: RefCell<Vec<(Series, Counter)>> = const { RefCell::new(Vec::new()) };
    static HISTOGRAMS: RefCell<Vec<(Series, Histogram)>> = const { RefCell::new(Vec::new()) };
}

/// The handle of `series` in `handles`, registered on first use.
fn handle<H>(handles: &mut Vec<(Series, H)>, series: Series, register: impl FnOnce() -> H) -> &H {
    let at = match handles.iter().position(|(known, _)| *known == series) {
        Some(at) => at,
        None => {
            handles.push((series, register()));
            handles.len() - 1
        }
    };
    &handles[at].1
}

fn count(series: Series, register: impl FnOnce() -> Counter) {
    COUNTERS.with_borrow_mut(|handles| handle(handles, series, register).increment(1));
}

fn observe(series: Series, value: f64, register: impl FnOnce() -> Histogram) {
    HISTOGRAMS.with_borrow_mut(|handles| handle(handles, series, register).record(value));
}

/// Records one login attempt of `contract` that began at `started`; a
/// success also counts in the portal's logins of today (`tally`).
pub fn record_login(tally: &LoginTally, contract: Contract, outcome: Outcome, started: Instant) {
    let contract_name = contract.name();
    let id = address(contract_name);
    count(
        Series::Logins(id, outcome),
        || metrics::counter!("tollgate_logins_total", "contract" => contract_name, "outcome" => outcome.label()),
    );
    observe(
        Series::LoginDuration(id),
        started.elapsed().as_secs_f64(),
        || metrics::histogram!("tollgate_login_duration_seconds", "contract" => contract_name),
    );
    if matches!(outcome, Outcome::Success) {
        tally.record(contract);
        // A portal sign-in opens a session; it issues no token.
        if contract != Contract::Portal {
            count(
                Series::TokensIssued(id),
                || metrics::counter!("tollgate_tokens_issued_total", "contract" => contract_name),
            );
        }
    }
}

/// Records one token check.
pub fn record_verify(result: &'static str, started: Instant) {
    count(
        Series::Checks(address(result)),
        || metrics::counter!("tollgate_token_checks_total", "result" => result),
    );
    observe(Series::CheckDuration, started.elapsed().as_secs_f64(), || {
        metrics::histogram!("tollgate_token_check_duration_seconds")
    });
}
