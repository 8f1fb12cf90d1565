//! The node's ear: a connection of its own (not from the pool) that `LISTEN`s on the schema's
//! channel and hands what the other nodes committed to the server, reconnecting when the
//! connection drops and then telling the server from which change sequence to catch up.

use std::time::Duration;

use futures_util::StreamExt;
use itinera_core::store::{NoticeSink, StoreNotice};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, Notification};

use crate::error::PgError;
use crate::notice_payload;
use crate::sql;

/// How long the listener waits before it connects again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

/// A listening connection: the client that keeps it open and the notifications it receives
/// (the channel closes when the connection ends).
pub(crate) struct Listening {
    _client: Client,
    notifications: mpsc::UnboundedReceiver<Notification>,
    /// The change sequence when the listening began.
    pub(crate) sequence: u64,
}

/// Connects and listens on `channel`; returns once PostgreSQL listens, so that nothing
/// committed afterwards goes unheard.
pub(crate) async fn listen(config: &Config, channel: &str) -> Result<Listening, PgError> {
    // Named apart from the pool's connections in `pg_stat_activity`.
    let (client, mut connection) = config
        .clone()
        .application_name("itinera-listener")
        .connect(NoTls)
        .await?;
    let (tell, notifications) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(notification) = message {
                if tell.send(notification).is_err() {
                    break;
                }
            }
        }
    });
    // The channel name is made by the database (`itinera_` and a hex digest): quoting it is
    // enough.
    client
        .batch_execute(&format!("LISTEN \"{channel}\""))
        .await?;
    let last: i64 = client.query_one(sql::LAST_CHANGE, &[]).await?.try_get(0)?;
    Ok(Listening {
        _client: client,
        notifications,
        sequence: u64::try_from(last).unwrap_or(0),
    })
}

/// Hands every notification of another node to `sink`, from `listening` on and forever:
/// after a lost connection it connects again and tells `sink` to catch up from the last
/// sequence heard. Ends when the store's runtime stops.
pub(crate) async fn hear_forever(
    config: Config,
    channel: String,
    node: String,
    mut listening: Listening,
    sink: NoticeSink,
) {
    let mut heard = listening.sequence;
    loop {
        while let Some(notification) = listening.notifications.recv().await {
            let Some((from, sequence, notice)) = notice_payload::parse(notification.payload())
            else {
                tracing::warn!(
                    payload = notification.payload(),
                    "a notification this build does not read"
                );
                continue;
            };
            if let Some(sequence) = sequence {
                heard = heard.max(sequence);
            }
            if from != node {
                sink(notice);
            }
        }
        tracing::warn!("the store's listening connection dropped; reconnecting");
        listening = loop {
            tokio::time::sleep(RECONNECT_AFTER).await;
            match listen(&config, &channel).await {
                Ok(listening) => break listening,
                Err(error) => tracing::warn!(%error, "the store's listener cannot reconnect yet"),
            }
        };
        sink(StoreNotice::Resumed { after: heard });
    }
}
