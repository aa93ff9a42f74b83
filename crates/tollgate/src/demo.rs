//! `serve --demo`: the example credentials of the three documents, so that
//! each document's sample request works against a fresh checkout. Idempotent,
//! and safe when several nodes seed one database at once.

use tollgate_core::admin::{AccessKeySpec, PrincipalSpec};
use tollgate_core::model::{CredentialId, PrincipalId};
use tollgate_core::secret::{AccessSecret, ApiKey, Password};
use tollgate_core::{AdminContext, AdminService};

/// Seed 000's example user.
pub const LOGIN_CHECK_USER: (&str, &str) = ("user", "1234");
/// Seed 001's example login and API key.
pub const APIKEY_USER: (&str, &str) = ("John.Doo", "hDn/LFXIPESM036W+s7VKg==");
/// Seed 002's example access key and secret.
pub const ACCESS_KEY: (&str, &str) =
    ("986d8167a9b9a15e37db4ab4ad50877b01347a94", "79bPqahzbeYuIgyod1GBjsBy38wN7KuBBNNmN/emwjFCuAfq");
/// The holder of seed 002's key, with the claims of the document's sample
/// token (`uid`, `ak`, `ar`, `realm`, `ca`, `cid`, `domain`).
const PARTNER: &str = "partner";
const PARTNER_UID: &str = "65d0f5c9-7fb0-455c-9036-9e72f0a8d0f6";
const PARTNER_AK: &str = "45771ea1-b012-4b80-8ba4-49891c5d8d47";

/// The demo's administrator (DESIGN.md §8), seeded only while the admin
/// listener answers on loopback alone.
pub const ADMIN: (&str, &str) = ("admin", "admin");

pub async fn seed(admin: &AdminService, plane: &crate::config::AdminConfig) -> anyhow::Result<DemoBanner> {
    let context = AdminContext::system();
    let (name, password) = LOGIN_CHECK_USER;
    let created = admin
        .ensure_principal(
            &context,
            PrincipalSpec {
                name: name.into(),
                password: Some(Password::new(password)),
                ..Default::default()
            },
        )
        .await?;
    let (login, api_key) = APIKEY_USER;
    admin.ensure_principal(&context, PrincipalSpec { name: login.into(), ..Default::default() }).await?;
    admin.import_api_key(&context, login, &ApiKey::new(api_key)).await?;

    let uid = uuid::Uuid::parse_str(PARTNER_UID)?;
    let partner = PrincipalSpec {
        id: Some(PrincipalId(uid)),
        name: PARTNER.into(),
        roles: vec!["Partner".into(), "PartnerAdmin".into()],
        realm: Some("Partner".into()),
        attributes: [
            ("ca", "0ea70001-0f58-44a2-80ad-953633ff2cc7"),
            ("cid", "29263739-2cf8-483d-af15-6151dc8448b4"),
            ("domain", "/partners-int"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        ..Default::default()
    };
    admin.ensure_principal(&context, partner).await?;
    let (access_key, secret) = ACCESS_KEY;
    let spec = AccessKeySpec {
        principal: PARTNER.into(),
        id: Some(CredentialId(uuid::Uuid::parse_str(PARTNER_AK)?)),
        access_key: Some(access_key.into()),
        secret: Some(AccessSecret::new(secret)),
        ..Default::default()
    };
    admin.create_access_key(&context, spec).await?;

    let admin_seeded = plane.enabled && plane.listen.ip().is_loopback();
    if admin_seeded {
        let (name, password) = ADMIN;
        let spec = PrincipalSpec {
            name: name.into(),
            password: Some(Password::new(password)),
            roles: vec![plane.role.clone()],
            ..Default::default()
        };
        admin.ensure_principal(&context, spec).await?;
    }

    Ok(DemoBanner { user_created: created, admin_seeded, role: plane.role.clone() })
}

/// What `--demo` seeded, said loudly once every listener is bound.
#[derive(Debug)]
pub struct DemoBanner {
    user_created: bool,
    admin_seeded: bool,
    role: String,
}

impl DemoBanner {
    pub fn log(&self, admin_addr: Option<std::net::SocketAddr>) {
        let (name, password) = LOGIN_CHECK_USER;
        let (login, api_key) = APIKEY_USER;
        let (access_key, secret) = ACCESS_KEY;
        tracing::warn!("==================================================================");
        tracing::warn!("DEMO MODE: well-known example credentials are active. Never use");
        tracing::warn!("--demo with a database that protects anything real.");
        tracing::warn!(
            "  login_check (seed 000): username {name:?}, password {password:?}{}",
            if self.user_created { "" } else { " (already present)" }
        );
        tracing::warn!("  apikey (seed 001): UserLogin {login:?}, ApiKey {api_key:?}");
        tracing::warn!("  accesskey (seed 002): accessKey {access_key:?}, secret {secret:?}");
        match (self.admin_seeded, admin_addr) {
            (true, Some(addr)) => {
                let (name, password) = ADMIN;
                tracing::warn!(
                    "  admin API and portal (http://{addr}, loopback only): username {name:?}, password \
                     {password:?}, role {:?}",
                    self.role
                );
            }
            (false, Some(addr)) => tracing::warn!(
                "  no demo administrator: the admin listener {addr} is not on loopback, and admin/admin \
                 must never be reachable from elsewhere"
            ),
            (_, None) => {}
        }
        tracing::warn!("==================================================================");
    }
}
