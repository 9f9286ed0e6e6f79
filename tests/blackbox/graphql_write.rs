//! GraphQL mutations: `create_/update_/delete_<c>_item(s)`, `update_<c>_batch` and the
//! singleton's `update_<c>`, through the host's write methods, each answered with one
//! re-read of the mutation's selection.

use crate::graphql_query::{gql, ok, setup};
use crate::harness::Kind;
use crate::on_every_db;
use serde_json::json;

async fn mutations(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let r = gql(
        &server,
        r#"mutation { create_orders_item(data: {status: "New", amount: 5, customer: {id: 2}}) { status amount customer { name } } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["create_orders_item"],
        json!({"status": "New", "amount": 5.0, "customer": {"name": "Bob"}}),
        "{kind:?}"
    );
    let r = gql(
        &server,
        r#"mutation { create_orders_items(data: [{status: "A", amount: 1}, {status: "B", amount: 2}], sort: ["-amount"]) { status } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["create_orders_items"],
        json!([{"status": "B"}, {"status": "A"}])
    );
    let r = gql(
        &server,
        r#"mutation { update_orders_item(id: 1, data: {status: "Shipped"}) { id status } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["update_orders_item"],
        json!({"id": "1", "status": "Shipped"})
    );
    let r = gql(
        &server,
        r#"mutation { update_orders_items(ids: [2, 3], data: {status: "Done"}, sort: ["id"]) { id status } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["update_orders_items"],
        json!([{"id": "2", "status": "Done"}, {"id": "3", "status": "Done"}])
    );
    let r = gql(
        &server,
        r#"mutation { update_orders_batch(data: [{id: 2, amount: 21}, {id: 3, amount: 31}], sort: ["id"]) { id amount } }"#,
    )
    .await;
    assert_eq!(
        ok(&r)["update_orders_batch"],
        json!([{"id": "2", "amount": 21.0}, {"id": "3", "amount": 31.0}])
    );
    let r = gql(
        &server,
        r#"mutation { update_site(data: {title: "New home"}) { title } }"#,
    )
    .await;
    assert_eq!(ok(&r)["update_site"], json!({"title": "New home"}));

    // Deletes answer the keys; the rows are gone as REST sees them.
    let r = gql(
        &server,
        "mutation { delete_order_lines_items(ids: [1, 2]) { ids } }",
    )
    .await;
    assert_eq!(
        ok(&r)["delete_order_lines_items"],
        json!({"ids": ["1", "2"]})
    );
    let r = gql(
        &server,
        "mutation { delete_order_lines_item(id: 3) { id } }",
    )
    .await;
    assert_eq!(ok(&r)["delete_order_lines_item"], json!({"id": "3"}));
    let lines = server.get("/items/order_lines").await;
    assert_eq!(lines.assert_ok(), &json!([]));

    // A write the host refuses: its code, the field null, nothing written.
    let r = gql(
        &server,
        r#"mutation { create_customers_item(data: {name: null}) { id } }"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["create_customers_item"], json!(null));
    assert!(
        ["INVALID_PAYLOAD", "FAILED_VALIDATION"].contains(&r.code()),
        "{kind:?}: {}",
        r.body
    );
    let customers = server.get("/items/customers?aggregate[count]=*").await;
    assert_eq!(
        customers.assert_ok()[0]["count"]
            .to_string()
            .trim_matches('"'),
        "2"
    );
}
on_every_db!(graphql_mutations, mutations);
