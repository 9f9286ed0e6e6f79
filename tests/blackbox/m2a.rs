//! Many-to-any (m2a) through `/items`: `pages.sections` is a one-to-many to the junction
//! `pages_sections {pages_id, item, collection}` whose `item` is the key of a `headings`
//! or `texts` row, named by `collection`. Most tests create the model with raw SQL plus
//! the `rectus_fields`/`rectus_relations` rows Directus would hold (an existing database);
//! the last one makes it through the schema API, as the Studio does. Reads, filters,
//! sorts and nested writes, on every database.

use crate::harness::{Kind, Server, TestDb};
use crate::on_every_db;
use serde_json::{json, Value};

pub(crate) async fn setup(kind: Kind) -> (TestDb, Server) {
    let db = TestDb::create(kind).await;
    let serial = kind.serial_pk();
    db.exec(&format!(
        "CREATE TABLE pages (id {serial}, name varchar(50));\n\
         CREATE TABLE headings (id {serial}, title varchar(100));\n\
         CREATE TABLE texts (id {serial}, body text);\n\
         CREATE TABLE other (id {serial}, label varchar(20));\n\
         CREATE TABLE pages_sections (id {serial}, pages_id int references pages(id), item varchar(255), collection varchar(255))"
    ))
    .await;
    db.exec(
        "INSERT INTO pages (name) VALUES ('home'), ('about'), ('empty');\n\
         INSERT INTO headings (title) VALUES ('Welcome'), ('About us');\n\
         INSERT INTO texts (body) VALUES ('Hello world'), ('We make things');\n\
         INSERT INTO other (label) VALUES ('x');\n\
         INSERT INTO pages_sections (pages_id, item, collection) VALUES (1, '1', 'headings'), (1, '1', 'texts'), (2, '2', 'headings'), (2, '2', 'texts'), (2, '99', 'texts')",
    )
    .await;
    let mut server = Server::start(&db).await;
    server.stop();
    let q = |s: &str| match kind {
        Kind::MySql => format!("`{s}`"),
        _ => format!("\"{s}\""),
    };
    db.exec(&format!(
        "INSERT INTO rectus_relations (many_collection, many_field, one_collection, one_field, junction_field, one_deselect_action) VALUES ('pages_sections', 'pages_id', 'pages', 'sections', 'item', 'nullify');\n\
         INSERT INTO rectus_relations (many_collection, many_field, one_collection, one_field, one_collection_field, one_allowed_collections, junction_field, one_deselect_action) VALUES ('pages_sections', 'item', NULL, NULL, 'collection', 'headings,texts', 'pages_id', 'nullify');\n\
         INSERT INTO rectus_fields (collection, field, special, {h}, {r}, {s}) VALUES ('pages', 'sections', 'm2a', {f}, {f}, {t})",
        h = q("hidden"),
        r = q("readonly"),
        s = q("searchable"),
        t = if kind == Kind::Postgres { "true" } else { "1" },
        f = if kind == Kind::Postgres { "false" } else { "0" },
    ))
    .await;
    let server = Server::start(&db).await;
    (db, server)
}

