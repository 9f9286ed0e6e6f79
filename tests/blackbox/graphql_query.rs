//! `POST /graphql` queries through the GraphQL module: the REST read checks rewritten in
//! Directus's GraphQL dialect return the same rows (filters, sort, paging, search,
//! many-to-one / one-to-many / many-to-many nesting with their own arguments, aggregates
//! with groupBy, singletons), on every database.

use crate::harness::{Kind, Resp, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

/// Customers, orders (many-to-one customer, one-to-many `lines`), a tags many-to-many
/// through `order_tags`, and the `site` singleton.
pub async fn setup(kind: Kind) -> (TestDb, Server) {
    setup_with(kind, &[]).await
}

pub async fn setup_with(kind: Kind, env: &[(&str, &str)]) -> (TestDb, Server) {
    let db = TestDb::create(kind).await;
    let serial = match kind {
        Kind::Postgres => "serial primary key",
        Kind::MySql => "int auto_increment primary key",
        Kind::Sqlite => "integer primary key",
    };
    db.exec(&format!(
        "CREATE TABLE customers (id {serial}, name varchar(100) not null);\n\
         CREATE TABLE orders (id {serial}, customer int references customers(id), amount float, status varchar(20), placed date);\n\
         CREATE TABLE order_lines (id {serial}, order_id int references orders(id), qty int);\n\
         CREATE TABLE tags (id {serial}, label varchar(20));\n\
         CREATE TABLE order_tags (id {serial}, orders_id int references orders(id), tags_id int references tags(id));\n\
         CREATE TABLE site (id {serial}, title varchar(50))"
    ))
    .await;
    db.exec(
        "INSERT INTO customers (name) VALUES ('Ada'), ('Bob');\n\
         INSERT INTO orders (customer, amount, status, placed) VALUES (1, 10, 'Paid', '2024-01-05'), (2, 20, 'Pending', '2024-02-10'), (1, 30, 'Paid', '2025-03-15');\n\
         INSERT INTO order_lines (order_id, qty) VALUES (1, 2), (1, 4), (3, 1);\n\
         INSERT INTO tags (label) VALUES ('red'), ('blue');\n\
         INSERT INTO order_tags (orders_id, tags_id) VALUES (1, 1), (1, 2), (3, 2);\n\
         INSERT INTO site (title) VALUES ('Home')",
    )
    .await;
    let mut server = Server::start(&db).await;
    server.stop();
    let q = |s: &str| match kind {
        Kind::MySql => format!("`{s}`"),
        _ => format!("\"{s}\""),
    };
    db.exec(&format!(
        "INSERT INTO rectus_relations (many_collection, many_field, one_collection, one_field, one_deselect_action) VALUES ('order_lines', 'order_id', 'orders', 'lines', 'nullify');\n\
         INSERT INTO rectus_relations (many_collection, many_field, one_collection, one_field, junction_field, one_deselect_action) VALUES ('order_tags', 'orders_id', 'orders', 'tags', 'tags_id', 'nullify');\n\
         INSERT INTO rectus_relations (many_collection, many_field, one_collection, junction_field, one_deselect_action) VALUES ('order_tags', 'tags_id', 'tags', 'orders_id', 'nullify');\n\
         INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('orders', 'lines', 'o2m', {f}, {f}, {t});\n\
         INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('orders', 'tags', 'm2m', {f}, {f}, {t});\n\
         INSERT INTO rectus_collections (collection, singleton, {h}, archive_app_filter, collapse, versioning) VALUES ('site', {t}, {f}, {t}, 'open', {f})",
        h = q("hidden"),
        r = q("readonly"),
        s = q("searchable"),
        t = if kind == Kind::Postgres { "true" } else { "1" },
        f = if kind == Kind::Postgres { "false" } else { "0" },
    ))
    .await;
    let server = Server::start_with(&db, env).await;
    (db, server)
}

pub async fn gql(server: &Server, query: &str) -> Resp {
    server.post("/graphql", json!({ "query": query })).await
}

/// The `data` of a successful GraphQL answer.
#[track_caller]
pub fn ok(r: &Resp) -> &Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    &r.body["data"]
}

