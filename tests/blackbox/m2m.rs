//! Many-to-many items: a model made through the schema API (both sides, the junction, two
//! relations), then nested writes and reads through the junction on every database.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::json;

async fn model(kind: Kind) -> (TestDb, Server) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    for c in ["products", "tags"] {
        server
            .post("/collections", json!({"collection": c, "schema": {}, "fields": [
                {"field": "id", "type": "integer", "schema": {"is_primary_key": true, "has_auto_increment": true}},
                {"field": "name", "type": "string"}
            ]}))
            .await
            .assert_ok();
    }
    server
        .post("/fields/products", json!({"field": "tags", "type": "alias", "meta": {"special": ["m2m"], "interface": "list-m2m"}}))
        .await
        .assert_ok();
    server
        .post("/collections", json!({"collection": "products_tags", "schema": {}, "meta": {"hidden": true}, "fields": [
            {"field": "id", "type": "integer", "schema": {"is_primary_key": true, "has_auto_increment": true}},
            {"field": "products_id", "type": "integer"}, {"field": "tags_id", "type": "integer"}
        ]}))
        .await
        .assert_ok();
    server
        .post("/relations", json!({"collection": "products_tags", "field": "products_id", "related_collection": "products",
            "meta": {"one_field": "tags", "junction_field": "tags_id", "one_deselect_action": "delete"}, "schema": {"on_delete": "CASCADE"}}))
        .await
        .assert_ok();
    server
        .post("/relations", json!({"collection": "products_tags", "field": "tags_id", "related_collection": "tags",
            "meta": {"one_field": null, "junction_field": "products_id"}, "schema": {"on_delete": "CASCADE"}}))
        .await
        .assert_ok();
    (db, server)
}

async fn reads_and_writes_through_the_junction(kind: Kind) {
    let (db, server) = model(kind).await;
    server
        .post("/items/tags", json!({"name": "sale"}))
        .await
        .assert_ok();
    // New tags created through the junction, an existing one linked by key.
    let r = server
        .post(
            "/items/products?fields=name,tags.tags_id.name",
            json!({"name": "Laptop", "tags": [{"tags_id": {"name": "new"}}, {"tags_id": 1}]}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"name": "Laptop", "tags": [{"tags_id": {"name": "new"}}, {"tags_id": {"name": "sale"}}]}}),
        "{kind:?}"
    );
    server
        .post(
            "/items/products",
            json!({"name": "Phone", "tags": [{"tags_id": 1}]}),
        )
        .await
        .assert_ok();
    server
        .post("/items/products", json!({"name": "Cable"}))
        .await
        .assert_ok();

    let names = |v: &serde_json::Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let r = server
        .get("/items/products?fields=name&filter[tags][tags_id][name][_eq]=sale")
        .await;
    assert_eq!(names(&r.body), ["Laptop", "Phone"]);
    let r = server
        .get("/items/products?fields=name&filter[tags][_none][tags_id][name][_eq]=new")
        .await;
    assert_eq!(names(&r.body), ["Phone", "Cable"]);
    let r = server
        .get("/items/products?fields=name,count(tags)&sort=-count(tags)")
        .await;
    assert_eq!(
        r.status, 400,
        "sorting by count() of a relation is not a field: {}",
        r.body
    );
    let r = server
        .get("/items/products?fields=name,count(tags)&filter[count(tags)][_gte]=1")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"name": "Laptop", "tags_count": 2}, {"name": "Phone", "tags_count": 1}]})
    );
    let r = server
        .get("/items/tags?fields=name&aggregate[count]=*")
        .await;
    assert_eq!(r.body["data"][0]["count"].as_i64(), Some(2));

    // Replacing the set deletes the junction rows left out (one_deselect_action: delete).
    let r = server
        .patch(
            "/items/products/1?fields=tags.tags_id.name",
            json!({"tags": [{"tags_id": {"name": "refurbished"}}]}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"tags": [{"tags_id": {"name": "refurbished"}}]}}),
        "{kind:?}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM products_tags WHERE products_id = 1")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM tags").await,
        3,
        "the tags themselves stay"
    );
}
on_every_db!(
    reads_and_writes_through_the_junction_on_every_db,
    reads_and_writes_through_the_junction
);
