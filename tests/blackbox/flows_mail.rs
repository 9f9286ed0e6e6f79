//! The seed walkthrough end to end, on every database: an action flow on
//! `items.create` of `orders` sends "You got a New Order!" with the order's values to a
//! real SMTP server (the mail catcher), and the run is logged. Also: a server that is
//! down or refuses the recipient fails the run (logged) without touching the request;
//! the mail operation's other body types; password reset and invitation mails.

use crate::flows_support::*;
use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::json;
use std::time::Instant;

async fn seed_walkthrough(kind: Kind) {
    let db = TestDb::create(kind).await;
    create_orders(&db).await;
    let server = start_with_mail(&db, &[]).await;
    let to = unique_address("owner");
    let body = "New order from {{$trigger.payload.customer_name}} ({{$trigger.payload.email}}): \
                {{$trigger.payload.item}} for {{$trigger.payload.amount}}, status {{$trigger.payload.status}}.";
    let (flow, _) = create_flow(
        &server,
        json!({"name": "New order mail", "trigger": "event", "accountability": "all",
               "options": {"type": "action", "scope": ["items.create"], "collections": ["orders"]}}),
        &[op("mail", "mail", json!({"to": [to], "subject": "You got a New Order!", "body": body}))],
    )
    .await;
    let started = Instant::now();
    let r = server
        .post(
            "/items/orders",
            json!({"customer_name": "Ada Lovelace", "email": "ada@example.com", "item": "Analytical Engine", "amount": 1843, "status": "new"}),
        )
        .await;
    r.assert_ok();
    // The request does not wait for the mail.
    assert!(started.elapsed().as_secs() < 5);
    let mail = wait_for_mail(&to).await;
    assert_eq!(mail["subject"], "You got a New Order!");
    assert_eq!(mail["from"], "shop@example.com");
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("New order from Ada Lovelace (ada@example.com): Analytical Engine for 1843, status new."),
        "{text}"
    );
    assert!(
        mail["html"]
            .as_str()
            .unwrap()
            .contains("<p>New order from Ada Lovelace"),
        "{mail}"
    );
    // The run is in the activity log with its steps and data chain.
    let logged = wait_for_runs(&server, &flow, 1, 5).await;
    let revision = &logged[0]["revisions"][0]["data"];
    assert_eq!(revision["steps"][0]["key"], "mail");
    assert_eq!(revision["steps"][0]["status"], "resolve");
    assert_eq!(
        revision["data"]["$trigger"]["payload"]["customer_name"],
        "Ada Lovelace"
    );
    assert_eq!(
        revision["steps"][0]["options"]["subject"],
        "You got a New Order!"
    );
}
on_every_db!(seed_walkthrough_sends_the_order_mail, seed_walkthrough);

