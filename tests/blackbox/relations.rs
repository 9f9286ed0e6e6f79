//! `/relations`: foreign keys created, changed and dropped in the database (checked with
//! raw SQL), the metadata row, and the o2m alias field on the related collection.

use crate::collections::create_orders;
use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

/// `orders` plus `customers`, and an integer `customer` column on orders (no relation).
async fn shop(kind: Kind) -> (TestDb, Server) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    create_orders(&server).await;
    server
        .post(
            "/collections",
            json!({"collection": "customers", "schema": {}, "meta": {"icon": "person"}, "fields": [
                {"field": "id", "type": "integer", "schema": {"is_primary_key": true, "has_auto_increment": true}},
                {"field": "name", "type": "string"}
            ]}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/fields/orders",
            json!({"field": "customer", "type": "integer", "meta": {"interface": "select-dropdown-m2o", "special": ["m2o"]}}),
        )
        .await
        .assert_ok();
    db.exec(
        "INSERT INTO customers (name) VALUES ('Ann');\n\
         INSERT INTO customers (name) VALUES ('Bob')",
    )
    .await;
    (db, server)
}

fn m2o() -> Value {
    json!({
        "collection": "orders", "field": "customer", "related_collection": "customers",
        "schema": {"on_delete": "SET NULL"},
        "meta": {"one_field": "orders", "sort_field": null}
    })
}

async fn m2o_with_foreign_key(kind: Kind) {
    let (db, server) = shop(kind).await;
    let r = server.post("/relations", m2o()).await;
    let data = r.assert_ok();
    assert_eq!(data["collection"], "orders");
    assert_eq!(data["related_collection"], "customers");
    assert_eq!(data["schema"]["on_delete"], "SET NULL");
    assert_eq!(data["schema"]["foreign_key_table"], "customers");
    assert_eq!(data["schema"]["foreign_key_column"], "id");
    assert_eq!(data["meta"]["one_field"], "orders");
    assert_eq!(data["meta"]["many_collection"], "orders");

    // The o2m side.
    let alias = server.get("/fields/customers/orders").await;
    let alias = alias.assert_ok();
    assert_eq!(alias["type"], "alias");
    assert_eq!(alias["meta"]["special"], json!(["o2m"]));
    assert_eq!(alias["meta"]["interface"], "list-o2m");
    let f = server.get("/fields/orders/customer").await;
    assert_eq!(f.assert_ok()["schema"]["foreign_key_table"], "customers");

    // The database enforces it.
    assert!(db
        .try_exec("INSERT INTO orders (customer_name, email, customer) VALUES ('X', 'x@example.com', 999)")
        .await
        .is_err());
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('Ann', 'ann@example.com', 1)",
    )
    .await;
    db.exec("DELETE FROM customers WHERE id = 1").await;
    let rows = db.query("SELECT customer FROM orders").await;
    assert_eq!(rows[0]["customer"], Value::Null, "ON DELETE SET NULL");

    // Change the action: CASCADE.
    let r = server
        .patch(
            "/relations/orders/customer",
            json!({"schema": {"on_delete": "CASCADE"}, "meta": {"one_deselect_action": "delete"}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["schema"]["on_delete"], "CASCADE");
    assert_eq!(data["meta"]["one_deselect_action"], "delete");
    assert_eq!(
        data["meta"]["one_field"], "orders",
        "meta keys not given stay"
    );
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('Bob', 'bob@example.com', 2)",
    )
    .await;
    db.exec("DELETE FROM customers WHERE id = 2").await;
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM orders WHERE customer_name = 'Bob'")
            .await,
        0
    );
    // The rows of orders survived the changes (SQLite rebuilt the table twice).
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM orders").await, 1);

    // Fields a relation uses cannot be deleted, on either side.
    server
        .delete("/fields/orders/customer")
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .delete("/fields/customers/orders")
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch("/fields/orders/customer", json!({"type": "bigInteger"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");

    // Delete: the foreign key, the row and the alias go; the column stays.
    let r = server.delete("/relations/orders/customer").await;
    assert_eq!(r.status, 204, "{}", r.body);
    server
        .get("/relations/orders/customer")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/fields/customers/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_relations").await,
        0
    );
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('Z', 'z@example.com', 999)",
    )
    .await;
    server
        .delete("/relations/orders/customer")
        .await
        .assert_error(403, "FORBIDDEN");
    // The field is free now.
    assert_eq!(server.delete("/fields/orders/customer").await.status, 204);
}
on_every_db!(m2o_relation_with_foreign_key, m2o_with_foreign_key);

