//! Leadership among the nodes of one schema: the node whose dedicated connection holds the
//! schema's advisory lock (`pg_try_advisory_lock`, session-level) leads; the others try again
//! every half second. PostgreSQL releases the lock when the connection ends, so when the
//! leader dies (or its connection does) another node takes over. Each new leader writes the
//! next term; a write only the leader may make checks the term in its own transaction, so a
//! leader that lost its lock without knowing yet cannot commit one.

use std::time::Duration;

use itinera_core::store::{Leadership, LeadershipSink};
use tokio_postgres::{Client, Config, NoTls};

use crate::error::PgError;
use crate::sql;

/// How often a follower tries to take the lock, and a leader checks its connection.
const RETRY: Duration = Duration::from_millis(500);

/// The key of the key–value table holding the current leader's term.
pub(crate) const TERM_KEY: &str = "leader:term";

/// Competes for the lock forever (until the store's runtime stops), telling `sink` each time
/// this node starts or stops leading.
pub(crate) async fn campaign_forever(config: Config, sink: LeadershipSink) {
    loop {
        if let Err(error) = lead_while_connected(&config, &sink).await {
            tracing::warn!(%error, "the leadership's connection failed; connecting again");
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// One connection's life: tries for the lock until it has it, leads until the connection
/// fails. A leader that stops leading says so before this returns.
async fn lead_while_connected(config: &Config, sink: &LeadershipSink) -> Result<(), PgError> {
    // Named apart from the pool's connections in `pg_stat_activity`.
    let (client, connection) = config
        .clone()
        .application_name("itinera-leader")
        .connect(NoTls)
        .await?;
    let driver = tokio::spawn(connection);
    let outcome = async {
        loop {
            let locked: bool = client.query_one(sql::TRY_LEAD, &[]).await?.try_get(0)?;
            if locked {
                break;
            }
            tokio::time::sleep(RETRY).await;
        }
        let term: Vec<u8> = client
            .query_one(sql::NEXT_TERM, &[&TERM_KEY])
            .await?
            .try_get(0)?;
        tracing::info!(term = %String::from_utf8_lossy(&term), "this node leads");
        sink(Leadership::Leading {
            term_key: TERM_KEY.to_owned(),
            term,
        });
        let lost = hold(&client).await;
        tracing::warn!(error = %lost, "this node no longer leads: its lock's connection failed");
        sink(Leadership::Following);
        Ok(())
    }
    .await;
    drop(client);
    driver.abort();
    outcome
}

/// Keeps asking the connection whether it lives; returns why it does not.
async fn hold(client: &Client) -> PgError {
    loop {
        tokio::time::sleep(RETRY).await;
        if let Err(error) = client.simple_query("SELECT 1").await {
            return PgError::Postgres(error);
        }
    }
}
