//! Item writes: create, update, delete — each request in ONE transaction, nested
//! relational writes included, so a request either lands whole or not at all.
//!
//! Relational payloads, as Directus takes them:
//! - many-to-one: a key, or an object (with its key: update that item; without: create it);
//! - one-to-many: an array (the complete new set of children: objects create or update,
//!   keys link; children not listed are deselected per the relation's
//!   `one_deselect_action`, `nullify` by default), or `{create, update, delete}`.
//!
//! Every item written, nested ones too, passes its `filter` handlers before it is written;
//! the `action` events are held until the transaction commits.

use super::payload::{coerce, Mode, PayloadError, Row, Writer};
use super::ItemsError;
use crate::access::permissions::Action;
use crate::db::{Db, Dialect, Sql, Tx, Value};
use crate::events::Bus;
use crate::query::compile::{compile_condition, AnyRelation, CompileError, Relation};
use crate::query::Filter;
use crate::schema::types::{pg_cast, pg_cast_for};
use crate::schema::{Collection, Schema};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use std::future::Future;
use std::pin::Pin;

/// Who writes, and the bus their writes are announced on.
pub struct WriteContext<'a> {
    pub db: &'a Db,
    pub schema: &'a Schema,
    pub bus: &'a Bus,
    pub user: Option<&'a str>,
    /// Where the request came from, for the activity log.
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// A non-administrator's permissions; `None` writes anything.
    pub access: Option<crate::access::writes::WriteAccess<'a>>,
}

/// How deep nested payloads may go (`MAX_RELATIONAL_DEPTH`'s default).
const MAX_NESTING: usize = 10;

/// Creates one item (object) or several (array). Returns their primary keys.
pub async fn create(
    w: &WriteContext<'_>,
    collection: &str,
    payload: &Json,
) -> Result<Vec<Json>, ItemsError> {
    let objects: Vec<Json> = match payload {
        Json::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut s = Session::begin(w).await?;
    let mut keys = Vec::with_capacity(objects.len());
    for o in objects {
        keys.push(s.create(collection, o, 0).await?);
    }
    s.commit().await?;
    Ok(keys)
}

/// Applies `data` to the items with these keys. Returns the keys.
pub async fn update(
    w: &WriteContext<'_>,
    collection: &str,
    keys: &[Json],
    data: &Json,
) -> Result<Vec<Json>, ItemsError> {
    let mut s = Session::begin(w).await?;
    s.update(collection, keys, data.clone(), 0).await?;
    s.commit().await?;
    Ok(keys.to_vec())
}

/// Updates each object by the primary key it carries, all in one transaction.
pub async fn update_batch(
    w: &WriteContext<'_>,
    collection: &str,
    items: &[Json],
) -> Result<Vec<Json>, ItemsError> {
    let (_, pk) = target(w.schema, collection)?;
    let mut s = Session::begin(w).await?;
    let mut keys = Vec::with_capacity(items.len());
    for item in items {
        let key = item
            .get(pk)
            .filter(|k| !k.is_null())
            .ok_or_else(|| PayloadError::Invalid {
                field: pk.to_string(),
                reason: "each item of a batch update needs its primary key".into(),
            })?
            .clone();
        let mut data = item.clone();
        if let Some(o) = data.as_object_mut() {
            o.remove(pk);
        }
        s.update(collection, std::slice::from_ref(&key), data, 0)
            .await?;
        keys.push(key);
    }
    s.commit().await?;
    Ok(keys)
}

/// Deletes the items with these keys.
pub async fn delete(
    w: &WriteContext<'_>,
    collection: &str,
    keys: &[Json],
) -> Result<(), ItemsError> {
    if keys.is_empty() {
        target(w.schema, collection)?;
        return Ok(());
    }
    let mut s = Session::begin(w).await?;
    s.delete(collection, keys).await?;
    s.commit().await
}

/// The collection to write: it must exist and have a single-column primary key.
fn target<'s>(
    schema: &'s Schema,
    collection: &str,
) -> Result<(&'s Collection, &'s str), ItemsError> {
    let c = schema
        .collection(collection)
        .ok_or_else(|| CompileError::collection_forbidden(collection))?;
    let pk = c
        .primary_key()
        .ok_or_else(|| CompileError::collection_forbidden(collection))?;
    Ok((c, pk))
}

