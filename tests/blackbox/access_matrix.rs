//! Access control on reads and writes, through the REST API on every database: the
//! seed's Public walkthrough, an editor limited to its own rows and some fields, a
//! reviewer who never sees `email`, two policies merged per row, and leak tests — no row
//! or field the caller may not read shows through relations, relational filters,
//! `_some`, search, sort, aggregates, `groupBy` or `meta` counts.

use crate::harness::{Client, Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

/// customers ←(customer)— orders, with the one-to-many `customers.orders`.
async fn setup(kind: Kind) -> (TestDb, Server) {
    let db = TestDb::create(kind).await;
    let serial = kind.serial_pk();
    db.exec(&format!(
        "CREATE TABLE customers (id {serial}, name varchar(100) not null, email varchar(100), owner varchar(36));\n\
         CREATE TABLE orders (id {serial}, customer int references customers(id), amount int, status varchar(20), owner varchar(36), note varchar(50))"
    ))
    .await;
    db.exec(
        "INSERT INTO customers (name, email) VALUES ('Ada', 'ada@mail.test'), ('Bob', 'bob@mail.test');\n\
         INSERT INTO orders (customer, amount, status) VALUES (1, 10, 'Paid'), (2, 20, 'Pending'), (1, 30, 'Paid'), (1, 40, 'Pending')",
    )
    .await;
    let mut server = Server::start(&db).await;
    server.stop();
    db.exec(
        "INSERT INTO rectus_relations (many_collection, many_field, one_collection, one_field, one_deselect_action) VALUES ('orders', 'customer', 'customers', 'orders', 'nullify');\n\
         INSERT INTO rectus_fields (collection, field, special) VALUES ('customers', 'orders', 'o2m')",
    )
    .await;
    let server = Server::start(&db).await;
    (db, server)
}

/// A role with one policy holding `permissions`, and a user of it with a static token.
/// Returns the user's id and token.
async fn user_with(server: &Server, name: &str, permissions: Vec<Value>) -> (String, String) {
    let policy = policy_with(server, name, permissions).await;
    let role = server.post("/roles", json!({"name": name})).await;
    let role = role.assert_ok()["id"].as_str().unwrap().to_string();
    server
        .post("/access", json!({"role": role, "policy": policy}))
        .await
        .assert_ok();
    let token = format!("token-{name}");
    let user = server
        .post(
            "/users",
            json!({"email": format!("{name}@example.com"), "role": role, "token": token}),
        )
        .await;
    let id = user.assert_ok()["id"].as_str().unwrap().to_string();
    (id, token)
}

async fn policy_with(server: &Server, name: &str, permissions: Vec<Value>) -> String {
    let policy = server.post("/policies", json!({"name": name})).await;
    let policy = policy.assert_ok()["id"].as_str().unwrap().to_string();
    for mut p in permissions {
        p["policy"] = json!(policy);
        server.post("/permissions", p).await.assert_ok();
    }
    policy
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn data(c: &Client<'_>, path: &str) -> Value {
    let r = c.get(path).await;
    r.assert_ok().clone()
}

const PUBLIC: &str = "abf8a154-5b1c-4a46-ac9c-7300570f4f17";

/// The seed walkthrough: locked down by default; Public read on `orders` only.
async fn public_read_walkthrough(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let anon = server.anonymous();
    anon.get("/items/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post(
            "/permissions",
            json!({"policy": PUBLIC, "collection": "orders", "action": "read", "fields": ["*"]}),
        )
        .await
        .assert_ok();
    let r = data(&anon, "/items/orders?sort=id").await;
    assert_eq!(ids(&r), vec![1, 2, 3, 4], "{kind:?}");
    assert_eq!(
        r[0]["customer"],
        json!(1),
        "the related key, not the object"
    );
    // A relation into a collection Public may not read is left out of `*.*` and dropped
    // when named, as in Directus; filtering through it is forbidden.
    let r = data(&anon, "/items/orders/1?fields=*.*").await;
    assert_eq!(r["customer"], json!(1), "{kind:?}");
    let r = data(&anon, "/items/orders/1?fields=id,customer.name").await;
    assert_eq!(r, json!({"id": 1}), "{kind:?}");
    anon.get("/items/orders?filter[customer][name][_eq]=Ada")
        .await
        .assert_error(403, "FORBIDDEN");
    anon.get("/items/orders?sort=customer.name")
        .await
        .assert_error(403, "FORBIDDEN");
    anon.get("/items/customers")
        .await
        .assert_error(403, "FORBIDDEN");
    anon.post("/items/orders", json!({"amount": 1}))
        .await
        .assert_error(403, "FORBIDDEN");
    anon.patch("/items/orders/1", json!({"amount": 1}))
        .await
        .assert_error(403, "FORBIDDEN");
    anon.delete("/items/orders/1")
        .await
        .assert_error(403, "FORBIDDEN");
    let r = server.get("/items/orders/1").await;
    assert_eq!(r.assert_ok()["amount"], json!(10), "nothing was written");
    // System collections stay closed.
    anon.get("/users").await.assert_error(403, "FORBIDDEN");
    anon.get("/permissions")
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(public_read_walkthrough_on_every_db, public_read_walkthrough);

/// A reviewer sees every row but never `email`: not in `*`, not by name, not through a
/// filter, sort, search, aggregate, groupBy or a relation.
async fn reviewer_never_sees_email(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let (_, token) = user_with(
        &server,
        "reviewer",
        vec![
            json!({"collection": "customers", "action": "read", "fields": ["id", "name", "orders"]}),
            json!({"collection": "orders", "action": "read", "fields": "*"}),
        ],
    )
    .await;
    let rv = server.as_token(Some(&token));
    let r = data(&rv, "/items/customers?sort=id").await;
    assert_eq!(
        r,
        json!([{"id": 1, "name": "Ada", "orders": [1, 3, 4]}, {"id": 2, "name": "Bob", "orders": [2]}]),
        "{kind:?}"
    );
    let forbidden = rv.get("/items/customers?fields=email").await;
    forbidden.assert_error(403, "FORBIDDEN");
    assert_eq!(
        forbidden.message(),
        "You don't have permission to access field \"email\" in collection \"customers\" or it does not exist. Queried in root."
    );
    for path in [
        "/items/customers?filter[email][_contains]=ada",
        "/items/customers?sort=email",
        "/items/customers?aggregate[count]=email",
        "/items/customers?aggregate[count]=*&groupBy[]=email",
        "/items/orders?fields=customer.email",
        "/items/orders?filter[customer][email][_eq]=ada@mail.test",
    ] {
        rv.get(path).await.assert_error(403, "FORBIDDEN");
    }
    // Search looks at readable fields only.
    let r = data(&rv, "/items/customers?search=mail.test").await;
    assert_eq!(
        r,
        json!([]),
        "{kind:?}: search must not match the hidden email"
    );
    let r = data(&rv, "/items/orders/1?fields=*.*").await;
    assert_eq!(
        r["customer"],
        json!({"id": 1, "name": "Ada", "orders": [1, 3, 4]}),
        "{kind:?}"
    );
    rv.post("/items/customers", json!({"name": "X"}))
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(
    reviewer_never_sees_email_on_every_db,
    reviewer_never_sees_email
);

/// An editor reads and edits only its own orders, only some fields; its customers are the
/// ones it owns. Every read path agrees on which rows exist.
async fn editor_own_rows(kind: Kind) {
    let (db, server) = setup(kind).await;
    let mine = json!({"owner": {"_eq": "$CURRENT_USER"}});
    let (me, token) = user_with(
        &server,
        "editor",
        vec![
            json!({"collection": "orders", "action": "read", "fields": ["id", "amount", "status", "customer", "owner"], "permissions": mine}),
            json!({"collection": "orders", "action": "update", "fields": ["amount", "status"], "permissions": mine}),
            json!({"collection": "orders", "action": "create", "fields": ["amount", "status", "customer"],
                   "presets": {"owner": "$CURRENT_USER", "status": "draft"}, "validation": {"amount": {"_gt": 0}}}),
            json!({"collection": "customers", "action": "read", "fields": ["id", "name", "orders"], "permissions": mine}),
        ],
    )
    .await;
    let (other, _) = user_with(&server, "other", vec![]).await;
    db.exec(&format!(
        "UPDATE orders SET owner = '{me}' WHERE id IN (1, 3);\n\
         UPDATE orders SET owner = '{other}' WHERE id IN (2, 4);\n\
         UPDATE customers SET owner = '{me}' WHERE id = 1;\n\
         UPDATE customers SET owner = '{other}' WHERE id = 2"
    ))
    .await;
    let ed = server.as_token(Some(&token));

    // Lists, counts, single items.
    let r = ed.get("/items/orders?meta=*").await;
    assert_eq!(ids(r.assert_ok()), vec![1, 3], "{kind:?}");
    assert_eq!(
        r.body["meta"],
        json!({"total_count": 2, "filter_count": 2}),
        "{kind:?}"
    );
    ed.get("/items/orders/2")
        .await
        .assert_error(403, "FORBIDDEN");
    ed.get("/items/orders/999")
        .await
        .assert_error(403, "FORBIDDEN");
    ed.get("/items/orders?fields=note")
        .await
        .assert_error(403, "FORBIDDEN");
    // Filters, sort, search, aggregates and groups see only the editor's rows.
    assert_eq!(
        ids(&data(&ed, "/items/orders?filter[amount][_gte]=20").await),
        vec![3]
    );
    assert_eq!(
        ids(&data(&ed, "/items/orders?sort=-amount&limit=1").await),
        vec![3]
    );
    assert_eq!(
        data(&ed, "/items/orders?search=Pending").await,
        json!([]),
        "{kind:?}"
    );
    let r = data(
        &ed,
        "/items/orders?aggregate[sum]=amount&aggregate[count]=*",
    )
    .await;
    assert_eq!(r[0]["count"].to_string().trim_matches('"'), "2", "{kind:?}");
    assert_eq!(
        r[0]["sum"]["amount"].to_string().trim_matches('"'),
        "40",
        "{kind:?}"
    );
    let r = data(&ed, "/items/orders?aggregate[count]=*&groupBy[]=status").await;
    assert_eq!(
        r.as_array().unwrap().len(),
        1,
        "{kind:?}: only Paid rows are the editor's"
    );
    // Relations: the one-to-many lists only readable children, `_some` sees only them.
    let r = data(&ed, "/items/customers?fields=id,orders").await;
    assert_eq!(r, json!([{"id": 1, "orders": [1, 3]}]), "{kind:?}");
    let r = data(&ed, "/items/customers?fields=id,orders.amount").await;
    assert_eq!(
        r,
        json!([{"id": 1, "orders": [{"amount": 10}, {"amount": 30}]}]),
        "{kind:?}"
    );
    let r = data(
        &ed,
        "/items/customers?filter[orders][_some][amount][_eq]=40",
    )
    .await;
    assert_eq!(r, json!([]), "{kind:?}: _some must not see order 4");
    let r = data(&ed, "/items/customers?fields=id,count(orders)").await;
    assert_eq!(
        r[0]["orders_count"].to_string().trim_matches('"'),
        "2",
        "{kind:?}"
    );
    let r = data(&ed, "/items/orders?filter[customer][name][_eq]=Bob").await;
    assert_eq!(r, json!([]), "{kind:?}");
    let r = data(&ed, "/items/orders/1?fields=customer.name").await;
    assert_eq!(r, json!({"customer": {"name": "Ada"}}));

    // Writes.
    let r = ed
        .patch("/items/orders/1", json!({"status": "Shipped"}))
        .await;
    assert_eq!(r.assert_ok()["status"], "Shipped");
    ed.patch("/items/orders/2", json!({"status": "x"}))
        .await
        .assert_error(403, "FORBIDDEN");
    ed.patch("/items/orders/1", json!({"owner": other}))
        .await
        .assert_error(403, "FORBIDDEN");
    ed.patch(
        "/items/orders",
        json!({"keys": [1, 2], "data": {"amount": 5}}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    // By query: only the rows the editor can read are targeted.
    ed.patch(
        "/items/orders",
        json!({"query": {"limit": -1}, "data": {"amount": 7}}),
    )
    .await
    .assert_ok();
    let amounts = db.query("SELECT id, amount FROM orders ORDER BY id").await;
    let amounts: Vec<i64> = amounts
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![7, 20, 7, 40], "{kind:?}");
    let r = ed
        .post("/items/orders", json!({"amount": 5, "customer": 1}))
        .await;
    let created = r.assert_ok();
    assert_eq!(created["owner"], json!(me), "preset");
    assert_eq!(created["status"], "draft", "preset");
    let r = ed.post("/items/orders", json!({"amount": 0})).await;
    r.assert_error(400, "FAILED_VALIDATION");
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "amount");
    assert_eq!(r.body["errors"][0]["extensions"]["type"], "gt");
    ed.post("/items/orders", json!({"amount": 5, "note": "x"}))
        .await
        .assert_error(403, "FORBIDDEN");
    // A nested write is checked against the related collection's permissions.
    ed.post(
        "/items/orders",
        json!({"amount": 5, "customer": {"name": "New"}}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    ed.delete("/items/orders/1")
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM customers").await,
        2,
        "the rejected nested create left nothing"
    );
    // A related row the editor may not read expands to null, in both read shapes.
    db.exec("UPDATE orders SET customer = 2 WHERE id = 3").await;
    let want = json!([{"id": 1, "customer": {"name": "Ada"}}, {"id": 3, "customer": null}]);
    let path = "/items/orders?fields=id,customer.name&filter[id][_in]=1,3&sort=id";
    assert_eq!(data(&ed, path).await, want, "{kind:?}");
    let r = ed.get(&format!("{path}&meta=filter_count")).await;
    assert_eq!(r.assert_ok(), &want, "{kind:?}");
}
on_every_db!(editor_own_rows_on_every_db, editor_own_rows);

/// Two policies on one collection: rows visible through either; a field granted by one
/// only is null on rows only the other reaches — also for filters on it.
async fn policies_merge_per_row(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let (_, token) = user_with(
        &server,
        "merged",
        vec![json!({"collection": "orders", "action": "read", "fields": "*", "permissions": {"status": {"_eq": "Paid"}}})],
    )
    .await;
    let second = policy_with(
        &server,
        "second",
        vec![json!({"collection": "orders", "action": "read", "fields": ["id", "status"], "permissions": {"status": {"_eq": "Pending"}}})],
    )
    .await;
    let user = server
        .get("/users?filter[email][_eq]=merged@example.com&fields=id")
        .await;
    let user = user.assert_ok()[0]["id"].clone();
    server
        .post("/access", json!({"user": user, "policy": second}))
        .await
        .assert_ok();
    let c = server.as_token(Some(&token));
    let r = data(&c, "/items/orders?fields=id,amount&sort=id").await;
    assert_eq!(
        r,
        json!([{"id": 1, "amount": 10}, {"id": 2, "amount": null}, {"id": 3, "amount": 30}, {"id": 4, "amount": null}]),
        "{kind:?}"
    );
    assert_eq!(
        data(&c, "/items/orders?filter[amount][_eq]=20").await,
        json!([]),
        "{kind:?}"
    );
    let r = data(&c, "/items/orders?aggregate[sum]=amount").await;
    assert_eq!(
        r[0]["sum"]["amount"].to_string().trim_matches('"'),
        "40",
        "{kind:?}"
    );
}
on_every_db!(policies_merge_per_row_on_every_db, policies_merge_per_row);

/// A permission filter naming a field that was dropped denies (no rows), never a 500.
async fn stale_permission_filter_denies(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let (_, token) = user_with(
        &server,
        "stale",
        vec![
            json!({"collection": "orders", "action": "read", "fields": "*", "permissions": {"gone": {"_eq": 1}}}),
            json!({"collection": "orders", "action": "update", "fields": "*", "permissions": {"gone": {"_eq": 1}}}),
        ],
    )
    .await;
    let c = server.as_token(Some(&token));
    assert_eq!(data(&c, "/items/orders").await, json!([]), "{kind:?}");
    c.patch("/items/orders/1", json!({"amount": 1}))
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(
    stale_permission_filter_denies_on_every_db,
    stale_permission_filter_denies
);

/// A non-admin allowed to manage users, roles, access and policies still can't raise its
/// own rights.
async fn no_privilege_escalation(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let all = |c: &str, a: &str| json!({"collection": c, "action": a, "fields": "*"});
    let mut perms = Vec::new();
    for c in [
        "directus_users",
        "directus_roles",
        "directus_policies",
        "directus_access",
        "directus_permissions",
    ] {
        for a in ["create", "read", "update", "delete"] {
            perms.push(all(c, a));
        }
    }
    let (me, token) = user_with(&server, "manager", perms).await;
    let c = server.as_token(Some(&token));
    let admin_policy = server
        .get("/policies?filter[admin_access][_eq]=true&fields=id")
        .await
        .assert_ok()[0]["id"]
        .clone();
    let my_role = server
        .get(&format!("/users/{me}?fields=role"))
        .await
        .assert_ok()["role"]
        .clone();
    let my_policy = server
        .get("/policies?filter[name][_eq]=manager&fields=id")
        .await
        .assert_ok()[0]["id"]
        .clone();
    let admin_role = server
        .get("/roles?filter[name][_eq]=Administrator&fields=id")
        .await
        .assert_ok()[0]["id"]
        .clone();
    c.post("/access", json!({"role": my_role, "policy": admin_policy}))
        .await
        .assert_error(403, "FORBIDDEN");
    c.post("/access", json!({"user": me, "policy": admin_policy}))
        .await
        .assert_error(403, "FORBIDDEN");
    c.patch(
        &format!("/policies/{my_policy}"),
        json!({"admin_access": true}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    c.post("/policies", json!({"name": "root", "admin_access": true}))
        .await
        .assert_error(403, "FORBIDDEN");
    c.patch(&format!("/users/{me}"), json!({"role": admin_role}))
        .await
        .assert_error(403, "FORBIDDEN");
    c.patch(&format!("/roles/{my_role}"), json!({"name": "x"}))
        .await
        .assert_error(403, "FORBIDDEN");
    c.post(
        "/permissions",
        json!({"policy": my_policy, "collection": "customers", "action": "read", "fields": "*"}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    // The access row that gives it its policy can't be moved or deleted.
    let row = server
        .get(&format!(
            "/access?filter[policy][_eq]={}&fields=id",
            my_policy.as_str().unwrap()
        ))
        .await
        .assert_ok()[0]["id"]
        .clone();
    c.patch(
        &format!("/access/{}", row.as_str().unwrap()),
        json!({"policy": admin_policy}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    c.delete(&format!("/access/{}", row.as_str().unwrap()))
        .await
        .assert_error(403, "FORBIDDEN");
    // Still not an administrator.
    c.get("/items/orders").await.assert_error(403, "FORBIDDEN");
    // Nor hand administrator rights to anyone else (who it could then act as).
    let other = c
        .post("/users", json!({"email": "helper@example.com"}))
        .await;
    let other = other.assert_ok()["id"].clone();
    for (path, body) in [
        (
            "/users",
            json!({"email": "root2@example.com", "role": admin_role}),
        ),
        ("/access", json!({"user": other, "policy": admin_policy})),
        ("/roles", json!({"name": "Sub", "parent": admin_role})),
        (
            "/users",
            json!({"email": "n@example.com", "role": {"name": "Fresh", "parent": admin_role}}),
        ),
    ] {
        c.post(path, body.clone())
            .await
            .assert_error(403, "FORBIDDEN");
    }
    c.patch(
        &format!("/users/{}", other.as_str().unwrap()),
        json!({"role": admin_role}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    assert_eq!(
        server
            .get("/users?filter[email][_in]=root2@example.com,n@example.com")
            .await
            .assert_ok(),
        &json!([]),
        "{kind:?}"
    );
    // What it may do: manage others.
    c.post("/roles", json!({"name": "Helpers"}))
        .await
        .assert_ok();
    c.patch(
        &format!("/users/{}", other.as_str().unwrap()),
        json!({"role": {"name": "Plain"}}),
    )
    .await
    .assert_ok();
}
on_every_db!(no_privilege_escalation_on_every_db, no_privilege_escalation);

/// `$CURRENT_USER.<field>` in a permission filter: the caller's own value.
async fn current_user_fields(kind: Kind) {
    let (db, server) = setup(kind).await;
    let (_, token) = user_with(
        &server,
        "varuser",
        vec![
            json!({"collection": "customers", "action": "read", "fields": ["id", "name"],
                    "permissions": {"email": {"_eq": "$CURRENT_USER.email"}}}),
        ],
    )
    .await;
    db.exec("UPDATE customers SET email = 'varuser@example.com' WHERE id = 2")
        .await;
    let c = server.as_token(Some(&token));
    assert_eq!(
        data(&c, "/items/customers").await,
        json!([{"id": 2, "name": "Bob"}]),
        "{kind:?}"
    );
    // Anonymous: `$CURRENT_USER.email` is null, which no customer's email equals.
    server
        .anonymous()
        .get("/items/customers")
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(current_user_fields_on_every_db, current_user_fields);

/// Many-to-any items of a collection the caller may not read stay raw keys, and rows of a
/// readable one outside its rule are not there; filters through them agree.
async fn many_to_any_under_permissions(kind: Kind) {
    let (_db, server) = crate::m2a::setup(kind).await;
    let (_, token) = user_with(
        &server,
        "m2a",
        vec![
            json!({"collection": "pages", "action": "read", "fields": "*"}),
            json!({"collection": "pages_sections", "action": "read", "fields": "*"}),
            json!({"collection": "headings", "action": "read", "fields": "*", "permissions": {"title": {"_eq": "Welcome"}}}),
        ],
    )
    .await;
    let c = server.as_token(Some(&token));
    let r = c
        .get("/items/pages?fields=id,sections.item.*&filter[id][_in]=1,2&sort=id")
        .await;
    let text = r.assert_ok().to_string();
    assert!(text.contains("Welcome"), "{kind:?}: {text}");
    for hidden in ["About us", "Hello world", "We make things"] {
        assert!(!text.contains(hidden), "{kind:?}: {hidden} leaked: {text}");
    }
    c.get("/items/pages?filter[sections][item:texts][body][_contains]=Hello")
        .await
        .assert_error(403, "FORBIDDEN");
    let r = data(
        &c,
        "/items/pages?filter[sections][item:headings][title][_eq]=About us",
    )
    .await;
    assert_eq!(r, json!([]), "{kind:?}");
    let r = data(
        &c,
        "/items/pages?fields=id&filter[sections][item:headings][title][_eq]=Welcome",
    )
    .await;
    assert_eq!(r, json!([{"id": 1}]), "{kind:?}");
}
on_every_db!(
    many_to_any_under_permissions_on_every_db,
    many_to_any_under_permissions
);

/// A field masked per row (`CASE WHEN … THEN col END`) keeps its type's JSON form on
/// every database: booleans, timestamps, decimals and JSON as an admin reads them.
async fn masked_fields_keep_their_formats(kind: Kind) {
    let db = TestDb::create(kind).await;
    let (boolean, ts, json_ty) = match kind {
        Kind::Postgres => ("boolean", "timestamptz", "json"),
        Kind::MySql => ("tinyint(1)", "datetime", "json"),
        Kind::Sqlite => ("boolean", "datetime", "json"),
    };
    db.exec(&format!(
        "CREATE TABLE flags (id integer primary key, kind varchar(10), done {boolean}, at {ts}, day date, price decimal(10,2), data {json_ty})"
    ))
    .await;
    db.exec(
        "INSERT INTO flags (id, kind, done, at, day, price, data) VALUES (1, 'a', true, '2026-01-02 03:04:05', '2026-01-02', 12.50, '{\"k\": [1, 2]}'), (2, 'b', false, '2026-02-03 04:05:06', '2026-02-03', 3.25, '{\"k\": null}')",
    )
    .await;
    let server = Server::start(&db).await;
    let (_, token) = user_with(
        &server,
        "flags",
        vec![json!({"collection": "flags", "action": "read", "fields": "*", "permissions": {"kind": {"_eq": "a"}}})],
    )
    .await;
    let other = policy_with(
        &server,
        "flags-b",
        vec![json!({"collection": "flags", "action": "read", "fields": ["id", "kind"], "permissions": {"kind": {"_eq": "b"}}})],
    )
    .await;
    let user = server
        .get("/users?filter[email][_eq]=flags@example.com&fields=id")
        .await;
    let user = user.assert_ok()[0]["id"].clone();
    server
        .post("/access", json!({"user": user, "policy": other}))
        .await
        .assert_ok();
    let admin = data(&server.admin(), "/items/flags?sort=id").await;
    let c = server.as_token(Some(&token));
    let mine = data(&c, "/items/flags?sort=id").await;
    assert_eq!(mine[0], admin[0], "{kind:?}: row a as the admin reads it");
    assert_eq!(
        mine[1],
        json!({"id": 2, "kind": "b", "done": null, "at": null, "day": null, "price": null, "data": null}),
        "{kind:?}"
    );
    // The same through a relation-free one-row read (meta asks for the one-row shape).
    let r = c.get("/items/flags?sort=id&meta=total_count").await;
    assert_eq!(r.assert_ok(), &mine, "{kind:?}: both read shapes agree");
    assert_eq!(r.body["meta"]["total_count"], 2);
}
on_every_db!(
    masked_fields_keep_their_formats_on_every_db,
    masked_fields_keep_their_formats
);

/// A policy with `ip_access` applies only to requests from its addresses.
async fn ip_access_limits_a_policy(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let (_, token) = user_with(
        &server,
        "office",
        vec![json!({"collection": "orders", "action": "read", "fields": ["id"]})],
    )
    .await;
    let policy = server
        .get("/policies?filter[name][_eq]=office&fields=id")
        .await;
    let policy = policy.assert_ok()[0]["id"].as_str().unwrap().to_string();
    let c = server.as_token(Some(&token));
    assert_eq!(
        ids(&data(&c, "/items/orders?sort=id").await),
        vec![1, 2, 3, 4]
    );
    server
        .patch(
            &format!("/policies/{policy}"),
            json!({"ip_access": ["10.0.0.0/8"]}),
        )
        .await
        .assert_ok();
    c.get("/items/orders").await.assert_error(403, "FORBIDDEN");
    server
        .patch(
            &format!("/policies/{policy}"),
            json!({"ip_access": ["10.0.0.0/8", "127.0.0.0/8", "::1"]}),
        )
        .await
        .assert_ok();
    assert_eq!(
        ids(&data(&c, "/items/orders?sort=id").await),
        vec![1, 2, 3, 4],
        "{kind:?}"
    );
}
on_every_db!(
    ip_access_limits_a_policy_on_every_db,
    ip_access_limits_a_policy
);

/// Deletes and batch updates reach only the rows their permission filters match; one key
/// outside fails the whole request.
async fn deletes_and_batches_reach_only_permitted_rows(kind: Kind) {
    let (db, server) = setup(kind).await;
    let pending = json!({"status": {"_eq": "Pending"}});
    let (_, token) = user_with(
        &server,
        "clerk",
        vec![
            json!({"collection": "orders", "action": "read", "fields": "*"}),
            json!({"collection": "orders", "action": "delete", "permissions": pending}),
            json!({"collection": "orders", "action": "update", "fields": ["amount"], "permissions": pending}),
        ],
    )
    .await;
    let c = server.as_token(Some(&token));
    c.patch(
        "/items/orders",
        json!([{"id": 2, "amount": 21}, {"id": 1, "amount": 11}]),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    let r = c
        .patch(
            "/items/orders",
            json!([{"id": 2, "amount": 21}, {"id": 4, "amount": 41}]),
        )
        .await;
    r.assert_ok();
    let amounts = db.query("SELECT amount FROM orders ORDER BY id").await;
    let amounts: Vec<i64> = amounts
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(
        amounts,
        vec![10, 21, 30, 41],
        "{kind:?}: only the allowed batch landed"
    );
    c.delete("/items/orders/1")
        .await
        .assert_error(403, "FORBIDDEN");
    c.delete("/items/orders/999")
        .await
        .assert_error(403, "FORBIDDEN");
    let r = c
        .send_raw("DELETE", "/items/orders", "application/json", "[2, 3]")
        .await;
    r.assert_error(403, "FORBIDDEN");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM orders").await,
        4,
        "{kind:?}"
    );
    assert_eq!(c.delete("/items/orders/2").await.status, 204);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM orders").await, 3);
}
on_every_db!(
    deletes_and_batches_reach_only_permitted_rows_on_every_db,
    deletes_and_batches_reach_only_permitted_rows
);
