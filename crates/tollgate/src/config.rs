//! Configuration: defaults, then a TOML file, then `TOLLGATE_…` environment
//! variables, then command-line flags. An unknown key in the file or a bad
//! value anywhere stops start-up with a message naming the key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tollgate_core::secret::JwtSecret;
use tollgate_core::signing_keys::SigningAlgorithm;

/// One configuration key: its dotted path, and whether its value is text
/// (taken from the environment verbatim: a JWT secret may well look like
/// TOML) rather than a number, a boolean or a list (parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub path: String,
    pub text: bool,
}

/// Every key a file or variable may set, derived from the defaults (so a new
/// field cannot be forgotten here). Other `TOLLGATE_` variables (such as a
/// test suite's own) are ignored rather than refused.
pub fn keys() -> &'static [Key] {
    static KEYS: LazyLock<Vec<Key>> = LazyLock::new(|| {
        let mut keys = Vec::new();
        match serde_json::to_value(Config::default()) {
            Ok(defaults) => collect_keys("", &defaults, &mut keys),
            Err(err) => tracing::error!(%err, "the default configuration does not serialize"),
        }
        keys
    });
    &KEYS
}

fn collect_keys(prefix: &str, value: &serde_json::Value, keys: &mut Vec<Key>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (name, field) in fields {
                let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                collect_keys(&path, field, keys);
            }
        }
        // A default of text or nothing (an optional address, path or URL).
        serde_json::Value::String(_) | serde_json::Value::Null => {
            keys.push(Key { path: prefix.to_owned(), text: true })
        }
        _ => keys.push(Key { path: prefix.to_owned(), text: false }),
    }
}

/// `login_check.token_ttl` → `TOLLGATE_LOGIN_CHECK__TOKEN_TTL`.
pub(crate) fn env_var(key: &str) -> String {
    format!("TOLLGATE_{}", key.to_uppercase().replace('.', "__"))
}

/// One string-valued environment variable, untouched.
struct RawEnvString {
    key: String,
    value: String,
}

impl figment::Provider for RawEnvString {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named("environment variable")
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        match figment::util::nest(&self.key, figment::value::Value::from(self.value.clone())) {
            figment::value::Value::Dict(_, dict) => Ok(figment::Profile::Default.collect(dict)),
            _ => Err(figment::Error::from(format!("cannot place {}", self.key))),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    /// How long a request waits for the database before failing (our
    /// extension: bounds every database wait so that an outage answers 500
    /// quickly instead of hanging).
    pub database_timeout: Seconds,
    /// The URL clients reach this service at (our extension): the OAuth 2.0
    /// issuer in the server metadata. Without it, derived from each request.
    pub public_url: Option<String>,
    /// HTTPS on the main listener: a PEM certificate chain and its key.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub login_check: LoginCheckConfig,
    pub apikey: ContractConfig<ApiKeyDefaults>,
    pub accesskey: ContractConfig<AccessKeyDefaults>,
    pub jwt: JwtConfig,
    pub secrets: SecretsConfig,
    pub protection: ProtectionConfig,
    pub admin: AdminConfig,
    pub migration: MigrationConfig,
    pub log: LogConfig,
}

/// `[log]`: how the log is written (what it holds: `RUST_LOG`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text`, or `json`: one JSON object a line.
    pub format: LogFormat,
    /// One line per request at `info` (target `tollgate::access`): method,
    /// path (never the query), status, duration, client. Never a secret.
    pub access: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Text, access: true }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// One key's effective value, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: String,
    pub value: serde_json::Value,
    /// `default`, `file`, a `TOLLGATE_…` variable, or a command-line flag.
    pub source: String,
}

/// A validation message (`key: why`) with where the key's value came from,
/// as extraction errors say it: the variable, or the file.
fn with_origin(message: String, file: Option<&Path>) -> String {
    let key = message.split([':', ' ']).next().unwrap_or_default();
    if !keys().iter().any(|known| known.path == key) {
        return message;
    }
    if std::env::var_os(env_var(key)).is_some() {
        return format!("{message} (from {})", env_var(key));
    }
    match Config::file_in_use(file) {
        Some(path) if Figment::from(Toml::file_exact(&path)).find_value(key).is_ok() => {
            format!("{message} (in {})", path.display())
        }
        _ => message,
    }
}

