//! The hub: a slow subscriber is dropped with a resync notice and holds nobody back.

use super::*;

/// Bounded buffers: a subscriber that stops reading is told to resync and dropped,
/// while one that keeps up receives everything.
#[tokio::test]
async fn a_slow_subscriber_is_dropped_without_holding_back_a_fast_one() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let storage = domain::database::Storage::connect(db.url(), 2)
        .await
        .expect("a database");
    let hub = Hub::start(
        std::sync::Arc::new(InProcessBus::default()),
        storage.db.clone(),
        Duration::ZERO,
    )
    .await
    .expect("a hub");
    let (slow_account, fast_account) = (Uuid::now_v7(), Uuid::now_v7());
    let mut slow = hub.subscribe(slow_account);
    let mut fast = hub.subscribe(fast_account);
    let conversation = Uuid::now_v7();

    let reader = tokio::spawn(async move {
        let mut seqs = Vec::new();
        while let Some(Delivery::Event(event, _)) = fast.next().await {
            let Event::MessageDeleted { seq, .. } = *event else {
                break;
            };
            seqs.push(seq);
            if seqs.len() == 2_000 {
                break;
            }
        }
        seqs
    });
    for seq in 1..=2_000 {
        let event = Event::MessageDeleted {
            conversation_id: conversation,
            seq,
        };
        hub.publish(vec![slow_account, fast_account], event).await;
        if seq % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let seqs = tokio::time::timeout(WAIT, reader)
        .await
        .expect("in time")
        .expect("the reader");
    assert_eq!(
        seqs,
        (1..=2_000).collect::<Vec<_>>(),
        "the fast subscriber got everything"
    );

    let mut slow_got = 0;
    let last = loop {
        match tokio::time::timeout(WAIT, slow.next())
            .await
            .expect("in time")
        {
            Some(Delivery::Event(..)) => slow_got += 1,
            other => break other,
        }
    };
    assert_eq!(
        last,
        Some(Delivery::Resync),
        "the slow subscriber is told to resync"
    );
    assert!(slow_got < 2_000, "its buffer is bounded: {slow_got}");
    assert_eq!(slow.next().await, None, "and then closed");
    assert!(
        hub.metrics()
            .slow_subscribers_dropped
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    let _ = Status::Online;
}