/// A key as the primary key's type; a key that cannot be one is not there.
fn key_value(c: &Collection, pk: &str, key: &Json) -> Result<Value, ItemsError> {
    coerce(&c.fields[pk], key).map_err(|_| ItemsError::Forbidden)
}

type Step<'a, T> = Pin<Box<dyn Future<Output = Result<T, ItemsError>> + Send + 'a>>;

/// One request's transaction and the action events to emit once it commits.
struct Session<'w> {
    w: &'w WriteContext<'w>,
    tx: Tx,
    now: DateTime<Utc>,
    actions: Vec<(&'static str, String, Json, Vec<Json>)>,
}

/// A payload split into its columns and its relational parts.
struct Parts<'s> {
    columns: Map<String, Json>,
    /// Many-to-one fields given as objects: written first, their key stored in the field.
    to_one: Vec<(String, Relation<'s>, Json)>,
    /// One-to-many fields: written after the item itself.
    to_many: Vec<(Relation<'s>, String, Json)>,
    /// Many-to-any items given as objects: `(field, related collection, object)`,
    /// written first like many-to-one objects.
    to_any: Vec<(String, &'s Collection, Json)>,
    /// Many-to-any items given as objects without their collection: on an update, the
    /// collection the stored row names. `(field, collection field, allowed, object)`.
    to_any_stored: Vec<(String, &'s str, Vec<&'s Collection>, Json)>,
}

impl<'w> Session<'w> {
    async fn begin(w: &'w WriteContext<'w>) -> Result<Session<'w>, ItemsError> {
        Ok(Session {
            w,
            tx: w.db.begin().await?,
            now: Utc::now(),
            actions: Vec::new(),
        })
    }

    async fn commit(mut self) -> Result<(), ItemsError> {
        // The record of the change commits with the change, or not at all.
        let actions = std::mem::take(&mut self.actions);
        for (op, collection, payload, keys) in &actions {
            super::activity::record(&mut self.tx, self.w, op, collection, payload, keys).await?;
        }
        self.actions = actions;
        self.tx.commit().await?;
        for (op, collection, payload, keys) in self.actions {
            self.w
                .bus
                .action(op, &collection, payload, keys, self.w.user);
        }
        Ok(())
    }

    fn split(&self, c: &'w Collection, payload: Json) -> Result<Parts<'w>, ItemsError> {
        let Json::Object(obj) = payload else {
            return Err(PayloadError::NotAnObject.into());
        };
        let mut parts = Parts {
            columns: Map::new(),
            to_one: Vec::new(),
            to_many: Vec::new(),
            to_any: Vec::new(),
            to_any_stored: Vec::new(),
        };
        let mut obj = obj;
        for field in c.fields.keys() {
            let Some(any) = AnyRelation::of(self.w.schema, c, field) else {
                continue;
            };
            let bad = |reason: String| {
                ItemsError::from(PayloadError::Invalid {
                    field: field.to_string(),
                    reason,
                })
            };
            // The collection the item belongs to must be one the relation allows.
            let named = match obj.get(any.collection_field) {
                None | Some(Json::Null) => None,
                Some(Json::String(name)) => Some(
                    *any.allowed
                        .iter()
                        .find(|t| &t.name == name)
                        .ok_or_else(|| {
                            bad(format!(
                                "\"{name}\" is not one of the collections allowed in \"{}\"",
                                any.collection_field
                            ))
                        })?,
                ),
                Some(_) => {
                    return Err(bad(format!(
                        "\"{}\" must name a collection",
                        any.collection_field
                    )))
                }
            };
            if !obj.get(field).is_some_and(Json::is_object) {
                continue;
            }
            let item = obj.remove(field).expect("checked above");
            match named {
                Some(target) => parts.to_any.push((field.clone(), target, item)),
                None => parts.to_any_stored.push((
                    field.clone(),
                    any.collection_field,
                    any.allowed,
                    item,
                )),
            }
        }
        for (k, v) in obj {
            match Relation::of(self.w.schema, c, &k) {
                Some(rel @ Relation::ToOne { .. }) if v.is_object() => {
                    parts.to_one.push((k, rel, v))
                }
                Some(rel @ Relation::ToMany { .. }) => parts.to_many.push((rel, k, v)),
                _ => {
                    parts.columns.insert(k, v);
                }
            }
        }
        Ok(parts)
    }

    /// Many-to-any items sent without their collection: on an update, the collection
    /// the rows being updated name (they must all name the same allowed one); on a create
    /// there is none, and that is an error.
    async fn stored_collections(
        &mut self,
        c: &'w Collection,
        keys: &[Json],
        parts: &mut Parts<'w>,
    ) -> Result<(), ItemsError> {
        for (field, collection_field, allowed, item) in std::mem::take(&mut parts.to_any_stored) {
            let bad = |reason: String| {
                ItemsError::from(PayloadError::Invalid {
                    field: field.clone(),
                    reason,
                })
            };
            let mut names: Vec<Json> = Vec::new();
            if !keys.is_empty() {
                let pk = c.primary_key().expect("written collections have keys");
                let mut sql = self.tx.sql();
                sql.push("SELECT ")
                    .ident(collection_field)
                    .push(" AS k FROM ")
                    .ident(&c.name);
                where_keys(&mut sql, c, pk, keys);
                for mut row in self.tx.fetch_all(&sql).await? {
                    let name = row.remove("k").unwrap_or(Json::Null);
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            let target = match names.as_slice() {
                [Json::String(name)] => allowed.iter().find(|t| &t.name == name).copied(),
                _ => None,
            }
            .ok_or_else(|| {
                bad(format!(
                    "an item given as an object needs \"{collection_field}\" to name its collection"
                ))
            })?;
            parts.to_any.push((field, target, item));
        }
        Ok(())
    }

    /// Writes many-to-one objects and puts their keys in the payload.
    async fn resolve_to_one(
        &mut self,
        parts: &mut Parts<'w>,
        depth: usize,
    ) -> Result<(), ItemsError> {
        for (field, rel, obj) in std::mem::take(&mut parts.to_one) {
            let related = rel.related();
            let pk = related.primary_key().expect("relations need keys");
            let key = match obj.get(pk).filter(|k| !k.is_null()).cloned() {
                Some(key) => {
                    let mut data = obj.clone();
                    data.as_object_mut().expect("checked object").remove(pk);
                    self.update(&related.name, std::slice::from_ref(&key), data, depth + 1)
                        .await?;
                    key
                }
                None => self.create(&related.name, obj, depth + 1).await?,
            };
            parts.columns.insert(field, key);
        }
        for (field, target, obj) in std::mem::take(&mut parts.to_any) {
            let pk = target.primary_key().expect("allowed collections have keys");
            let key = match obj.get(pk).filter(|k| !k.is_null()).cloned() {
                Some(key) => {
                    let mut data = obj.clone();
                    data.as_object_mut().expect("checked object").remove(pk);
                    self.update(&target.name, std::slice::from_ref(&key), data, depth + 1)
                        .await?;
                    key
                }
                None => self.create(&target.name, obj, depth + 1).await?,
            };
            parts.columns.insert(field, key);
        }
        Ok(())
    }

    /// The first steps of writing one item, the same for a create and an update: the
    /// nesting limit, the collection, the filter handlers, the payload split, and the
    /// many-to-one and many-to-any objects written first (their keys go in the row).
    async fn prepare(
        &mut self,
        op: &'static str,
        collection: &str,
        payload: Json,
        keys: &[Json],
        depth: usize,
    ) -> Result<(&'w Collection, &'w str, Json, Parts<'w>), ItemsError> {
        if depth > MAX_NESTING {
            return Err(PayloadError::Invalid {
                field: collection.to_string(),
                reason: "nested too deeply".into(),
            }
            .into());
        }
        let (c, pk) = target(self.w.schema, collection)?;
        if !payload.is_object() {
            return Err(PayloadError::NotAnObject.into());
        }
        let mut payload = self
            .w
            .bus
            .filter(op, collection, payload, keys, self.w.user)
            .await?;
        if let Some(access) = &self.w.access {
            let action = if op == "create" {
                Action::Create
            } else {
                Action::Update
            };
            let obj = payload.as_object_mut().ok_or(PayloadError::NotAnObject)?;
            access.check_payload(collection, action, obj, keys)?;
            if action == Action::Update {
                self.check_reach(c, pk, keys, action).await?;
            }
        }
        let mut parts = self.split(c, payload.clone())?;
        self.stored_collections(c, keys, &mut parts).await?;
        self.resolve_to_one(&mut parts, depth).await?;
        if self.w.access.is_some() {
            self.refuse_admin_grants(&c.name, &parts.columns).await?;
        }
        Ok((c, pk, payload, parts))
    }

    fn create<'a>(
        &'a mut self,
        collection: &'a str,
        payload: Json,
        depth: usize,
    ) -> Step<'a, Json> {
        Box::pin(async move {
            let (c, pk, payload, parts) = self
                .prepare("create", collection, payload, &[], depth)
                .await?;
            let writer = Writer {
                collection: c,
                user: self.w.user,
                now: self.now,
            };
            let row = writer
                .row(&Json::Object(parts.columns), Mode::Create)
                .await?;
            let key = insert(&mut self.tx, c, pk, &row).await?;
            if row.iter().any(|(k, _, _)| k == pk)
                && c.fields[pk]
                    .column
                    .as_ref()
                    .is_some_and(|col| col.has_auto_increment)
            {
                resync_sequence(&mut self.tx, c, pk).await?;
            }
            for (rel, field, value) in parts.to_many {
                self.write_children(&rel, &field, &key, value, false, depth)
                    .await?;
            }
            self.actions
                .push(("create", collection.to_string(), payload, vec![key.clone()]));
            Ok(key)
        })
    }

    fn update<'a>(
        &'a mut self,
        collection: &'a str,
        keys: &'a [Json],
        data: Json,
        depth: usize,
    ) -> Step<'a, ()> {
        Box::pin(async move {
            let (c, pk, data, parts) = self
                .prepare("update", collection, data, keys, depth)
                .await?;
            let writer = Writer {
                collection: c,
                user: self.w.user,
                now: self.now,
            };
            let row: Row = writer
                .row(&Json::Object(parts.columns), Mode::Update)
                .await?
                .into_iter()
                .filter(|(k, _, _)| k != pk)
                .collect();
            update_rows(&mut self.tx, c, pk, keys, &row).await?;
            for (rel, field, value) in parts.to_many {
                for key in keys {
                    self.write_children(&rel, &field, key, value.clone(), true, depth)
                        .await?;
                }
            }
            self.actions
                .push(("update", collection.to_string(), data, keys.to_vec()));
            Ok(())
        })
    }

    fn delete<'a>(&'a mut self, collection: &'a str, keys: &'a [Json]) -> Step<'a, ()> {
        Box::pin(async move {
            let (c, pk) = target(self.w.schema, collection)?;
            let payload = Json::Array(keys.to_vec());
            self.w
                .bus
                .filter("delete", collection, payload.clone(), keys, self.w.user)
                .await?;
            if self.w.access.is_some() {
                self.check_reach(c, pk, keys, Action::Delete).await?;
            }
            let mut sql = self.tx.sql();
            sql.push("DELETE FROM ").ident(&c.name);
            where_keys(&mut sql, c, pk, keys);
            self.tx.execute(&sql).await?;
            self.actions
                .push(("delete", collection.to_string(), payload, keys.to_vec()));
            Ok(())
        })
    }

    /// For a non-administrator: no write may hand out administrator rights — linking a
    /// policy with `admin_access`, or giving a user (or a role, as its parent) a role that
    /// has one through its own policies or its ancestors'. Read in the write's own
    /// transaction, so rows created earlier in the same request count.
    async fn refuse_admin_grants(
        &mut self,
        collection: &str,
        columns: &Map<String, Json>,
    ) -> Result<(), ItemsError> {
        let escalation = || {
            ItemsError::from(crate::access::writes::AccessError::Escalation(
                "You can't grant administrator access.".into(),
            ))
        };
        let id = |k: &str| columns.get(k).and_then(Json::as_str).map(str::to_string);
        match collection {
            "rectus_access" => {
                if let Some(policy) = id("policy") {
                    if self.admin_policy(&policy).await? {
                        return Err(escalation());
                    }
                }
            }
            "rectus_users" => {
                if let Some(role) = id("role") {
                    if self.admin_role(&role).await? {
                        return Err(escalation());
                    }
                }
            }
            "rectus_roles" => {
                if let Some(parent) = id("parent") {
                    if self.admin_role(&parent).await? {
                        return Err(escalation());
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn admin_policy(&mut self, policy: &str) -> Result<bool, ItemsError> {
        if uuid::Uuid::parse_str(policy).is_err() {
            return Ok(false);
        }
        let mut sql = self.tx.sql();
        sql.push("SELECT COUNT(*) AS n FROM ")
            .ident("rectus_policies")
            .push(" WHERE ")
            .ident("id")
            .push(" = ")
            .bind_cast(policy, Some("uuid"))
            .push(" AND ")
            .ident("admin_access")
            .push(" = ")
            .bind(true);
        Ok(count(self.tx.fetch_optional(&sql).await?) > 0)
    }

    /// Whether `role`, or one of its ancestors, has a policy with `admin_access`.
    async fn admin_role(&mut self, role: &str) -> Result<bool, ItemsError> {
        let mut next = Some(role.to_string());
        let mut seen: Vec<String> = Vec::new();
        while let Some(r) = next.take() {
            if seen.contains(&r) || seen.len() > 64 || uuid::Uuid::parse_str(&r).is_err() {
                break;
            }
            let mut sql = self.tx.sql();
            sql.push("SELECT COUNT(*) AS n FROM ")
                .ident("rectus_access")
                .push(" a JOIN ")
                .ident("rectus_policies")
                .push(" p ON p.")
                .ident("id")
                .push(" = a.")
                .ident("policy")
                .push(" WHERE a.")
                .ident("role")
                .push(" = ")
                .bind_cast(r.as_str(), Some("uuid"))
                .push(" AND p.")
                .ident("admin_access")
                .push(" = ")
                .bind(true);
            if count(self.tx.fetch_optional(&sql).await?) > 0 {
                return Ok(true);
            }
            let mut parent = self.tx.sql();
            parent
                .push("SELECT ")
                .ident("parent")
                .push(" AS parent FROM ")
                .ident("rectus_roles")
                .push(" WHERE ")
                .ident("id")
                .push(" = ")
                .bind_cast(r.as_str(), Some("uuid"));
            next = self
                .tx
                .fetch_optional(&parent)
                .await?
                .and_then(|row| row.get("parent").and_then(Json::as_str).map(str::to_string));
            seen.push(r);
        }
        Ok(false)
    }

    /// For a non-administrator: every targeted key must be an item the action's
    /// permission filters reach, else the whole write is `403` (a missing item answers
    /// the same, so existence does not leak).
    async fn check_reach(
        &mut self,
        c: &Collection,
        pk: &str,
        keys: &[Json],
        action: Action,
    ) -> Result<(), ItemsError> {
        let Some(access) = &self.w.access else {
            return Ok(());
        };
        let mut rules = access.row_rules(&c.name, action)?;
        if let Some(guard) = access.guard_rows(&c.name) {
            // The guard must hold on top of the permission rules.
            let reach = match rules.take() {
                None => guard,
                Some(fs) => Filter::And(vec![guard, Filter::Or(fs)]),
            };
            rules = Some(vec![reach]);
        }
        let mut distinct: Vec<&Json> = Vec::new();
        for k in keys {
            key_value(c, pk, k)?;
            if !distinct.iter().any(|x| same_key(x, k)) {
                distinct.push(k);
            }
        }
        if distinct.is_empty() {
            return Ok(());
        }
        let mut sql = self.tx.sql();
        sql.push("SELECT COUNT(*) AS n FROM ")
            .ident(&c.name)
            .push(" k");
        where_keys(&mut sql, c, pk, keys);
        if let Some(filters) = rules {
            sql.push(" AND (");
            if filters.is_empty() {
                sql.push("1 = 0");
            }
            for (i, f) in filters.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                let p = compile_condition(self.w.schema, c, "k", f, self.now).unwrap_or_else(|e| {
                    tracing::warn!(collection = %c.name, "a permission filter can't be applied ({e}); it matches no row");
                    let mut never = self.tx.sql();
                    never.push("1 = 0");
                    never
                });
                sql.push("(").append(&p).push(")");
            }
            sql.push(")");
        }
        let row = self.tx.fetch_optional(&sql).await?.unwrap_or_default();
        let n = row
            .get("n")
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(0);
        if n as usize != distinct.len() {
            return Err(ItemsError::Forbidden);
        }
        Ok(())
    }

    /// Writes a one-to-many field's value for the parent `key`.
    async fn write_children(
        &mut self,
        rel: &Relation<'w>,
        field: &str,
        key: &Json,
        value: Json,
        existing: bool,
        depth: usize,
    ) -> Result<(), ItemsError> {
        let Relation::ToMany { child, fk, .. } = *rel else {
            unreachable!("split keeps one-to-many here")
        };
        let child_pk = child.primary_key().expect("relations need keys");
        let bad = |reason: &str| {
            ItemsError::from(PayloadError::Invalid {
                field: field.to_string(),
                reason: reason.to_string(),
            })
        };
        match value {
            Json::Null => Ok(()),
            // The complete new set.
            Json::Array(items) => {
                let mut kept = Vec::new();
                for item in items {
                    match item {
                        Json::Object(mut o) => match o.remove(child_pk).filter(|k| !k.is_null()) {
                            Some(k) => {
                                o.insert(fk.to_string(), key.clone());
                                self.update(
                                    &child.name,
                                    std::slice::from_ref(&k),
                                    Json::Object(o),
                                    depth + 1,
                                )
                                .await?;
                                kept.push(k);
                            }
                            None => {
                                o.insert(fk.to_string(), key.clone());
                                kept.push(
                                    self.create(&child.name, Json::Object(o), depth + 1).await?,
                                );
                            }
                        },
                        k @ (Json::String(_) | Json::Number(_)) => {
                            let link = serde_json::json!({ fk: key.clone() });
                            self.update(&child.name, std::slice::from_ref(&k), link, depth + 1)
                                .await?;
                            kept.push(k);
                        }
                        _ => return Err(bad("a one-to-many value must list objects or keys")),
                    }
                }
                if existing {
                    let current = self.child_keys(child, fk, key).await?;
                    let dropped: Vec<Json> = current
                        .into_iter()
                        .filter(|k| !kept.iter().any(|x| same_key(x, k)))
                        .collect();
                    self.deselect(rel, field, &dropped, depth).await?;
                }
                Ok(())
            }
            // `{create, update, delete}`.
            Json::Object(o) => {
                if o.keys()
                    .any(|k| !matches!(k.as_str(), "create" | "update" | "delete"))
                {
                    return Err(bad("Invalid one-to-many update structure"));
                }
                for item in o
                    .get("create")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    let Json::Object(mut item) = item else {
                        return Err(bad("Invalid one-to-many update structure"));
                    };
                    item.insert(fk.to_string(), key.clone());
                    self.create(&child.name, Json::Object(item), depth + 1)
                        .await?;
                }
                for item in o
                    .get("update")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    let Json::Object(mut item) = item else {
                        return Err(bad("Invalid one-to-many update structure"));
                    };
                    let k = item
                        .remove(child_pk)
                        .filter(|k| !k.is_null())
                        .ok_or_else(|| bad("each item to update needs its primary key"))?;
                    self.update(
                        &child.name,
                        std::slice::from_ref(&k),
                        Json::Object(item),
                        depth + 1,
                    )
                    .await?;
                }
                let delete = o
                    .get("delete")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default();
                if delete.iter().any(|k| !(k.is_string() || k.is_number())) {
                    return Err(bad("Invalid one-to-many update structure"));
                }
                // Only children of this item are deselected.
                let current = self.child_keys(child, fk, key).await?;
                let delete: Vec<Json> = delete
                    .into_iter()
                    .filter(|k| current.iter().any(|c| same_key(c, k)))
                    .collect();
                self.deselect(rel, field, &delete, depth).await
            }
            _ => Err(bad(
                "a one-to-many value must be an array or {create, update, delete}",
            )),
        }
    }

    /// Children of `key` along `fk`.
    async fn child_keys(
        &mut self,
        child: &Collection,
        fk: &str,
        key: &Json,
    ) -> Result<Vec<Json>, ItemsError> {
        let pk = child.primary_key().expect("relations need keys");
        let fk_field = &child.fields[fk];
        let v = coerce(fk_field, key).map_err(ItemsError::from)?;
        let mut sql = self.tx.sql();
        sql.push("SELECT ")
            .ident(pk)
            .push(" AS k FROM ")
            .ident(&child.name)
            .push(" WHERE ")
            .ident(fk)
            .push(" = ");
        sql.bind_cast(v, pg_cast(fk_field.field_type));
        let rows = self.tx.fetch_all(&sql).await?;
        Ok(rows.into_iter().filter_map(|mut r| r.remove("k")).collect())
    }

    /// Children no longer in the set: their key is cleared, or they are deleted when the
    /// relation says `one_deselect_action: delete`.
    async fn deselect(
        &mut self,
        rel: &Relation<'w>,
        field: &str,
        keys: &[Json],
        depth: usize,
    ) -> Result<(), ItemsError> {
        if keys.is_empty() {
            return Ok(());
        }
        let Relation::ToMany { child, fk, .. } = *rel else {
            unreachable!("one-to-many only")
        };
        let delete = self
            .w
            .schema
            .relation(&child.name, fk)
            .and_then(|r| r.meta.as_ref())
            .and_then(|m| m.get("one_deselect_action"))
            .and_then(Json::as_str)
            == Some("delete");
        if delete {
            return self.delete(&child.name, keys).await;
        }
        if !child.fields[fk].nullable() {
            return Err(PayloadError::Invalid {
                field: field.to_string(),
                reason: format!("\"{}.{fk}\" can't be emptied; delete the items or set one_deselect_action to delete", child.name),
            }
            .into());
        }
        self.update(
            &child.name,
            keys,
            serde_json::json!({ fk: null }),
            depth + 1,
        )
        .await
    }
}

/// `n` of a `SELECT COUNT(*) AS n` row.
fn count(row: Option<crate::db::Row>) -> i64 {
    row.and_then(|r| {
        r.get("n")
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
    })
    .unwrap_or(0)
}

/// Keys compare by value whatever their JSON type (`1` and `"1"`).
fn same_key(a: &Json, b: &Json) -> bool {
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    text(a) == text(b)
}

async fn insert(tx: &mut Tx, c: &Collection, pk: &str, row: &Row) -> Result<Json, ItemsError> {
    let d = tx.dialect();
    let mut sql = Sql::new(d);
    sql.push("INSERT INTO ").ident(&c.name);
    if row.is_empty() {
        sql.push(if d == Dialect::MySql {
            " () VALUES ()"
        } else {
            " DEFAULT VALUES"
        });
    } else {
        sql.push(" (")
            .idents(row.iter().map(|(k, _, _)| k.as_str()))
            .push(") VALUES (");
        for (i, (_, v, ty)) in row.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_cast(v.clone(), pg_cast_for(*ty, v));
        }
        sql.push(")");
    }
    let given = row
        .iter()
        .find(|(k, _, _)| k == pk)
        .map(|(_, v, _)| value_json(v));
    insert_returning(tx, sql, pk, given).await
}

