//! Replays every input the fuzzers keep (`fuzz/corpus/<target>/`: the seeds
//! and what coverage-guided runs found worth keeping, minimized) through the
//! same entry points the fuzz targets call, so that a finding, once fixed,
//! stays fixed in the ordinary test run on stable Rust.

use std::path::{Path, PathBuf};

use tollgate_http::fuzzing;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.unwrap_or_else(|err| panic!("{}: {err}", dir.display())).path();
            let data = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            (path, data)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} holds no inputs", dir.display());
    inputs
}

fn replay(target: &str, run: fn(&[u8])) {
    for (path, data) in corpus(target) {
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(
            outcome.is_ok(),
            "fuzz/corpus/{target}/{} fails",
            path.file_name().unwrap_or_default().display()
        );
    }
}

#[test]
fn login_check() {
    replay("login_check", fuzzing::login_check);
}

#[test]
fn api_key() {
    replay("api_key", fuzzing::api_key);
}

#[test]
fn access_key() {
    replay("access_key", fuzzing::access_key);
}

#[test]
fn oauth_token() {
    replay("oauth_token", fuzzing::oauth_token);
}

#[test]
fn authorization() {
    replay("authorization", fuzzing::authorization);
}

#[test]
fn jwt_verify() {
    replay("jwt_verify", fuzzing::jwt_verify);
}

#[test]
fn jwt_sign() {
    replay("jwt_sign", fuzzing::jwt_sign);
}
