//! Helpers for the flow tests: building flows through `/flows` and `/operations`, the mail
//! catcher's HTTP API (scripts/mailcatcher.py, started by scripts/services.sh), waiting.

use crate::harness::{Server, TestDb};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The mail catcher's SMTP port and HTTP API (RECTUS_TEST_SMTP_PORT /
/// RECTUS_TEST_MAIL_API override them).
pub fn smtp_port() -> String {
    std::env::var("RECTUS_TEST_SMTP_PORT").unwrap_or_else(|_| "1025".into())
}

fn mail_api() -> String {
    std::env::var("RECTUS_TEST_MAIL_API").unwrap_or_else(|_| "http://127.0.0.1:1080".into())
}

/// The environment that sends mail to the catcher.
pub fn smtp_env() -> Vec<(&'static str, String)> {
    vec![
        ("EMAIL_TRANSPORT", "smtp".into()),
        ("EMAIL_SMTP_HOST", "127.0.0.1".into()),
        ("EMAIL_SMTP_PORT", smtp_port()),
        ("EMAIL_SMTP_IGNORE_TLS", "true".into()),
        ("EMAIL_FROM", "shop@example.com".into()),
    ]
}

pub async fn start_with_mail(db: &TestDb, extra: &[(&str, &str)]) -> Server {
    let env = smtp_env();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    Server::start_with(db, &all).await
}

/// A recipient address no other test uses.
pub fn unique_address(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Messages the catcher received for `to`.
pub async fn mails_to(to: &str) -> Vec<Value> {
    let res = reqwest::get(format!("{}/messages?to={to}", mail_api()))
        .await
        .expect("the mail catcher answers (scripts/services.sh starts it)");
    res.json::<Vec<Value>>().await.unwrap()
}

/// Waits up to 10 s for a mail to `to`.
pub async fn wait_for_mail(to: &str) -> Value {
    let started = Instant::now();
    loop {
        if let Some(m) = mails_to(to).await.into_iter().next() {
            return m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no mail reached {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `check` every 50 ms for at most `secs`; panics with `what` when it never holds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates a flow and its operations, linked in order along `resolve`; returns the
/// flow's id and the operations' ids.
pub async fn create_flow(server: &Server, flow: Value, ops: &[Value]) -> (String, Vec<String>) {
    let mut flow = flow;
    if flow.get("status").is_none() {
        flow["status"] = json!("active");
    }
    let r = server.post("/flows", flow).await;
    let id = r.assert_ok()["id"].as_str().expect("flow id").to_string();
    let mut ids = vec![String::new(); ops.len()];
    let mut next: Option<String> = None;
    for (i, op) in ops.iter().enumerate().rev() {
        let mut op = op.clone();
        op["flow"] = json!(id);
        if op.get("resolve").is_none() {
            op["resolve"] = json!(next);
        }
        op["position_x"] = json!(i * 20);
        let r = server.post("/operations", op).await;
        let op_id = r.assert_ok()["id"]
            .as_str()
            .expect("operation id")
            .to_string();
        ids[i] = op_id.clone();
        next = Some(op_id);
    }
    if let Some(first) = ids.first() {
        server
            .patch(&format!("/flows/{id}"), json!({"operation": first}))
            .await
            .assert_ok();
    }
    (id, ids)
}

pub fn op(key: &str, kind: &str, options: Value) -> Value {
    json!({"name": key, "key": key, "type": kind, "options": options})
}

/// `orders (id, customer_name, email, item, amount, status)` with an integer key.
pub async fn create_orders(db: &TestDb) {
    let serial = db.kind.serial_pk();
    db.exec(&format!(
        "CREATE TABLE orders (id {serial}, customer_name varchar(100), email varchar(100), item varchar(100), amount integer, status varchar(20))"
    ))
    .await;
}

pub async fn count(db: &TestDb, table: &str) -> i64 {
    db.count(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .await
}

/// The run log of a flow: `/activity` rows with action `run`, newest first.
pub async fn runs(server: &Server, flow: &str) -> Vec<Value> {
    let r = server
        .get(&format!(
            "/activity?filter[collection][_eq]=directus_flows&filter[item][_eq]={flow}&filter[action][_eq]=run&sort=-id&fields=id,action,item,revisions.data"
        ))
        .await;
    r.assert_ok().as_array().unwrap().clone()
}

/// Waits up to `secs` for at least `n` logged runs of `flow`; returns them, newest first.
pub async fn wait_for_runs(server: &Server, flow: &str, n: usize, secs: u64) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let r = runs(server, flow).await;
        if r.len() >= n {
            return r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "{n} runs of {flow} not logged: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
