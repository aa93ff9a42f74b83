//! Prometheus metrics: logins by contract and outcome, their latency, and the
//! tokens issued. Never a secret, never a principal name in a label.

use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Installs the process-wide recorder once and returns its handle.
pub fn install_recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}

/// How a login attempt ended, as a metrics label.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Success,
    InvalidRequest,
    BadCredentials,
    Overloaded,
    Error,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::InvalidRequest => "invalid_request",
            Outcome::BadCredentials => "bad_credentials",
            Outcome::Overloaded => "overloaded",
            Outcome::Error => "error",
        }
    }
}

/// Records one login attempt of `contract` that began at `started`.
pub fn record_login(contract: &'static str, outcome: Outcome, started: Instant) {
    metrics::counter!("tollgate_logins_total", "contract" => contract, "outcome" => outcome.label())
        .increment(1);
    metrics::histogram!("tollgate_login_duration_seconds", "contract" => contract)
        .record(started.elapsed().as_secs_f64());
    if matches!(outcome, Outcome::Success) {
        metrics::counter!("tollgate_tokens_issued_total", "contract" => contract).increment(1);
    }
}

/// Records one token check.
pub fn record_verify(result: &'static str, started: Instant) {
    metrics::counter!("tollgate_token_checks_total", "result" => result).increment(1);
    metrics::histogram!("tollgate_token_check_duration_seconds").record(started.elapsed().as_secs_f64());
}
