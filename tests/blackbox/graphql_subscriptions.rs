//! GraphQL subscriptions with a real WebSocket client (`graphql-transport-ws` on
//! `/graphql`): `<c>_mutated` messages for REST writes, filtered by event, stopped by
//! `complete`, and a subscriber whose token expires is closed.

use crate::graphql_query::{setup, setup_with};
use crate::harness::{Kind, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN};
use crate::on_every_db;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, token: &str) -> Ws {
    let mut req = format!("{}/graphql", url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    req.headers_mut().insert(
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let (ws, res) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    assert_eq!(
        res.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next text message as JSON; `None` if the socket closed (or nothing came in 10 s).
async fn recv_within(ws: &mut Ws, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

async fn recv(ws: &mut Ws) -> Value {
    recv_within(ws, Duration::from_secs(10))
        .await
        .expect("a message")
}

/// `ping` → `pong`: every subscription sent before it is listening once this returns.
async fn barrier(ws: &mut Ws) {
    send(ws, json!({"type": "ping"})).await;
    assert_eq!(recv(ws).await, json!({"type": "pong"}));
}

async fn subscriptions(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let mut ws = connect(&server.url, ADMIN_TOKEN).await;
    send(&mut ws, json!({"type": "connection_init", "payload": {}})).await;
    assert_eq!(recv(&mut ws).await, json!({"type": "connection_ack"}));
    send(&mut ws, json!({"type": "subscribe", "id": "all", "payload": {
        "query": "subscription { orders_mutated { key event data { id status customer { name } } } }"
    }}))
    .await;
    send(
        &mut ws,
        json!({"type": "subscribe", "id": "deletes", "payload": {
            "query": "subscription ($e: EventEnum) { orders_mutated(event: $e) { key event } }",
            "variables": {"e": "delete"}
        }}),
    )
    .await;
    barrier(&mut ws).await;

    let created = server
        .post("/items/orders", json!({"status": "New", "customer": 2}))
        .await;
    let id = created.assert_ok()["id"].to_string();
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "next", "id": "all", "payload": {"data": {"orders_mutated": {
            "key": id, "event": "create", "data": {"id": id, "status": "New", "customer": {"name": "Bob"}}
        }}}}),
        "{kind:?}"
    );
    server
        .patch(&format!("/items/orders/{id}"), json!({"status": "Paid"}))
        .await
        .assert_ok();
    let m = recv(&mut ws).await;
    assert_eq!(m["id"], "all");
    assert_eq!(m["payload"]["data"]["orders_mutated"]["event"], "update");
    assert_eq!(
        m["payload"]["data"]["orders_mutated"]["data"]["status"],
        "Paid"
    );

    let r = server.delete(&format!("/items/orders/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let mut got = vec![recv(&mut ws).await, recv(&mut ws).await];
    got.sort_by_key(|m| m["id"].as_str().unwrap().to_string());
    assert_eq!(
        got,
        vec![
            json!({"type": "next", "id": "all", "payload": {"data": {"orders_mutated": {"key": id, "event": "delete", "data": null}}}}),
            json!({"type": "next", "id": "deletes", "payload": {"data": {"orders_mutated": {"key": id, "event": "delete"}}}}),
        ]
    );
    // Other collections don't reach an orders subscription; `complete` stops one.
    server
        .post("/items/tags", json!({"label": "green"}))
        .await
        .assert_ok();
    send(&mut ws, json!({"type": "complete", "id": "all"})).await;
    barrier(&mut ws).await;
    let quiet = server
        .post("/items/orders", json!({"status": "Quiet"}))
        .await;
    let quiet = quiet.assert_ok()["id"].to_string();
    assert_eq!(recv_within(&mut ws, Duration::from_millis(700)).await, None);
    let r = server.delete(&format!("/items/orders/{quiet}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let m = recv(&mut ws).await;
    assert_eq!(m["id"], "deletes", "{m}");
    assert_eq!(m["payload"]["data"]["orders_mutated"]["key"], json!(quiet));

    // Not the protocol: subscribing before connection_init closes the socket.
    let mut early = connect(&server.url, ADMIN_TOKEN).await;
    send(&mut early, json!({"type": "subscribe", "id": "x", "payload": {"query": "subscription { orders_mutated { key } }"}})).await;
    assert_eq!(recv_within(&mut early, Duration::from_secs(5)).await, None);
}
on_every_db!(graphql_subscriptions, subscriptions);

/// A subscriber whose access token expires is closed by the host.
async fn expiring_token(kind: Kind) {
    let (_db, server) = setup_with(kind, &[("ACCESS_TOKEN_TTL", "2s")]).await;
    let login = server
        .anonymous()
        .post(
            "/auth/login",
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    let token = login.assert_ok()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ws = connect(&server.url, &token).await;
    send(&mut ws, json!({"type": "connection_init"})).await;
    assert_eq!(recv(&mut ws).await, json!({"type": "connection_ack"}));
    let started = std::time::Instant::now();
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(6), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(_) => break None,
            Err(_) => panic!("{kind:?}: not closed 6 s after a 2 s token"),
        }
    };
    assert_eq!(closed, Some(4403), "{kind:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
on_every_db!(graphql_subscription_token_expiry, expiring_token);

/// Changed items are re-read under the subscriber's permissions: a row its read
/// permission filters out sends nothing.
async fn subscriber_permissions(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let role = server.post("/roles", json!({"name": "Watcher"})).await;
    let role_id = role.assert_ok()["id"].as_str().unwrap().to_string();
    let policy = server
        .post("/policies", json!({"name": "Watchers", "app_access": true}))
        .await;
    let policy_id = policy.assert_ok()["id"].as_str().unwrap().to_string();
    server
        .post("/access", json!({"role": role_id, "policy": policy_id}))
        .await
        .assert_ok();
    server
        .post(
            "/permissions",
            json!({"policy": policy_id, "collection": "orders", "action": "read",
                   "fields": ["id", "status"], "permissions": {"status": {"_eq": "Paid"}}}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/users",
            json!({"email": "watcher@example.com", "password": "pw-123", "role": role_id,
                   "token": "watcher-token"}),
        )
        .await
        .assert_ok();
    let mut ws = connect(&server.url, "watcher-token").await;
    send(&mut ws, json!({"type": "connection_init"})).await;
    assert_eq!(recv(&mut ws).await, json!({"type": "connection_ack"}));
    send(
        &mut ws,
        json!({"type": "subscribe", "id": "1", "payload": {
            "query": "subscription { orders_mutated(event: create) { key data { status } } }"
        }}),
    )
    .await;
    barrier(&mut ws).await;
    server
        .post("/items/orders", json!({"status": "Hidden"}))
        .await
        .assert_ok();
    let paid = server
        .post("/items/orders", json!({"status": "Paid"}))
        .await;
    let paid = paid.assert_ok()["id"].to_string();
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "next", "id": "1", "payload": {"data": {"orders_mutated": {
            "key": paid, "data": {"status": "Paid"}
        }}}}),
        "{kind:?}: only the readable row"
    );
}
on_every_db!(graphql_subscriber_permissions, subscriber_permissions);
