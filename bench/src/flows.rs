//! `flows`: what an action flow costs the writes that trigger it, and whether the engine
//! keeps up. On a SQLite file with `orders`:
//! 1. `BENCH_FLOW_CREATES` (3,000) `POST /items/orders` over 8 connections, no flow →
//!    creates/s;
//! 2. the same with an action flow on `items.create` of `orders` (condition → transform →
//!    log, no run log) → creates/s, and the ratio to 1 (target ≥ 90%);
//! 3. creates paced at 1,000/s for 5 s: every run completes (the engine's `completed`
//!    counter from `/server/health` grows by exactly the number of creates, no event
//!    missed) and the queue (`flows:queue` observedValue, sampled every 20 ms) stays
//!    within `FLOWS_QUEUE_SIZE`.

use super::{free_port, rectus_bin, row, scratch, spawn_rectus, stop, wait_ready, ADMIN_TOKEN};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const CONNECTIONS: usize = 8;
const PACED_RATE: u64 = 1000;
const PACED_SECS: u64 = 5;
const RATIO_TARGET: f64 = 0.9;

fn creates() -> usize {
    std::env::var("BENCH_FLOW_CREATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

async fn create_many(base: &str, n: usize) -> Result<Duration> {
    let client = reqwest::Client::new();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CONNECTIONS {
        let (client, url) = (client.clone(), format!("{base}/items/orders"));
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(CONNECTIONS) {
                let res = client
                    .post(&url)
                    .bearer_auth(ADMIN_TOKEN)
                    .json(&json!({"amount": i % 100, "status": "new"}))
                    .send()
                    .await?;
                if !res.status().is_success() {
                    bail!("POST {url}: {}", res.status());
                }
                res.bytes().await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(t0.elapsed())
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Result<Value> {
    let res = client
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let v: Value = res.json().await?;
    if !status.is_success() {
        bail!("POST {url}: {status} {v}");
    }
    Ok(v["data"].clone())
}

async fn add_flow(base: &str) -> Result<()> {
    let c = reqwest::Client::new();
    let flow = post(
        &c,
        format!("{base}/flows"),
        json!({"name": "bench", "status": "active", "trigger": "event", "accountability": null,
        "options": {"type": "action", "scope": ["items.create"], "collections": ["orders"]}}),
    )
    .await?;
    let id = flow["id"].as_str().context("flow id")?;
    let log = post(&c, format!("{base}/operations"), json!({"flow": id, "key": "log", "type": "log", "options": {"message": "order {{$trigger.key}}: {{shape.status}}"}})).await?;
    let shape = post(&c, format!("{base}/operations"), json!({"flow": id, "key": "shape", "type": "transform", "resolve": log["id"],
        "options": {"json": {"status": "{{$trigger.payload.status}}", "amount": "{{$trigger.payload.amount}}"}}})).await?;
    let cond = post(
        &c,
        format!("{base}/operations"),
        json!({"flow": id, "key": "cond", "type": "condition", "resolve": shape["id"],
        "options": {"filter": {"$trigger": {"payload": {"amount": {"_gte": 0}}}}}}),
    )
    .await?;
    let res = c
        .patch(format!("{base}/flows/{id}"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"operation": cond["id"]}))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("PATCH /flows: {}", res.status());
    }
    Ok(())
}

async fn engine(base: &str) -> Result<Value> {
    let v: Value = reqwest::Client::new()
        .get(format!("{base}/server/health"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?
        .json()
        .await?;
    Ok(v["checks"]["flows:queue"][0].clone())
}

pub fn flows(rt: &Runtime) -> Result<()> {
    let bin = rectus_bin()?;
    let dir = scratch("flows")?;
    let db_file = dir.join("flows.db");
    rt.block_on(async {
        let db = rectus::db::Db::connect(
            &rectus::config::DbConfig::Sqlite {
                filename: db_file.clone(),
            },
            4,
        )
        .await?;
        db.execute_raw(
            "CREATE TABLE orders (id integer primary key, amount integer, status varchar(20))",
        )
        .await?;
        db.close().await;
        anyhow::Ok(())
    })?;
    let port = free_port()?;
    let mut child = spawn_rectus(&bin, &db_file, port)?;
    wait_ready(&mut child, port, Instant::now())?;
    let base = format!("http://127.0.0.1:{port}");
    let n = creates();
    let result = rt.block_on(async {
        // Warm-up: first connections, statement caches, SQLite pages.
        create_many(&base, 200).await?;
        let plain = create_many(&base, n).await?;
        add_flow(&base).await?;
        let before = engine(&base).await?["completed"].as_u64().unwrap_or(0);
        let with_flow = create_many(&base, n).await?;
        let rate = |d: Duration| n as f64 / d.as_secs_f64();
        let ratio = rate(with_flow) / rate(plain);
        row("flows", &format!("creates/s without a flow, {n} creates, {CONNECTIONS} connections"), &format!("{:.0}/s", rate(plain)), "–", None);
        row("flows", "creates/s with an action flow (condition + transform + log)", &format!("{:.0}/s ({:.0}% of without)", rate(with_flow), ratio * 100.0), "≥ 90%", Some(ratio >= RATIO_TARGET));
        // Let the runs of phase 2 finish, then pace creates at 1,000/s.
        let deadline = Instant::now() + Duration::from_secs(60);
        while engine(&base).await?["completed"].as_u64().unwrap_or(0) < before + n as u64 {
            if Instant::now() > deadline {
                bail!("the runs of phase 2 did not complete within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let start_count = before + n as u64;
        let paced = (PACED_RATE * PACED_SECS) as usize;
        let sampler = {
            let base = base.clone();
            tokio::spawn(async move {
                let mut max = 0u64;
                let until = Instant::now() + Duration::from_secs(PACED_SECS + 30);
                while Instant::now() < until {
                    let e = engine(&base).await?;
                    max = max.max(e["observedValue"].as_u64().unwrap_or(0));
                    if e["completed"].as_u64().unwrap_or(0) >= start_count + paced as u64 {
                        return anyhow::Ok((max, e));
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok((max, engine(&base).await?))
            })
        };
        let client = reqwest::Client::new();
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..paced {
            let at = t0 + Duration::from_micros(i as u64 * 1_000_000 / PACED_RATE);
            tokio::time::sleep_until(at.into()).await;
            let (client, url) = (client.clone(), format!("{base}/items/orders"));
            tasks.push(tokio::spawn(async move {
                client.post(&url).bearer_auth(ADMIN_TOKEN).json(&json!({"amount": 1, "status": "paced"})).send().await?.error_for_status()?;
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        let sent_in = t0.elapsed();
        let (max_queue, last) = sampler.await??;
        let completed = last["completed"].as_u64().unwrap_or(0) - start_count;
        let ok = completed == paced as u64 && last["missedEvents"] == 0 && max_queue <= last["threshold"].as_u64().unwrap_or(0);
        row("flows", &format!("{paced} creates paced at {PACED_RATE}/s (sent in {:.1} s)", sent_in.as_secs_f64()),
            &format!("{completed} runs completed, {} failed, {} events missed, queue max {max_queue} of {}", last["failed"], last["missedEvents"], last["threshold"]),
            "every run completes, queue bounded", Some(ok));
        anyhow::Ok(())
    });
    stop(child)?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}
