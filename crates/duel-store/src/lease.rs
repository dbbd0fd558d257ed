//! Reviewing a run as a team: the run's pairs are offered once, and each reviewer is
//! leased one that its votes and others' leases have not filled. The leases of one
//! run are granted one at a time (a lock on the run for the length of the granting
//! transaction, a few milliseconds), so what a grant reads is what the one before it
//! committed: two reviewers asking at the same moment never get the same pair. A
//! lease ends with its reviewer's vote (in the vote's own commit), a skip, a quit, or
//! when it runs out (a reviewer who vanished).

use duel_core::store::{Leases, StoreError, TeamProgress};

use crate::postgres::Postgres;

/// With the config's `[review] per_item` and `lease_secs`.
impl Leases for Postgres {
    /// Pairs already offered keep their place.
    fn offer(&self, run: &str, pairs: &[String]) -> Result<(), StoreError> {
        let positions: Vec<i32> = (0..pairs.len())
            .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
            .collect();
        self.block(async {
            let client = self.client().await?;
            client
                .execute(
                    "INSERT INTO duel_pairs (run, pair, position)
                     SELECT $1, p, n FROM unnest($2::text[], $3::int[]) AS t (p, n)
                     ON CONFLICT (run, pair) DO NOTHING",
                    &[&run, &pairs, &positions],
                )
                .await?;
            Ok(())
        })
    }

    fn lease(
        &self,
        run: &str,
        judge: &str,
        passed: &[String],
    ) -> Result<Option<String>, StoreError> {
        let review = self.review();
        self.grant(run, judge, review.per_item, review.lease_secs, passed)
    }

    /// Gives a pair back (a skip, a quit) for others to take at once.
    fn release(&self, run: &str, pair: &str, judge: &str) -> Result<(), StoreError> {
        self.block(async {
            let client = self.client().await?;
            client
                .execute(
                    "DELETE FROM duel_leases WHERE run = $1 AND pair = $2 AND judge = $3",
                    &[&run, &pair, &judge],
                )
                .await?;
            Ok(())
        })
    }

    fn team(&self, run: &str, judge: &str) -> Result<TeamProgress, StoreError> {
        let per_item = i64::from(self.review().per_item);
        self.block(async {
            let client = self.client().await?;
            let others = client
                .query(
                    "SELECT DISTINCT judge FROM duel_leases
                     WHERE run = $1 AND judge <> $2 AND until > now() ORDER BY judge",
                    &[&run, &judge],
                )
                .await?
                .iter()
                .map(|row| row.get::<_, String>(0))
                .collect();
            let row = client
                .query_one(
                    "SELECT count(*),
                            coalesce(sum(greatest(0, $2 - (SELECT count(DISTINCT v.judge) FROM duel_votes v
                                                           WHERE v.run = p.run AND v.pair = p.pair))), 0)::bigint
                     FROM duel_pairs p WHERE p.run = $1",
                    &[&run, &per_item],
                )
                .await?;
            Ok(TeamProgress {
                others,
                pairs: row.get(0),
                left: row.get(1),
            })
        })
    }
}

impl Postgres {
    /// The next pair of `run` for `judge`, held for `lease_secs`: the one the judge
    /// already holds (after a restart), else the first pair the judge has not voted
    /// on whose votes and other reviewers' leases are under `per_item`, leaving out
    /// `passed`. `None`: no pair is free for this judge now.
    pub fn grant(
        &self,
        run: &str,
        judge: &str,
        per_item: u32,
        lease_secs: u32,
        passed: &[String],
    ) -> Result<Option<String>, StoreError> {
        let per_item = i64::from(per_item);
        let secs = f64::from(lease_secs);
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                &[&run],
            )
            .await?;
            let held = tx
                .query_opt(
                    "UPDATE duel_leases SET until = now() + make_interval(secs => $3)
                     WHERE run = $1 AND judge = $2 AND until > now() AND NOT (pair = ANY($4))
                     RETURNING pair",
                    &[&run, &judge, &secs, &passed],
                )
                .await?;
            let pair = match held {
                Some(row) => Some(row.get::<_, String>(0)),
                None => tx
                    .query_opt(
                        "SELECT p.pair FROM duel_pairs p
                         WHERE p.run = $1
                           AND NOT (p.pair = ANY($4))
                           AND NOT EXISTS (SELECT 1 FROM duel_votes v
                                           WHERE v.run = p.run AND v.pair = p.pair AND v.judge = $2)
                           AND (SELECT count(DISTINCT v.judge) FROM duel_votes v
                                WHERE v.run = p.run AND v.pair = p.pair)
                             + (SELECT count(*) FROM duel_leases l
                                WHERE l.run = p.run AND l.pair = p.pair AND l.until > now()) < $3
                         ORDER BY p.position
                         LIMIT 1",
                        &[&run, &judge, &per_item, &passed],
                    )
                    .await?
                    .map(|row| row.get::<_, String>(0)),
            };
            if let Some(pair) = &pair {
                tx.execute(
                    "INSERT INTO duel_leases (run, pair, judge, until)
                     VALUES ($1, $2, $3, now() + make_interval(secs => $4))
                     ON CONFLICT (run, pair, judge) DO UPDATE SET until = excluded.until",
                    &[&run, pair, &judge, &secs],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(pair)
        })
    }
}