async fn refused_relations(kind: Kind) {
    let (db, server) = shop(kind).await;
    // Existing rows that break the key: nothing changes.
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('X', 'x@example.com', 999)",
    )
    .await;
    let r = server.post("/relations", m2o()).await;
    r.assert_error(400, "INVALID_FOREIGN_KEY");
    server
        .get("/relations/orders/customer")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/fields/customers/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_relations").await,
        0
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_fields WHERE collection = 'customers' AND field = 'orders'")
            .await,
        0
    );
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('Y', 'y@example.com', 998)",
    )
    .await;
    db.exec("DELETE FROM orders WHERE customer IS NOT NULL")
        .await;

    // Types must match; the field and collections must exist; actions must be known.
    server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "email", "related_collection": "customers"}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "nope", "related_collection": "customers"}),
        )
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post(
            "/relations",
            json!({"collection": "nope", "field": "customer", "related_collection": "customers"}),
        )
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "customer", "related_collection": "nope"}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "customer", "related_collection": "customers",
                   "schema": {"on_delete": "DROP TABLE"}}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "customer", "related_collection": "customers",
                   "meta": {"one_field": "name"}}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post("/relations", json!({"field": "customer"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_relations").await,
        0
    );
    // None of these left a foreign key behind.
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('Q', 'q@example.com', 997)",
    )
    .await;
    let rels = server.get("/relations").await;
    assert_eq!(rels.assert_ok(), &json!([]));

    // Failing halfway: the foreign key is added, then the metadata row is refused by the
    // database (a NOT NULL metadata column given null). No key may remain.
    db.exec("DELETE FROM orders WHERE customer IS NOT NULL")
        .await;
    server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "customer", "related_collection": "customers",
                   "meta": {"one_field": "orders", "one_deselect_action": null}}),
        )
        .await
        .assert_error(400, "NOT_NULL_VIOLATION");
    assert_eq!(server.get("/relations").await.assert_ok(), &json!([]));
    server
        .get("/fields/customers/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('R', 'r@example.com', 996)",
    )
    .await;

    // A duplicate relation is refused.
    db.exec("DELETE FROM orders WHERE customer IS NOT NULL")
        .await;
    server.post("/relations", m2o()).await.assert_ok();
    server
        .post("/relations", m2o())
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .patch("/relations/orders/nope", json!({"meta": {}}))
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(refused_relations_change_nothing, refused_relations);

async fn metadata_only_and_collection_delete(kind: Kind) {
    let (db, server) = shop(kind).await;
    // `schema: null`: a relation with no foreign key.
    let r = server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "customer", "related_collection": "customers",
                   "schema": null, "meta": {"one_field": "orders"}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["schema"], Value::Null);
    assert_eq!(data["related_collection"], "customers");
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('X', 'x@example.com', 999)",
    )
    .await;
    // Adding the key later validates the rows.
    server
        .patch(
            "/relations/orders/customer",
            json!({"schema": {"on_delete": "SET NULL"}}),
        )
        .await
        .assert_error(400, "INVALID_FOREIGN_KEY");
    db.exec("UPDATE orders SET customer = 1").await;
    let r = server
        .patch(
            "/relations/orders/customer",
            json!({"schema": {"on_delete": "SET NULL"}}),
        )
        .await;
    assert_eq!(r.assert_ok()["schema"]["on_delete"], "SET NULL");

    // Deleting the related collection drops the key pointing at it and the relation;
    // the orders table and its column stay.
    let r = server.delete("/collections/customers").await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(!db.table_exists("customers").await);
    assert!(db
        .column_names("orders")
        .await
        .contains(&"customer".to_string()));
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_relations").await,
        0
    );
    assert_eq!(server.get("/relations").await.assert_ok(), &json!([]));
    db.exec("INSERT INTO orders (customer_name, email, customer) VALUES ('Y', 'y@example.com', 5)")
        .await;
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM orders").await, 2);
}
on_every_db!(
    metadata_only_relations_and_deleting_the_related_collection,
    metadata_only_and_collection_delete
);

async fn studio_flow_and_table_changes_keep_keys(kind: Kind) {
    let (db, server) = shop(kind).await;
    // The Studio creates the o2m alias field first, then the relation naming it.
    server
        .post(
            "/fields/customers",
            json!({"field": "orders", "type": "alias", "meta": {"special": ["o2m"], "interface": "list-o2m"}}),
        )
        .await
        .assert_ok();
    server.post("/relations", m2o()).await.assert_ok();
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_fields WHERE collection = 'customers' AND field = 'orders'")
            .await,
        1
    );
    // A column of that name cannot serve as the o2m alias.
    server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "amount", "related_collection": "customers",
                   "schema": null, "meta": {"one_field": "name"}}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");

    // Altering the parent and the child (SQLite rebuilds both tables) keeps the key.
    server
        .patch(
            "/fields/customers/name",
            json!({"schema": {"is_nullable": false}}),
        )
        .await
        .assert_ok();
    server
        .patch(
            "/fields/orders/customer_name",
            json!({"schema": {"max_length": 100}}),
        )
        .await
        .assert_ok();
    let rel = server.get("/relations/orders/customer").await;
    assert_eq!(rel.assert_ok()["schema"]["on_delete"], "SET NULL");
    assert!(db
        .try_exec("INSERT INTO orders (customer_name, email, customer) VALUES ('X', 'x@example.com', 999)")
        .await
        .is_err());
    db.exec(
        "INSERT INTO orders (customer_name, email, customer) VALUES ('Ann', 'ann@example.com', 1)",
    )
    .await;
    db.exec("DELETE FROM customers WHERE id = 1").await;
    let rows = db.query("SELECT customer FROM orders").await;
    assert_eq!(rows[0]["customer"], Value::Null);
    assert!(db
        .try_exec("INSERT INTO customers (name) VALUES (NULL)")
        .await
        .is_err());
}
on_every_db!(
    studio_flow_and_table_changes_keep_foreign_keys,
    studio_flow_and_table_changes_keep_keys
);

