//! The command line: `serve` and the operator's admin commands. Every admin
//! command works against the same database as a running server, which sees
//! the changes (its caches follow the store's change counter).

mod accesskey;
mod apikey;
mod audit;
pub(crate) mod config_show;
mod import;
mod keys;
mod lockout;
mod output;
mod password_input;
mod principal;
mod secrets;
mod token;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tollgate_store::OpenMode;

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about = "Tollgate: a token service for HTTP APIs")]
pub struct Cli {
    /// TOML configuration file [default: tollgate.toml if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (overrides the file and TOLLGATE_DATABASE_URL)
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Print one JSON object (a list: one array) on stdout
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server
    Serve {
        /// Main listen address (overrides the file and TOLLGATE_LISTEN)
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Also create the example credentials of the three documents
        #[arg(long)]
        demo: bool,
    },
    /// Create or update the database schema, then exit
    Migrate,
    /// Copy principals, credentials, live tokens and keys from one database to another
    MigrateData {
        /// Source database URL (e.g. sqlite://tollgate.db)
        #[arg(long, value_name = "URL")]
        from: String,
        /// Target database URL (e.g. postgres://user@host/db)
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Manage principals (who can log in)
    #[command(subcommand)]
    Principal(principal::PrincipalCommand),
    /// Manage passwords
    #[command(subcommand)]
    Password(principal::PasswordCommand),
    /// Manage API keys (UserLogin/ApiKey contract)
    #[command(subcommand)]
    Apikey(apikey::ApiKeyCommand),
    /// Manage access keys (accessKey/secret contract; OAuth 2.0 clients)
    #[command(subcommand)]
    Accesskey(accesskey::AccessKeyCommand),
    /// Revoke tokens
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Manage JWT signing keys (ES256, EdDSA, RS256)
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage the master key that seals key material at rest
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
    /// See and clear names locked after password guessing
    #[command(subcommand)]
    Lockout(lockout::LockoutCommand),
    /// Read the audit trail
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Copy a SQLite database, consistently, while servers run (PostgreSQL: use pg_dump)
    Backup {
        /// Where the copy goes (a new file; restore by putting it where database_url points)
        path: PathBuf,
    },
    /// Show the effective configuration
    #[command(subcommand)]
    Config(config_show::ConfigCommand),
    /// Import principals, API keys and access keys from JSON Lines (FILE, or - for stdin)
    Import(import::ImportArgs),
}

impl Cli {
    /// The configuration with this command line's overrides applied.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(url) = &self.database {
            tollgate_store::Backend::of(url)?;
            config.database_url = url.clone();
        }
        if let Command::Serve { listen: Some(addr), .. } = &self.command {
            config.listen = *addr;
        }
        Ok(config)
    }

    /// Options that would do nothing are refused, as clap refuses its own
    /// (exit status 2): `serve` prints nothing on stdout.
    pub fn check_usage(&self) -> Result<(), clap::Error> {
        use clap::CommandFactory as _;
        if self.json && matches!(self.command, Command::Serve { .. }) {
            return Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "serve has no --json output (its log goes to stderr; set [log] format = \"json\" for JSON logs)",
            ));
        }
        Ok(())
    }

    pub async fn run(self) -> anyhow::Result<()> {
        let config = self.config()?;
        self.run_with(config).await
    }

    /// Runs the command with `config` (this command line's, as `config()`
    /// gives it).
    pub async fn run_with(self, config: Config) -> anyhow::Result<()> {
        match self.command {
            Command::Config(command) => {
                let flags: &[(&str, &'static str)] =
                    if self.database.is_some() { &[("database_url", "--database")] } else { &[] };
                command.run(&config.settings(self.config.as_deref(), flags), self.json);
                Ok(())
            }
            Command::Backup { path } => {
                let bytes = tollgate_store::backup(&config.database_url, &path).await?;
                let human = format!(
                    "backed up {} to {} ({bytes} bytes, integrity checked)",
                    tollgate_store::redact_url(&config.database_url),
                    path.display()
                );
                output::done(self.json, &human, serde_json::json!({ "backup": path, "bytes": bytes }));
                Ok(())
            }
            Command::Serve { demo, .. } => {
                let running = crate::server::start(&config, demo).await?;
                running.run_until_signal().await;
                Ok(())
            }
            Command::Migrate => {
                crate::server::open_store(&config, OpenMode::Create).await?;
                output::done(self.json, "database is up to date", serde_json::json!({ "migrated": true }));
                Ok(())
            }
            Command::MigrateData { from, to } => {
                tollgate_store::Backend::of(&from)?;
                tollgate_store::Backend::of(&to)?;
                let copied =
                    tollgate_store::migrate_data(&from, &to, &crate::server::store_options(&config)).await?;
                let mut human = format!(
                    "copied {} to {}:",
                    tollgate_store::redact_url(&from),
                    tollgate_store::redact_url(&to)
                );
                let mut counts = serde_json::Map::new();
                for (table, rows) in &copied {
                    human.push_str(&format!("\n  {table}: {rows}"));
                    counts.insert(camel_case(table), serde_json::Value::from(*rows));
                }
                output::done(self.json, &human, serde_json::json!({ "copied": counts }));
                Ok(())
            }
            Command::Principal(command) => {
                command.run(&crate::server::open_admin(&config).await?, self.json).await
            }
            Command::Password(command) => {
                command.run(&crate::server::open_admin(&config).await?, self.json).await
            }
            Command::Apikey(command) => {
                command.run(&crate::server::open_admin(&config).await?, self.json).await
            }
            Command::Accesskey(command) => {
                command.run(&crate::server::open_admin(&config).await?, self.json).await
            }
            Command::Keys(command) => {
                command.run(&crate::server::open_admin(&config).await?, self.json).await
            }
            Command::Token(command) => {
                command.run(&crate::server::open_admin(&config).await?, self.json).await
            }
            Command::Secrets(command) => command.run(&config, self.json).await,
            Command::Lockout(command) => {
                command.run(&crate::server::open_admin(&config).await?, self.json).await
            }
            Command::Audit(command) => {
                command.run(&crate::server::open_admin(&config).await?, self.json).await
            }
            Command::Import(args) => args.run(&crate::server::open_admin(&config).await?, self.json).await,
        }
    }
}

/// `refresh_tokens` → `refreshTokens`: `--json` speaks camelCase, as the wire
/// does, even where it names a table.
fn camel_case(snake: &str) -> String {
    let mut words = snake.split('_');
    let mut camel = words.next().unwrap_or_default().to_owned();
    for word in words {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            camel.extend(first.to_uppercase());
            camel.push_str(chars.as_str());
        }
    }
    camel
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::camel_case;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn table_names_become_camel_case() {
        assert_eq!(camel_case("principals"), "principals");
        assert_eq!(camel_case("refresh_tokens"), "refreshTokens");
        assert_eq!(camel_case("revoked_jwts"), "revokedJwts");
    }
}
