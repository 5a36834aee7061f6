//! An acknowledged write survives `kill -9` of the server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_mid_stream() {
    let mut server = TestServer::start().await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (client, base, acknowledged) = (
                server.client.clone(),
                server.base.clone(),
                Arc::clone(&acknowledged),
            );
            tokio::spawn(async move {
                for n in 0.. {
                    let body = json!({
                        "sku": format!("w{writer}-{n}"), "name": "crash", "description": "d",
                        "category": "c", "price": {"amount": n}
                    });
                    let sent = client
                        .post(format!("{base}/api/models/crash/Product/documents"))
                        .json(&body)
                        .send()
                        .await;
                    // Once the server is gone, requests fail: the writer stops.
                    let Ok(response) = sent else { return };
                    if response.status() != StatusCode::CREATED {
                        return;
                    }
                    let Ok(doc) = response.json::<Value>().await else {
                        return;
                    };
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(doc["_id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    // Let a few hundred writes through, then kill without warning.
    while acknowledged.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.signal(libc::SIGKILL);
    assert_eq!(
        server.wait(Duration::from_secs(10)).await,
        None,
        "killed by a signal"
    );
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let restarted = TestServer::builder().start_in(server.take_dir()).await;
    for id in &acknowledged {
        let (status, doc) = restarted
            .get(&format!("/api/models/crash/Product/documents/{id}"))
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "acknowledged write {id} lost: {doc}"
        );
    }
    let (_, count) = restarted
        .get("/api/models/crash/Product/documents/count")
        .await;
    assert!(count["count"].as_u64().unwrap() >= acknowledged.len() as u64);
    println!(
        "{} acknowledged writes, all found after SIGKILL and restart",
        acknowledged.len()
    );
}
