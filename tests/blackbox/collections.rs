//! `/collections`: creating tables and folders through the API, checked against the
//! database itself with raw SQL; metadata updates; deletion; refused input leaves nothing.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

/// The seed data model, as the Studio sends it.
pub fn orders_payload() -> Value {
    let choices = |names: &[&str]| json!({"choices": names.iter().map(|n| json!({"text": n, "value": n})).collect::<Vec<_>>()});
    json!({
        "collection": "orders",
        "meta": {"icon": "shopping_cart", "note": "Customer orders"},
        "schema": {},
        "fields": [
            {"field": "id", "type": "integer",
             "schema": {"is_primary_key": true, "has_auto_increment": true},
             "meta": {"hidden": true, "interface": "input", "readonly": true}},
            {"field": "date_created", "type": "timestamp", "schema": {},
             "meta": {"special": ["date-created"], "interface": "datetime", "readonly": true, "hidden": true, "width": "half"}},
            {"field": "date_updated", "type": "timestamp", "schema": {},
             "meta": {"special": ["date-updated"], "interface": "datetime", "readonly": true, "hidden": true, "width": "half"}},
            {"field": "customer_name", "type": "string",
             "schema": {"is_nullable": false}, "meta": {"interface": "input", "required": true}},
            {"field": "email", "type": "string",
             "schema": {"is_nullable": false}, "meta": {"interface": "input", "required": true}},
            {"field": "item", "type": "string", "schema": {},
             "meta": {"interface": "select-dropdown", "options": choices(&["Laptop", "Headphones", "Phone", "Tablet"])}},
            {"field": "amount", "type": "float", "schema": {}, "meta": {"interface": "input"}},
            {"field": "status", "type": "string", "schema": {"default_value": "Pending"},
             "meta": {"interface": "select-dropdown", "options": choices(&["Pending", "Paid", "Shipped"])}},
        ]
    })
}

pub async fn create_orders(server: &Server) {
    server
        .post("/collections", orders_payload())
        .await
        .assert_ok();
}

fn field<'a>(fields: &'a Value, name: &str) -> &'a Value {
    fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields}"))
}

async fn seed_model_through_the_api(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let r = server.post("/collections", orders_payload()).await;
    let data = r.assert_ok();
    assert_eq!(data["collection"], "orders");
    assert_eq!(data["meta"]["icon"], "shopping_cart");
    assert_eq!(data["schema"]["name"], "orders");

    // The database itself has the table, with the required columns NOT NULL.
    let cols = db.columns("orders").await;
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "date_created",
            "date_updated",
            "customer_name",
            "email",
            "item",
            "amount",
            "status"
        ]
    );
    let nullable = |n: &str| cols.iter().find(|c| c.0 == n).unwrap().1;
    // SQLite's catalogue reports an INTEGER PRIMARY KEY (the rowid) as nullable; it is not.
    assert!(kind == Kind::Sqlite || !nullable("id"));
    assert!(!nullable("customer_name"));
    assert!(!nullable("email"));
    assert!(nullable("item"));
    assert!(nullable("amount"));

    // Plain SQL works against it: auto-increment key, default status.
    db.exec("INSERT INTO orders (customer_name, email, item, amount) VALUES ('Ann', 'ann@example.com', 'Laptop', 999.5)")
        .await;
    let rows = db.query("SELECT id, status, amount FROM orders").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], 1);
    assert_eq!(rows[0]["status"], "Pending");
    assert_eq!(rows[0]["amount"].as_f64(), Some(999.5));
    assert!(db
        .try_exec("INSERT INTO orders (email) VALUES ('no-name@example.com')")
        .await
        .is_err());

    // The API reports the types and metadata.
    let fields = server.get("/fields/orders").await;
    let fields = fields.assert_ok();
    let id = field(fields, "id");
    assert_eq!(id["type"], "integer");
    assert_eq!(id["schema"]["is_primary_key"], true);
    assert_eq!(id["schema"]["has_auto_increment"], true);
    assert_eq!(field(fields, "date_created")["type"], "timestamp");
    assert_eq!(
        field(fields, "date_created")["meta"]["special"],
        json!(["date-created"])
    );
    assert_eq!(
        field(fields, "date_updated")["meta"]["special"],
        json!(["date-updated"])
    );
    let name = field(fields, "customer_name");
    assert_eq!(name["type"], "string");
    assert_eq!(name["schema"]["is_nullable"], false);
    assert_eq!(name["meta"]["required"], true);
    let item = field(fields, "item");
    assert_eq!(item["meta"]["interface"], "select-dropdown");
    assert_eq!(
        item["meta"]["options"]["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Laptop", "Headphones", "Phone", "Tablet"]
    );
    assert_eq!(field(fields, "amount")["type"], "float");
    let status = field(fields, "status");
    assert_eq!(status["schema"]["default_value"], "Pending");
    assert_eq!(status["meta"]["options"]["choices"][2]["value"], "Shipped");
    let c = server.get("/collections/orders").await;
    assert_eq!(c.assert_ok()["meta"]["note"], "Customer orders");
}
on_every_db!(
    seed_model_is_built_through_the_api,
    seed_model_through_the_api
);

