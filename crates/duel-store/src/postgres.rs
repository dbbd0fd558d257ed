//! [`Store`] on PostgreSQL: every record kept as its JSON line, with the columns the
//! queries select on beside it; writes are one statement per batch (arrays unnested
//! by the server), reads one streaming query.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use duel_core::config::ReviewConfig;
use duel_core::conversation::ConversationFile;
use duel_core::eval::check::record::CheckRecord;
use duel_core::eval::pairs::PairKey;
use duel_core::eval::run::{AnswerRecord, Run, RunInfo};
use duel_core::store::{Leases, Store, StoreError};
use duel_core::votes::VoteRecord;
use duel_core::votes::log::{Merged, Skipped};
use futures_util::{TryStreamExt, pin_mut};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Digest;

use crate::connect::Target;
use crate::schema;

/// Rows per statement when many are written at once: one round trip for each.
const CHUNK: usize = 5_000;
/// How long to wait for the server to answer a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A store on a PostgreSQL server.
pub struct Postgres {
    target: Target,
    /// Where its connections run; `None` only while it is dropped.
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// The schema was found usable on this server (checked once, at first use).
    checked: OnceLock<()>,
    /// How its reviewers share a run's pairs.
    review: ReviewConfig,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("url", &self.target.shown())
            .finish_non_exhaustive()
    }
}

/// What went wrong inside a call, before it is told as a [`StoreError`].
pub(crate) enum Failure {
    Postgres(tokio_postgres::Error),
    Pool(deadpool_postgres::PoolError),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Postgres(e)
    }
}

impl From<deadpool_postgres::PoolError> for Failure {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Failure::Pool(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl Failure {
    /// The server said no (a database error) or could not be reached (anything on the
    /// way to it); the words never carry the password, which no message here knows.
    fn told(self, shown: &str) -> StoreError {
        let postgres = |e: tokio_postgres::Error| match e.as_db_error() {
            Some(db) => StoreError::Refused(format!("{shown}: {}", db.message())),
            None => StoreError::Unreachable(format!("{shown}: {}", chain(&e))),
        };
        match self {
            Failure::Postgres(e) => postgres(e),
            Failure::Pool(deadpool_postgres::PoolError::Backend(e)) => postgres(e),
            Failure::Pool(e) => StoreError::Unreachable(format!("{shown}: {}", chain(&e))),
            Failure::Store(e) => e,
        }
    }
}

/// What `duel store push` sent and what of it was new to the store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub votes: [usize; 2],
    pub conversations: [usize; 2],
    pub runs: [usize; 2],
    pub answers: [usize; 2],
    pub checks: [usize; 2],
}

/// How much a store holds (`duel store status`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub votes: i64,
    pub demo_votes: i64,
    pub conversations: i64,
    pub runs: i64,
    pub answers: i64,
    pub checks: i64,
    /// Pairs some reviewer holds right now.
    pub leases: i64,
}