/// A listener that may serve HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsListener {
    Main,
    ApiKey,
    AccessKey,
    Admin,
}

/// `[migration]`: lazy migration from the legacy services (DESIGN.md §10).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MigrationConfig {
    /// How long one forwarded login may take.
    pub timeout: Seconds,
    pub login_check: UpstreamConfig,
    pub apikey: UpstreamConfig,
    pub accesskey: AccessKeyUpstreamConfig,
}

impl Default for MigrationConfig {
    fn default() -> Self {
        Self {
            timeout: Seconds(Duration::from_secs(5)),
            login_check: UpstreamConfig::default(),
            apikey: UpstreamConfig::default(),
            accesskey: AccessKeyUpstreamConfig::default(),
        }
    }
}

/// A legacy endpoint that unknown logins are forwarded to.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    pub upstream: Option<String>,
}

/// Contract C's legacy endpoint, and the HMAC secret its JWTs are checked
/// with (unchecked without one: the answer came over the connection
/// Tollgate opened).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessKeyUpstreamConfig {
    pub upstream: Option<String>,
    pub jwt_secret: Option<SecretText>,
}

/// `[admin]`: the management plane's listener (DESIGN.md §8).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub enabled: bool,
    /// Serves the admin API, the portal and `/metrics`; keep it private.
    pub listen: SocketAddr,
    /// The role that makes a principal an administrator.
    pub role: String,
    /// How long audit rows are kept.
    pub audit_retention: Seconds,
    /// HTTPS on the admin listener.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The portal: a session unused this long ends.
    pub session_idle: Seconds,
    /// The portal: a session ends this long after sign-in, used or not.
    pub session_max: Seconds,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            role: "tollgate-admin".into(),
            audit_retention: Seconds::hours(24 * 90),
            tls_cert: None,
            tls_key: None,
            session_idle: Seconds(Duration::from_secs(30 * 60)),
            session_max: Seconds::hours(12),
        }
    }
}

/// `[protection]`: abuse protection (DESIGN.md §9).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtectionConfig {
    pub enabled: bool,
    /// Consecutive failures that lock a name.
    pub lockout_threshold: u32,
    /// The first lock's length; each further lock doubles it.
    pub lockout_base: Seconds,
    pub lockout_max: Seconds,
    /// Without failures this long, a name's count and ladder reset.
    pub lockout_window: Seconds,
    /// Failed logins from one address within `ip_window` beyond which its
    /// logins are answered 429 until the window ends.
    pub ip_failures: u32,
    pub ip_window: Seconds,
    /// Proxies (CIDRs) whose `X-Forwarded-For` names the client; in the
    /// environment, comma-separated.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
}

impl Default for ProtectionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            lockout_threshold: 10,
            lockout_base: Seconds(Duration::from_secs(60)),
            lockout_max: Seconds(Duration::from_secs(3600)),
            lockout_window: Seconds::hours(24),
            ip_failures: 100,
            ip_window: Seconds(Duration::from_secs(60)),
            trusted_proxies: Vec::new(),
        }
    }
}

/// A list written as a list (the file) or as one comma-separated string (an
/// environment variable).
fn list_or_commas<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::List(items) => items,
        Raw::Text(text) => {
            text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
        }
    })
}

/// `[secrets]`: how key material is kept at rest.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// A file holding the master key (32 random bytes as 64 hex characters
    /// or base64) under which key material in the database is sealed.
    pub master_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginCheckConfig {
    pub enabled: bool,
    pub path: String,
    pub token_ttl: Seconds,
    pub refresh_ttl: Seconds,
    pub refresh_grace: Seconds,
}

/// `[apikey]` (contract B) and `[accesskey]` (contract C): the same keys,
/// different defaults (so `D` says which contract's).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default, bound(deserialize = "", serialize = ""))]
pub struct ContractConfig<D: ContractDefaults> {
    pub enabled: bool,
    pub path: String,
    pub token_ttl: Seconds,
    pub listen: Option<SocketAddr>,
    /// HTTPS on the contract's own `listen` address.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    #[serde(skip)]
    contract: std::marker::PhantomData<D>,
}

