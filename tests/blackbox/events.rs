//! The events bus around real writes: filter handlers change or reject payloads before
//! anything is written; action events arrive after commit, one per created item.

use crate::harness::{Kind, TestDb};
use crate::on_every_db;
use rectus::events::{Bus, FilterEvent, FilterHandler, Rejection};
use rectus::items::write::{self, WriteContext};
use rectus::schema::introspect;
use serde_json::{json, Value};
use std::sync::Arc;

fn handler(
    f: impl Fn(FilterEvent) -> Result<Value, Rejection> + Send + Sync + 'static,
) -> FilterHandler {
    let f = Arc::new(f);
    Arc::new(move |e| {
        let f = f.clone();
        Box::pin(async move { f(e) })
    })
}

async fn filters_and_actions_wrap_writes(kind: Kind) {
    let db = TestDb::create(kind).await;
    let serial = kind.serial_pk();
    db.exec(&format!(
        "CREATE TABLE orders (id {serial}, amount float, note varchar(50))"
    ))
    .await;
    let pool = db.connect().await;
    rectus::system::migrations::run(&pool).await.unwrap();
    let schema = introspect::load(&pool, &[]).await.unwrap();

    let bus = Bus::default();
    // A hook like the seed example's: refuse negative amounts, tag the rest.
    bus.on_filter(
        "orders.items.create",
        handler(|e| {
            if e.payload["amount"].as_f64().unwrap_or(0.0) < 0.0 {
                return Err(Rejection {
                    message: "An order can't have a negative amount.".into(),
                });
            }
            let mut p = e.payload;
            p["note"] = json!("checked");
            Ok(p)
        }),
    );
    let mut actions = bus.subscribe();
    let w = WriteContext {
        db: &pool,
        schema: &schema,
        bus: &bus,
        user: Some("0b7d3c1e-5f4a-4e2b-9c8d-7a6b5c4d3e2f"),
        ip: None,
        user_agent: None,
        access: None,
    };

    let keys = write::create(&w, "orders", &json!([{"amount": 5}, {"amount": 7}]))
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    let rows = db.query("SELECT note FROM orders ORDER BY id").await;
    assert_eq!(
        rows.iter().map(|r| r["note"].clone()).collect::<Vec<_>>(),
        vec![json!("checked"), json!("checked")]
    );
    let first = actions.recv().await.unwrap();
    assert_eq!(
        (
            first.name.as_str(),
            first.payload["note"].clone(),
            first.user.as_deref()
        ),
        (
            "items.create",
            json!("checked"),
            Some("0b7d3c1e-5f4a-4e2b-9c8d-7a6b5c4d3e2f")
        )
    );
    assert_eq!(actions.recv().await.unwrap().name, "orders.items.create");

    // A rejected item stops the whole batch before anything is written.
    let err = write::create(&w, "orders", &json!([{"amount": 1}, {"amount": -3}]))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "An order can't have a negative amount.");
    let rows = db.query("SELECT COUNT(*) AS n FROM orders").await;
    assert_eq!(
        rows[0]["n"]
            .as_i64()
            .unwrap_or_else(|| rows[0]["n"].as_str().unwrap().parse().unwrap()),
        2,
        "{kind:?}"
    );

    write::update(&w, "orders", &[json!(1)], &json!({"amount": 6}))
        .await
        .unwrap();
    let second = actions.recv().await.unwrap();
    assert_eq!(
        (second.name.as_str(), second.keys.clone()),
        ("items.create", vec![keys[1].clone()]),
        "second item's events, in order"
    );
    assert_eq!(actions.recv().await.unwrap().name, "orders.items.create");
    let upd = actions.recv().await.unwrap();
    assert_eq!(
        (upd.name.as_str(), upd.keys.clone()),
        ("items.update", vec![json!(1)])
    );
    write::delete(&w, "orders", &[json!(2)]).await.unwrap();
    assert_eq!(actions.recv().await.unwrap().name, "orders.items.update");
    assert_eq!(actions.recv().await.unwrap().name, "items.delete");
    pool.close().await;
}
on_every_db!(
    filters_and_actions_wrap_writes_on_every_db,
    filters_and_actions_wrap_writes
);
