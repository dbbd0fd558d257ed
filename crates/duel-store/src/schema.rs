//! The store's schema, as numbered migrations: `duel store init` applies the ones a
//! store lacks, each in the transaction that records it, so running it again changes
//! nothing; a store whose schema is newer than this duel knows is refused.

use duel_core::store::StoreError;
use tokio_postgres::GenericClient;

/// The migrations, oldest first; the schema's version is how many were applied.
const MIGRATIONS: &[&str] = &[
    // 1: what the data dir's files hold.
    r"
    CREATE TABLE duel_votes (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        id uuid PRIMARY KEY,
        demo boolean NOT NULL,
        judge text NOT NULL,
        run text,
        item text,
        pair text,
        time text NOT NULL,
        record text NOT NULL
    );
    CREATE UNIQUE INDEX duel_votes_seq ON duel_votes (seq);
    CREATE INDEX duel_votes_pair ON duel_votes (run, pair, judge) WHERE run IS NOT NULL;
    CREATE TABLE duel_conversations (
        id uuid PRIMARY KEY,
        updated text NOT NULL,
        record text NOT NULL
    );
    CREATE TABLE duel_runs (
        id text PRIMARY KEY,
        created text NOT NULL,
        info text NOT NULL,
        suite bytea NOT NULL
    );
    CREATE TABLE duel_answers (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        run text NOT NULL REFERENCES duel_runs (id),
        digest text NOT NULL,
        record text NOT NULL,
        PRIMARY KEY (run, digest)
    );
    CREATE INDEX duel_answers_order ON duel_answers (run, seq);
    CREATE TABLE duel_checks (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        run text NOT NULL REFERENCES duel_runs (id),
        digest text NOT NULL,
        record text NOT NULL,
        PRIMARY KEY (run, digest)
    );
    CREATE INDEX duel_checks_order ON duel_checks (run, seq);
    ",
    // 2: reviewing a run as a team: its pairs, and who holds which until when.
    r"
    CREATE TABLE duel_pairs (
        run text NOT NULL,
        pair text NOT NULL,
        position integer NOT NULL,
        PRIMARY KEY (run, pair)
    );
    CREATE INDEX duel_pairs_order ON duel_pairs (run, position);
    CREATE TABLE duel_leases (
        run text NOT NULL,
        pair text NOT NULL,
        judge text NOT NULL,
        until timestamptz NOT NULL,
        PRIMARY KEY (run, pair, judge)
    );
    ",
];

/// The schema version this duel writes and reads.
pub const VERSION: i32 = MIGRATIONS.len() as i32;

/// A lock only `duel store init` takes, so two inits at once apply each migration once.
const INIT_LOCK: i64 = 0x6475_656c_0001;

const VERSIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS duel_schema (
    version integer PRIMARY KEY,
    applied timestamptz NOT NULL DEFAULT now()
)";

/// The store's schema version; 0 for a database duel never initialised.
pub(crate) async fn version(client: &impl GenericClient) -> Result<i32, tokio_postgres::Error> {
    let exists = client
        .query_one("SELECT to_regclass('duel_schema') IS NOT NULL", &[])
        .await?
        .get::<_, bool>(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one("SELECT coalesce(max(version), 0) FROM duel_schema", &[])
        .await?;
    Ok(row.get(0))
}

/// Whether a store at `found` can be used by this duel; the error says what to do.
pub(crate) fn usable(found: i32, shown: &str) -> Result<(), StoreError> {
    match found {
        0 => Err(StoreError::Refused(format!(
            "{shown} has no duel schema yet: run `duel store init`"
        ))),
        v if v < VERSION => Err(StoreError::Refused(format!(
            "{shown} has schema version {v}; this duel needs {VERSION}: run `duel store init` to upgrade it"
        ))),
        v if v > VERSION => Err(newer(v, shown)),
        _ => Ok(()),
    }
}

fn newer(found: i32, shown: &str) -> StoreError {
    StoreError::Refused(format!(
        "{shown} has schema version {found}, newer than this duel knows ({VERSION}): \
         upgrade duel; nothing was changed"
    ))
}

/// Applies the migrations after `from` up to `to` (at most [`VERSION`]); returns
/// the version before and after.
pub(crate) async fn migrate(
    client: &mut tokio_postgres::Client,
    to: i32,
    shown: &str,
) -> Result<(i32, i32), crate::postgres::Failure> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&INIT_LOCK])
        .await?;
    tx.batch_execute(VERSIONS_TABLE).await?;
    let before = version(&tx).await?;
    if before > VERSION {
        return Err(newer(before, shown).into());
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(to as usize)
        .skip(before as usize)
    {
        tx.batch_execute(sql).await?;
        let number = index as i32 + 1;
        tx.execute("INSERT INTO duel_schema (version) VALUES ($1)", &[&number])
            .await?;
    }
    let after = version(&tx).await?;
    tx.commit().await?;
    Ok((before, after))
}
