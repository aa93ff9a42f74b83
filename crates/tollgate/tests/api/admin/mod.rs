//! The admin API (DESIGN.md §8) over HTTP, on the admin listener of a real
//! server: one test per endpoint and per error status, on SQLite and on
//! PostgreSQL alike.

mod access;
mod audit;
mod keys;
mod openapi;
mod operations;
mod principals;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp};

/// A client of the admin API, signed in as someone (or no one).
pub struct AdminApi {
    pub base: String,
    pub client: reqwest::Client,
    pub token: Option<String>,
}

impl AdminApi {
    /// Signed in with a contract A login of `name`.
    pub async fn as_user(app: &TestApp, name: &str, password: &str) -> Self {
        let token = app.login(name, password).await["token"].as_str().expect("token").to_owned();
        Self::with_token(app, Some(token))
    }

    /// Signed in as the demo's administrator.
    pub async fn as_admin(app: &TestApp) -> Self {
        Self::as_user(app, "admin", "admin").await
    }

    pub fn with_token(app: &TestApp, token: Option<String>) -> Self {
        Self { base: app.admin_url(""), client: reqwest::Client::new(), token }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<(&str, String)>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        Reply::from(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(("application/json", body.to_string()))).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(("application/merge-patch+json", body.to_string()))).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a principal and returns it.
    pub async fn create(&self, body: Value) -> Value {
        let reply = self.post("/admin/v1/principals", body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()
    }

    /// Every item of a list, page after page of `limit`.
    pub async fn all(&self, path: &str, limit: u32) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(cursor) => format!("{path}{separator}limit={limit}&cursor={cursor}"),
                None => format!("{path}{separator}limit={limit}"),
            };
            let page = self.get(&url).await;
            assert_eq!(page.status, 200, "{}", page.text);
            let page = page.json();
            let got = page["items"].as_array().expect("items").clone();
            assert!(got.len() <= limit as usize);
            items.extend(got);
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        items
    }
}

/// Asserts an RFC 9457 problem with `status`, and returns it.
pub fn problem(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["type"], json!("about:blank"));
    assert_eq!(body["status"], json!(status));
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

/// Asserts a 400 naming the member at `pointer`.
pub fn invalid_at(reply: &Reply, pointer: &str) {
    let body = problem(reply, 400);
    let pointers: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["pointer"].as_str()).collect();
    assert_eq!(pointers, [pointer], "{body}");
}