async fn smtp_down_or_refusing(kind: Kind) {
    let db = TestDb::create(kind).await;
    create_orders(&db).await;
    // Nothing listens on this port: the SMTP server is down.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port().to_string();
    drop(dead);
    let server = Server::start_with(
        &db,
        &[
            ("EMAIL_TRANSPORT", "smtp"),
            ("EMAIL_SMTP_HOST", "127.0.0.1"),
            ("EMAIL_SMTP_PORT", &port),
            ("EMAIL_SMTP_IGNORE_TLS", "true"),
            ("EMAIL_SEND_TIMEOUT", "2s"),
        ],
    )
    .await;
    let (flow, _) = create_flow(
        &server,
        json!({"name": "mail", "trigger": "event", "accountability": "all",
               "options": {"type": "action", "scope": ["items.create"], "collections": ["orders"]}}),
        &[op("mail", "mail", json!({"to": "x@example.com", "subject": "hi", "body": "b"}))],
    )
    .await;
    let started = Instant::now();
    server
        .post("/items/orders", json!({"amount": 1}))
        .await
        .assert_ok();
    assert!(
        started.elapsed().as_secs() < 2,
        "the request never waits for mail"
    );
    assert_eq!(count(&db, "orders").await, 1);
    eventually(10, "the failed run is logged", || {
        let (server, flow) = (&server, flow.clone());
        async move {
            let r = runs(server, &flow).await;
            r.first().is_some_and(|run| {
                let step = &run["revisions"][0]["data"]["steps"][0];
                let last = &run["revisions"][0]["data"]["data"]["$last"];
                step["status"] == "reject" && last["code"] == "SERVICE_UNAVAILABLE"
            })
        }
    })
    .await;
    drop(server);

    // The catcher refuses recipients at refuse.test: the run fails the same way.
    let server = start_with_mail(&db, &[]).await;
    let (flow, _) = create_flow(
        &server,
        json!({"name": "refused", "trigger": "webhook", "accountability": "all", "options": {"method": "POST"}}),
        &[op("mail", "mail", json!({"to": "nobody@refuse.test", "subject": "hi", "body": "b"}))],
    )
    .await;
    let r = server
        .post(&format!("/flows/trigger/{flow}"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["code"], "SERVICE_UNAVAILABLE", "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().contains("email"),
        "{}",
        r.body
    );
}
on_every_db!(
    smtp_down_or_refusing_fails_the_run_not_the_request,
    smtp_down_or_refusing
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_bodies_templates_and_password_reset() {
    if !Kind::Sqlite.enabled() {
        return;
    }
    let db = TestDb::create(Kind::Sqlite).await;
    let templates = std::env::temp_dir().join(format!("{}_tpl", db.name));
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("receipt.liquid"),
        "<h1>Receipt {{ number }}</h1><p>{{ note }}</p>",
    )
    .unwrap();
    let server = start_with_mail(
        &db,
        &[
            ("EMAIL_TEMPLATES_PATH", templates.to_str().unwrap()),
            ("PUBLIC_URL", "http://rectus.test"),
        ],
    )
    .await;
    let (html_to, tpl_to, cc) = (
        unique_address("html"),
        unique_address("tpl"),
        unique_address("cc"),
    );
    let (flow, _) = create_flow(
        &server,
        json!({"name": "bodies", "trigger": "webhook", "options": {"method": "POST"}}),
        &[
            op("html", "mail", json!({"to": html_to, "cc": cc, "subject": "HTML", "type": "wysiwyg", "body": "<b>{{$trigger.body.who}}</b>", "fromName": "The Shop"})),
            op("tpl", "mail", json!({"to": tpl_to, "subject": "Receipt", "type": "template", "template": "receipt", "data": {"number": "{{$trigger.body.n}}", "note": "<script>"}})),
        ],
    )
    .await;
    let r = server
        .post(
            &format!("/flows/trigger/{flow}"),
            json!({"who": "Bo", "n": 7}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let m = wait_for_mail(&html_to).await;
    assert!(m["html"].as_str().unwrap().contains("<b>Bo</b>"), "{m}");
    assert!(
        m["headers"]["From"].as_str().unwrap().contains("The Shop"),
        "{m}"
    );
    assert!(
        m["to"].as_array().unwrap().iter().any(|t| t == &json!(cc)),
        "cc is a recipient: {m}"
    );
    let m = wait_for_mail(&tpl_to).await;
    let html = m["html"].as_str().unwrap();
    assert!(html.contains("<h1>Receipt 7</h1>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;"),
        "values are escaped: {html}"
    );

    // A template that does not exist fails the operation: the webhook shows the error.
    let (flow, _) = create_flow(
        &server,
        json!({"name": "missing template", "trigger": "webhook", "options": {"method": "POST"}}),
        &[op(
            "tpl",
            "mail",
            json!({"to": "a@example.com", "subject": "x", "type": "template", "template": "nope"}),
        )],
    )
    .await;
    let r = server
        .post(&format!("/flows/trigger/{flow}"), json!({}))
        .await;
    assert_eq!(r.body["code"], "INVALID_PAYLOAD", "{}", r.body);

    // Password reset now mails the link (built-in template).
    let user = unique_address("reset");
    server
        .post(
            "/users",
            json!({"email": user, "password": "secret-pass-1"}),
        )
        .await
        .assert_ok();
    let r = server
        .anonymous()
        .post("/auth/password/request", json!({"email": user}))
        .await;
    assert_eq!(r.status, 204);
    let m = wait_for_mail(&user).await;
    assert_eq!(m["subject"], "Password Reset Request");
    let html = m["html"].as_str().unwrap();
    assert!(
        html.contains("http://rectus.test/admin/reset-password?token="),
        "{html}"
    );

    // Inviting mails a link whose token sets the password and activates the account.
    let role = server
        .post("/roles", json!({"name": "Staff"}))
        .await
        .assert_ok()["id"]
        .clone();
    let invited = unique_address("invited");
    let r = server
        .post("/users/invite", json!({"email": invited, "role": role}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let user = server
        .get(&format!("/users?filter[email][_eq]={invited}"))
        .await;
    assert_eq!(user.assert_ok()[0]["status"], "invited");
    let m = wait_for_mail(&invited).await;
    let html = m["html"].as_str().unwrap();
    let token = html
        .split("accept-invite?token=")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap_or_else(|| panic!("no link: {html}"))
        .to_string();
    server
        .anonymous()
        .post(
            "/users/invite/accept",
            json!({"token": "nope", "password": "x"}),
        )
        .await
        .assert_error(403, "INVALID_TOKEN");
    let r = server
        .anonymous()
        .post(
            "/users/invite/accept",
            json!({"token": token, "password": "welcome-123"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let login = server
        .anonymous()
        .post(
            "/auth/login",
            json!({"email": invited, "password": "welcome-123"}),
        )
        .await;
    login.assert_ok();
    server
        .anonymous()
        .post(
            "/users/invite/accept",
            json!({"token": token, "password": "again"}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/users/invite",
            json!({"email": "not-an-email", "role": role}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/users/invite",
            json!({"email": invited, "role": role, "invite_url": "https://evil.test"}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    let r = server
        .anonymous()
        .post("/users/invite", json!({"email": invited, "role": role}))
        .await;
    assert!(matches!(r.status, 401 | 403), "{}", r.body);
    std::fs::remove_dir_all(templates).ok();
}