/// Runs an INSERT and answers the new row's key: `RETURNING` where the database has it;
/// on MySQL the key the row was given, or the connection's `LAST_INSERT_ID()`.
pub(super) async fn insert_returning(
    tx: &mut Tx,
    mut sql: Sql,
    key: &str,
    given: Option<Json>,
) -> Result<Json, ItemsError> {
    if tx.dialect() == Dialect::MySql {
        tx.execute(&sql).await?;
        if let Some(k) = given {
            return Ok(k);
        }
        let mut last = Sql::new(Dialect::MySql);
        last.push("SELECT LAST_INSERT_ID() AS k");
        let r = tx.fetch_optional(&last).await?.unwrap_or_default();
        return Ok(r.get("k").cloned().unwrap_or(Json::Null));
    }
    sql.push(" RETURNING ").ident(key);
    let r = tx.fetch_optional(&sql).await?.unwrap_or_default();
    Ok(r.get(key).cloned().unwrap_or(Json::Null))
}

/// After rows were inserted with explicit keys, the next generated key must not collide.
async fn resync_sequence(tx: &mut Tx, c: &Collection, pk: &str) -> Result<(), ItemsError> {
    let d = tx.dialect();
    if d != Dialect::Postgres {
        // SQLite and MySQL continue after the largest key by themselves.
        return Ok(());
    }
    let mut sql = Sql::new(d);
    sql.push("SELECT setval(pg_get_serial_sequence(")
        .bind(d.quote(&c.name))
        .push(", ")
        .bind(pk.to_string())
        .push("), GREATEST((SELECT MAX(")
        .ident(pk)
        .push(") FROM ")
        .ident(&c.name)
        .push("), 1))");
    tx.fetch_all(&sql).await?;
    Ok(())
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Text(s) => Json::String(s.clone()),
    }
}

async fn update_rows(
    tx: &mut Tx,
    c: &Collection,
    pk: &str,
    keys: &[Json],
    row: &Row,
) -> Result<(), ItemsError> {
    if row.is_empty() || keys.is_empty() {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("UPDATE ").ident(&c.name).push(" SET ");
    for (i, (k, v, ty)) in row.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.ident(k)
            .push(" = ")
            .bind_cast(v.clone(), pg_cast_for(*ty, v));
    }
    where_keys(&mut sql, c, pk, keys);
    tx.execute(&sql).await?;
    Ok(())
}

fn where_keys(sql: &mut Sql, c: &Collection, pk: &str, keys: &[Json]) {
    let ty = c.fields[pk].field_type;
    sql.push(" WHERE ").ident(pk).push(" IN (");
    let mut any = false;
    for key in keys {
        // Keys of the wrong type cannot match any row; leave them out.
        let Ok(v) = key_value(c, pk, key) else {
            continue;
        };
        if any {
            sql.push(", ");
        }
        sql.bind_cast(v, pg_cast(ty));
        any = true;
    }
    if !any {
        sql.push("NULL");
    }
    sql.push(")");
}
