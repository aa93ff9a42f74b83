//! Lists: `?limit=` [50; above 1000 counts as 1000] and `?cursor=` in,
//! `{"items":[…],"nextCursor":…}` out (`null` at the end). A cursor is
//! opaque to clients: base64url of where the previous page ended.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::Problem;
use crate::AppState;

pub(crate) const DEFAULT_LIMIT: u32 = 50;
pub(crate) const MAX_LIMIT: u32 = 1000;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The query string's parameters, each at most once.
pub(crate) struct QueryParams(Vec<(String, String)>);

impl FromRequestParts<AppState> for QueryParams {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[i + 1..].iter().any(|(other, _)| other == name) {
                return Err(Problem::invalid(
                    format!("/{name}"),
                    format!("The parameter {name:?} is given twice."),
                ));
            }
        }
        Ok(Self(pairs))
    }
}

impl QueryParams {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// `limit`: at least 1; above [`MAX_LIMIT`] counts as that.
    pub(crate) fn limit(&self) -> Result<u32, Problem> {
        match self.get("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(text) => match text.parse::<u64>() {
                Ok(0) | Err(_) => {
                    Err(Problem::invalid("/limit", "The limit is a whole number of at least 1."))
                }
                Ok(limit) => Ok(u32::try_from(limit.min(u64::from(MAX_LIMIT))).unwrap_or(MAX_LIMIT)),
            },
        }
    }

    /// Where the previous page ended, as [`cursor`] wrote it.
    pub(crate) fn cursor(&self) -> Result<Option<String>, Problem> {
        let Some(text) = self.get("cursor") else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Some)
            .ok_or_else(|| Problem::invalid("/cursor", "The cursor is not one this server gave out."))
    }
}

/// The opaque cursor for a page that ended at `position`.
pub(crate) fn cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// A page of `rows` fetched with one more than `limit`: whether there is a
/// next page shows without a count.
pub(crate) fn page_of<R, T>(
    mut rows: Vec<R>,
    limit: u32,
    position: impl Fn(&R) -> String,
    view: impl Fn(&R) -> T,
) -> Page<T> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|last| cursor(&position(last))) } else { None };
    Page { items: rows.iter().map(view).collect(), next_cursor }
}

/// A page of a list read whole (a principal's keys, the lockouts): `rows`
/// sorted by `position`, which is unique and ordered as the rows are.
pub(crate) fn page_in_memory<R, T>(
    rows: Vec<R>,
    params: &QueryParams,
    position: impl Fn(&R) -> String,
    view: impl Fn(&R) -> T,
) -> Result<Page<T>, Problem> {
    let limit = params.limit()?;
    let after = params.cursor()?;
    let mut rows = rows;
    rows.sort_by_cached_key(|row| position(row));
    let rest: Vec<R> = match after {
        Some(after) => rows.into_iter().filter(|row| position(row) > after).collect(),
        None => rows,
    };
    let mut rest = rest;
    rest.truncate(limit as usize + 1);
    Ok(page_of(rest, limit, position, view))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> QueryParams {
        QueryParams(
            form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
        )
    }

    #[test]
    fn limits_default_cap_and_refuse_nonsense() {
        assert_eq!(params("").limit().ok(), Some(DEFAULT_LIMIT));
        assert_eq!(params("limit=7").limit().ok(), Some(7));
        assert_eq!(params("limit=5000").limit().ok(), Some(MAX_LIMIT));
        assert_eq!(params("limit=99999999999999999999999").limit().ok(), None);
        for bad in ["limit=0", "limit=-1", "limit=x", "limit="] {
            assert!(params(bad).limit().is_err(), "{bad}");
        }
    }

    #[test]
    fn pages_in_memory_follow_each_other_to_the_end() {
        let rows: Vec<u32> = (0..7).rev().collect();
        let position = |n: &u32| format!("{n:03}");
        let mut seen = Vec::new();
        let mut query = "limit=3".to_owned();
        loop {
            let page = page_in_memory(rows.clone(), &params(&query), position, |n| *n).expect("page");
            seen.extend(page.items);
            match page.next_cursor {
                Some(next) => query = format!("limit=3&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        assert!(params("cursor=!!").cursor().is_err());
    }
}