async fn uuid_keys_and_deleting_the_many_side(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    create_orders(&server).await;
    server
        .post(
            "/collections",
            json!({"collection": "customers", "schema": {}, "fields": [
                {"field": "id", "type": "uuid", "schema": {"is_primary_key": true}},
                {"field": "name", "type": "string"}
            ]}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/fields/orders",
            json!({"field": "customer", "type": "uuid"}),
        )
        .await
        .assert_ok();
    let r = server
        .post(
            "/relations",
            json!({"collection": "orders", "field": "customer", "related_collection": "customers",
                   "meta": {"one_field": "orders"}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(
        data["schema"]["on_delete"], "SET NULL",
        "Directus's default action"
    );
    db.exec(
        "INSERT INTO customers (id, name) VALUES ('0b6a4f3e-4f2a-4bde-9c61-2f4b1b1a0c11', 'Ann')",
    )
    .await;
    db.exec("INSERT INTO orders (customer_name, email, customer) VALUES ('Ann', 'a@example.com', '0b6a4f3e-4f2a-4bde-9c61-2f4b1b1a0c11')")
        .await;
    assert!(db
        .try_exec("INSERT INTO orders (customer_name, email, customer) VALUES ('B', 'b@example.com', '1b6a4f3e-4f2a-4bde-9c61-2f4b1b1a0c11')")
        .await
        .is_err());

    // Deleting the many side takes the relation and the o2m alias on the other side.
    assert_eq!(server.delete("/collections/orders").await.status, 204);
    server
        .get("/fields/customers/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(server.get("/relations").await.assert_ok(), &json!([]));
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_relations").await,
        0
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_fields WHERE collection = 'customers'")
            .await,
        1,
        "only the uuid key's row is left"
    );
    db.exec("DELETE FROM customers").await;
}
on_every_db!(
    uuid_keys_relate_and_deleting_the_many_side_cleans_up,
    uuid_keys_and_deleting_the_many_side
);

async fn many_to_many_through_a_junction(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    // The Studio's m2m flow: both sides, the alias, the junction, then two relations.
    for c in ["products", "tags"] {
        server
            .post(
                "/collections",
                json!({"collection": c, "schema": {}, "fields": [{"field": "name", "type": "string"}]}),
            )
            .await
            .assert_ok();
    }
    server
        .post(
            "/fields/products",
            json!({"field": "tags", "type": "alias", "meta": {"special": ["m2m"], "interface": "list-m2m"}}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/collections",
            json!({"collection": "products_tags", "schema": {}, "meta": {"hidden": true, "icon": "import_export"},
                   "fields": [{"field": "products_id", "type": "integer"}, {"field": "tags_id", "type": "integer"}]}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/relations",
            json!({"collection": "products_tags", "field": "products_id", "related_collection": "products",
                   "meta": {"one_field": "tags", "junction_field": "tags_id", "sort_field": null},
                   "schema": {"on_delete": "CASCADE"}}),
        )
        .await
        .assert_ok();
    let r = server
        .post(
            "/relations",
            json!({"collection": "products_tags", "field": "tags_id", "related_collection": "tags",
                   "meta": {"one_field": null, "junction_field": "products_id"},
                   "schema": {"on_delete": "CASCADE"}}),
        )
        .await;
    assert_eq!(r.assert_ok()["meta"]["junction_field"], "products_id");
    let tags = server.get("/fields/products/tags").await;
    assert_eq!(tags.assert_ok()["meta"]["special"], json!(["m2m"]));
    assert_eq!(
        server
            .get("/relations")
            .await
            .assert_ok()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    db.exec(
        "INSERT INTO products (name) VALUES ('Laptop');\n\
         INSERT INTO tags (name) VALUES ('new');\n\
         INSERT INTO products_tags (products_id, tags_id) VALUES (1, 1)",
    )
    .await;
    assert!(db
        .try_exec("INSERT INTO products_tags (products_id, tags_id) VALUES (1, 9)")
        .await
        .is_err());
    db.exec("DELETE FROM tags WHERE id = 1").await;
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM products_tags").await,
        0,
        "ON DELETE CASCADE through the junction"
    );

    // Dropping the junction takes both relations and the m2m alias.
    assert_eq!(
        server.delete("/collections/products_tags").await.status,
        204
    );
    assert_eq!(server.get("/relations").await.assert_ok(), &json!([]));
    server
        .get("/fields/products/tags")
        .await
        .assert_error(403, "FORBIDDEN");
    db.exec("DELETE FROM products").await;
}
on_every_db!(
    many_to_many_through_a_junction_collection,
    many_to_many_through_a_junction
);
