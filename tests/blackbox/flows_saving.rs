//! Saving flows and operations: Directus's shapes at `/flows` and `/operations` (with the
//! one-to-many `operations` as objects or as key lists), and
//! the payloads refused with `400 INVALID_PAYLOAD` (nothing written): invalid cron,
//! unknown trigger or operation type, cycles through `resolve` / `reject`.

use crate::flows_support::*;
use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::json;

async fn saving(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let r = server
        .post(
            "/flows",
            json!({"name": "f", "trigger": "webhook", "options": {"method": "GET"}, "operations": [
                {"key": "a", "type": "log", "options": {"message": "hi"}}
            ]}),
        )
        .await;
    let flow = r.assert_ok().clone();
    assert_eq!(flow["status"], "active");
    assert_eq!(flow["accountability"], "all");
    assert_eq!(flow["options"], json!({"method": "GET"}));
    assert!(flow["date_created"].is_string());
    assert!(flow["user_created"].is_string());
    let id = flow["id"].as_str().unwrap().to_string();
    let r = server
        .get(&format!(
            "/flows/{id}?fields=*,operations.key,operations.type"
        ))
        .await;
    assert_eq!(
        r.assert_ok()["operations"],
        json!([{"key": "a", "type": "log"}])
    );

    let bad = |r: crate::harness::Resp| r.assert_error(400, "INVALID_PAYLOAD");
    bad(server
        .post(
            "/flows",
            json!({"name": "s", "trigger": "schedule", "options": {"cron": "every tuesday"}}),
        )
        .await);
    bad(server
        .post(
            "/flows",
            json!({"name": "s", "trigger": "schedule", "options": {}}),
        )
        .await);
    bad(server
        .post("/flows", json!({"name": "s", "trigger": "sometimes"}))
        .await);
    bad(server
        .post(
            "/flows",
            json!({"name": "s", "trigger": "event", "status": "paused"}),
        )
        .await);
    bad(server
        .patch(&format!("/flows/{id}"), json!({"trigger": "schedule"}))
        .await);
    assert_eq!(count(&db, "rectus_flows").await, 1, "nothing written");
    server
        .post(
            "/flows",
            json!({"name": "ok", "trigger": "schedule", "options": {"cron": "*/10 * * * * *"}}),
        )
        .await
        .assert_ok();

    bad(server
        .post(
            "/operations",
            json!({"flow": id, "key": "x", "type": "no-such-op"}),
        )
        .await);
    bad(server
        .post("/operations", json!({"flow": id, "key": "x"}))
        .await);
    // Cycles: a → b → a, and an operation that resolves to itself.
    let a = server
        .post(
            "/operations",
            json!({"flow": id, "key": "ca", "type": "log"}),
        )
        .await
        .assert_ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = server
        .post(
            "/operations",
            json!({"flow": id, "key": "cb", "type": "log", "resolve": a}),
        )
        .await
        .assert_ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    bad(server
        .patch(&format!("/operations/{a}"), json!({"reject": b}))
        .await);
    bad(server
        .patch(&format!("/operations/{a}"), json!({"resolve": a}))
        .await);
    bad(server
        .patch(&format!("/operations/{a}"), json!({"resolve": "not-an-id"}))
        .await);
    let r = server.get(&format!("/operations/{a}")).await;
    assert_eq!(r.assert_ok()["reject"], json!(null), "nothing written");
    server
        .patch(&format!("/operations/{b}"), json!({"reject": null}))
        .await
        .assert_ok();
}
on_every_db!(flows_save_in_directus_shapes_and_refuse_bad_ones, saving);