impl Postgres {
    /// A store at `target`; nothing is sent until the first call.
    pub fn new(mut target: Target) -> Result<Self, StoreError> {
        target.config.connect_timeout(CONNECT_TIMEOUT);
        target.config.application_name("duel");
        let tls = target.tls()?;
        let manager = Manager::from_config(
            target.config.clone(),
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(4)
            .build()
            .map_err(|e| StoreError::Refused(format!("{}: {e}", target.shown())))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("duel-store")
            .enable_all()
            .build()?;
        Ok(Self {
            target,
            runtime: Some(runtime),
            pool,
            checked: OnceLock::new(),
            review: ReviewConfig::default(),
        })
    }

    /// The store, its leases as `[review]` says.
    pub fn with_review(mut self, review: ReviewConfig) -> Self {
        self.review = review;
        self
    }

    pub(crate) fn review(&self) -> ReviewConfig {
        self.review
    }

    /// The store's URL without secrets.
    pub fn shown(&self) -> String {
        self.target.shown()
    }

    /// Whether a password was found (in the environment or `~/.pgpass`).
    pub fn has_password(&self) -> bool {
        self.target.has_password()
    }

    /// Runs `work` on the store's runtime and waits for it; called from an async
    /// command too (a batch, a judging), whose thread it takes out of its runtime
    /// while it waits.
    pub(crate) fn block<T: Send>(
        &self,
        work: impl Future<Output = Result<T, Failure>> + Send,
    ) -> Result<T, StoreError> {
        use tokio::runtime::{Handle, RuntimeFlavor};
        let Some(runtime) = &self.runtime else {
            return Err(StoreError::Unreachable(format!("{}: closed", self.shown())));
        };
        let wait = || runtime.block_on(work);
        let done = match Handle::try_current().map(|h| h.runtime_flavor()) {
            Err(_) => wait(),
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            // A single-threaded runtime's one thread cannot be lent: wait on another.
            Ok(_) => std::thread::scope(|scope| scope.spawn(wait).join()).unwrap_or_else(|_| {
                Err(Failure::Store(StoreError::Refused(
                    "the store's call panicked".into(),
                )))
            }),
        };
        done.map_err(|f| f.told(&self.shown()))
    }

    /// A connection of the pool, whatever its schema.
    #[cfg(feature = "test-support")]
    pub(crate) async fn pool_client(&self) -> Result<Object, Failure> {
        Ok(self.pool.get().await?)
    }

    /// A connection of the pool, once the schema is known to be this duel's.
    pub(crate) async fn client(&self) -> Result<Object, Failure> {
        let client = self.pool.get().await?;
        if self.checked.get().is_none() {
            let version = schema::version(&**client).await?;
            schema::usable(version, &self.shown())?;
            let _ = self.checked.set(());
        }
        Ok(client)
    }

    /// `duel store init`: applies the migrations this store lacks; returns the
    /// version before and after.
    pub fn init(&self) -> Result<(i32, i32), StoreError> {
        self.migrate_to(schema::VERSION)
    }

    /// Applies the migrations up to `version` only: for testing an upgrade from an
    /// earlier schema.
    pub fn migrate_to(&self, version: i32) -> Result<(i32, i32), StoreError> {
        self.block(async {
            let mut client = self.pool.get().await?;
            schema::migrate(&mut client, version, &self.shown()).await
        })
    }

    /// The schema version (0 before `duel store init`).
    pub fn version(&self) -> Result<i32, StoreError> {
        self.block(async {
            let client = self.pool.get().await?;
            Ok(schema::version(&**client).await?)
        })
    }

    /// What the store holds.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        self.block(async {
            let client = self.client().await?;
            let row = client
                .query_one(
                    "SELECT (SELECT count(*) FROM duel_votes WHERE NOT demo),
                            (SELECT count(*) FROM duel_votes WHERE demo),
                            (SELECT count(*) FROM duel_conversations),
                            (SELECT count(*) FROM duel_runs),
                            (SELECT count(*) FROM duel_answers),
                            (SELECT count(*) FROM duel_checks),
                            (SELECT count(*) FROM duel_leases WHERE until > now())",
                    &[],
                )
                .await?;
            Ok(Counts {
                votes: row.get(0),
                demo_votes: row.get(1),
                conversations: row.get(2),
                runs: row.get(3),
                answers: row.get(4),
                checks: row.get(5),
                leases: row.get(6),
            })
        })
    }

    /// `duel store push`: the data dir's votes (and the demo's), conversations and
    /// runs with their answers and checks, each by id: what the store has is left.
    pub fn push(&self, data_dir: &Path) -> Result<Pushed, StoreError> {
        use duel_core::votes::log;
        let mut pushed = Pushed::default();
        for demo in [false, true] {
            let path = data_dir.join(log::file_name(demo));
            let (records, _) = log::read(&path)?;
            pushed.votes[0] += records.len();
            pushed.votes[1] += self.insert_votes(&records)?;
        }
        let (conversations, _) = duel_core::conversation::list(data_dir)?;
        for conversation in &conversations {
            pushed.conversations[0] += 1;
            pushed.conversations[1] += self.upsert_conversation(conversation)?;
        }
        for run in Run::list(data_dir)? {
            let suite = run.suite_copy().unwrap_or_default();
            pushed.runs[0] += 1;
            pushed.runs[1] += self.insert_run(&run.info, &suite)?;
            let (answers, _) = run.answers()?;
            pushed.answers[0] += answers.len();
            pushed.answers[1] += self.insert_lines("duel_answers", &run.info.id, &answers)?;
            let (checks, _) = run.checks()?;
            pushed.checks[0] += checks.len();
            pushed.checks[1] += self.insert_lines("duel_checks", &run.info.id, &checks)?;
        }
        Ok(pushed)
    }

    /// Adds the votes not there yet, in batches of [`CHUNK`] a statement, and ends the
    /// leases they answer; returns how many were new.
    fn insert_votes(&self, records: &[VoteRecord]) -> Result<usize, StoreError> {
        let mut added = 0;
        for chunk in records.chunks(CHUNK) {
            let mut ids = Vec::with_capacity(chunk.len());
            let mut demo = Vec::with_capacity(chunk.len());
            let mut judge = Vec::with_capacity(chunk.len());
            let mut run = Vec::with_capacity(chunk.len());
            let mut item = Vec::with_capacity(chunk.len());
            let mut pair = Vec::with_capacity(chunk.len());
            let mut time = Vec::with_capacity(chunk.len());
            let mut line = Vec::with_capacity(chunk.len());
            for record in chunk {
                ids.push(record.id);
                demo.push(record.is_demo());
                judge.push(record.judge.clone());
                run.push(record.run.clone());
                item.push(record.item.clone());
                pair.push(PairKey::of(record).map(|key| key.within_run()));
                time.push(record.time.clone());
                line.push(serde_json::to_string(record).map_err(std::io::Error::other)?);
            }
            added += self.block(async {
                let mut client = self.client().await?;
                let tx = client.transaction().await?;
                let added = tx
                    .execute(
                        "INSERT INTO duel_votes (id, demo, judge, run, item, pair, time, record)
                         SELECT * FROM unnest($1::uuid[], $2::bool[], $3::text[], $4::text[],
                                              $5::text[], $6::text[], $7::text[], $8::text[])
                         ON CONFLICT (id) DO NOTHING",
                        &[&ids, &demo, &judge, &run, &item, &pair, &time, &line],
                    )
                    .await?;
                // A vote ends its reviewer's lease on the pair, in the same commit.
                tx.execute(
                    "DELETE FROM duel_leases l
                     USING unnest($1::text[], $2::text[], $3::text[]) AS v (run, pair, judge)
                     WHERE l.run = v.run AND l.pair = v.pair AND l.judge = v.judge",
                    &[&run, &pair, &judge],
                )
                .await?;
                tx.commit().await?;
                Ok(count(added))
            })?;
        }
        Ok(added)
    }

    fn upsert_conversation(&self, conversation: &ConversationFile) -> Result<usize, StoreError> {
        let line = serde_json::to_string(conversation).map_err(std::io::Error::other)?;
        self.block(async {
            let client = self.client().await?;
            Ok(client
                .execute(
                    "INSERT INTO duel_conversations (id, updated, record) VALUES ($1, $2, $3)
                     ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, record = excluded.record
                     WHERE duel_conversations.record <> excluded.record
                       AND duel_conversations.updated <= excluded.updated",
                    &[&conversation.id, &conversation.updated, &line],
                )
                .await
                .map(count)?)
        })
    }

    fn insert_run(&self, info: &RunInfo, suite: &[u8]) -> Result<usize, StoreError> {
        let line = serde_json::to_string(info).map_err(std::io::Error::other)?;
        self.block(async {
            let client = self.client().await?;
            Ok(client
                .execute(
                    "INSERT INTO duel_runs (id, created, info, suite) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (id) DO NOTHING",
                    &[&info.id, &info.created, &line, &suite],
                )
                .await
                .map(count)?)
        })
    }

    /// Adds a run's answers or checks not there yet (by the sha256 of the line), a
    /// batch per statement; returns how many were new.
    fn insert_lines<T: Serialize>(
        &self,
        table: &'static str,
        run: &str,
        records: &[T],
    ) -> Result<usize, StoreError> {
        let sql = format!(
            "INSERT INTO {table} (run, digest, record)
             SELECT $1, d, r FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t (d, r, n)
             ORDER BY n
             ON CONFLICT (run, digest) DO NOTHING"
        );
        let mut added = 0;
        for chunk in records.chunks(CHUNK) {
            let mut digests = Vec::with_capacity(chunk.len());
            let mut lines = Vec::with_capacity(chunk.len());
            for record in chunk {
                let line = serde_json::to_string(record).map_err(std::io::Error::other)?;
                digests.push(hex(&sha2::Sha256::digest(line.as_bytes())));
                lines.push(line);
            }
            added += self.block(async {
                let client = self.client().await?;
                let added = client.execute(&sql, &[&run, &digests, &lines]).await?;
                Ok(count(added))
            })?;
        }
        Ok(added)
    }

    /// Every line of `sql`'s one text column, read as it streams in; a line that does
    /// not read is skipped (and said) as in a file.
    fn read_lines<T: DeserializeOwned + Send>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<(Vec<T>, Vec<Skipped>), StoreError> {
        self.block(async {
            let client = self.client().await?;
            let rows = client.query_raw(sql, params.iter().copied()).await?;
            pin_mut!(rows);
            let mut records = Vec::new();
            let mut skipped = Vec::new();
            let mut line = 0;
            while let Some(row) = rows.try_next().await? {
                line += 1;
                let text: &str = row.try_get(0)?;
                match serde_json::from_str(text) {
                    Ok(record) => records.push(record),
                    Err(e) => skipped.push(Skipped {
                        line,
                        reason: e.to_string(),
                    }),
                }
            }
            Ok((records, skipped))
        })
    }
}

