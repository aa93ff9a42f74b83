//! `serve --demo`: the example credentials of the three documents, so that
//! each document's sample request works against a fresh checkout. Idempotent,
//! and safe when several nodes seed one database at once.

use tollgate_core::admin::{PrincipalSpec, ensure_principal, import_api_key};
use tollgate_core::{ServerKeys, Store};

/// Seed 000's example user.
pub const LOGIN_CHECK_USER: (&str, &str) = ("user", "1234");
/// Seed 001's example login and API key.
pub const APIKEY_USER: (&str, &str) = ("John.Doo", "hDn/LFXIPESM036W+s7VKg==");

pub async fn seed(store: &dyn Store, keys: &ServerKeys) -> anyhow::Result<()> {
    let (name, password) = LOGIN_CHECK_USER;
    let created = ensure_principal(
        store,
        PrincipalSpec { name: name.into(), password: Some(password.into()), ..Default::default() },
    )
    .await?;
    let (login, api_key) = APIKEY_USER;
    ensure_principal(store, PrincipalSpec { name: login.into(), ..Default::default() }).await?;
    import_api_key(store, keys, login, api_key).await?;

    tracing::warn!("==================================================================");
    tracing::warn!("DEMO MODE: well-known example credentials are active. Never use");
    tracing::warn!("--demo with a database that protects anything real.");
    tracing::warn!(
        "  login_check (seed 000): username {name:?}, password {password:?}{}",
        if created { "" } else { " (already present)" }
    );
    tracing::warn!("  apikey (seed 001): UserLogin {login:?}, ApiKey {api_key:?}");
    tracing::warn!("==================================================================");
    Ok(())
}