/// A contract's default path and token lifetime.
pub trait ContractDefaults: Clone + fmt::Debug {
    const PATH: &'static str;
    const TOKEN_TTL: Duration;
}

#[derive(Debug, Clone)]
pub struct ApiKeyDefaults;

impl ContractDefaults for ApiKeyDefaults {
    const PATH: &'static str = "/api/login";
    const TOKEN_TTL: Duration = Duration::from_secs(20);
}

#[derive(Debug, Clone)]
pub struct AccessKeyDefaults;

impl ContractDefaults for AccessKeyDefaults {
    const PATH: &'static str = "/login";
    const TOKEN_TTL: Duration = Duration::from_secs(3600);
}

impl<D: ContractDefaults> Default for ContractConfig<D> {
    fn default() -> Self {
        Self {
            enabled: true,
            path: D::PATH.into(),
            token_ttl: Seconds(D::TOKEN_TTL),
            listen: None,
            tls_cert: None,
            tls_key: None,
            contract: std::marker::PhantomData,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    pub algorithm: String,
    pub secret: Option<SecretText>,
    pub secret_file: Option<PathBuf>,
    pub leeway: Seconds,
    /// How long `keys rotate` publishes a new key before it signs (our
    /// extension; longer than relying parties cache the JWKS).
    pub rotation_delay: Seconds,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://tollgate.db".into(),
            database_timeout: Seconds(Duration::from_secs(5)),
            public_url: None,
            tls_cert: None,
            tls_key: None,
            login_check: LoginCheckConfig::default(),
            apikey: ContractConfig::default(),
            accesskey: ContractConfig::default(),
            jwt: JwtConfig::default(),
            secrets: SecretsConfig::default(),
            protection: ProtectionConfig::default(),
            admin: AdminConfig::default(),
            migration: MigrationConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for LoginCheckConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            path: "/v1/login_check".into(),
            token_ttl: Seconds::hours(24),
            refresh_ttl: Seconds::hours(24 * 30),
            refresh_grace: Seconds(Duration::ZERO),
        }
    }
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            algorithm: "HS384".into(),
            secret: None,
            secret_file: None,
            leeway: Seconds(Duration::from_secs(5)),
            rotation_delay: Seconds(Duration::from_secs(15 * 60)),
        }
    }
}

/// A secret given as text (`jwt.secret`): `[redacted]` whenever printed or
/// serialized.
#[derive(Clone)]
pub struct SecretText(SecretString);