async fn uuid_and_string_keys(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
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
    let id = server.get("/fields/customers/id").await;
    let id = id.assert_ok();
    assert_eq!(id["type"], "uuid");
    assert_eq!(id["schema"]["is_primary_key"], true);
    assert_eq!(id["schema"]["has_auto_increment"], false);
    assert!(id["meta"]["special"]
        .as_array()
        .unwrap()
        .contains(&json!("uuid")));
    db.exec(
        "INSERT INTO customers (id, name) VALUES ('0b6a4f3e-4f2a-4bde-9c61-2f4b1b1a0c11', 'Ann')",
    )
    .await;
    assert!(db
        .try_exec("INSERT INTO customers (name) VALUES ('no key')")
        .await
        .is_err());

    server
        .post(
            "/collections",
            json!({"collection": "tags", "schema": {}, "fields": [
                {"field": "code", "type": "string", "schema": {"is_primary_key": true, "max_length": 32}},
                {"field": "label", "type": "string"}
            ]}),
        )
        .await
        .assert_ok();
    let code = server.get("/fields/tags/code").await;
    assert_eq!(code.assert_ok()["schema"]["is_primary_key"], true);
    assert_eq!(code.assert_ok()["schema"]["max_length"], 32);
    db.exec("INSERT INTO tags (code, label) VALUES ('red', 'Red')")
        .await;
    assert!(db
        .try_exec("INSERT INTO tags (code, label) VALUES ('red', 'Again')")
        .await
        .is_err());

    // No fields at all: Directus's default auto-increment `id`.
    server
        .post("/collections", json!({"collection": "notes", "schema": {}}))
        .await
        .assert_ok();
    assert_eq!(db.column_names("notes").await, ["id"]);
    let id = server.get("/fields/notes/id").await;
    assert_eq!(id.assert_ok()["schema"]["has_auto_increment"], true);
    // A collection created without meta has no metadata row.
    assert_eq!(
        server.get("/collections/notes").await.assert_ok()["meta"],
        Value::Null
    );
}
on_every_db!(uuid_string_and_default_keys, uuid_and_string_keys);