/// Numbers compared as numbers: GraphQL's `Float` prints `20.0` where REST has `20`.
fn numbers_as_floats(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// REST rows with their keys as GraphQL serialises IDs (strings).
fn ids_as_strings(mut v: Value) -> Value {
    match &mut v {
        Value::Array(items) => {
            for i in items.iter_mut() {
                *i = ids_as_strings(i.take());
            }
        }
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k == "id" {
                    if let Value::Number(n) = val {
                        *val = Value::String(n.to_string());
                    }
                } else {
                    *val = ids_as_strings(val.take());
                }
            }
        }
        _ => {}
    }
    v
}

async fn same_rows_as_rest(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let cases = [
        (
            "/items/orders?fields=id,customer.name,lines.qty&filter[status][_eq]=Paid&sort=-amount",
            r#"{ orders(filter: {status: {_eq: "Paid"}}, sort: ["-amount"]) { id customer { name } lines { qty } } }"#,
        ),
        (
            "/items/orders?fields=id,amount&sort=amount&limit=1&offset=1",
            r#"{ orders(sort: ["amount"], limit: 1, offset: 1) { id amount } }"#,
        ),
        (
            "/items/orders?fields=id&sort=id&limit=2&page=2",
            r#"{ orders(sort: ["id"], limit: 2, page: 2) { id } }"#,
        ),
        (
            "/items/orders?fields=id,status&search=Pend",
            r#"{ orders(search: "Pend") { id status } }"#,
        ),
        (
            "/items/orders?fields=id&filter[customer][name][_eq]=Ada&sort=id",
            r#"{ orders(filter: {customer: {name: {_eq: "Ada"}}}, sort: ["id"]) { id } }"#,
        ),
        (
            "/items/orders?fields=id&filter[lines][_some][qty][_gt]=3",
            r#"{ orders(filter: {lines: {_some: {qty: {_gt: 3}}}}) { id } }"#,
        ),
        (
            "/items/orders?fields=id&filter[_or][0][amount][_lt]=15&filter[_or][1][amount][_gt]=25&sort=id",
            r#"{ orders(filter: {_or: [{amount: {_lt: 15}}, {amount: {_gt: 25}}]}, sort: ["id"]) { id } }"#,
        ),
        (
            "/items/orders?fields=id&filter[year(placed)][_eq]=2024&sort=id",
            r#"{ orders(filter: {placed_func: {year: {_eq: 2024}}}, sort: ["id"]) { id } }"#,
        ),
        (
            "/items/orders?fields=id&filter[count(lines)][_gt]=1",
            r#"{ orders(filter: {lines_func: {count: {_gt: 1}}}) { id } }"#,
        ),
        (
            "/items/orders?fields=id,lines.qty&deep[lines][_sort]=-qty&deep[lines][_limit]=1&sort=id",
            r#"{ orders(sort: ["id"]) { id lines(sort: ["-qty"], limit: 1) { qty } } }"#,
        ),
        (
            "/items/orders?fields=id,tags.tags_id.label&deep[tags][_filter][tags_id][label][_eq]=blue&sort=id",
            r#"{ orders(sort: ["id"]) { id tags(filter: {tags_id: {label: {_eq: "blue"}}}) { tags_id { label } } } }"#,
        ),
    ];
    for (rest, graphql) in cases {
        let expected =
            numbers_as_floats(ids_as_strings(server.get(rest).await.assert_ok().clone()));
        let r = gql(&server, graphql).await;
        assert_eq!(
            numbers_as_floats(ok(&r)["orders"].clone()),
            expected,
            "{kind:?}: {graphql}"
        );
    }
}
on_every_db!(graphql_rows_match_rest, same_rows_as_rest);