impl SecretText {
    pub fn new(text: impl Into<String>) -> Self {
        Self(SecretString::from(text.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<&str> for SecretText {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

/// A duration written `20s`, `15m`, `24h`, `30d`, or a plain number of seconds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl Seconds {
    const fn hours(h: u64) -> Self {
        Self(Duration::from_secs(h * 3600))
    }
}

impl fmt::Debug for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Seconds {
    /// In the largest unit that writes it whole (`90s`, `15m`, `30d`), but
    /// a single day as `24h`, as the defaults are written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.as_secs();
        let (count, unit) = [(86_400, "d"), (3600, "h"), (60, "m")]
            .into_iter()
            .find(|(size, _)| {
                seconds > 0 && seconds.is_multiple_of(*size) && (*size != 86_400 || seconds > 86_400)
            })
            .map_or((seconds, "s"), |(size, unit)| (seconds / size, unit));
        write!(f, "{count}{unit}")
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Parses `20s`, `15m`, `24h`, `30d` or `20`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 =
        number.parse().map_err(|_| format!("{text:?} is not a duration (like 20s, 15m, 24h, 30d)"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?} has an unknown unit (use s, m, h or d)")),
    };
    n.checked_mul(scale).map(Duration::from_secs).ok_or_else(|| format!("{text:?} is too long"))
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => u64::try_from(n)
                .map(|n| Seconds(Duration::from_secs(n)))
                .map_err(|_| serde::de::Error::custom("a duration cannot be negative")),
            Raw::Text(text) => parse_duration(&text).map(Seconds).map_err(serde::de::Error::custom),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults ← `file` (or `tollgate.toml` if present) ← environment.
    /// The file `load` reads: the one given, else `tollgate.toml` if present.
    pub fn file_in_use(file: Option<&Path>) -> Option<PathBuf> {
        match file {
            Some(path) => Some(path.to_owned()),
            None => Some(PathBuf::from("tollgate.toml")).filter(|path| path.exists()),
        }
    }

    /// Every key's effective value and where it came from: a command-line
    /// flag of `flags` (key, flag), the environment (the variable's name),
    /// the file, or the default. Secrets read `[redacted]`, and URLs lose
    /// their passwords.
    pub fn settings(&self, file: Option<&Path>, flags: &[(&str, &'static str)]) -> Vec<Setting> {
        let values = serde_json::to_value(self).unwrap_or_default();
        let from_file = Self::file_in_use(file).map(|path| Figment::from(Toml::file_exact(path)));
        keys()
            .iter()
            .map(|key| {
                let mut value = key.path.split('.').fold(&values, |value, part| &value[part]).clone();
                if let serde_json::Value::String(text) = &value
                    && (key.path.ends_with("url") || key.path.ends_with("upstream"))
                {
                    value = serde_json::Value::String(tollgate_store::redact_url(text));
                }
                let source = if let Some((_, flag)) = flags.iter().find(|(flagged, _)| *flagged == key.path) {
                    (*flag).to_owned()
                } else if std::env::var_os(env_var(&key.path)).is_some() {
                    env_var(&key.path)
                } else if from_file.as_ref().is_some_and(|file| file.find_value(&key.path).is_ok()) {
                    "file".to_owned()
                } else {
                    "default".to_owned()
                };
                Setting { key: key.path.clone(), value, source }
            })
            .collect()
    }

    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("tollgate.toml").exists() => {
                figment = figment.merge(Toml::file_exact("tollgate.toml"))
            }
            None => {}
        }
        // Typed values (booleans, numbers) are parsed from the environment;
        // text values are taken as they are, byte for byte (a JWT secret
        // may well look like TOML).
        let typed = |key: &figment::value::UncasedStr| {
            keys().iter().any(|known| !known.text && key == known.path.as_str())
        };
        figment = figment.merge(Env::prefixed("TOLLGATE_").split("__").filter(typed));
        for key in keys().iter().filter(|key| key.text) {
            if let Ok(value) = std::env::var(env_var(&key.path)) {
                figment = figment.merge(RawEnvString { key: key.path.clone(), value });
            }
        }
        let config: Config = figment.extract().map_err(|err| ConfigError::Invalid(describe(err)))?;
        config.validate().map_err(|err| match err {
            ConfigError::Invalid(message) => ConfigError::Invalid(with_origin(message, file)),
            other => other,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let paths = [
            ("login_check.path", &self.login_check.path),
            ("apikey.path", &self.apikey.path),
            ("accesskey.path", &self.accesskey.path),
        ];
        for (key, path) in paths {
            if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
                return Err(ConfigError::Invalid(format!(
                    "{key}: {path:?} must be a URL path starting with '/'"
                )));
            }
        }
        let lifetimes = [
            ("login_check.token_ttl", self.login_check.token_ttl),
            ("login_check.refresh_ttl", self.login_check.refresh_ttl),
            ("apikey.token_ttl", self.apikey.token_ttl),
            ("accesskey.token_ttl", self.accesskey.token_ttl),
            ("database_timeout", self.database_timeout),
        ];
        for (key, ttl) in lifetimes {
            if ttl.0.is_zero() {
                return Err(ConfigError::Invalid(format!("{key}: must be longer than 0s")));
            }
        }
        let algorithm = self.jwt_algorithm()?;
        if algorithm.is_asymmetric() && (self.jwt.secret.is_some() || self.jwt.secret_file.is_some()) {
            return Err(ConfigError::Invalid(format!(
                "jwt.secret and jwt.secret_file apply to HS384 only; {} keys are generated by Tollgate",
                self.jwt.algorithm
            )));
        }
        if let Some(secret) = &self.jwt.secret
            && secret.expose().len() < 48
        {
            return Err(ConfigError::Invalid("jwt.secret: must be at least 48 bytes (384 bits)".into()));
        }
        if self.jwt.secret.is_some() && self.jwt.secret_file.is_some() {
            return Err(ConfigError::Invalid("jwt.secret and jwt.secret_file: set one, not both".into()));
        }
        self.check_routes()?;
        self.trusted_proxies()?;
        let protection = &self.protection;
        if protection.lockout_threshold == 0 || protection.ip_failures == 0 {
            return Err(ConfigError::Invalid(
                "protection.lockout_threshold and protection.ip_failures: must be at least 1".into(),
            ));
        }
        for (key, duration) in [
            ("protection.lockout_base", protection.lockout_base),
            ("protection.lockout_max", protection.lockout_max),
            ("protection.lockout_window", protection.lockout_window),
            ("protection.ip_window", protection.ip_window),
        ] {
            if duration.0.is_zero() {
                return Err(ConfigError::Invalid(format!("{key}: must be longer than 0s")));
            }
        }
        tollgate_store::Backend::of(&self.database_url)
            .map_err(|err| ConfigError::Invalid(format!("database_url: {err}")))?;
        self.check_admin()?;
        self.check_migration()?;
        self.check_tls()?;
        Ok(())
    }
}

impl Config {
    /// Two contracts on one listener cannot share a path, nor take a path
    /// the server itself serves.
    fn check_routes(&self) -> Result<(), ConfigError> {
        let mounts = [
            ("login_check", self.login_check.enabled, &self.login_check.path, None),
            ("apikey", self.apikey.enabled, &self.apikey.path, self.apikey.listen),
            ("accesskey", self.accesskey.enabled, &self.accesskey.path, self.accesskey.listen),
        ];
        let enabled: Vec<_> = mounts.iter().filter(|m| m.1).collect();
        for (i, (name, _, path, listen)) in enabled.iter().enumerate() {
            let on_main = listen.is_none_or(|addr| addr == self.listen);
            if on_main && tollgate_http::RESERVED_PATHS.contains(&path.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "{name}.path: {path} is already served by Tollgate"
                )));
            }
            for (other, _, other_path, other_listen) in &enabled[i + 1..] {
                let same_listener = listen.unwrap_or(self.listen) == other_listen.unwrap_or(self.listen)
                    && listen.unwrap_or(self.listen).port() != 0;
                let both_main = on_main && other_listen.is_none_or(|addr| addr == self.listen);
                if path == other_path && (same_listener || both_main) {
                    return Err(ConfigError::Invalid(format!(
                        "{name}.path and {other}.path are both {path} on one listener: \
                         give one of them its own `listen` address"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Each listener's certificate files, given in pairs; `None` where it
    /// serves plain HTTP. A contract's pair needs its own `listen`.
    pub fn tls(&self, listener: TlsListener) -> Result<Option<crate::server::tls::TlsFiles>, ConfigError> {
        let (prefix, cert, key) = match listener {
            TlsListener::Main => ("", &self.tls_cert, &self.tls_key),
            TlsListener::ApiKey => ("apikey.", &self.apikey.tls_cert, &self.apikey.tls_key),
            TlsListener::AccessKey => ("accesskey.", &self.accesskey.tls_cert, &self.accesskey.tls_key),
            TlsListener::Admin => ("admin.", &self.admin.tls_cert, &self.admin.tls_key),
        };
        match (cert, key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => {
                Ok(Some(crate::server::tls::TlsFiles { cert: cert.clone(), key: key.clone() }))
            }
            _ => Err(ConfigError::Invalid(format!(
                "{prefix}tls_cert and {prefix}tls_key: set both, or neither"
            ))),
        }
    }

    fn check_tls(&self) -> Result<(), ConfigError> {
        for listener in [TlsListener::Main, TlsListener::ApiKey, TlsListener::AccessKey, TlsListener::Admin] {
            self.tls(listener)?;
        }
        for (name, own_listen, cert) in [
            ("apikey", self.apikey.listen, &self.apikey.tls_cert),
            ("accesskey", self.accesskey.listen, &self.accesskey.tls_cert),
        ] {
            let on_main = own_listen.is_none_or(|addr| addr == self.listen && addr.port() != 0);
            if cert.is_some() && on_main {
                return Err(ConfigError::Invalid(format!(
                    "{name}.tls_cert: {name} is served on the main listener; give it its own {name}.listen, \
                     or set tls_cert and tls_key at the top level"
                )));
            }
        }
        Ok(())
    }

    /// Upstreams are http(s) URLs, and a forwarded login has time to finish.
    fn check_migration(&self) -> Result<(), ConfigError> {
        let migration = &self.migration;
        if migration.timeout.0.is_zero() {
            return Err(ConfigError::Invalid("migration.timeout: must be longer than 0s".into()));
        }
        for (key, upstream) in [
            ("migration.login_check.upstream", &migration.login_check.upstream),
            ("migration.apikey.upstream", &migration.apikey.upstream),
            ("migration.accesskey.upstream", &migration.accesskey.upstream),
        ] {
            let Some(url) = upstream else { continue };
            let parsed = url.parse::<axum::http::Uri>().ok();
            let usable = parsed.as_ref().is_some_and(|uri| {
                matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
            });
            if !usable {
                return Err(ConfigError::Invalid(format!(
                    "{key}: {url:?} is not an http:// or https:// URL"
                )));
            }
        }
        Ok(())
    }

    /// Where lazy migration forwards unknown logins.
    pub fn upstream_settings(&self) -> tollgate_http::migration::UpstreamSettings {
        let migration = &self.migration;
        tollgate_http::migration::UpstreamSettings {
            login_check: migration.login_check.upstream.clone(),
            apikey: migration.apikey.upstream.clone(),
            accesskey: migration.accesskey.upstream.clone(),
            accesskey_jwt_secret: migration
                .accesskey
                .jwt_secret
                .as_ref()
                .map(|s| s.expose().as_bytes().to_vec()),
            timeout: migration.timeout.0,
        }
    }

    /// The admin listener is an address of its own, and its role a name.
    fn check_admin(&self) -> Result<(), ConfigError> {
        let admin = &self.admin;
        if admin.role.is_empty() || admin.role.contains(',') || admin.role.chars().any(char::is_control) {
            return Err(ConfigError::Invalid("admin.role: a non-empty role name without commas".into()));
        }
        for (key, duration) in [
            ("admin.audit_retention", admin.audit_retention),
            ("admin.session_idle", admin.session_idle),
            ("admin.session_max", admin.session_max),
        ] {
            if duration.0.is_zero() {
                return Err(ConfigError::Invalid(format!("{key}: must be longer than 0s")));
            }
        }
        if admin.session_idle.0 > admin.session_max.0 {
            return Err(ConfigError::Invalid(format!(
                "admin.session_idle: {} is longer than admin.session_max ({}), which would never let it end a session",
                admin.session_idle, admin.session_max
            )));
        }
        let public = [Some(self.listen), self.apikey.listen, self.accesskey.listen];
        if admin.enabled && admin.listen.port() != 0 && public.contains(&Some(admin.listen)) {
            return Err(ConfigError::Invalid(format!(
                "admin.listen: {} is also a public listener; the admin plane needs an address of its own",
                admin.listen
            )));
        }
        Ok(())
    }

    /// `protection.trusted_proxies` as networks.
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.protection
            .trusted_proxies
            .iter()
            .map(|text| {
                // A bare address is a network of one.
                text.parse::<ipnet::IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "protection.trusted_proxies: {text:?} is not an address or CIDR network (like 10.0.0.0/8)"
                        ))
                    })
            })
            .collect()
    }

    /// What `[protection]` asks of the login service.
    pub fn protection_policy(&self) -> tollgate_core::protection::ProtectionPolicy {
        let p = &self.protection;
        tollgate_core::protection::ProtectionPolicy {
            enabled: p.enabled,
            lockout: tollgate_core::protection::LockoutPolicy {
                threshold: p.lockout_threshold,
                base: p.lockout_base.0,
                max: p.lockout_max.0,
                window: p.lockout_window.0,
            },
            ip_failures: p.ip_failures,
            ip_window: p.ip_window.0,
        }
    }

    /// The master key, if `secrets.master_key_file` names one.
    pub fn master_key(&self) -> Result<Option<tollgate_core::master_key::MasterKey>, ConfigError> {
        self.secrets
            .master_key_file
            .as_deref()
            .map(tollgate_core::master_key::MasterKey::load)
            .transpose()
            .map_err(|err| ConfigError::Invalid(format!("secrets.master_key_file: {err}")))
    }

    /// The configured JWT algorithm.
    pub fn jwt_algorithm(&self) -> Result<SigningAlgorithm, ConfigError> {
        SigningAlgorithm::parse(&self.jwt.algorithm).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "jwt.algorithm: {:?} is not supported (supported: {})",
                self.jwt.algorithm,
                SigningAlgorithm::NAMES
            ))
        })
    }

