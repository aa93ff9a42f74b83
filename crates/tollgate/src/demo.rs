//! `serve --demo`: the example credentials of the three documents, so that
//! each document's sample request works against a fresh checkout. Idempotent,
//! and safe when several nodes seed one database at once.

use tollgate_core::Store;
use tollgate_core::admin::{PrincipalSpec, ensure_principal};

/// Seed 000's example user.
pub const LOGIN_CHECK_USER: (&str, &str) = ("user", "1234");

pub async fn seed(store: &dyn Store) -> anyhow::Result<()> {
    let (name, password) = LOGIN_CHECK_USER;
    let created = ensure_principal(
        store,
        PrincipalSpec {
            name: name.into(),
            password: Some(password.into()),
            ..Default::default()
        },
    )
    .await?;
    tracing::warn!("==================================================================");
    tracing::warn!("DEMO MODE: well-known example credentials are active. Never use");
    tracing::warn!("--demo with a database that protects anything real.");
    tracing::warn!(
        "  login_check (seed 000): username {name:?}, password {password:?}{}",
        if created { "" } else { " (already present)" }
    );
    tracing::warn!("==================================================================");
    Ok(())
}
