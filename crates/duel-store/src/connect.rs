//! Where the store is and how to reach it: the URL from `[store] url`, the password
//! from `DUEL_STORE_PASSWORD` or `~/.pgpass` (never from the config, never shown),
//! TLS through rustls when the server offers it.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use duel_core::store::StoreError;
use tokio_postgres::config::{Host, SslMode};

/// The environment variable the store's password comes from.
pub const PASSWORD_VAR: &str = "DUEL_STORE_PASSWORD";

/// A store to connect to, with the password resolved and kept out of every message.
#[derive(Clone)]
pub struct Target {
    pub(crate) config: tokio_postgres::Config,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.shown())
            .finish()
    }
}

impl Target {
    /// Reads `url`; the password comes from [`PASSWORD_VAR`], else `~/.pgpass`
    /// (`PGPASSFILE`), as libpq reads it.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
            // tokio-postgres names the part it could not read, never a password.
            StoreError::Refused(format!(
                "store.url is not a PostgreSQL URL duel can read: {e}"
            ))
        })?;
        if config.get_user().is_none()
            && let Some(user) = std::env::var("PGUSER").ok().or_else(login_name)
        {
            config.user(&user);
        }
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_password().is_none()
            && let Some(password) = password_for(&config)
        {
            config.password(password);
        }
        Ok(Self { config })
    }

    /// The URL without any secret in it: user, host, port and database.
    pub fn shown(&self) -> String {
        let user = self.config.get_user().unwrap_or("");
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let db = self.config.get_dbname().unwrap_or(user);
        format!("postgres://{user}@{host}:{port}/{db}")
    }

    /// Sets the password as the environment or `~/.pgpass` would have.
    #[cfg(feature = "test-support")]
    pub fn set_password_for_test(&mut self, password: &str) {
        self.config.password(password.as_bytes());
    }

    pub(crate) fn has_password(&self) -> bool {
        self.config.get_password().is_some()
    }

    /// The TLS connector: rustls with the system's roots; whether TLS is used at all
    /// is the URL's `sslmode` (`prefer` by default, `require`, `disable`).
    pub(crate) fn tls(&self) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
        let mut roots = rustls::RootCertStore::empty();
        if self.config.get_ssl_mode() != SslMode::Disable {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Refused(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }
}

fn login_name() -> Option<String> {
    std::env::var("USER")
        .ok()
        .or_else(|| std::env::var("LOGNAME").ok())
}

/// The password of [`PASSWORD_VAR`], else the first matching line of the pgpass file.
fn password_for(config: &tokio_postgres::Config) -> Option<Vec<u8>> {
    if let Ok(password) = std::env::var(PASSWORD_VAR)
        && !password.is_empty()
    {
        return Some(password.into_bytes());
    }
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pgpass")))?;
    let text = std::fs::read_to_string(&path).ok()?;
    #[cfg(unix)]
    {
        // As libpq: a file others can read is not used.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return None;
        }
    }
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        _ => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    pgpass_lookup(&text, [&host, &port, db, user]).map(String::into_bytes)
}

/// The password of the first `host:port:database:user:password` line matching
/// `wanted` (`*` matches anything; `\:` and `\\` are a colon and a backslash).
pub(crate) fn pgpass_lookup(text: &str, wanted: [&str; 4]) -> Option<String> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .find_map(|line| {
            let fields = split_pgpass(line);
            let [host, port, db, user, password] = fields.as_slice() else {
                return None;
            };
            [host, port, db, user]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field.as_str() == "*" || field.as_str() == want)
                .then(|| password.clone())
        })
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let text = "# team store\n\
                    db.internal:5432:duel:alice:s3cr\\:et\n\
                    *:*:*:bob:hunter2\n";
        assert_eq!(
            pgpass_lookup(text, ["db.internal", "5432", "duel", "alice"]).as_deref(),
            Some("s3cr:et")
        );
        assert_eq!(
            pgpass_lookup(text, ["localhost", "5433", "x", "bob"]).as_deref(),
            Some("hunter2")
        );
        assert_eq!(
            pgpass_lookup(text, ["db.internal", "5432", "duel", "carol"]),
            None
        );
    }

    #[test]
    fn the_shown_url_never_has_the_password() {
        let target = Target::new("postgres://duel@db.internal:6543/team").expect("a URL");
        let mut with_password = target.clone();
        with_password.config.password("planted-secret-7");
        assert_eq!(
            with_password.shown(),
            "postgres://duel@db.internal:6543/team"
        );
        assert!(!format!("{with_password:?}").contains("planted-secret-7"));
    }
}
