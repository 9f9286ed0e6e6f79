//! Each built-in operation through a webhook flow that returns its data chain (`$all`):
//! log, transform, sleep, condition (resolve and reject paths), run script, item
//! create/read/update/delete and their permissions, JSON web tokens, HTTP requests (to
//! this server on loopback), throw error, notifications; templates (`$env`, missing
//! paths); an operation that fails takes its reject path and the run log shows why; an
//! unknown operation type stops the run.

use crate::flows_support::*;
use crate::harness::{Kind, Server, TestDb};
use serde_json::{json, Value};

async fn run_all(server: &Server, ops: &[Value]) -> Value {
    let (flow, _) = create_flow(
        server,
        json!({"name": "ops", "trigger": "webhook", "accountability": "all", "options": {"method": "POST", "return": "$all"}}),
        ops,
    )
    .await;
    let r = server
        .post(
            &format!("/flows/trigger/{flow}"),
            json!({"n": 4, "name": "Ann"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_builtin_operation() {
    if !Kind::Sqlite.enabled() {
        return;
    }
    let db = TestDb::create(Kind::Sqlite).await;
    create_orders(&db).await;
    let server = start_with_mail(
        &db,
        &[("FLOWS_ENV_ALLOW_LIST", "SHOP_NAME"), ("SHOP_NAME", "Acme")],
    )
    .await;
    let port = server.port;

    // Data-chain basics, log, transform, sleep, run script, templates.
    let started = std::time::Instant::now();
    let all = run_all(
        &server,
        &[
            op("log", "log", json!({"message": "order for {{$trigger.body.name}}"})),
            op("shape", "transform", json!({"json": {"n": "{{$trigger.body.n}}", "shop": "{{$env.SHOP_NAME}}", "missing": "[{{$trigger.body.nope}}]", "text": "n={{$trigger.body.n}}"}})),
            op("nap", "sleep", json!({"milliseconds": "200"})),
            op("script", "exec", json!({"code": "fn main(data) { #{ squared: data.shape.n * data.shape.n, last_was_sleep: data[\"$last\"] == () } }"})),
        ],
    )
    .await;
    assert!(started.elapsed().as_millis() >= 200);
    assert_eq!(all["log"], Value::Null);
    assert_eq!(
        all["shape"],
        json!({"n": 4, "shop": "Acme", "missing": "[]", "text": "n=4"})
    );
    assert_eq!(all["nap"], Value::Null);
    assert_eq!(
        all["script"],
        json!({"squared": 16, "last_was_sleep": true})
    );
    assert_eq!(all["$env"], json!({"SHOP_NAME": "Acme"}));
    assert_eq!(all["$accountability"]["admin"], true);

    // Items: create, read (one, many, by query), update, delete — as full access.
    let all = run_all(
        &server,
        &[
            op("made", "item-create", json!({"collection": "orders", "permissions": "$full", "payload": [{"item": "a", "amount": 1}, {"item": "b", "amount": 2}]})),
            op("one", "item-read", json!({"collection": "orders", "permissions": "$full", "key": "{{made[0]}}"})),
            op("both", "item-read", json!({"collection": "orders", "key": "{{made}}", "query": {"fields": ["item"], "sort": ["item"]}})),
            op("found", "item-read", json!({"collection": "orders", "query": {"filter": {"amount": {"_gt": 1}}, "fields": ["item"]}})),
            op("changed", "item-update", json!({"collection": "orders", "key": "{{made[0]}}", "payload": {"status": "paid"}})),
            op("by_query", "item-update", json!({"collection": "orders", "query": {"filter": {"item": {"_eq": "b"}}}, "payload": {"status": "sent"}})),
            op("gone", "item-delete", json!({"collection": "orders", "key": "{{made[1]}}"})),
        ],
    )
    .await;
    let made = all["made"].as_array().unwrap().clone();
    assert_eq!(made.len(), 2);
    assert_eq!(all["one"]["item"], "a");
    assert_eq!(all["both"], json!([{"item": "a"}, {"item": "b"}]));
    assert_eq!(all["found"], json!([{"item": "b"}]));
    assert_eq!(all["changed"], json!([made[0]]));
    assert_eq!(all["gone"], json!([made[1]]));
    let rows = db
        .query("SELECT item, status FROM orders ORDER BY id")
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "paid");

    // Public permissions can't write (access control refuses non-admins): reject path.
    let all = run_all(
        &server,
        &[json!({"key": "public", "name": "public", "type": "item-create", "options": {"collection": "orders", "permissions": "$public", "payload": {"item": "x"}}, "reject": null})],
    )
    .await;
    assert_eq!(all["public"]["code"], "FORBIDDEN", "{all}");
    assert_eq!(count(&db, "orders").await, 1);
    // Key and query together are refused.
    let all = run_all(
        &server,
        &[op("both", "item-update", json!({"collection": "orders", "key": 1, "query": {"filter": {"id": {"_eq": 1}}}, "payload": {}}))],
    )
    .await;
    assert_eq!(all["both"]["code"], "INVALID_PAYLOAD");

    // JSON web tokens: sign, verify, decode; a wrong secret rejects.
    let all = run_all(
        &server,
        &[
            op("signed", "json-web-token", json!({"operation": "sign", "payload": {"order": "{{$trigger.body.n}}"}, "secret": "s3cret", "options": {"expiresIn": "1h"}})),
            op("verified", "json-web-token", json!({"operation": "verify", "token": "{{signed}}", "secret": "s3cret"})),
            op("decoded", "json-web-token", json!({"operation": "decode", "token": "{{signed}}"})),
            op("forged", "json-web-token", json!({"operation": "verify", "token": "{{signed}}", "secret": "wrong"})),
        ],
    )
    .await;
    assert_eq!(all["verified"]["order"], 4);
    assert_eq!(all["decoded"]["order"], 4);
    assert!(all["decoded"]["exp"].as_i64().unwrap() > all["decoded"]["iat"].as_i64().unwrap());
    assert_eq!(all["forged"]["code"], "INVALID_TOKEN");

    // HTTP requests (to this server): a success, then a 404 that rejects.
    let base = format!("http://127.0.0.1:{port}");
    let all = run_all(
        &server,
        &[
            op("ping", "request", json!({"url": format!("{base}/server/ping"), "method": "GET"})),
            op("missing", "request", json!({"url": format!("{base}/nope"), "method": "POST", "body": {"a": 1}, "headers": [{"header": "X-Test", "value": "1"}]})),
        ],
    )
    .await;
    assert_eq!(all["ping"]["status"], 200);
    assert_eq!(all["ping"]["data"], "pong");
    assert_eq!(all["missing"]["status"], 404, "{all}");
    assert_eq!(
        all["missing"]["data"]["errors"][0]["extensions"]["code"],
        "ROUTE_NOT_FOUND"
    );
    let all = run_all(
        &server,
        &[op("bad", "request", json!({"url": "file:///etc/passwd"}))],
    )
    .await;
    assert_eq!(all["bad"]["code"], "INVALID_PAYLOAD");

    // Notifications: a row per recipient, and a mail to those who want one.
    let email = unique_address("notified");
    let user = server
        .post("/users", json!({"email": email}))
        .await
        .assert_ok()["id"]
        .clone();
    let all = run_all(
        &server,
        &[op("notify", "notification", json!({"recipient": [user], "subject": "Order {{$trigger.body.n}}", "message": "It **shipped**", "collection": "orders", "item": "1"}))],
    )
    .await;
    assert_eq!(all["notify"].as_array().unwrap().len(), 1, "{all}");
    let n = server
        .get(&format!(
            "/notifications?filter[recipient][_eq]={}",
            user.as_str().unwrap()
        ))
        .await;
    let n = &n.assert_ok()[0];
    assert_eq!(n["subject"], "Order 4");
    assert_eq!(n["status"], "inbox");
    let m = wait_for_mail(&email).await;
    assert_eq!(m["subject"], "Order 4");
    assert!(m["html"]
        .as_str()
        .unwrap()
        .contains("<strong>shipped</strong>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_paths_run_logs_and_unknown_types() {
    if !Kind::Sqlite.enabled() {
        return;
    }
    let db = TestDb::create(Kind::Sqlite).await;
    create_orders(&db).await;
    let server = Server::start(&db).await;
    // condition → reject path → a transform that reports the failure.
    let (flow, ids) = create_flow(
        &server,
        json!({"name": "branch", "trigger": "webhook", "accountability": "all", "options": {"method": "POST", "return": "$all"}}),
        &[
            op("big", "condition", json!({"filter": {"$trigger": {"body": {"n": {"_gt": 10}}}}})),
            op("yes", "transform", json!({"json": "big"})),
        ],
    )
    .await;
    let r = server
        .post("/operations", json!({"flow": flow, "key": "no", "type": "transform", "options": {"json": {"why": "{{big.message}}", "field": "{{big.field}}"}}}))
        .await;
    let no = r.assert_ok()["id"].clone();
    server
        .patch(&format!("/operations/{}", ids[0]), json!({"reject": no}))
        .await
        .assert_ok();
    let r = server
        .post(&format!("/flows/trigger/{flow}"), json!({"n": 50}))
        .await;
    assert_eq!(r.body["yes"], "big");
    assert!(r.body.get("no").is_none());
    let r = server
        .post(&format!("/flows/trigger/{flow}"), json!({"n": 5}))
        .await;
    assert_eq!(r.body["big"]["code"], "FAILED_VALIDATION", "{}", r.body);
    assert_eq!(r.body["no"]["field"], "$trigger");
    assert!(
        r.body["no"]["why"]
            .as_str()
            .unwrap()
            .contains("Validation failed"),
        "{}",
        r.body
    );
    assert!(r.body.get("yes").is_none());
    // The run log has both runs, with each step's status.
    let logged = wait_for_runs(&server, &flow, 2, 5).await;
    let steps = &logged[0]["revisions"][0]["data"]["steps"];
    assert_eq!(steps[0]["key"], "big");
    assert_eq!(steps[0]["status"], "reject");
    assert_eq!(steps[1]["key"], "no");
    assert_eq!(steps[1]["status"], "resolve");
    assert_eq!(
        logged[0]["revisions"][0]["data"]["data"]["$trigger"]["headers"]["authorization"],
        "--redacted--"
    );

    // accountability "activity": no revision; null: no log at all.
    let (quiet, _) = create_flow(
        &server,
        json!({"name": "quiet", "trigger": "webhook", "accountability": null, "options": {"method": "GET"}}),
        &[op("t", "transform", json!({"json": 1}))],
    )
    .await;
    server.get(&format!("/flows/trigger/{quiet}")).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(runs(&server, &quiet).await.is_empty());

    // An operation row whose type no module provides (written behind the API's back)
    // stops the run there.
    let (odd, ids) = create_flow(
        &server,
        json!({"name": "odd", "trigger": "webhook", "options": {"method": "GET"}}),
        &[
            op("first", "transform", json!({"json": "first"})),
            op("second", "transform", json!({"json": "second"})),
        ],
    )
    .await;
    db.exec(&format!(
        "UPDATE rectus_operations SET type = 'vanished' WHERE id = '{}'",
        ids[1]
    ))
    .await;
    // Any flow write reloads the engine.
    server
        .patch(&format!("/flows/{odd}"), json!({"description": "reload"}))
        .await
        .assert_ok();
    let r = server.get(&format!("/flows/trigger/{odd}")).await;
    assert_eq!(r.body, "first", "{}", r.body);
}
