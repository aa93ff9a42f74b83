//! Contract B (seed 001): JSON and XML, every code in both formats, every
//! negotiation path, hostile input, keys and their lifecycle.

use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tollgate_core::admin;

use crate::helpers::{Reply, TestApp};

const PATH: &str = "/api/login";
const DOC_KEY: &str = "hDn/LFXIPESM036W+s7VKg==";
const JSON_SAMPLE: &str = r#"{"Result":null,"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#;
const XML_SAMPLE: &str =
    "<Request> <UserLogin>John.Doo</UserLogin> <ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey> </Request>";
const JSON: &str = "application/json";
const XML: &str = "application/xml";

fn json_error(number: u16, description: &str) -> String {
    format!(r#"{{"Result":{{"ErrorNumber":{number},"Description":"{description}"}}}}"#)
}

fn xml_error(number: u16, description: &str) -> String {
    format!(
        "<Response><Result><ErrorNumber>{number}</ErrorNumber><Description>{description}</Description></Result></Response>"
    )
}

const D1002: &str = "Entry parameter missing or parameter bindigs failed";
const D1003: &str = "UserLogin or ApiKey are unknown";
const D1004: &str = "ApiKey is invalid";
const D415: &str = "The request entity has a media type which the server or resource does not support. \
                    Only application/json and application/xml are supported";

async fn demo() -> TestApp {
    TestApp::spawn_demo_with(|_| {}).await
}

impl TestApp {
    async fn b(&self, content_type: Option<&str>, accept: Option<&str>, body: &str) -> Reply {
        let mut headers = Vec::new();
        if let Some(c) = content_type {
            headers.push(("content-type", c));
        }
        if let Some(a) = accept {
            headers.push(("accept", a));
        }
        self.post_to(&self.url(PATH), &headers, body.to_owned()).await
    }

    async fn issue_key(&self, name: &str, expires_at: Option<OffsetDateTime>) -> (String, String) {
        let issued = self
            .admin
            .issue_api_key(&tollgate_core::AdminContext::cli(), name, expires_at)
            .await
            .expect("issue");
        (issued.id.to_string(), issued.api_key.expose().to_owned())
    }
}

fn json_body(login: &str, key: &str) -> String {
    serde_json::json!({ "UserLogin": login, "ApiKey": key }).to_string()
}

fn xml_body(login: &str, key: &str) -> String {
    format!("<Request><UserLogin>{login}</UserLogin><ApiKey>{key}</ApiKey></Request>")
}

fn xml_field<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml.find(&open).expect("element") + open.len();
    let end = xml[start..].find("</").expect("end") + start;
    &xml[start..end]
}

