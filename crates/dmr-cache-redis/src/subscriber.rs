//! The backplane's receiving end: a subscription that reconnects by itself. Every
//! (re)subscription is reported, because pub/sub drops messages sent while the
//! subscriber was away: the registry answers by flushing its L1. Its state (subscribed or
//! not) is half of what says whether Redis is up (`liveness.rs`).

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dmr_cache::{BackplaneEvent, BackplaneMessage};
use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use crate::tier::RedisTier;

const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(1);

pub(crate) async fn run(
    tier: Weak<RedisTier>,
    client: redis::Client,
    events: UnboundedSender<BackplaneEvent>,
) {
    let mut retry = RETRY_MIN;
    loop {
        let Some((channel, timeout, me)) = tier.upgrade().map(|t| {
            (
                t.channel(),
                t.config.op_timeout.max(Duration::from_secs(1)),
                t.instance_id_owned(),
            )
        }) else {
            return;
        };
        let subscribed = tokio::time::timeout(timeout, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(mut pubsub)) => {
                retry = RETRY_MIN;
                if let Some(t) = tier.upgrade() {
                    t.counters.subscriptions.fetch_add(1, Ordering::Relaxed);
                    t.liveness.set_subscribed(true);
                }
                tracing::info!(channel = %channel, "backplane subscribed");
                if events.send(BackplaneEvent::Subscribed).is_err() {
                    return;
                }
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    let Ok(payload) = message.get_payload::<String>() else {
                        continue;
                    };
                    let Ok(message) = serde_json::from_str::<BackplaneMessage>(&payload) else {
                        tracing::warn!(payload = %payload, "ignoring a malformed backplane message");
                        continue;
                    };
                    if message.sender == me {
                        continue;
                    }
                    if let Some(t) = tier.upgrade() {
                        t.counters.received.fetch_add(1, Ordering::Relaxed);
                    }
                    if events
                        .send(BackplaneEvent::Message(message.invalidation))
                        .is_err()
                    {
                        return;
                    }
                }
                // The connection dropped (or the server closed it): Redis is down until
                // proven otherwise, and health says so at once.
                if let Some(t) = tier.upgrade() {
                    t.liveness.set_subscribed(false);
                }
                tracing::warn!(channel = %channel, "backplane subscription lost; resubscribing");
            }
            Ok(Err(e)) => tracing::debug!(error = %e, "backplane subscribe failed"),
            Err(_) => tracing::debug!("backplane subscribe timed out"),
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(RETRY_MAX);
    }
}
