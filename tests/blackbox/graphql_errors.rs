//! Bad GraphQL input: each a Directus error envelope with the right status and code —
//! syntax errors, unknown fields, wrong variables, depth and complexity past the limits,
//! batches, introspection switched off, mutations over GET, bad values the host refuses —
//! never a 500, a panic or a hang. Also the standard introspection query and the SDL.

use crate::graphql_query::{gql, ok, setup, setup_with};
use crate::harness::Kind;
use crate::on_every_db;
use serde_json::json;

/// The introspection query GraphQL clients (GraphiQL, code generators) send.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

async fn bad_input(kind: Kind) {
    let (_db, server) = setup(kind).await;
    // Syntax, unknown fields and types, wrong argument and variable types: 400 before
    // anything runs.
    for query in [
        "{ orders { id ",
        "{ orders { nope } }",
        "{ nope { id } }",
        r#"{ orders(filter: {nope: {_eq: 1}}) { id } }"#,
        r#"{ orders(limit: "ten") { id } }"#,
        "{ orders }",
    ] {
        let r = gql(&server, query).await;
        r.assert_error(400, "GRAPHQL_VALIDATION");
        assert_eq!(r.message(), "GraphQL validation error.");
        assert!(
            r.body["errors"][0]["extensions"]["errors"][0]["message"].is_string(),
            "{query}: {}",
            r.body
        );
    }
    let r = server
        .post(
            "/graphql",
            json!({"query": "query ($n: Int) { orders(limit: $n) { id } }", "variables": {"n": "many"}}),
        )
        .await;
    r.assert_error(400, "GRAPHQL_VALIDATION");
    // Transport: no query, a batch, variables that aren't JSON, other methods.
    server
        .post("/graphql", json!({}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/graphql",
            json!([{"query": "{ orders { id } }"}, {"query": "{ orders { id } }"}]),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .anonymous()
        .send_raw("POST", "/graphql", "application/json", "{nope")
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .get("/graphql?query=%7B%20orders%20%7B%20id%20%7D%20%7D&variables=%7Bnope")
        .await
        .assert_error(400, "INVALID_QUERY");
    server
        .get("/graphql?query=mutation%20%7B%20delete_orders_item(id%3A%201)%20%7B%20id%20%7D%20%7D")
        .await
        .assert_error(405, "METHOD_NOT_ALLOWED");
    server
        .patch("/graphql", json!({"query": "{ orders { id } }"}))
        .await
        .assert_error(405, "METHOD_NOT_ALLOWED");
    server
        .post("/graphql/nope", json!({"query": "{ orders { id } }"}))
        .await
        .assert_error(404, "ROUTE_NOT_FOUND");
    // Values the host refuses: the field is null and the error carries the host's code.
    let r = gql(
        &server,
        r#"{ orders(filter: {amount: {_eq: "abc"}}) { id } }"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.code(), "INVALID_QUERY", "{kind:?}: {}", r.body);
    let r = gql(&server, r#"{ orders(sort: ["nope"]) { id } }"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        ["INVALID_QUERY", "FORBIDDEN"].contains(&r.code()),
        "{kind:?}: {}",
        r.body
    );
    // The same relation twice with different arguments can't be one query.
    let r = gql(
        &server,
        "{ orders { a: lines(limit: 1) { qty } b: lines(limit: 2) { qty } } }",
    )
    .await;
    assert_eq!(r.code(), "INVALID_QUERY", "{}", r.body);
    // The standard introspection query works, and the schema has Directus's names.
    let r = gql(&server, INTROSPECTION).await;
    let types: Vec<&str> = ok(&r)["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for name in [
        "orders",
        "orders_filter",
        "orders_aggregated",
        "create_orders_input",
        "update_orders_input",
        "string_filter_operators",
        "number_filter_operators",
        "date_filter_operators",
        "JSON",
        "Date",
    ] {
        assert!(types.contains(&name), "{name} in {types:?}");
    }
}
on_every_db!(graphql_bad_input, bad_input);

async fn limits(kind: Kind) {
    let (_db, server) = setup_with(
        kind,
        &[
            ("GRAPHQL_MAX_DEPTH", "3"),
            ("GRAPHQL_MAX_COMPLEXITY", "6"),
            ("GRAPHQL_INTROSPECTION", "false"),
        ],
    )
    .await;
    ok(&gql(&server, "{ orders { id customer { name } } }").await);
    gql(
        &server,
        "{ orders { customer { id } lines { order_id { customer { name } } } } }",
    )
    .await
    .assert_error(400, "GRAPHQL_VALIDATION");
    // Many aliases of one field: a flood in one operation is over the complexity limit.
    gql(
        &server,
        "{ a: orders { id } b: orders { id } c: orders { id } d: orders { id } }",
    )
    .await
    .assert_error(400, "GRAPHQL_VALIDATION");
    gql(&server, "{ __schema { types { name } } }")
        .await
        .assert_error(400, "GRAPHQL_VALIDATION");
    server
        .get("/server/specs/graphql")
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(graphql_limits, limits);

async fn sdl(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let r = server.get("/server/specs/graphql").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let text = r.body.as_str().unwrap();
    assert!(text.contains("type orders {"), "{text}");
    assert!(text.contains("orders_by_id(id: ID!): orders"), "{text}");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".graphql\""),
        "{:?}",
        r.headers
    );
    let r = server.get("/server/specs/graphql/system").await;
    assert!(r.body.as_str().unwrap().contains("type users {"));
    server
        .get("/server/specs/graphql/nope")
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(graphql_sdl, sdl);

/// The schema is built from `Host::schema`, the caller's view: a caller that may read
/// nothing gets Directus's empty schema, never another role's types.
async fn per_caller_schema(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let r = server
        .anonymous()
        .post(
            "/graphql",
            json!({"query": "{ __schema { queryType { fields { name } } } }"}),
        )
        .await;
    assert_eq!(
        ok(&r)["__schema"]["queryType"]["fields"],
        json!([{"name": "_empty"}]),
        "{kind:?}"
    );
    server
        .anonymous()
        .post("/graphql", json!({"query": "{ orders { id } }"}))
        .await
        .assert_error(400, "GRAPHQL_VALIDATION");
}
on_every_db!(graphql_per_caller_schema, per_caller_schema);

/// A role's schema holds only what its policies let it read: `orders` with the permitted
/// fields, no `customers`, and no mutations without create/update/delete permissions.
/// The module builds from the view `Host::schema` gives it (access control's
/// permission-filtered view).
async fn role_schema(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let role = server.post("/roles", json!({"name": "Reader"})).await;
    let role_id = role.assert_ok()["id"].as_str().unwrap().to_string();
    let policy = server
        .post("/policies", json!({"name": "Readers", "app_access": true}))
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
                   "fields": ["id", "status"], "permissions": {}}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/users",
            json!({"email": "reader@example.com", "password": "pw-123", "role": role_id,
                   "token": "reader-token"}),
        )
        .await
        .assert_ok();
    let reader = server.as_token(Some("reader-token"));
    let r = reader
        .post(
            "/graphql",
            json!({"query": "{ __schema { queryType { fields { name } } mutationType { name } } __type(name: \"orders\") { fields { name } } }"}),
        )
        .await;
    let data = ok(&r);
    let queries: Vec<&str> = data["__schema"]["queryType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(
        queries,
        ["orders", "orders_by_id", "orders_aggregated"],
        "{kind:?}"
    );
    assert_eq!(data["__schema"]["mutationType"], json!(null));
    assert_eq!(
        data["__type"]["fields"],
        json!([{"name": "id"}, {"name": "status"}])
    );
    let r = reader
        .post(
            "/graphql",
            json!({"query": "{ orders(sort: [\"id\"]) { id status } }"}),
        )
        .await;
    assert_eq!(ok(&r)["orders"][0], json!({"id": "1", "status": "Paid"}));
    reader
        .post("/graphql", json!({"query": "{ customers { id } }"}))
        .await
        .assert_error(400, "GRAPHQL_VALIDATION");
}
on_every_db!(graphql_role_schema, role_schema);
