//! Each trigger kind: filter flows that change or reject a write (nothing written), action
//! flows after commit, webhooks (sync, async, methods, `error_on_reject`, `$all`), the
//! manual trigger, schedules without overlapping runs, another flow, the
//! `FLOWS_MAX_DEPTH` stop for a flow that triggers itself, reloads on change, and
//! `server.start` action flows.

use crate::flows_support::*;
use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::json;
use std::time::Duration;

async fn filter_flows(kind: Kind) {
    let db = TestDb::create(kind).await;
    create_orders(&db).await;
    let server = Server::start(&db).await;
    // Changes the payload: the transform's result replaces it.
    create_flow(
        &server,
        json!({"name": "stamp", "trigger": "event", "options": {"type": "filter", "scope": ["items.create"], "collections": ["orders"], "return": "$last"}}),
        &[op("stamp", "transform", json!({"json": {"amount": "{{$trigger.payload.amount}}", "item": "{{$trigger.payload.item}}", "status": "checked"}}))],
    )
    .await;
    // Rejects negative amounts with Directus's FAILED_VALIDATION shape.
    create_flow(
        &server,
        json!({"name": "no negatives", "trigger": "event", "options": {"type": "filter", "scope": ["items.create", "items.update"], "collections": ["orders"]}}),
        &[op("check", "condition", json!({"filter": {"$trigger": {"payload": {"amount": {"_gte": 0}}}}}))],
    )
    .await;
    let r = server
        .post("/items/orders", json!({"amount": 5, "item": "pen"}))
        .await;
    let id = r.assert_ok()["id"].clone();
    let r = server.get(&format!("/items/orders/{id}")).await;
    assert_eq!(r.assert_ok()["status"], "checked");
    assert_eq!(r.data()["amount"], 5);

    let r = server
        .post("/items/orders", json!({"amount": -5, "item": "pen"}))
        .await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "$trigger");
    assert_eq!(
        r.body["errors"][0]["extensions"]["path"],
        json!(["payload", "amount"])
    );
    assert_eq!(count(&db, "orders").await, 1, "nothing written");
    let r = server
        .patch(&format!("/items/orders/{id}"), json!({"amount": -1}))
        .await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(
        server.get(&format!("/items/orders/{id}")).await.data()["amount"],
        5
    );

    // A throwing filter flow rejects with its own status and code; nothing is written.
    // (As in Directus, a filter flow whose last step rejected rejects the write: the
    // condition passes for allowed items, and its reject path throws.)
    let (_, ids) = create_flow(
        &server,
        json!({"name": "blocked items", "trigger": "event", "options": {"type": "filter", "scope": ["items.create"], "collections": ["orders"]}}),
        &[op("allowed", "condition", json!({"filter": {"$trigger": {"payload": {"item": {"_neq": "bomb"}}}}}))],
    )
    .await;
    let flow_of = server
        .get(&format!("/operations/{}", ids[0]))
        .await
        .assert_ok()["flow"]
        .clone();
    let throw = server
        .post("/operations", json!({"flow": flow_of, "key": "throw", "type": "throw-error", "options": {"status": 422, "code": "ORDER_BLOCKED", "message": "{{$trigger.payload.item}} can't be ordered"}}))
        .await
        .assert_ok()["id"]
        .clone();
    server
        .patch(&format!("/operations/{}", ids[0]), json!({"reject": throw}))
        .await
        .assert_ok();
    let r = server
        .post("/items/orders", json!({"amount": 1, "item": "bomb"}))
        .await;
    r.assert_error(422, "ORDER_BLOCKED");
    assert_eq!(r.message(), "bomb can't be ordered");
    assert_eq!(count(&db, "orders").await, 1, "nothing written");
    server
        .post("/items/orders", json!({"amount": 1, "item": "cup"}))
        .await
        .assert_ok();
    assert_eq!(count(&db, "orders").await, 2);
}
on_every_db!(filter_flows_change_and_reject_writes, filter_flows);