async fn reads_items_of_any_collection(kind: Kind) {
    let (db, server) = setup(kind).await;
    // Scoped fields per collection; the junction's `collection` alongside.
    let r = server
        .get("/items/pages?fields=id,sections.collection,sections.item:headings.title,sections.item:texts.body&filter[id][_in]=1,2")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [
            {"id": 1, "sections": [
                {"collection": "headings", "item": {"title": "Welcome"}},
                {"collection": "texts", "item": {"body": "Hello world"}}
            ]},
            {"id": 2, "sections": [
                {"collection": "headings", "item": {"title": "About us"}},
                {"collection": "texts", "item": {"body": "We make things"}},
                {"collection": "texts", "item": null}
            ]}
        ]}),
        "{kind:?}"
    );
    // `item.*`: every field of whichever collection the row names.
    let r = server
        .get("/items/pages?fields=sections.item.*&filter[id][_eq]=1")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"sections": [
            {"item": {"id": 1, "title": "Welcome"}},
            {"item": {"id": 1, "body": "Hello world"}}
        ]}]}),
        "{kind:?}"
    );
    // A scope for one collection only: rows of the other keep their raw key.
    let r = server
        .get("/items/pages?fields=sections.item:texts.id&filter[id][_eq]=1")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"sections": [{"item": "1"}, {"item": {"id": 1}}]}]}),
        "{kind:?}"
    );
    // `sections.*`: the junction rows with their item keys; `*` lists junction keys.
    let r = server
        .get("/items/pages?fields=sections.*&filter[id][_eq]=1")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [{"sections": [
            {"id": 1, "pages_id": 1, "item": "1", "collection": "headings"},
            {"id": 2, "pages_id": 1, "item": "1", "collection": "texts"}
        ]}]}),
        "{kind:?}"
    );
    let r = server.get("/items/pages/3").await;
    assert_eq!(
        r.body,
        json!({"data": {"id": 3, "name": "empty", "sections": []}})
    );
    // The junction read directly, sorted by a scoped path.
    let r = server
        .get("/items/pages_sections?fields=id,item:headings.title&sort=-item:headings.title,id&filter[collection][_eq]=headings")
        .await;
    assert_eq!(
        r.body,
        json!({"data": [
            {"id": 1, "item": {"title": "Welcome"}},
            {"id": 3, "item": {"title": "About us"}}
        ]}),
        "{kind:?}"
    );
    // `*.*` on the junction expands the item too.
    let r = server
        .get("/items/pages_sections?fields=*.*&filter[id][_eq]=2")
        .await;
    assert_eq!(
        r.body["data"][0]["item"],
        json!({"id": 1, "body": "Hello world"}),
        "{kind:?}: {}",
        r.body
    );
    // `deep` filters the junction rows through the item; `*.*` below the parent expands
    // the junction's page and item.
    let r = server
        .get("/items/pages/1?fields=sections.id&deep[sections][_filter][item:texts][body][_contains]=world")
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"sections": [{"id": 2}]}}),
        "{kind:?}"
    );
    let r = server.get("/items/pages/1?fields=sections.*.*").await;
    let sections = r.assert_ok()["sections"].clone();
    assert_eq!(
        sections[0]["item"],
        json!({"id": 1, "title": "Welcome"}),
        "{kind:?}"
    );
    assert_eq!(
        sections[1]["item"],
        json!({"id": 1, "body": "Hello world"}),
        "{kind:?}"
    );
    assert_eq!(sections[1]["pages_id"]["name"], "home", "{kind:?}");
    // An item that is not a key of the collection matches nothing (MariaDB would
    // compare `1 = '1x'` as numbers).
    db.exec(
        "INSERT INTO pages_sections (pages_id, item, collection) VALUES (NULL, '1x', 'headings')",
    )
    .await;
    let r = server
        .get("/items/pages_sections?fields=item:headings.title&filter[item][_eq]=1x")
        .await;
    assert_eq!(r.body, json!({"data": [{"item": null}]}), "{kind:?}");
    let r = server
        .get("/items/pages_sections?fields=id&filter[item:headings][title][_eq]=Welcome")
        .await;
    assert_eq!(r.body, json!({"data": [{"id": 1}]}), "{kind:?}");
}
on_every_db!(
    reads_items_of_any_collection_on_every_db,
    reads_items_of_any_collection
);

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap_or_else(|| panic!("array: {v}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

async fn filters_through_the_item(kind: Kind) {
    let (_db, server) = setup(kind).await;
    let get = |q: &'static str| {
        let server = &server;
        async move { server.get(&format!("/items/pages?fields=id&{q}")).await }
    };
    let r = get("filter[sections][item:headings][title][_eq]=Welcome").await;
    assert_eq!(ids(r.assert_ok()), vec![1], "{kind:?}");
    let r = get("filter[sections][_some][item:texts][body][_icontains]=THINGS").await;
    assert_eq!(ids(r.assert_ok()), vec![2], "{kind:?}");
    let r = get("filter[sections][_none][item:headings][title][_starts_with]=W").await;
    assert_eq!(ids(r.assert_ok()), vec![2, 3], "{kind:?}");
    // A heading titled like a text's body does not match through the texts scope.
    let r = get("filter[sections][item:texts][body][_eq]=Welcome").await;
    assert_eq!(ids(r.assert_ok()), Vec::<i64>::new(), "{kind:?}");
    let r = get("filter[_or][0][sections][item:texts][body][_eq]=Hello world&filter[_or][1][name][_eq]=empty").await;
    assert_eq!(ids(r.assert_ok()), vec![1, 3], "{kind:?}");
    // Left-joined like a many-to-one: a row naming another collection is tested as an
    // item of NULLs (Directus's LEFT JOIN on the scoped collection).
    let r = get("filter[sections][item:headings][title][_null]=true").await;
    assert_eq!(ids(r.assert_ok()), vec![1, 2], "{kind:?}");
    let r = get("filter[sections][_none][item:texts][id][_nnull]=true").await;
    assert_eq!(ids(r.assert_ok()), vec![3], "{kind:?}");
    // Junction-level filters on the collection column still work.
    let r = get("filter[sections][collection][_eq]=texts").await;
    assert_eq!(ids(r.assert_ok()), vec![1, 2], "{kind:?}");
    // The junction filtered directly.
    let r = server
        .get("/items/pages_sections?fields=id&filter[item:headings][title][_contains]=us")
        .await;
    assert_eq!(ids(r.assert_ok()), vec![3], "{kind:?}");
}
on_every_db!(
    filters_through_the_item_on_every_db,
    filters_through_the_item
);

async fn bad_scopes_are_refused(kind: Kind) {
    let (_db, server) = setup(kind).await;
    for q in [
        "fields=sections.item:nope.title",
        "filter[sections][item:nope][title][_eq]=x",
    ] {
        server
            .get(&format!("/items/pages?{q}"))
            .await
            .assert_error(403, "FORBIDDEN");
    }
    for q in [
        "fields=sections.item:other.label",
        "filter[sections][item:other][label][_eq]=x",
        "filter[sections][item][title][_eq]=x",
        "fields=sections.collection:headings.title",
        "sort=sections.item:headings.title",
        "fields=sections.item:headings",
    ] {
        let r = server.get(&format!("/items/pages?{q}")).await;
        r.assert_error(400, "INVALID_QUERY");
    }
    server
        .get("/items/pages?fields=sections.item:headings.nope")
        .await
        .assert_error(403, "FORBIDDEN");
}
on_every_db!(bad_scopes_are_refused_on_every_db, bad_scopes_are_refused);

async fn count(db: &TestDb, table: &str) -> i64 {
    db.count(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .await
}

async fn writes_nested_items(kind: Kind) {
    let (db, server) = setup(kind).await;
    // Create a page with a new heading, a new text and a link to an existing text.
    let r = server
        .post(
            "/items/pages",
            json!({"name": "new", "sections": [
                {"collection": "headings", "item": {"title": "Fresh"}},
                {"collection": "texts", "item": {"body": "Body"}},
                {"collection": "texts", "item": 1}
            ]}),
        )
        .await;
    let page = r.assert_ok()["id"].clone();
    assert_eq!(page, json!(4), "{kind:?}: {}", r.body);
    let read = |page: Value| {
        let server = &server;
        async move {
            server
                .get(&format!(
                    "/items/pages/{page}?fields=sections.collection,sections.item:headings.title,sections.item:texts.body"
                ))
                .await
        }
    };
    assert_eq!(
        read(page.clone()).await.body,
        json!({"data": {"sections": [
            {"collection": "headings", "item": {"title": "Fresh"}},
            {"collection": "texts", "item": {"body": "Body"}},
            {"collection": "texts", "item": {"body": "Hello world"}}
        ]}}),
        "{kind:?}"
    );
    assert_eq!(count(&db, "headings").await, 3);
    assert_eq!(count(&db, "texts").await, 3);

    // `{create, update, delete}`: a new text, an updated heading (through its junction
    // row), one junction row removed (nullified, the text stays).
    let junction = server
        .get(&format!(
            "/items/pages_sections?fields=id,collection,item&filter[pages_id][_eq]={page}&sort=id"
        ))
        .await
        .assert_ok()
        .clone();
    let heading_row = junction[0]["id"].clone();
    let heading_key = junction[0]["item"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    let linked_row = junction[2]["id"].clone();
    let r = server
        .patch(
            &format!("/items/pages/{page}"),
            json!({"sections": {
                "create": [{"collection": "texts", "item": {"body": "More"}}],
                "update": [{"id": heading_row, "collection": "headings", "item": {"id": heading_key, "title": "Renamed"}}],
                "delete": [linked_row]
            }}),
        )
        .await;
    r.assert_ok();
    assert_eq!(
        read(page.clone()).await.body,
        json!({"data": {"sections": [
            {"collection": "headings", "item": {"title": "Renamed"}},
            {"collection": "texts", "item": {"body": "Body"}},
            {"collection": "texts", "item": {"body": "More"}}
        ]}}),
        "{kind:?}"
    );
    assert_eq!(count(&db, "texts").await, 4, "the deselected text stays");

    // A collection the relation does not allow (or that does not exist): 400 and
    // nothing written, the page included.
    for coll in ["other", "nope"] {
        let r = server
            .post(
                "/items/pages",
                json!({"name": "bad", "sections": [
                    {"collection": "headings", "item": {"title": "Lost"}},
                    {"collection": coll, "item": {"label": "y"}}
                ]}),
            )
            .await;
        r.assert_error(400, "INVALID_PAYLOAD");
        assert!(r.message().contains(coll), "{}", r.body);
    }
    let r = server
        .post(
            "/items/pages",
            json!({"name": "bad", "sections": [{"item": {"title": "No collection"}}]}),
        )
        .await;
    r.assert_error(400, "INVALID_PAYLOAD");
    assert_eq!(count(&db, "pages").await, 4, "{kind:?}");
    assert_eq!(count(&db, "headings").await, 3, "{kind:?}");
    assert_eq!(
        count(&db, "pages_sections").await,
        9,
        "{kind:?}: the deselected row stays, its page nullified"
    );

    // A failing nested item rolls back the junction rows and items written before it.
    let r = server
        .post(
            "/items/pages",
            json!({"name": "bad", "sections": [
                {"collection": "headings", "item": {"title": "Lost"}},
                {"collection": "headings", "item": {"title": "x".repeat(200)}}
            ]}),
        )
        .await;
    assert_eq!(r.status, 400, "{kind:?}: {}", r.body);
    assert_eq!(count(&db, "headings").await, 3, "{kind:?}");
    assert_eq!(count(&db, "pages").await, 4, "{kind:?}");

    // The complete-set form replaces the junction rows.
    let r = server
        .patch(
            &format!("/items/pages/{page}"),
            json!({"sections": [{"collection": "headings", "item": 2}]}),
        )
        .await;
    r.assert_ok();
    assert_eq!(
        read(page.clone()).await.body,
        json!({"data": {"sections": [{"collection": "headings", "item": {"title": "About us"}}]}}),
        "{kind:?}"
    );

    // An item object without its collection, on an update: the stored row names it.
    let row = server
        .get(&format!(
            "/items/pages_sections?fields=id&filter[pages_id][_eq]={page}"
        ))
        .await
        .assert_ok()[0]["id"]
        .clone();
    server
        .patch(
            &format!("/items/pages_sections/{row}"),
            json!({"item": {"id": 2, "title": "About them"}}),
        )
        .await
        .assert_ok();
    assert_eq!(
        server.get("/items/headings/2").await.body,
        json!({"data": {"id": 2, "title": "About them"}}),
        "{kind:?}"
    );
    // Moving the row to another allowed collection: the object updates that item (its
    // unknown keys dropped) and the row links it.
    let r = server
        .patch(
            &format!("/items/pages_sections/{row}"),
            json!({"collection": "texts", "item": {"id": 1, "nope": 1, "body": "Changed"}}),
        )
        .await;
    r.assert_ok();
    assert_eq!(
        server.get("/items/texts/1?fields=body").await.body,
        json!({"data": {"body": "Changed"}}),
        "{kind:?}: unknown keys dropped"
    );
    assert_eq!(
        server
            .get(&format!(
                "/items/pages_sections/{row}?fields=collection,item"
            ))
            .await
            .body,
        json!({"data": {"collection": "texts", "item": "1"}}),
        "{kind:?}"
    );
}
on_every_db!(writes_nested_items_on_every_db, writes_nested_items);

/// The Studio's m2a flow through the schema API: the item collections, the parent with
/// its `m2a` alias, the junction, the relation to the parent and the a2o relation with
/// `one_collection_field` and `one_allowed_collections`; then items written and read.
async fn model_made_through_the_schema_api(kind: Kind) {
    let db = TestDb::create(kind).await;
    let server = Server::start(&db).await;
    for (c, f, t) in [
        ("pages", "name", "string"),
        ("headings", "title", "string"),
        ("texts", "body", "text"),
    ] {
        server
            .post(
                "/collections",
                json!({"collection": c, "schema": {}, "fields": [{"field": f, "type": t}]}),
            )
            .await
            .assert_ok();
    }
    server
        .post(
            "/fields/pages",
            json!({"field": "sections", "type": "alias", "meta": {"special": ["m2a"], "interface": "list-m2a"}}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/collections",
            json!({"collection": "pages_sections", "schema": {}, "meta": {"hidden": true},
                   "fields": [{"field": "pages_id", "type": "integer"}, {"field": "item", "type": "string"},
                              {"field": "collection", "type": "string"}]}),
        )
        .await
        .assert_ok();
    server
        .post(
            "/relations",
            json!({"collection": "pages_sections", "field": "pages_id", "related_collection": "pages",
                   "meta": {"one_field": "sections", "junction_field": "item"},
                   "schema": {"on_delete": "CASCADE"}}),
        )
        .await
        .assert_ok();
    let r = server
        .post(
            "/relations",
            json!({"collection": "pages_sections", "field": "item", "related_collection": null,
                   "meta": {"one_allowed_collections": ["headings", "texts"], "one_collection_field": "collection",
                            "junction_field": "pages_id"}}),
        )
        .await;
    assert_eq!(
        r.assert_ok()["meta"]["one_allowed_collections"],
        json!(["headings", "texts"]),
        "{kind:?}: {}",
        r.body
    );
    let r = server
        .post(
            "/items/pages",
            json!({"name": "home", "sections": [
                {"collection": "texts", "item": {"body": "Hi"}},
                {"collection": "headings", "item": {"title": "Top"}}
            ]}),
        )
        .await;
    let key = r.assert_ok()["id"].clone();
    let r = server
        .get(&format!("/items/pages/{key}?fields=name,sections.item.*"))
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"name": "home", "sections": [
            {"item": {"id": 1, "body": "Hi"}},
            {"item": {"id": 1, "title": "Top"}}
        ]}}),
        "{kind:?}"
    );
    let r = server
        .get("/items/pages?fields=id&filter[sections][item:headings][title][_eq]=Top")
        .await;
    assert_eq!(r.body, json!({"data": [{"id": key}]}), "{kind:?}");
}
on_every_db!(
    model_made_through_the_schema_api_on_every_db,
    model_made_through_the_schema_api
);