impl Drop for Postgres {
    /// A store may be let go inside an async command, where a runtime must not wait
    /// for its tasks: its connections are left to end on their own.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Store for Postgres {
    fn describe(&self) -> String {
        self.shown()
    }

    fn append_votes(&self, records: &[VoteRecord]) -> Result<(), StoreError> {
        self.insert_votes(records).map(|_| ())
    }

    fn votes(&self, demo: bool) -> Result<Merged, StoreError> {
        let (records, skipped) = self.read_lines(
            "SELECT record FROM duel_votes WHERE demo = $1 ORDER BY seq",
            &[&demo],
        )?;
        let at = PathBuf::from(self.shown());
        Ok(Merged {
            records,
            skipped: skipped.into_iter().map(|s| (at.clone(), s)).collect(),
            duplicates: 0,
        })
    }

    fn votes_on_run(&self, run: &str) -> Result<Vec<VoteRecord>, StoreError> {
        Ok(self
            .read_lines(
                "SELECT record FROM duel_votes WHERE run = $1 AND NOT demo ORDER BY seq",
                &[&run],
            )?
            .0)
    }

    fn save_run(&self, info: &RunInfo, suite: &[u8]) -> Result<(), StoreError> {
        self.insert_run(info, suite).map(|_| ())
    }