    /// The configured HMAC key for JWTs (`jwt.secret` or `jwt.secret_file`),
    /// at least 48 bytes; `None` to use the one kept in the database.
    pub fn jwt_secret(&self) -> Result<Option<JwtSecret>, ConfigError> {
        let secret = match (&self.jwt.secret, &self.jwt.secret_file) {
            (Some(secret), _) => secret.expose().as_bytes().to_vec(),
            (None, Some(path)) => {
                tollgate_core::master_key::check_private_file(path)
                    .map_err(|err| ConfigError::Invalid(format!("jwt.secret_file: {err}")))?;
                let mut bytes = std::fs::read(path).map_err(|err| {
                    ConfigError::Invalid(format!("jwt.secret_file: cannot read {}: {err}", path.display()))
                })?;
                // A trailing line ending is an artefact of editors, not key material.
                while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    bytes.pop();
                }
                if bytes.len() < 48 {
                    return Err(ConfigError::Invalid(
                        "jwt.secret_file: the key must be at least 48 bytes (384 bits)".into(),
                    ));
                }
                bytes
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(JwtSecret::new(secret)))
    }
}

/// One line per problem, naming the key as written in the file and, for a
/// value from the environment, the variable.
fn describe(err: figment::Error) -> String {
    err.into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            let from_env = e.metadata.as_ref().is_some_and(|m| m.name.contains("environment"));
            let source = if from_env {
                format!(" (from {})", env_var(&key))
            } else {
                e.metadata
                    .as_ref()
                    .and_then(|m| m.source.as_ref())
                    .map(|s| format!(" (in {s})"))
                    .unwrap_or_default()
            };
            if key.is_empty() { format!("{}{source}", e.kind) } else { format!("{key}: {}{source}", e.kind) }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_derived_from_the_defaults_with_its_kind() {
        let keys = keys();
        let find = |path: &str| keys.iter().find(|key| key.path == path).cloned();
        assert_eq!(find("listen"), Some(Key { path: "listen".into(), text: true }));
        assert_eq!(find("jwt.secret"), Some(Key { path: "jwt.secret".into(), text: true }));
        assert_eq!(find("apikey.listen"), Some(Key { path: "apikey.listen".into(), text: true }));
        assert_eq!(find("apikey.enabled"), Some(Key { path: "apikey.enabled".into(), text: false }));
        assert_eq!(find("login_check.token_ttl").map(|key| key.text), Some(true));
        assert!(find("apikey.contract").is_none());
        assert_eq!(find("secrets.master_key_file").map(|key| key.text), Some(true));
        assert_eq!(find("protection.trusted_proxies").map(|key| key.text), Some(false));
        assert_eq!(find("admin.role").map(|key| key.text), Some(true));
        assert_eq!(find("migration.accesskey.jwt_secret").map(|key| key.text), Some(true));
        assert_eq!(find("log.format").map(|key| key.text), Some(true));
        assert_eq!(keys.len(), 52, "{keys:?}");
        assert_eq!(find("admin.session_idle").map(|key| key.text), Some(true));
    }

    #[test]
    fn durations_print_in_their_largest_whole_unit() {
        for (seconds, text) in
            [(86_400 * 30, "30d"), (86_400, "24h"), (7200, "2h"), (90, "90s"), (900, "15m"), (0, "0s")]
        {
            assert_eq!(Seconds(Duration::from_secs(seconds)).to_string(), text);
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(seconds)));
        }
    }

    #[test]
    fn a_secret_never_prints() {
        let config = Config {
            jwt: JwtConfig { secret: Some(SecretText::new("s".repeat(48))), ..JwtConfig::default() },
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains(&"s".repeat(48)));
        assert!(!serde_json::to_string(&config).expect("json").contains(&"s".repeat(48)));
    }

    #[test]
    fn durations_take_units_or_plain_seconds() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(2_592_000)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("7w").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