async fn action_flows(kind: Kind) {
    let db = TestDb::create(kind).await;
    create_orders(&db).await;
    let serial = kind.serial_pk();
    db.exec(&format!(
        "CREATE TABLE audit (id {serial}, order_id integer, note varchar(100))"
    ))
    .await;
    let server = Server::start(&db).await;
    create_flow(
        &server,
        json!({"name": "audit", "trigger": "event", "options": {"type": "action", "scope": ["items.create", "items.update"], "collections": ["orders"]}}),
        &[op("write", "item-create", json!({"collection": "audit", "permissions": "$full", "payload": {"order_id": "{{$trigger.key}}", "note": "{{$trigger.event}} by {{$accountability.admin}}"}}))],
    )
    .await;
    let r = server.post("/items/orders", json!({"amount": 3})).await;
    let id = r.assert_ok()["id"].clone();
    eventually(10, "the action flow wrote its audit row", || async {
        count(&db, "audit").await == 1
    })
    .await;
    let rows = db.query("SELECT order_id, note FROM audit").await;
    assert_eq!(rows[0]["order_id"].to_string(), id.to_string());
    assert_eq!(rows[0]["note"], "orders.items.create by true");
    // A batch create fires once per item.
    server
        .post("/items/orders", json!([{"amount": 1}, {"amount": 2}]))
        .await
        .assert_ok();
    eventually(10, "one run per created item", || async {
        count(&db, "audit").await == 3
    })
    .await;
}
on_every_db!(action_flows_run_after_commit, action_flows);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_manual_and_another_flow() {
    if !Kind::Sqlite.enabled() {
        return;
    }
    let db = TestDb::create(Kind::Sqlite).await;
    create_orders(&db).await;
    let server = Server::start(&db).await;

    // GET webhook answering with $last, raw.
    let (get_flow, _) = create_flow(
        &server,
        json!({"name": "echo", "trigger": "webhook", "options": {"method": "GET"}}),
        &[op("echo", "transform", json!({"json": {"x": "{{$trigger.query.x}}", "path": "{{$trigger.path}}", "m": "{{$trigger.method}}"}}))],
    )
    .await;
    let r = server
        .anonymous()
        .get(&format!("/flows/trigger/{get_flow}?x=42"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"x": "42", "path": format!("/flows/trigger/{get_flow}"), "m": "GET"})
    );
    // Wrong method, unknown id: 403.
    server
        .post(&format!("/flows/trigger/{get_flow}"), json!({}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/flows/trigger/3f1c9a52-0000-4000-8000-000000000000")
        .await
        .assert_error(403, "FORBIDDEN");

    // POST webhook with `return: $all`, a body, and $env / $accountability.
    let (all_flow, _) = create_flow(
        &server,
        json!({"name": "all", "trigger": "webhook", "options": {"method": "POST", "return": "$all"}}),
        &[op("double", "transform", json!({"json": {"n": "{{$trigger.body.n}}", "who": "{{$accountability.user}}"}}))],
    )
    .await;
    let r = server
        .post(&format!("/flows/trigger/{all_flow}"), json!({"n": 21}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["double"]["n"], 21);
    assert!(r.body["double"]["who"].is_string(), "{}", r.body);
    assert_eq!(r.body["$trigger"]["body"], json!({"n": 21}));
    assert!(r.body["$trigger"]["headers"]["authorization"].is_string());

    // error_on_reject: the thrown error is the answer.
    let (teapot, _) = create_flow(
        &server,
        json!({"name": "teapot", "trigger": "webhook", "options": {"method": "POST", "error_on_reject": true}}),
        &[op("t", "throw-error", json!({"status": 418, "code": "MY_CODE", "message": "teapot"}))],
    )
    .await;
    let r = server
        .post(&format!("/flows/trigger/{teapot}"), json!({}))
        .await;
    r.assert_error(418, "MY_CODE");
    assert_eq!(r.message(), "teapot");

    // async: answers 204 at once; the work happens after.
    let (slow, _) = create_flow(
        &server,
        json!({"name": "async", "trigger": "webhook", "options": {"method": "POST", "async": true}}),
        &[
            op("wait", "sleep", json!({"milliseconds": 300})),
            op("write", "item-create", json!({"collection": "orders", "payload": {"item": "async"}})),
        ],
    )
    .await;
    let started = std::time::Instant::now();
    let r = server
        .post(&format!("/flows/trigger/{slow}"), json!({}))
        .await;
    assert_eq!(r.status, 204);
    assert!(started.elapsed() < Duration::from_millis(300));
    eventually(5, "the async run finished", || async {
        count(&db, "orders").await == 1
    })
    .await;

    // Another flow: called once, and once per element of an array payload.
    let (callee, _) = create_flow(
        &server,
        json!({"name": "callee", "trigger": "operation", "options": {"return": "$last"}}),
        &[op(
            "triple",
            "exec",
            json!({"code": "fn main(data) { data[\"$trigger\"].n * 3 }"}),
        )],
    )
    .await;
    let (caller, _) = create_flow(
        &server,
        json!({"name": "caller", "trigger": "webhook", "options": {"method": "POST", "return": "$all"}}),
        &[
            op("one", "trigger", json!({"flow": callee, "payload": {"n": "{{$trigger.body.n}}"}})),
            op("many", "trigger", json!({"flow": callee, "payload": [{"n": 1}, {"n": 2}]})),
        ],
    )
    .await;
    let r = server
        .post(&format!("/flows/trigger/{caller}"), json!({"n": 5}))
        .await;
    assert_eq!(r.body["one"], 15, "{}", r.body);
    assert_eq!(r.body["many"], json!([3, 6]), "{}", r.body);
    // Only flows with the "another flow" trigger can be called.
    let (bad_caller, _) = create_flow(
        &server,
        json!({"name": "bad caller", "trigger": "webhook", "options": {"method": "POST"}}),
        &[op("one", "trigger", json!({"flow": get_flow}))],
    )
    .await;
    let r = server
        .post(&format!("/flows/trigger/{bad_caller}"), json!({}))
        .await;
    assert_eq!(r.body["code"], "INVALID_PAYLOAD", "{}", r.body);

    // Manual trigger: a signed-in user, a listed collection, readable keys.
    let id = server
        .post("/items/orders", json!({"item": "manual"}))
        .await
        .assert_ok()["id"]
        .clone();
    let (manual, _) = create_flow(
        &server,
        json!({"name": "manual", "trigger": "manual", "options": {"collections": ["orders"], "location": "item"}}),
        &[op("echo", "transform", json!({"json": {"keys": "{{$trigger.body.keys}}", "collection": "{{$trigger.body.collection}}"}}))],
    )
    .await;
    let path = format!("/flows/trigger/{manual}");
    let r = server
        .post(&path, json!({"collection": "orders", "keys": [id]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"keys": [id], "collection": "orders"}));
    server
        .anonymous()
        .post(&path, json!({"collection": "orders", "keys": [id]}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post(&path, json!({"collection": "audit", "keys": [id]}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post(&path, json!({"collection": "orders", "keys": [99999]}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post(&path, json!({"collection": "orders", "keys": []}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server.get(&path).await.assert_error(403, "FORBIDDEN");

    // Switching a flow off (or deleting it) takes effect at once.
    server
        .patch(&format!("/flows/{get_flow}"), json!({"status": "inactive"}))
        .await
        .assert_ok();
    server
        .get(&format!("/flows/trigger/{get_flow}"))
        .await
        .assert_error(403, "FORBIDDEN");
    server.delete(&format!("/flows/{all_flow}")).await;
    server
        .post(&format!("/flows/trigger/{all_flow}"), json!({}))
        .await
        .assert_error(403, "FORBIDDEN");
    let ops = server
        .get(&format!("/operations?filter[flow][_eq]={all_flow}"))
        .await;
    assert_eq!(
        ops.assert_ok().as_array().unwrap().len(),
        0,
        "operations go with their flow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_never_overlap() {
    if !Kind::Sqlite.enabled() {
        return;
    }
    let db = TestDb::create(Kind::Sqlite).await;
    db.exec("CREATE TABLE ticks (id integer primary key, phase varchar(10))")
        .await;
    let server = Server::start(&db).await;
    // Every second, a run that takes 1.5 s: ticks during a run are skipped.
    let (flow, _) = create_flow(
        &server,
        json!({"name": "tick", "trigger": "schedule", "accountability": null, "options": {"cron": "* * * * * *"}}),
        &[
            op("start", "item-create", json!({"collection": "ticks", "payload": {"phase": "start"}})),
            op("wait", "sleep", json!({"milliseconds": 1500})),
            op("end", "item-create", json!({"collection": "ticks", "payload": {"phase": "end"}})),
        ],
    )
    .await;
    eventually(10, "two scheduled runs finished", || async {
        db.count("SELECT COUNT(*) AS n FROM ticks WHERE phase = 'end'")
            .await
            >= 2
    })
    .await;
    server
        .patch(&format!("/flows/{flow}"), json!({"status": "inactive"}))
        .await
        .assert_ok();
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let phases: Vec<String> = db
        .query("SELECT phase FROM ticks ORDER BY id")
        .await
        .iter()
        .map(|r| r["phase"].as_str().unwrap().to_string())
        .collect();
    for pair in phases.chunks(2) {
        assert_eq!(pair[0], "start", "{phases:?}");
        if pair.len() == 2 {
            assert_eq!(pair[1], "end", "runs overlapped: {phases:?}");
        }
    }
    let settled = phases.len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        count(&db, "ticks").await as usize,
        settled,
        "an inactive schedule stops"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_that_triggers_itself_stops_at_the_depth_limit() {
    if !Kind::Sqlite.enabled() {
        return;
    }
    let db = TestDb::create(Kind::Sqlite).await;
    create_orders(&db).await;
    let server = Server::start_with(&db, &[("FLOWS_MAX_DEPTH", "3")]).await;
    create_flow(
        &server,
        json!({"name": "loop", "trigger": "event", "accountability": null, "options": {"type": "action", "scope": ["items.create"], "collections": ["orders"]}}),
        &[op("again", "item-create", json!({"collection": "orders", "permissions": "$full", "payload": {"item": "again"}}))],
    )
    .await;
    server
        .post("/items/orders", json!({"item": "first"}))
        .await
        .assert_ok();
    // The client's order, then one per allowed depth.
    eventually(10, "the loop ran to its limit", || async {
        count(&db, "orders").await == 4
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&db, "orders").await, 4, "and stopped there");
    let health = server.get("/server/health").await;
    assert!(
        health.body["checks"]["flows:queue"][0]["tooDeep"].as_u64() >= Some(1),
        "{}",
        health.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_start_flows_run_once_per_start() {
    if !Kind::Sqlite.enabled() {
        return;
    }
    let db = TestDb::create(Kind::Sqlite).await;
    db.exec("CREATE TABLE boots (id integer primary key, event varchar(30))")
        .await;
    let mut server = Server::start(&db).await;
    create_flow(
        &server,
        json!({"name": "boot", "trigger": "event", "accountability": null, "options": {"type": "action", "scope": ["server.start"]}}),
        &[op("write", "item-create", json!({"collection": "boots", "payload": {"event": "{{$trigger.event}}"}}))],
    )
    .await;
    assert_eq!(count(&db, "boots").await, 0, "not run when created");
    server.stop();
    let _server = Server::start(&db).await;
    eventually(10, "the server.start flow ran", || async {
        count(&db, "boots").await == 1
    })
    .await;
    let rows = db.query("SELECT event FROM boots").await;
    assert_eq!(rows[0]["event"], "server.start");
}
