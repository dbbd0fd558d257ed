//! A real PostgreSQL server for tests: the one CI started (`DUEL_TEST_STORE_URL` and
//! `DUEL_TEST_STORE_PASSWORD`, from `.ci/pg-server`), else one this test process
//! starts with the same script, stopped when the process ends. Each test gets a
//! database of its own. Outside CI, a machine without PostgreSQL skips the store
//! tests and says why; under CI they never skip.

// Test support: a test that cannot have its server fails, loudly.
#![allow(clippy::panic)]

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::connect::Target;
use crate::postgres::Postgres;

/// A server the tests may create databases on.
#[derive(Debug)]
pub struct Server {
    /// `postgres://duel@127.0.0.1:PORT/postgres`: no password in it.
    pub url: String,
    /// The password of the `duel` superuser: tests plant it and look for it.
    pub password: String,
    /// The folder of a server this process started; removed by its watchdog.
    dir: Option<tempfile::TempDir>,
}

impl Server {
    /// The URL of database `name` on this server.
    pub fn url_of(&self, name: &str) -> String {
        match self.url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => self.url.clone(),
        }
    }

    /// A new, empty database of its own for one test, and a store on it.
    pub fn fresh(&self, label: &str) -> (String, Postgres) {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "duel_{label}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = self.store(&self.url);
        admin
            .block(async {
                let client = admin.pool_client().await?;
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await?;
                Ok(())
            })
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        let url = self.url_of(&name);
        let store = self.store(&url);
        (url, store)
    }

    /// A store at `url` on this server, with its password.
    pub fn store(&self, url: &str) -> Postgres {
        let mut target = Target::new(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        target.set_password_for_test(&self.password);
        Postgres::new(target).unwrap_or_else(|e| panic!("{url}: {e}"))
    }
}

/// The test server, or `None` (said on stderr) where there is none outside CI.
pub fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(server) => Some(server),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("CI must run the store tests against a real PostgreSQL server: {why}")
        }
        Err(why) => {
            eprintln!("skipping a PostgreSQL store test: {why}");
            None
        }
    }
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/pg-server");

/// A server of one test's own, to stop and start again (a store down mid-vote).
#[derive(Debug)]
pub struct Own {
    pub server: Server,
    cluster: std::path::PathBuf,
}

impl Own {
    /// Stops the server as a crash would.
    pub fn stop(&self) {
        self.script("--stop");
    }

    /// Starts it again, on the same port.
    pub fn start(&self) {
        self.script("--start");
    }

    fn script(&self, what: &str) {
        let status = Command::new(SCRIPT)
            .arg(what)
            .arg(&self.cluster)
            .status()
            .unwrap_or_else(|e| panic!(".ci/pg-server {what}: {e}"));
        assert!(status.success(), ".ci/pg-server {what} failed");
    }
}

/// A new server for this test alone; `None` (said) where none can be started outside CI.
pub fn own() -> Option<Own> {
    match start_own() {
        Ok(server) => {
            let cluster = server
                .dir
                .as_ref()
                .map(|d| d.path().join("cluster"))
                .unwrap_or_default();
            Some(Own { server, cluster })
        }
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("CI must run the store tests against a real PostgreSQL server: {why}")
        }
        Err(why) => {
            eprintln!("skipping a PostgreSQL store test: {why}");
            None
        }
    }
}

fn start() -> Result<Server, String> {
    if let (Ok(url), Ok(password)) = (
        std::env::var("DUEL_TEST_STORE_URL"),
        std::env::var("DUEL_TEST_STORE_PASSWORD"),
    ) {
        return Ok(Server {
            url,
            password,
            dir: None,
        });
    }
    start_own()
}

fn start_own() -> Result<Server, String> {
    let script = SCRIPT;
    let dir = tempfile::Builder::new()
        .prefix("duel-pg-")
        .tempdir()
        .map_err(|e| format!("a folder for a throw-away server: {e}"))?;
    let output = Command::new(script)
        .arg(dir.path().join("cluster"))
        .arg(std::process::id().to_string())
        .output()
        .map_err(|e| format!("running .ci/pg-server: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "no server could be started here (.ci/pg-server: {})",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .map(str::to_owned)
            .ok_or_else(|| format!(".ci/pg-server printed no {key}"))
    };
    Ok(Server {
        url: value("DUEL_TEST_STORE_URL=")?,
        password: value("DUEL_TEST_STORE_PASSWORD=")?,
        dir: Some(dir),
    })
}

impl Postgres {
    /// Runs one statement as it is, whatever the schema: for a test to put a store in
    /// a state no command would.
    pub fn block_for_test(&self, sql: &str) -> Result<(), crate::StoreError> {
        self.block(async {
            let client = self.pool_client().await?;
            client.batch_execute(sql).await?;
            Ok(())
        })
    }
}
