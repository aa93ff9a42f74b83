//! The portal's static files, embedded in the binary (no Node build, no
//! CDN): one style sheet, a small script, an icon, and a vendored htmx (see
//! `assets/README.md` for its version and licence). Pages link them with a
//! version taken from their content, so they can be cached for a year and
//! a new build is still fetched at once.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const CSS: Asset = Asset {
    name: "portal.css",
    content_type: "text/css; charset=utf-8",
    body: include_bytes!("../../assets/portal.css"),
};

const JS: Asset = Asset {
    name: "portal.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_bytes!("../../assets/portal.js"),
};

const HTMX: Asset = Asset {
    name: "htmx.min.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_bytes!("../../assets/htmx.min.js"),
};

const ICON: Asset = Asset {
    name: "favicon.svg",
    content_type: "image/svg+xml",
    body: include_bytes!("../../assets/favicon.svg"),
};

const ASSETS: [Asset; 4] = [CSS, JS, HTMX, ICON];

/// FNV-1a of the bytes, at compile time: a version that changes whenever
/// the file does (not a security measure, only a cache key).
const fn version(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Where the layout links each asset (with its version).
#[derive(Debug, Clone)]
pub(super) struct AssetUrls {
    pub css: &'static str,
    pub js: &'static str,
    pub htmx: &'static str,
    pub icon: &'static str,
}

impl AssetUrls {
    pub fn get() -> Self {
        static URLS: std::sync::LazyLock<[String; 4]> = std::sync::LazyLock::new(|| {
            ASSETS.map(|asset| format!("/assets/{}?v={:016x}", asset.name, version(asset.body)))
        });
        let [css, js, htmx, icon] = &*URLS;
        Self { css, js, htmx, icon }
    }
}

/// `GET /assets/{file}`.
pub(super) async fn serve(Path(file): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == file) else {
        return super::page::error_page(StatusCode::NOT_FOUND, "There is no such file.");
    };
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            // The URL carries the content's version: a changed file gets a
            // new URL, so this one may be kept for good.
            (CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_the_content() {
        assert_ne!(version(b"a"), version(b"b"));
        let urls = AssetUrls::get();
        assert!(urls.css.starts_with("/assets/portal.css?v="), "{}", urls.css);
        assert!(urls.htmx.starts_with("/assets/htmx.min.js?v="), "{}", urls.htmx);
    }

    #[test]
    fn the_vendored_htmx_is_version_2() {
        let text = std::str::from_utf8(HTMX.body).unwrap_or_default();
        assert!(text.starts_with("var htmx=function()"), "not htmx's dist/htmx.min.js");
        assert!(text.contains("2.0.11"), "assets/README.md names 2.0.11");
    }
}