async fn by_id_singletons_aggregates(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let r = gql(
        &server,
        r#"{ orders_by_id(id: 3) { id status customer { id name } } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["orders_by_id"],
        json!({"id": "3", "status": "Paid", "customer": {"id": "1", "name": "Ada"}}),
        "{kind:?}"
    );
    // A missing item: null with Directus's FORBIDDEN, not a 404 that leaks existence.
    let r = gql(&server, r#"{ orders_by_id(id: 99) { id } }"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["orders_by_id"], Value::Null);
    assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    assert_eq!(r.body["errors"][0]["path"], json!(["orders_by_id"]));

    let r = gql(
        &server,
        r#"{ orders(sort: ["id"]) { id lines_func { count } } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["orders"],
        json!([
            {"id": "1", "lines_func": {"count": 2}},
            {"id": "2", "lines_func": {"count": 0}},
            {"id": "3", "lines_func": {"count": 1}},
        ]),
        "{kind:?}"
    );
    let r = gql(&server, "{ site { title } }").await;
    assert_eq!(ok(&r)["site"], json!({"title": "Home"}));

    let r = gql(
        &server,
        r#"{ orders_aggregated(groupBy: ["status"], sort: ["status"]) { group countAll count { id } sum { amount } max { amount } } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["orders_aggregated"],
        json!([
            {"group": {"status": "Paid"}, "countAll": 2, "count": {"id": 2}, "sum": {"amount": 40.0}, "max": {"amount": 30.0}},
            {"group": {"status": "Pending"}, "countAll": 1, "count": {"id": 1}, "sum": {"amount": 20.0}, "max": {"amount": 20.0}},
        ]),
        "{kind:?}"
    );
    let r = gql(
        &server,
        r#"{ orders_aggregated(filter: {status: {_eq: "Paid"}}) { countAll avg { amount } } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["orders_aggregated"],
        json!([{"countAll": 2, "avg": {"amount": 20.0}}])
    );
    // Aliases, fragments, variables, __typename and date functions.
    let r = server
        .post(
            "/graphql",
            json!({
                "query": "query Q($s: String) { paid: orders(filter: {status: {_eq: $s}}, sort: [\"id\"]) { ...F who: customer { __typename name } placed_func { year month } } } fragment F on orders { key: id }",
                "variables": {"s": "Paid"},
            }),
        )
        .await;
    assert_eq!(
        ok(&r)["paid"],
        json!([
            {"key": "1", "who": {"__typename": "customers", "name": "Ada"}, "placed_func": {"year": 2024, "month": 1}},
            {"key": "3", "who": {"__typename": "customers", "name": "Ada"}, "placed_func": {"year": 2025, "month": 3}},
        ]),
        "{kind:?}"
    );
    // GET carries queries too.
    let r = server
        .get("/graphql?query=%7B%20orders(sort%3A%5B%22id%22%5D%2C%20limit%3A%201)%20%7B%20id%20%7D%20%7D")
        .await;
    assert_eq!(ok(&r)["orders"], json!([{"id": "1"}]));
}
on_every_db!(
    graphql_by_id_singletons_aggregates,
    by_id_singletons_aggregates
);

/// The `/graphql/system` scope serves the `directus_*` collections without the prefix.
async fn system_scope(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let r = server
        .post(
            "/graphql/system",
            json!({"query": "{ users { email role { name } } roles { name } }"}),
        )
        .await;
    let data = ok(&r);
    assert_eq!(
        data["users"][0]["email"],
        json!("admin@example.com"),
        "{}",
        r.body
    );
    assert_eq!(
        data["roles"][0]["name"],
        json!("Administrator"),
        "{}",
        r.body
    );
    let r = server
        .post(
            "/graphql/system",
            json!({"query": "{ users_me { email } server_ping }"}),
        )
        .await;
    assert_eq!(
        ok(&r),
        &json!({"users_me": {"email": "admin@example.com"}, "server_ping": "pong"})
    );
    // User collections aren't in the system scope, and system ones aren't in the items scope.
    gql(&server, "{ users { id } }")
        .await
        .assert_error(400, "GRAPHQL_VALIDATION");
    server
        .post("/graphql/system", json!({"query": "{ orders { id } }"}))
        .await
        .assert_error(400, "GRAPHQL_VALIDATION");
}
on_every_db!(graphql_system_scope, system_scope);