#[tokio::test]
async fn the_documents_json_sample_returns_200_with_token_lifetime_and_escaped_date() {
    let app = demo().await;
    let reply = app.b(Some(JSON), None, JSON_SAMPLE).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body: Value = reply.json();
    let token = uuid::Uuid::parse_str(body["Token"].as_str().expect("Token")).expect("a UUID");
    assert_eq!(token.get_version_num(), 4);
    assert_eq!(body["ExpireInSec"], 20);
    assert!(reply.text.starts_with(r#"{"Token":""#));
    let marker = r#","ExpireInSec":20,"ExpireDate":"\/Date("#;
    let start = reply.text.find(marker).expect("escaped date on the wire") + marker.len();
    let ms: i64 = reply.text[start..].trim_end_matches(r#")\/"}"#).parse().expect("ms");
    let expected = (OffsetDateTime::now_utc() + time::Duration::seconds(20)).unix_timestamp() * 1000;
    assert!((ms - expected).abs() < 3000, "{ms} vs {expected}");
    assert!(reply.text.ends_with(r#")\/"}"#));
}

#[tokio::test]
async fn the_documents_xml_sample_returns_200_in_xml_with_seven_fractional_digits() {
    let app = demo().await;
    let reply = app.b(Some(XML), None, XML_SAMPLE).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/xml; charset=utf-8"));
    assert!(reply.text.starts_with("<Response><Token>"));
    assert!(uuid::Uuid::parse_str(xml_field(&reply.text, "Token")).is_ok());
    assert_eq!(xml_field(&reply.text, "ExpireInSec"), "20");
    let date = xml_field(&reply.text, "ExpireDate");
    assert_eq!(date.len(), "2026-02-04T10:54:37.4697503Z".len(), "{date}");
    assert_eq!(&date[19..20], ".");
    assert!(date.ends_with('Z'));
    let parsed = OffsetDateTime::parse(date, &Rfc3339).expect("ISO 8601");
    let left = parsed - OffsetDateTime::now_utc();
    assert!(left > time::Duration::seconds(17) && left <= time::Duration::seconds(20), "{left}");
    assert!(reply.text.ends_with("</ExpireDate></Response>"));
}

#[tokio::test]
async fn expire_in_sec_states_the_configured_lifetime_and_the_token_works_until_then() {
    let app = TestApp::spawn_demo_with(|c| c.apikey.token_ttl.0 = Duration::from_secs(1)).await;
    let reply = app.b(Some(JSON), None, JSON_SAMPLE).await;
    assert_eq!(reply.json()["ExpireInSec"], 1);
    let token = reply.json()["Token"].as_str().expect("token").to_owned();
    let verified = app.verify(&token).await;
    assert_eq!(verified.status, 200);
    assert_eq!(verified.header("x-auth-name"), Some("John.Doo"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.verify(&token).await.status, 401);
}

#[tokio::test]
async fn a_key_expiring_before_the_token_would_shortens_the_token_and_says_so() {
    let app = demo().await;
    let key_ends = OffsetDateTime::now_utc() + time::Duration::milliseconds(4_500);
    let (_, key) = app.issue_key("John.Doo", Some(key_ends)).await;
    let reply = app.b(Some(JSON), None, &json_body("John.Doo", &key)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body: Value = reply.json();
    assert_eq!(body["ExpireInSec"], 4, "the key's remaining 4.x s, rounded down: {body}");
    let date = body["ExpireDate"].as_str().expect("ExpireDate");
    let ms: i128 = date.trim_start_matches("/Date(").trim_end_matches(")/").parse().expect("ms");
    assert_eq!(ms, key_ends.unix_timestamp_nanos() / 1_000_000, "the token ends with its key");
    let token = body["Token"].as_str().expect("Token");
    let verified = app.verify(token).await;
    assert_eq!(verified.status, 200);
    let expires =
        OffsetDateTime::parse(verified.header("x-auth-expires").expect("expires"), &Rfc3339).expect("date");
    assert!((expires - key_ends).abs() < time::Duration::milliseconds(1), "{expires} vs {key_ends}");

    let xml = app.b(Some(XML), None, &xml_body("John.Doo", &key)).await;
    let seconds: u64 = xml_field(&xml.text, "ExpireInSec").parse().expect("seconds");
    assert!(seconds <= 4, "{}", xml.text);
}

#[tokio::test]
async fn missing_empty_or_unbindable_parameters_return_400_1002_in_both_formats() {
    let app = demo().await;
    let json_cases = [
        r#"{"UserLogin":"John.Doo"}"#,
        r#"{"ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#,
        r#"{"UserLogin":"","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#,
        r#"{"UserLogin":"John.Doo","ApiKey":""}"#,
        r#"{"UserLogin":null,"ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#,
        r#"{"UserLogin":42,"ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#,
        r#"{"UserLogin":"John.Doo","ApiKey":["x"]}"#,
        r#"{"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg==""#,
        r#"[{"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}]"#,
        "",
        "\"John.Doo\"",
    ];
    for body in json_cases {
        app.b(Some(JSON), None, body).await.assert(400, &json_error(1002, D1002));
        app.b(Some(JSON), Some(XML), body).await.assert(400, &xml_error(1002, D1002));
    }
    let xml_cases = [
        "<Request><UserLogin>John.Doo</UserLogin></Request>",
        "<Request><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>",
        "<Request><UserLogin></UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>",
        "<Request><UserLogin>John.Doo</UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey>",
        "<Request><UserLogin>John.Doo<ApiKey>x</ApiKey></UserLogin></Request>",
        "not xml at all",
        "",
    ];
    for body in xml_cases {
        app.b(Some(XML), None, body).await.assert(400, &xml_error(1002, D1002));
        app.b(Some(XML), Some(JSON), body).await.assert(400, &json_error(1002, D1002));
    }
}

#[tokio::test]
async fn an_unknown_login_or_someone_elses_key_returns_401_1003_in_both_formats() {
    let app = demo().await;
    app.add_principal(admin::PrincipalSpec { name: "Jane".into(), ..Default::default() }).await;
    let (_, janes_key) = app.issue_key("Jane", None).await;
    let unknown_key = tollgate_core::secret::new_api_key().expose().to_owned();
    for (login, key) in [
        ("Nobody", DOC_KEY),
        ("John.Doo", janes_key.as_str()),
        ("John.Doo", &unknown_key),
        ("john.doo", DOC_KEY),
    ] {
        app.b(Some(JSON), None, &json_body(login, key)).await.assert(401, &json_error(1003, D1003));
        app.b(Some(XML), None, &xml_body(login, key)).await.assert(401, &xml_error(1003, D1003));
    }
}

#[tokio::test]
async fn a_malformed_revoked_or_expired_key_returns_401_1004_in_both_formats() {
    let app = demo().await;
    let (revoked_id, revoked) = app.issue_key("John.Doo", None).await;
    app.admin.revoke_api_key(&tollgate_core::AdminContext::cli(), &revoked_id).await.expect("revoke");
    let past = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let (_, expired) = app.issue_key("John.Doo", Some(past)).await;
    let malformed = [
        "not-base64!!",
        "aGVsbG8=",
        "hDn/LFXIPESM036W+s7VKg",
        "hDn/LFXIPESM036W+s7VKg==hDn/",
        "%%%%%%%%%%%%%%%%%%%%%%%%",
    ];
    for key in malformed.iter().copied().chain([revoked.as_str(), expired.as_str()]) {
        app.b(Some(JSON), None, &json_body("John.Doo", key)).await.assert(401, &json_error(1004, D1004));
        app.b(Some(XML), None, &xml_body("John.Doo", key)).await.assert(401, &xml_error(1004, D1004));
    }
}

#[tokio::test]
async fn other_media_types_return_415_in_the_accepted_format() {
    let app = demo().await;
    for content_type in
        [Some("text/plain"), Some("application/x-www-form-urlencoded"), None, Some("application/jsonp")]
    {
        app.b(content_type, None, JSON_SAMPLE).await.assert(415, &json_error(415, D415));
        app.b(content_type, Some("application/xml"), JSON_SAMPLE).await.assert(415, &xml_error(415, D415));
    }
    assert_eq!(app.b(Some("application/json; charset=UTF-8"), None, JSON_SAMPLE).await.status, 200);
    assert_eq!(app.b(Some("text/xml; charset=utf-8"), None, XML_SAMPLE).await.status, 200);
}

#[tokio::test]
async fn only_the_media_type_decides_415_and_declared_charsets_are_decoded() {
    let app = demo().await;
    for content_type in [
        "application/json; charset=iso-8859-1",
        "application/json; charset=x-unknown",
        "application/json;charset=\"utf-8\"",
    ] {
        let reply = app.b(Some(content_type), None, JSON_SAMPLE).await;
        assert_eq!(reply.status, 200, "{content_type}: {}", reply.text);
    }
    let utf16: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain(XML_SAMPLE.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let reply =
        app.post_to(&app.url(PATH), &[("content-type", "application/xml; charset=utf-16")], utf16).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Bytes that are not text in the declared charset cannot be bound.
    let reply =
        app.post_to(&app.url(PATH), &[("content-type", "application/json")], vec![0xFF, 0xFE, 0x7B]).await;
    reply.assert(400, &json_error(1002, D1002));
}

#[tokio::test]
async fn of_properties_differing_only_in_letter_case_the_last_one_binds() {
    let app = demo().await;
    let body = r#"{"userlogin":"John.Doo","UserLogin":"nobody","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#;
    app.b(Some(JSON), None, body).await.assert(401, &json_error(1003, D1003));
    let body = r#"{"UserLogin":"nobody","userlogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#;
    assert_eq!(app.b(Some(JSON), None, body).await.status, 200);
}

#[tokio::test]
async fn accept_then_content_type_then_json_decide_the_answers_format() {
    let app = demo().await;
    let cases = [
        (JSON, None, "application/json; charset=utf-8"),
        (XML, None, "application/xml; charset=utf-8"),
        ("text/xml", None, "text/xml; charset=utf-8"),
        (JSON, Some("application/xml"), "application/xml; charset=utf-8"),
        (XML, Some("application/json"), "application/json; charset=utf-8"),
        (JSON, Some("text/xml"), "text/xml; charset=utf-8"),
        (JSON, Some("application/json;q=0.4, application/xml;q=0.8"), "application/xml; charset=utf-8"),
        (XML, Some("application/xml;q=0.1, application/json"), "application/json; charset=utf-8"),
        (XML, Some("*/*"), "application/xml; charset=utf-8"),
        (JSON, Some("*/*"), "application/json; charset=utf-8"),
        (XML, Some("text/html, image/png"), "application/xml; charset=utf-8"),
        (XML, Some("application/*"), "application/xml; charset=utf-8"),
        (JSON, Some("text/html;q=0.9, */*;q=0.8, application/xml;q=0.5"), "application/xml; charset=utf-8"),
    ];
    for (content_type, accept, expected) in cases {
        let body = if content_type == JSON { JSON_SAMPLE } else { XML_SAMPLE };
        let reply = app.b(Some(content_type), accept, body).await;
        assert_eq!(reply.status, 200, "{content_type} {accept:?}: {}", reply.text);
        assert_eq!(reply.header("content-type"), Some(expected), "{content_type} {accept:?}");
        let is_xml = expected.contains("xml");
        assert_eq!(reply.text.starts_with("<Response>"), is_xml, "{content_type} {accept:?}: {}", reply.text);
    }
}

#[tokio::test]
async fn xml_with_a_dtd_or_entities_is_refused_and_never_expanded() {
    let app = demo().await;
    let attacks = [
        r#"<?xml version="1.0"?><!DOCTYPE Request [<!ENTITY x SYSTEM "file:///etc/passwd">]><Request><UserLogin>&x;</UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>"#,
        r#"<!DOCTYPE Request [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><Request><UserLogin>&b;</UserLogin><ApiKey>k</ApiKey></Request>"#,
        r#"<!DOCTYPE Request SYSTEM "http://127.0.0.1:1/evil.dtd"><Request><UserLogin>John.Doo</UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>"#,
        "<Request><UserLogin>&undeclared;</UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>",
    ];
    for body in attacks {
        app.b(Some(XML), None, body).await.assert(400, &xml_error(1002, D1002));
    }
}

#[tokio::test]
async fn huge_or_deeply_nested_bodies_return_400_1002() {
    let app = demo().await;
    let deep_xml = format!("<Request>{}{}</Request>", "<a>".repeat(5000), "</a>".repeat(5000));
    app.b(Some(XML), None, &deep_xml).await.assert(400, &xml_error(1002, D1002));
    let deep_json =
        format!(r#"{{"UserLogin":"John.Doo","Result":{}{}}}"#, "[".repeat(5000), "]".repeat(5000));
    app.b(Some(JSON), None, &deep_json).await.assert(400, &json_error(1002, D1002));
    let huge = format!("<Request><UserLogin>{}</UserLogin><ApiKey>x</ApiKey></Request>", "J".repeat(1 << 20));
    app.b(Some(XML), None, &huge).await.assert(400, &xml_error(1002, D1002));
    app.b(Some(XML), None, "<Login><UserLogin>John.Doo</UserLogin></Login>")
        .await
        .assert(400, &xml_error(1002, D1002));
}

#[tokio::test]
async fn asp_net_shapes_bind_any_order_namespaces_letter_case_result_and_extra_properties() {
    let app = demo().await;
    let xml_bodies = [
        r#"<?xml version="1.0" encoding="utf-8"?><Request xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Api.Models"><Result i:nil="true"/><UserLogin>John.Doo</UserLogin><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey></Request>"#,
        "<Request><ApiKey>hDn/LFXIPESM036W+s7VKg==</ApiKey><Extra>1</Extra><UserLogin>John.Doo</UserLogin></Request>",
        "<request><userlogin>John.Doo</userlogin><APIKEY>hDn/LFXIPESM036W+s7VKg==</APIKEY></request>",
        "<Request><Result><ErrorNumber>7</ErrorNumber></Result><UserLogin><![CDATA[John.Doo]]></UserLogin><ApiKey>hDn&#x2F;LFXIPESM036W+s7VKg==</ApiKey></Request>",
    ];
    for body in xml_bodies {
        let reply = app.b(Some(XML), None, body).await;
        assert_eq!(reply.status, 200, "{body}: {}", reply.text);
    }
    let json_bodies = [
        r#"{"userlogin":"John.Doo","APIKEY":"hDn/LFXIPESM036W+s7VKg=="}"#,
        r#"{"ApiKey":"hDn/LFXIPESM036W+s7VKg==","UserLogin":"John.Doo","Result":{"ErrorNumber":1}}"#,
        r#"{"Result":[1,2,3],"UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg==","Other":true}"#,
        r#"{"Result":"anything","UserLogin":"John.Doo","ApiKey":"hDn/LFXIPESM036W+s7VKg=="}"#,
    ];
    for body in json_bodies {
        let reply = app.b(Some(JSON), None, body).await;
        assert_eq!(reply.status, 200, "{body}: {}", reply.text);
    }
}

#[tokio::test]
async fn a_principal_may_hold_several_keys_and_a_disabled_one_gets_1003() {
    let app = demo().await;
    let (_, second) = app.issue_key("John.Doo", None).await;
    assert_eq!(app.b(Some(JSON), None, &json_body("John.Doo", &second)).await.status, 200);
    assert_eq!(app.b(Some(JSON), None, JSON_SAMPLE).await.status, 200);
    app.admin.set_enabled(&tollgate_core::AdminContext::cli(), "John.Doo", false).await.expect("disable");
    // Changed by another process: the server's key cache follows within 2 s.
    let deadline = Instant::now() + Duration::from_secs(2);
    while app.b(Some(JSON), None, JSON_SAMPLE).await.status != 401 {
        assert!(Instant::now() < deadline, "a disabled principal still logs in");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.b(Some(JSON), None, JSON_SAMPLE).await.assert(401, &json_error(1003, D1003));
}

#[tokio::test]
async fn revoking_a_key_stops_the_tokens_it_issued_within_two_seconds() {
    let app = demo().await;
    let (id, key) = app.issue_key("John.Doo", None).await;
    let token = app.b(Some(JSON), None, &json_body("John.Doo", &key)).await.json()["Token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(app.verify(&token).await.status, 200);
    app.admin.revoke_api_key(&tollgate_core::AdminContext::cli(), &id).await.expect("revoke");
    let deadline = Instant::now() + Duration::from_secs(2);
    while app.verify(&token).await.status != 401 {
        assert!(Instant::now() < deadline, "token of a revoked key still accepted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_contract_can_be_served_at_login_on_its_own_listener() {
    let app = TestApp::spawn_demo_with(|c| {
        c.apikey.path = "/login".into();
        c.apikey.listen = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    assert_eq!(app.addrs.len(), 2);
    let own = format!("http://{}/login", app.addrs[1]);
    let reply = app.post_to(&own, &[("content-type", JSON)], JSON_SAMPLE).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = reply.json()["Token"].as_str().expect("token").to_owned();
    // The main listener does not serve it, but checks its tokens.
    assert_eq!(app.b(Some(JSON), None, JSON_SAMPLE).await.status, 404);
    assert_eq!(app.verify(&token).await.status, 200);
}

#[tokio::test]
async fn a_locked_database_gives_500_in_the_contracts_format() {
    if std::env::var("TOLLGATE_TEST_BACKEND").as_deref() == Ok("postgres") {
        return;
    }
    let app = TestApp::spawn_demo_with(|c| c.database_timeout.0 = Duration::from_millis(300)).await;
    use sqlx::Connection as _;
    let mut locker = sqlx::SqliteConnection::connect(&app.config.database_url).await.expect("connect");
    sqlx::query("BEGIN IMMEDIATE").execute(&mut locker).await.expect("lock");
    let description = "Internal server error. Please try again later.";
    app.b(Some(XML), None, XML_SAMPLE).await.assert(500, &xml_error(500, description));
    app.b(Some(JSON), None, JSON_SAMPLE).await.assert(500, &json_error(500, description));
    sqlx::query("ROLLBACK").execute(&mut locker).await.expect("unlock");
    assert_eq!(app.b(Some(JSON), None, JSON_SAMPLE).await.status, 200);
}
