//! Bulk seeding for the scale benchmark (`bench/scale.sh`): many principals
//! and live tokens written through the store's own schema with multi-row
//! INSERTs, far faster than one login at a time. Token `i` is the plain text
//! `benchtoken<i, 22 digits>` (the shape of a contract A token: 32 ×
//! `[a-z0-9]`), so a load generator can present random valid tokens. They
//! carry no keyed tag: the database holds tokens when a server first starts
//! on it, so untagged tokens are looked up for as long as tokens live.

use tollgate_core::secret::TokenHash;
use tollgate_core::time_util::{now, to_millis};
use uuid::Uuid;

use crate::portable::{Cell, TABLES};
use crate::{OpenError, OpenMode, StoreOptions};

/// Rows per transaction while seeding.
const ROWS_PER_TRANSACTION: u64 = 20_000;

/// The plain text of seeded token `i`.
pub fn bench_token(i: u64) -> String {
    format!("benchtoken{i:022}")
}

fn principal_id(i: u64) -> Uuid {
    Uuid::from_u128(0xbe7c_0000_0000_4000_8000_0000_0000_0000 | u128::from(i))
}

/// Adds `principals` principals (`bench-<i>`, no password) and `tokens` live
/// API-key tokens spread over them, valid for a day.
pub async fn seed_scale(
    url: &str,
    principals: u64,
    tokens: u64,
    mut progress: impl FnMut(&str, u64),
) -> Result<(), crate::MigrateDataError> {
    let options = StoreOptions::default();
    let opened = |source| crate::MigrateDataError::Open { which: "scale", source };
    let store = crate::open_database(url, &options, OpenMode::Create).await.map_err(opened)?.portable;
    let table = |name: &str| TABLES.iter().find(|t| t.name == name).ok_or(opened(OpenError::UnsupportedUrl));
    let (principal_table, token_table) = (table("principals")?, table("tokens")?);
    let failed = |table: &'static str| move |source| crate::MigrateDataError::Copy { table, source };
    let created = to_millis(now());
    let expires = created + 24 * 3600 * 1000;

    let mut start = 0;
    while start < principals {
        let end = (start + ROWS_PER_TRANSACTION).min(principals);
        let rows: Vec<Vec<Cell>> = (start..end)
            .map(|i| {
                vec![
                    Cell::Uuid(Some(principal_id(i))),
                    Cell::Text(Some(format!("bench-{i}"))),
                    Cell::Text(Some("[\"bench\"]".into())),
                    Cell::Text(None),
                    Cell::Text(Some("{}".into())),
                    Cell::Bool(Some(true)),
                    Cell::Text(None),
                    Cell::Int(Some(created)),
                    Cell::Int(None),
                    Cell::Text(Some(format!("bench-{i}"))),
                    Cell::Int(Some(0)),
                    Cell::Int(Some(0)),
                    Cell::Int(None),
                    Cell::Int(None),
                ]
            })
            .collect();
        store.import(principal_table, &rows).await.map_err(failed("principals"))?;
        progress("principals", end);
        start = end;
    }
    // In hash order, the B-tree grows by appending instead of dirtying a
    // random page per row: seeding 10 M tokens takes minutes, not hours.
    let mut hashed: Vec<([u8; 32], u64)> =
        (0..tokens).map(|i| (TokenHash::of(&bench_token(i)).0, i)).collect();
    hashed.sort_unstable();
    let mut start = 0;
    while start < tokens {
        let end = (start + ROWS_PER_TRANSACTION).min(tokens);
        let rows: Vec<Vec<Cell>> = hashed
            [usize::try_from(start).unwrap_or(usize::MAX)..usize::try_from(end).unwrap_or(usize::MAX)]
            .iter()
            .map(|&(hash, i)| {
                vec![
                    Cell::Bytes(Some(hash.to_vec())),
                    Cell::Small(Some(2)),
                    Cell::Uuid(Some(principal_id(i % principals.max(1)))),
                    Cell::Uuid(None),
                    Cell::Uuid(None),
                    Cell::Int(Some(created)),
                    Cell::Int(Some(expires)),
                    Cell::Int(None),
                ]
            })
            .collect();
        store.import(token_table, &rows).await.map_err(failed("tokens"))?;
        progress("tokens", end);
        start = end;
    }
    Ok(())
}
