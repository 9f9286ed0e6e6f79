//! Item operations: create, read, update, delete in any collection, acting as the flow's
//! trigger, the public, full access, or a role (`permissions`).

use crate::{acting_as, info, json_option, required};
use rectus_sdk::{Context, Host, HostError, Operation, OperationInfo, QueryInput, Target};
use serde_json::{json, Value as Json};

fn common_options(extra: Json) -> Json {
    let mut o = json!({
        "collection": {"type": "string"},
        "permissions": {"type": "string", "description": "$trigger, $public, $full or a role id"},
        "emitEvents": {"type": "boolean"},
    });
    if let (Some(o), Json::Object(extra)) = (o.as_object_mut(), extra) {
        o.extend(extra);
    }
    o
}

/// `key` as a list of keys: one key or an array of them; `None` when not given.
fn keys(options: &Json) -> Option<Vec<Json>> {
    match json_option(options, "key")? {
        Json::Array(a) if a.is_empty() => None,
        Json::Array(a) => Some(a),
        Json::String(s) if s.is_empty() => None,
        one => Some(vec![one]),
    }
}

fn query(options: &Json) -> Option<Json> {
    json_option(options, "query").filter(|q| q.as_object().is_some_and(|o| !o.is_empty()))
}

/// Keys as text, for `read_item`.
fn key_text(k: &Json) -> String {
    match k {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub struct ItemCreate;

impl Operation for ItemCreate {
    fn info(&self) -> OperationInfo {
        info(
            "item-create",
            "Create Data",
            "Creates one item or several; returns their keys.",
            common_options(json!({"payload": {}})),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let collection = required(&options, "collection")?;
        let payload = json_option(&options, "payload").unwrap_or_else(|| json!({}));
        let keys = host
            .create_items(&acting_as(ctx, &options), &collection, payload)
            .await?;
        Ok(Json::Array(keys))
    }
}

pub struct ItemRead;

impl Operation for ItemRead {
    fn info(&self) -> OperationInfo {
        info(
            "item-read",
            "Read Data",
            "Reads items by key(s) or by query.",
            common_options(json!({"key": {}, "query": {"type": "object"}})),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let collection = required(&options, "collection")?;
        let as_ctx = acting_as(ctx, &options);
        let q = query(&options).unwrap_or_else(|| json!({}));
        let parse = |text: &str| {
            serde_json::from_str::<Json>(text)
                .map_err(|_| HostError::new(500, "INTERNAL_SERVER_ERROR", "unreadable items"))
        };
        match keys(&options) {
            Some(keys)
                if keys.len() == 1
                    && !matches!(json_option(&options, "key"), Some(Json::Array(_))) =>
            {
                let item = host
                    .read_item(
                        &as_ctx,
                        &collection,
                        &key_text(&keys[0]),
                        QueryInput::Json(q),
                    )
                    .await?;
                parse(&item)
            }
            Some(keys) => {
                let pk = host
                    .primary_key(&collection)
                    .ok_or_else(HostError::forbidden)?;
                let mut q = q;
                let by_keys = json!({pk: {"_in": keys}});
                q["filter"] = match q.get("filter") {
                    Some(f) if !f.is_null() => json!({"_and": [by_keys, f]}),
                    _ => by_keys,
                };
                q["limit"] = json!(-1);
                let items = host
                    .read_items(&as_ctx, &collection, QueryInput::Json(q))
                    .await?;
                parse(&items.data)
            }
            None => {
                let items = host
                    .read_items(&as_ctx, &collection, QueryInput::Json(q))
                    .await?;
                parse(&items.data)
            }
        }
    }
}

/// The items an update or delete targets: keys, or a query — not both.
fn target(options: &Json) -> Result<Option<Target>, HostError> {
    match (keys(options), query(options)) {
        (Some(_), Some(_)) => Err(HostError::invalid_payload(
            "\"key\" and \"query\" can't be used together",
        )),
        (Some(k), None) => Ok(Some(Target::Keys(k))),
        (None, Some(q)) => Ok(Some(Target::Query(QueryInput::Json(q)))),
        (None, None) => Ok(None),
    }
}

pub struct ItemUpdate;

impl Operation for ItemUpdate {
    fn info(&self) -> OperationInfo {
        info(
            "item-update",
            "Update Data",
            "Updates items by key(s) or query, or a batch of objects with their keys; returns the keys.",
            common_options(json!({"key": {}, "query": {"type": "object"}, "payload": {}})),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let collection = required(&options, "collection")?;
        let as_ctx = acting_as(ctx, &options);
        let payload = json_option(&options, "payload").unwrap_or_else(|| json!({}));
        let keys = match (target(&options)?, payload) {
            (None, Json::Array(batch)) => host.update_batch(&as_ctx, &collection, batch).await?,
            (None, _) => {
                return Err(HostError::invalid_payload(
                    "\"key\" or \"query\" is required, or a payload array of items with their keys",
                ))
            }
            (Some(t), payload) => host.update_items(&as_ctx, &collection, t, payload).await?,
        };
        Ok(Json::Array(keys))
    }
}

pub struct ItemDelete;

impl Operation for ItemDelete {
    fn info(&self) -> OperationInfo {
        info(
            "item-delete",
            "Delete Data",
            "Deletes items by key(s) or query; returns the keys given.",
            common_options(json!({"key": {}, "query": {"type": "object"}})),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let collection = required(&options, "collection")?;
        let Some(t) = target(&options)? else {
            return Err(HostError::invalid_payload(
                "\"key\" or \"query\" is required",
            ));
        };
        let result = match &t {
            Target::Keys(k) => Json::Array(k.clone()),
            Target::Query(_) => Json::Null,
        };
        host.delete_items(&acting_as(ctx, &options), &collection, t)
            .await?;
        Ok(result)
    }
}