async fn folders_singletons_and_batches(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    let r = server
        .post(
            "/collections",
            json!({"collection": "shop", "meta": {"icon": "folder"}, "schema": null}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["schema"], Value::Null);
    assert_eq!(data["meta"]["icon"], "folder");
    assert!(!db.table_exists("shop").await);
    // A folder without any meta still exists through its row.
    server
        .post("/collections", json!({"collection": "archive"}))
        .await
        .assert_ok();
    assert_eq!(
        server.get("/collections/archive").await.assert_ok()["schema"],
        Value::Null
    );
    // Only alias fields fit in a folder.
    server
        .post(
            "/collections",
            json!({"collection": "misc", "schema": null, "fields": [{"field": "x", "type": "string"}]}),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");

    let r = server
        .post(
            "/collections",
            json!({"collection": "home_page", "meta": {"singleton": true, "group": "shop"}, "schema": {},
                   "fields": [{"field": "headline", "type": "string"}]}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["meta"]["singleton"], true);
    assert_eq!(data["meta"]["group"], "shop");
    assert_eq!(db.column_names("home_page").await, ["id", "headline"]);

    let r = server
        .post(
            "/collections",
            json!([
                {"collection": "a_one", "schema": {}},
                {"collection": "a_two", "schema": {}, "meta": {"hidden": true}}
            ]),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data.as_array().unwrap().len(), 2);
    assert_eq!(data[1]["meta"]["hidden"], true);
    assert!(db.table_exists("a_one").await && db.table_exists("a_two").await);
    // An array is all or nothing: the second item is refused, the first is not created.
    server
        .post(
            "/collections",
            json!([
                {"collection": "a_three", "schema": {}},
                {"collection": "a_one", "schema": {}}
            ]),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post(
            "/collections",
            json!([
                {"collection": "a_four", "schema": {}},
                {"collection": "a_four", "schema": {}}
            ]),
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    assert!(!db.table_exists("a_three").await);
    assert!(!db.table_exists("a_four").await);
}
on_every_db!(
    folders_singletons_and_arrays,
    folders_singletons_and_batches
);

async fn patch_collection_meta(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    create_orders(&server).await;
    let r = server
        .patch(
            "/collections/orders",
            json!({"meta": {"note": "All orders", "hidden": true}}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["meta"]["note"], "All orders");
    assert_eq!(data["meta"]["hidden"], true);
    assert_eq!(data["meta"]["icon"], "shopping_cart", "keys not given stay");

    // A table without a metadata row gets one.
    db.exec("CREATE TABLE legacy (id integer PRIMARY KEY, name varchar(20))")
        .await;
    let r = server
        .patch(
            "/collections/legacy",
            json!({"meta": {"note": "Old table"}}),
        )
        .await;
    assert_eq!(r.assert_ok()["meta"]["note"], "Old table");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_collections WHERE collection = 'legacy'")
            .await,
        1
    );
    let r = server
        .patch(
            "/collections",
            json!([
                {"collection": "orders", "meta": {"color": "#FF0000"}},
                {"collection": "notes_missing", "meta": {"color": "#00FF00"}}
            ]),
        )
        .await;
    r.assert_error(403, "FORBIDDEN");
    // The batch is all or nothing.
    let orders = server.get("/collections/orders").await;
    assert_eq!(orders.assert_ok()["meta"]["color"], Value::Null);
    server
        .patch("/collections/nope", json!({"meta": {"note": "x"}}))
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .patch("/collections/orders", json!({"meta": {"hidden": "yes"}}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    let r = server
        .patch(
            "/collections",
            json!([
                {"collection": "orders", "meta": {"sort": 3, "color": "#FF0000"}},
                {"collection": "legacy", "meta": {"sort": 4}}
            ]),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data[0]["meta"]["sort"], 3);
    assert_eq!(data[0]["meta"]["color"], "#FF0000");
    assert_eq!(data[0]["meta"]["note"], "All orders");
    assert_eq!(data[1]["meta"]["sort"], 4);
}
on_every_db!(patch_collection_meta_merges, patch_collection_meta);

async fn delete_collection(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    create_orders(&server).await;
    db.exec("INSERT INTO orders (customer_name, email) VALUES ('Ann', 'a@example.com')")
        .await;
    let r = server.delete("/collections/orders").await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(!db.table_exists("orders").await);
    server
        .get("/collections/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    server
        .get("/fields/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_fields WHERE collection = 'orders'")
            .await,
        0
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_collections WHERE collection = 'orders'")
            .await,
        0
    );
    server
        .delete("/collections/orders")
        .await
        .assert_error(403, "FORBIDDEN");
    // Folders go too, and their children move to the top level.
    server
        .post(
            "/collections",
            json!({"collection": "shop", "schema": null}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/collections",
            json!({"collection": "items", "schema": {}, "meta": {"group": "shop"}}),
        )
        .await
        .assert_ok();
    assert_eq!(server.delete("/collections/shop").await.status, 204);
    let items = server.get("/collections/items").await;
    assert_eq!(items.assert_ok()["meta"]["group"], Value::Null);
}
on_every_db!(
    delete_collection_drops_table_and_metadata,
    delete_collection
);

async fn bad_collection_input(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    for name in [
        "1abc",
        "a b",
        "x;drop table y",
        "o'brien",
        "rectus_things",
        "directus_things",
        "select",
        &"a".repeat(64),
    ] {
        server
            .post("/collections", json!({"collection": name, "schema": {}}))
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    server
        .post("/collections", json!({"schema": {}}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .post("/collections", json!({"collection": 5, "schema": {}}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .admin()
        .send_raw(
            "POST",
            "/collections",
            "application/json",
            "{\"collection\": ",
        )
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    server
        .anonymous()
        .post(
            "/collections",
            json!({"collection": "sneaky", "schema": {}}),
        )
        .await
        .assert_error(403, "FORBIDDEN");

    let bad_bodies = [
        // Unknown type.
        json!({"collection": "broken", "schema": {}, "fields": [{"field": "x", "type": "nope"}]}),
        // Bad meta.
        json!({"collection": "broken", "schema": {}, "meta": {"hidden": "yes"}}),
        json!({"collection": "broken", "schema": {}, "meta": "not an object"}),
        // Field names.
        json!({"collection": "broken", "schema": {}, "fields": [{"field": "bad name", "type": "string"}]}),
        // The same field twice.
        json!({"collection": "broken", "schema": {}, "fields": [
            {"field": "a", "type": "string"}, {"field": "A", "type": "integer"}]}),
        // Two primary keys; an auto-increment string; a key of the wrong type.
        json!({"collection": "broken", "schema": {}, "fields": [
            {"field": "a", "type": "integer", "schema": {"is_primary_key": true}},
            {"field": "b", "type": "integer", "schema": {"is_primary_key": true}}]}),
        json!({"collection": "broken", "schema": {}, "fields": [
            {"field": "a", "type": "string", "schema": {"is_primary_key": true, "has_auto_increment": true}}]}),
        json!({"collection": "broken", "schema": {}, "fields": [
            {"field": "a", "type": "float", "schema": {"is_primary_key": true}}]}),
        // A default that does not fit its type; a schema option of the wrong type.
        json!({"collection": "broken", "schema": {}, "fields": [
            {"field": "n", "type": "integer", "schema": {"default_value": "abc"}}]}),
        json!({"collection": "broken", "schema": {}, "fields": [
            {"field": "n", "type": "string", "schema": {"is_nullable": "no"}}]}),
        json!({"collection": "broken", "schema": {}, "fields": [
            {"field": "n", "type": "string", "schema": {"max_length": 0}}]}),
        // `id` given without being the key.
        json!({"collection": "broken", "schema": {}, "fields": [{"field": "id", "type": "string"}]}),
        json!({"collection": "broken", "schema": 5}),
    ];
    for body in bad_bodies {
        let r = server.post("/collections", body.clone()).await;
        r.assert_error(400, "INVALID_PAYLOAD");
        assert!(!db.table_exists("broken").await, "{body}");
    }

    // Fails in the database halfway: the table is created, then the second field's
    // metadata row is refused (NOT NULL column given null). Nothing may remain.
    let r = server
        .post(
            "/collections",
            json!({"collection": "broken", "schema": {}, "meta": {"icon": "box"}, "fields": [
                {"field": "a", "type": "string", "meta": {"interface": "input"}},
                {"field": "b", "type": "string", "meta": {"hidden": null}}
            ]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!db.table_exists("broken").await);
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_fields WHERE collection = 'broken'")
            .await,
        0
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM rectus_collections WHERE collection = 'broken'")
            .await,
        0
    );
    server
        .get("/collections/broken")
        .await
        .assert_error(403, "FORBIDDEN");

    // Duplicates, also in another case.
    create_orders(&server).await;
    for name in ["orders", "ORDERS"] {
        let r = server
            .post("/collections", json!({"collection": name, "schema": {}}))
            .await;
        r.assert_error(400, "INVALID_PAYLOAD");
        assert!(r.message().contains("already exists"), "{}", r.body);
    }
    server
        .delete("/collections/nope")
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(
    bad_collection_input_is_refused_and_leaves_nothing,
    bad_collection_input
);

async fn studio_system_fields(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    // What the Studio sends when every optional system field is ticked.
    let r = server
        .post(
            "/collections",
            json!({"collection": "articles", "schema": {}, "meta": {"sort_field": "sort", "archive_field": "status", "archive_value": "archived", "unarchive_value": "draft"},
                   "fields": [
                {"field": "id", "type": "uuid", "schema": {"is_primary_key": true, "length": 36, "has_auto_increment": false},
                 "meta": {"hidden": true, "readonly": true, "interface": "input", "special": ["uuid"]}},
                {"field": "status", "type": "string", "schema": {"default_value": "draft", "is_nullable": false},
                 "meta": {"width": "full", "interface": "select-dropdown", "display": "labels"}},
                {"field": "sort", "type": "integer", "schema": {}, "meta": {"interface": "input", "hidden": true}},
                {"field": "user_created", "type": "uuid", "schema": {},
                 "meta": {"special": ["user-created"], "interface": "select-dropdown-m2o", "readonly": true, "hidden": true, "width": "half"}},
                {"field": "date_created", "type": "timestamp", "schema": {},
                 "meta": {"special": ["date-created"], "interface": "datetime", "readonly": true, "hidden": true, "width": "half"}},
                {"field": "user_updated", "type": "uuid", "schema": {},
                 "meta": {"special": ["user-updated"], "interface": "select-dropdown-m2o", "readonly": true, "hidden": true, "width": "half"}},
                {"field": "date_updated", "type": "timestamp", "schema": {},
                 "meta": {"special": ["date-updated"], "interface": "datetime", "readonly": true, "hidden": true, "width": "half"}}
            ]}),
        )
        .await;
    let data = r.assert_ok();
    assert_eq!(data["meta"]["sort_field"], "sort");
    assert_eq!(data["meta"]["archive_value"], "archived");
    assert_eq!(
        db.column_names("articles").await,
        [
            "id",
            "status",
            "sort",
            "user_created",
            "date_created",
            "user_updated",
            "date_updated"
        ]
    );
    let fields = server.get("/fields/articles").await;
    let fields = fields.assert_ok();
    assert_eq!(field(fields, "id")["meta"]["special"], json!(["uuid"]));
    assert_eq!(field(fields, "status")["schema"]["default_value"], "draft");
    assert_eq!(field(fields, "status")["schema"]["is_nullable"], false);
    assert_eq!(field(fields, "sort")["type"], "integer");
    for (name, special) in [
        ("user_created", "user-created"),
        ("user_updated", "user-updated"),
    ] {
        assert_eq!(field(fields, name)["type"], "uuid");
        assert_eq!(field(fields, name)["meta"]["special"], json!([special]));
    }
    assert_eq!(field(fields, "date_updated")["type"], "timestamp");
    db.exec("INSERT INTO articles (id, user_created) VALUES ('0b6a4f3e-4f2a-4bde-9c61-2f4b1b1a0c11', '5b1d0c3e-1f2a-4bde-9c61-2f4b1b1a0c22')")
        .await;
    let rows = db.query("SELECT status FROM articles").await;
    assert_eq!(rows[0]["status"], "draft");
}
on_every_db!(studio_optional_system_fields_work, studio_system_fields);

/// The Studio's optional `user_created` / `user_updated` fields are filled with the writer.
async fn user_created_and_updated_are_filled(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    server
        .post("/collections", json!({"collection": "notes", "schema": {}, "fields": [
            {"field": "id", "type": "integer", "schema": {"is_primary_key": true, "has_auto_increment": true}},
            {"field": "body", "type": "string"},
            {"field": "user_created", "type": "uuid", "meta": {"special": ["user-created"], "readonly": true, "hidden": true}},
            {"field": "user_updated", "type": "uuid", "meta": {"special": ["user-updated"], "readonly": true, "hidden": true}}
        ]}))
        .await
        .assert_ok();
    let admin = server.get("/users?fields=id").await.body["data"][0]["id"].clone();
    let r = server
        .post(
            "/items/notes",
            json!({"body": "x", "user_created": "00000000-0000-4000-8000-000000000000"}),
        )
        .await;
    assert_eq!(
        r.assert_ok()["user_created"],
        admin,
        "{kind:?}: the writer, whatever the payload says"
    );
    assert_eq!(r.body["data"]["user_updated"], admin);
    let rows = db.query("SELECT COUNT(*) AS n FROM notes").await;
    assert_eq!(rows.len(), 1);
}
on_every_db!(
    user_created_and_updated_are_filled_on_every_db,
    user_created_and_updated_are_filled
);