    fn runs(&self) -> Result<Vec<RunInfo>, StoreError> {
        Ok(self
            .read_lines("SELECT info FROM duel_runs ORDER BY created, id", &[])?
            .0)
    }

    fn run(&self, id: &str) -> Result<Option<(RunInfo, Vec<u8>)>, StoreError> {
        let found = self.block(async {
            let client = self.client().await?;
            let row = client
                .query_opt("SELECT info, suite FROM duel_runs WHERE id = $1", &[&id])
                .await?;
            Ok(row.map(|row| (row.get::<_, String>(0), row.get::<_, Vec<u8>>(1))))
        })?;
        match found {
            None => Ok(None),
            Some((info, suite)) => {
                let info = serde_json::from_str(&info).map_err(std::io::Error::other)?;
                Ok(Some((info, suite)))
            }
        }
    }

    fn append_answers(&self, run: &str, answers: &[AnswerRecord]) -> Result<(), StoreError> {
        self.insert_lines("duel_answers", run, answers).map(|_| ())
    }

    fn answers(&self, run: &str) -> Result<Vec<AnswerRecord>, StoreError> {
        Ok(self
            .read_lines(
                "SELECT record FROM duel_answers WHERE run = $1 ORDER BY seq",
                &[&run],
            )?
            .0)
    }

    fn append_checks(&self, run: &str, checks: &[CheckRecord]) -> Result<(), StoreError> {
        self.insert_lines("duel_checks", run, checks).map(|_| ())
    }

    fn checks(&self, run: &str) -> Result<Vec<CheckRecord>, StoreError> {
        Ok(self
            .read_lines(
                "SELECT record FROM duel_checks WHERE run = $1 ORDER BY seq",
                &[&run],
            )?
            .0)
    }

    fn leases(&self) -> Option<&dyn Leases> {
        Some(self)
    }
}

/// An error and its causes, as one line ("error connecting to server: Connection
/// refused (os error 111)").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

/// Rows a statement touched, as a count.
fn count(rows: u64) -> usize {
    usize::try_from(rows).unwrap_or(usize::MAX)
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Of `stored`, the records `here` lacks (the same JSON line is the same record).
fn lacking<T: Serialize>(here: Vec<T>, stored: Vec<T>) -> Vec<T> {
    let have: std::collections::HashSet<String> = here
        .iter()
        .filter_map(|r| serde_json::to_string(r).ok())
        .collect();
    stored
        .into_iter()
        .filter(|r| serde_json::to_string(r).is_ok_and(|line| !have.contains(&line)))
        .collect()
}

/// A run of the store copied into the data dir (its `run.json`, suite, answers and
/// checks), so the commands that read a run's folder read it; a run already there
/// gets the answers and checks it lacks.
pub fn pull_run(store: &dyn Store, data_dir: &Path, id: &str) -> Result<Option<Run>, StoreError> {
    let Some((info, suite)) = store.run(id)? else {
        return Ok(None);
    };
    let run = match Run::open(data_dir, id) {
        Ok(run) => run,
        Err(_) => {
            let run = Run::create(data_dir, info)?;
            run.keep_suite(&suite)?;
            run
        }
    };
    let answers = lacking(run.answers()?.0, store.answers(id)?);
    if !answers.is_empty() {
        run.append_all(&answers)?;
    }
    let checks = lacking(run.checks()?.0, store.checks(id)?);
    if !checks.is_empty() {
        run.append_checks(&checks)?;
    }
    Ok(Some(run))
}
