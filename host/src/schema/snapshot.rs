//! Schema snapshots: the data model as a portable document, the difference between two of
//! them as an ordered plan of schema changes, and applying such a plan.
//!
//! Owns: the snapshot format (Directus's `{version, directus, vendor, collections, fields,
//! systemFields, relations}` with the `to_api()` shapes of [`super::Schema`], ids left out),
//! reading and writing it as YAML or JSON, comparing snapshots, and the plan ([`Plan`],
//! [`Step`]). Must not touch: SQL or metadata rows — applying a plan goes only through the
//! [`SchemaService`] change methods, which validate and run each change atomically.
//!
//! Portability: a snapshot taken on one database must apply to another kind. The document
//! keeps the catalogue details Directus shows (`data_type`, constraint names …) for
//! readers, but the comparison looks only at what every database can express: the field
//! type, nullability, default, `max_length` of strings, precision and scale of decimals,
//! uniqueness, primary key, auto-increment, and the metadata; for relations the related
//! collection, the referential actions and the metadata. Rules that keep a round trip
//! stable:
//! - A `null` `max_length` / precision / scale in the desired snapshot has no opinion (a
//!   SQLite `varchar` without length becomes `varchar(255)` elsewhere).
//! - `meta: null` in the desired snapshot has no opinion about metadata (a table made with
//!   plain SQL has none; applying it must not strip metadata the target has). A metadata
//!   object is compared with its default values and ids left out, so a row holding only
//!   defaults equals no row.
//! - `RESTRICT` equals `NO ACTION` (MySQL reports `RESTRICT` for an unspecified action
//!   where PostgreSQL and SQLite report `NO ACTION`).
//! - An auto-increment primary key's `integer` vs `bigInteger` is not a difference:
//!   SQLite's self-numbering key must be declared `INTEGER` and is 64-bit anyway.
//!
//! The diff entries in `POST /schema/diff` are Rectus's own step objects (see [`Step`]),
//! not Directus's deep-diff records; the outer shape `{hash, diff: {collections, fields,
//! relations}}` is Directus's.

use super::service::{SchemaError, SchemaService};
use super::Schema;
use crate::system::tables::{self, SystemTable};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

/// The snapshot format version Rectus writes and reads (Directus's full snapshot).
pub const SNAPSHOT_VERSION: u64 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u64,
    /// The version of the program that wrote the snapshot (Directus's key name).
    #[serde(default)]
    pub directus: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub collections: Vec<Json>,
    #[serde(default)]
    pub fields: Vec<Json>,
    /// Directus's changes to system fields; Rectus's system tables are not user-editable,
    /// so this is written empty and ignored when read.
    #[serde(rename = "systemFields", default)]
    pub system_fields: Vec<Json>,
    #[serde(default)]
    pub relations: Vec<Json>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a valid snapshot: {0}")]
    Parse(String),
    #[error("snapshot version {0} is not supported (Rectus reads version 1)")]
    Version(u64),
    #[error("invalid snapshot: {0}")]
    Invalid(String),
    #[error("unknown snapshot format \"{0}\" (use yaml or json)")]
    Format(String),
    #[error("unknown diff mode \"{0}\" (use mirror or merge)")]
    Mode(String),
}

/// What happens to objects the desired snapshot does not have (Directus's `?mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// They are deleted: the database ends up exactly like the snapshot.
    #[default]
    Mirror,
    /// They stay: the snapshot only adds and changes.
    Merge,
}

impl Mode {
    pub fn parse(name: &str) -> Result<Mode, SnapshotError> {
        match name {
            "mirror" => Ok(Mode::Mirror),
            "merge" => Ok(Mode::Merge),
            other => Err(SnapshotError::Mode(other.to_string())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    pub fn parse(name: &str) -> Result<Format, SnapshotError> {
        match name.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            other => Err(SnapshotError::Format(other.to_string())),
        }
    }

    /// The format a file name implies, if its extension names one.
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?;
        Format::parse(ext).ok()
    }
}

impl Snapshot {
    /// The snapshot of a schema: user collections, their fields and relations, sorted by
    /// collection then field, with metadata ids left out.
    pub fn of(schema: &Schema) -> Snapshot {
        let mut collections: Vec<Json> = Vec::new();
        let mut fields: Vec<Json> = Vec::new();
        for c in schema.collections.values() {
            let mut entry = c.to_api();
            // Directus keeps only the table name of a collection's `schema`.
            if entry["schema"].is_object() {
                entry["schema"] = json!({ "name": c.name });
            }
            collections.push(entry);
            for f in c.fields.values() {
                let mut entry = f.to_api();
                strip_meta_id(&mut entry);
                if let Some(s) = entry["schema"].as_object_mut() {
                    // Which PostgreSQL schema and the comment are not part of the model
                    // Directus snapshots either.
                    s.shift_remove("foreign_key_schema");
                    s.shift_remove("comment");
                }
                fields.push(entry);
            }
        }
        collections.sort_by(|a, b| key(a, "collection").cmp(key(b, "collection")));
        fields.sort_by(|a, b| {
            (key(a, "collection"), key(a, "field")).cmp(&(key(b, "collection"), key(b, "field")))
        });
        let mut relations: Vec<Json> = schema
            .relations
            .iter()
            .map(|r| {
                let mut entry = r.to_api();
                strip_meta_id(&mut entry);
                if let Some(s) = entry["schema"].as_object_mut() {
                    s.shift_remove("foreign_key_schema");
                }
                entry
            })
            .collect();
        relations.sort_by(|a, b| {
            (key(a, "collection"), key(a, "field")).cmp(&(key(b, "collection"), key(b, "field")))
        });
        Snapshot {
            version: SNAPSHOT_VERSION,
            directus: env!("CARGO_PKG_VERSION").to_string(),
            vendor: schema.dialect.vendor().to_string(),
            collections,
            fields,
            system_fields: Vec::new(),
            relations,
        }
    }

    /// Reads a snapshot from YAML or JSON text (JSON is YAML, so YAML parsing reads both;
    /// `format` only picks the error wording's parser).
    pub fn parse(text: &str, format: Format) -> Result<Snapshot, SnapshotError> {
        let value: Json = match format {
            Format::Json => {
                serde_json::from_str(text).map_err(|e| SnapshotError::Parse(e.to_string()))?
            }
            Format::Yaml => {
                serde_yaml::from_str(text).map_err(|e| SnapshotError::Parse(e.to_string()))?
            }
        };
        Snapshot::from_json(value)
    }

    /// Checks and reads a snapshot document.
    pub fn from_json(value: Json) -> Result<Snapshot, SnapshotError> {
        let Json::Object(obj) = &value else {
            return Err(SnapshotError::Parse("the document is not an object".into()));
        };
        match obj.get("version") {
            None => return Err(SnapshotError::Parse("\"version\" is missing".into())),
            Some(v) => match v.as_u64() {
                Some(SNAPSHOT_VERSION) => {}
                Some(other) => return Err(SnapshotError::Version(other)),
                None => return Err(SnapshotError::Parse("\"version\" must be a number".into())),
            },
        }
        let snapshot: Snapshot =
            serde_json::from_value(value).map_err(|e| SnapshotError::Parse(e.to_string()))?;
        // Validate the entries now, so a bad file fails before anything is changed.
        Model::of(&snapshot)?;
        Ok(snapshot)
    }

    pub fn to_text(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let mut s = serde_json::to_string_pretty(self).expect("a snapshot serialises");
                s.push('\n');
                s
            }
            Format::Yaml => serde_yaml::to_string(self).expect("a snapshot serialises"),
        }
    }

    /// Identifies this exact state of the schema: `POST /schema/apply` refuses a diff made
    /// against another state. Independent of the program version, so an upgrade alone does
    /// not invalidate a diff.
    pub fn hash(&self) -> String {
        let doc = json!({
            "vendor": self.vendor,
            "collections": self.collections,
            "fields": self.fields,
            "relations": self.relations,
        });
        let digest = Sha256::digest(doc.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn key<'a>(v: &'a Json, k: &str) -> &'a str {
    v.get(k).and_then(Json::as_str).unwrap_or("")
}

fn strip_meta_id(entry: &mut Json) {
    if let Some(m) = entry.get_mut("meta").and_then(Json::as_object_mut) {
        m.shift_remove("id");
    }
}

// ---------------------------------------------------------------------------------------
// The plan.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Collection,
    Field,
    Relation,
}

/// One schema change: which service method to call with which payload. The payloads are
/// the request bodies of the matching endpoints (`POST /collections`, `PATCH
/// /fields/:c/:f`, `POST /relations` …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub action: Action,
    pub target: Target,
    pub collection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Json>,
    /// For updates: what differs (`type`, `schema.default_value`, `meta.note` …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

impl Step {
    /// The position of this kind of step in a plan: relations are removed first, then
    /// fields, then collections; collections are created before fields, and fields before
    /// the relations that use them.
    fn phase(&self) -> u8 {
        match (self.action, self.target) {
            (Action::Delete, Target::Relation) => 0,
            (Action::Delete, Target::Field) => 1,
            (Action::Delete, Target::Collection) => 2,
            (_, Target::Collection) => 3,
            (_, Target::Field) => 4,
            (_, Target::Relation) => 5,
        }
    }

    /// One line for people: `create collection orders (3 fields)`.
    pub fn describe(&self) -> String {
        let action = match self.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        };
        let target = match self.target {
            Target::Collection => "collection",
            Target::Field => "field",
            Target::Relation => "relation",
        };
        let name = match &self.field {
            Some(f) => format!("{}.{}", self.collection, f),
            None => self.collection.clone(),
        };
        let mut line = format!("{action} {target} {name}");
        if self.action == Action::Create && self.target == Target::Collection {
            let n = self
                .payload
                .as_ref()
                .and_then(|p| p.get("fields"))
                .and_then(Json::as_array)
                .map_or(0, Vec::len);
            line.push_str(&format!(" ({n} field{})", if n == 1 { "" } else { "s" }));
        }
        if self.action == Action::Create && self.target == Target::Relation {
            if let Some(r) = self
                .payload
                .as_ref()
                .and_then(|p| p.get("related_collection"))
                .and_then(Json::as_str)
            {
                line.push_str(&format!(" -> {r}"));
            }
        }
        if !self.changes.is_empty() {
            line.push_str(&format!(": {}", self.changes.join(", ")));
        }
        line
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    fn sort(&mut self) {
        // Stable: within a phase, steps keep the snapshot's (sorted) order.
        self.steps.sort_by_key(Step::phase);
    }

    /// `{collections: [...], fields: [...], systemFields: [], relations: [...]}`, the shape
    /// of `POST /schema/diff`'s `diff` (system fields are never changed by a snapshot).
    pub fn to_api(&self) -> Json {
        let of = |t: Target| -> Vec<Json> {
            self.steps
                .iter()
                .filter(|s| s.target == t)
                .map(|s| serde_json::to_value(s).expect("a step serialises"))
                .collect()
        };
        json!({
            "collections": of(Target::Collection),
            "fields": of(Target::Field),
            "systemFields": [],
            "relations": of(Target::Relation),
        })
    }

    /// Reads the `diff` of `POST /schema/apply` back into an ordered plan.
    pub fn from_api(diff: &Json) -> Result<Plan, SnapshotError> {
        let Json::Object(obj) = diff else {
            return Err(SnapshotError::Invalid("\"diff\" must be an object".into()));
        };
        let mut steps = Vec::new();
        for (list, target) in [
            ("collections", Target::Collection),
            ("fields", Target::Field),
            ("relations", Target::Relation),
        ] {
            let entries = match obj.get(list) {
                None | Some(Json::Null) => continue,
                Some(Json::Array(a)) => a,
                Some(_) => {
                    return Err(SnapshotError::Invalid(format!(
                        "\"diff.{list}\" must be an array"
                    )))
                }
            };
            for e in entries {
                let step: Step = serde_json::from_value(e.clone())
                    .map_err(|err| SnapshotError::Invalid(format!("diff.{list}: {err}")))?;
                if step.target != target {
                    return Err(SnapshotError::Invalid(format!(
                        "diff.{list} holds a step for another kind of object"
                    )));
                }
                if step.target != Target::Collection && step.field.is_none() {
                    return Err(SnapshotError::Invalid(format!(
                        "diff.{list}: a step needs \"field\""
                    )));
                }
                if step.action != Action::Delete && step.payload.is_none() {
                    return Err(SnapshotError::Invalid(format!(
                        "diff.{list}: a create or update step needs \"payload\""
                    )));
                }
                steps.push(step);
            }
        }
        let mut plan = Plan { steps };
        plan.sort();
        Ok(plan)
    }
}

// ---------------------------------------------------------------------------------------
// Reading snapshot entries into a comparable model.

struct CollectionEntry {
    name: String,
    folder: bool,
    meta: Option<Map<String, Json>>,
}

struct FieldEntry {
    collection: String,
    field: String,
    field_type: String,
    schema: Option<Map<String, Json>>,
    meta: Option<Map<String, Json>>,
}

struct RelationEntry {
    collection: String,
    field: String,
    related: Option<String>,
    schema: Option<Map<String, Json>>,
    meta: Option<Map<String, Json>>,
}

struct Model {
    collections: Vec<CollectionEntry>,
    fields: Vec<FieldEntry>,
    relations: Vec<RelationEntry>,
}

fn text_of(entry: &Json, key: &str, what: &str) -> Result<String, SnapshotError> {
    match entry.get(key) {
        Some(Json::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(SnapshotError::Invalid(format!(
            "a {what} entry needs a \"{key}\" name: {entry}"
        ))),
    }
}

fn object_of(
    entry: &Json,
    key: &str,
    what: &str,
) -> Result<Option<Map<String, Json>>, SnapshotError> {
    match entry.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(SnapshotError::Invalid(format!(
            "\"{key}\" of a {what} entry must be an object or null"
        ))),
    }
}

impl Model {
    fn of(s: &Snapshot) -> Result<Model, SnapshotError> {
        let mut collections = Vec::new();
        for c in &s.collections {
            collections.push(CollectionEntry {
                name: text_of(c, "collection", "collection")?,
                folder: object_of(c, "schema", "collection")?.is_none(),
                meta: object_of(c, "meta", "collection")?,
            });
        }
        let mut fields = Vec::new();
        for f in &s.fields {
            let entry = FieldEntry {
                collection: text_of(f, "collection", "field")?,
                field: text_of(f, "field", "field")?,
                field_type: text_of(f, "type", "field")?,
                schema: object_of(f, "schema", "field")?,
                meta: object_of(f, "meta", "field")?,
            };
            if !collections.iter().any(|c| c.name == entry.collection) {
                return Err(SnapshotError::Invalid(format!(
                    "field \"{}.{}\" belongs to a collection the snapshot does not have",
                    entry.collection, entry.field
                )));
            }
            fields.push(entry);
        }
        let mut relations = Vec::new();
        for r in &s.relations {
            relations.push(RelationEntry {
                collection: text_of(r, "collection", "relation")?,
                field: text_of(r, "field", "relation")?,
                related: r
                    .get("related_collection")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                schema: object_of(r, "schema", "relation")?,
                meta: object_of(r, "meta", "relation")?,
            });
        }
        Ok(Model {
            collections,
            fields,
            relations,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Portable comparison.

fn flag(m: &Map<String, Json>, k: &str, default: bool) -> bool {
    m.get(k).and_then(Json::as_bool).unwrap_or(default)
}

/// Numbers compare as floats (`1.50` on one database is `1.5` on another, `0` may read
/// as `0.0`); numeric strings of numeric fields as numbers; 0/1 of booleans as booleans.
fn portable_default(field_type: &str, v: Option<&Json>) -> Json {
    let numeric = matches!(field_type, "integer" | "bigInteger" | "float" | "decimal");
    match v {
        None | Some(Json::Null) => Json::Null,
        Some(Json::Number(n)) if field_type == "boolean" => Json::Bool(n.as_f64() == Some(1.0)),
        Some(Json::Number(n)) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::Null, Json::Number),
        Some(Json::String(s)) if numeric => match s.trim().parse::<f64>() {
            Ok(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
            Err(_) => Json::String(s.clone()),
        },
        Some(other) => other.clone(),
    }
}

fn has_length(field_type: &str) -> bool {
    matches!(field_type, "string" | "hash")
}

/// The parts of a field every database can express, under fixed keys.
fn portable_field(f: &FieldEntry) -> Map<String, Json> {
    let mut out = Map::new();
    let Some(s) = &f.schema else {
        out.insert("type".into(), json!(f.field_type));
        return out;
    };
    let pk = flag(s, "is_primary_key", false);
    let auto = flag(s, "has_auto_increment", false);
    let ty = if pk && auto && f.field_type == "bigInteger" {
        "integer"
    } else {
        f.field_type.as_str()
    };
    out.insert("type".into(), json!(ty));
    out.insert(
        "is_nullable".into(),
        json!(flag(s, "is_nullable", true) && !pk),
    );
    out.insert(
        "default_value".into(),
        if auto {
            Json::Null
        } else {
            portable_default(ty, s.get("default_value"))
        },
    );
    let num = |k: &str| {
        s.get(k)
            .and_then(Json::as_i64)
            .map_or(Json::Null, Json::from)
    };
    out.insert(
        "max_length".into(),
        if has_length(ty) {
            num("max_length")
        } else {
            Json::Null
        },
    );
    for k in ["numeric_precision", "numeric_scale"] {
        out.insert(k.into(), if ty == "decimal" { num(k) } else { Json::Null });
    }
    out.insert("is_unique".into(), json!(flag(s, "is_unique", false)));
    out.insert("is_primary_key".into(), json!(pk));
    out.insert("has_auto_increment".into(), json!(auto));
    out
}

/// The keys whose `null` in the desired snapshot means "no opinion".
const OPTIONAL_SIZES: &[&str] = &["max_length", "numeric_precision", "numeric_scale"];

fn portable_action(m: Option<&Map<String, Json>>, k: &str) -> Json {
    match m.and_then(|m| m.get(k)).and_then(Json::as_str) {
        None => Json::Null,
        Some(a) => {
            let upper = a.trim().to_ascii_uppercase();
            json!(if upper == "RESTRICT" {
                "NO ACTION".to_string()
            } else {
                upper
            })
        }
    }
}

fn portable_relation(r: &RelationEntry) -> Map<String, Json> {
    let mut out = Map::new();
    out.insert("related_collection".into(), json!(r.related));
    out.insert("has_foreign_key".into(), json!(r.schema.is_some()));
    out.insert(
        "on_delete".into(),
        portable_action(r.schema.as_ref(), "on_delete"),
    );
    out.insert(
        "on_update".into(),
        portable_action(r.schema.as_ref(), "on_update"),
    );
    out
}

/// Keys that name the object rather than describe it, per metadata table.
fn identity_keys(table: &SystemTable) -> &'static [&'static str] {
    if table.name == tables::COLLECTIONS.name {
        &["collection"]
    } else if table.name == tables::FIELDS.name {
        &["id", "collection", "field"]
    } else {
        // `one_collection` repeats the relation's `related_collection`.
        &["id", "many_collection", "many_field", "one_collection"]
    }
}

/// Metadata without ids and without the values every row has by default, so that a row
/// holding only defaults equals no row at all. Keys the metadata table has no column for
/// (a newer Directus's, say) are left out: they cannot be stored, so comparing them would
/// plan the same update on every apply.
pub fn portable_meta(table: &SystemTable, meta: Option<&Map<String, Json>>) -> Map<String, Json> {
    let mut out = Map::new();
    let Some(meta) = meta else { return out };
    let columns = (table.columns)();
    let skip = identity_keys(table);
    for (k, v) in meta {
        if skip.contains(&k.as_str()) {
            continue;
        }
        let Some(column) = columns.iter().find(|c| &c.name == k) else {
            continue;
        };
        let default = column.default.clone().unwrap_or(Json::Null);
        let empty = matches!(v, Json::Array(a) if a.is_empty());
        if *v == default || (empty && default.is_null()) {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    out
}

/// The differing keys of two maps, as `prefix.key`, in the desired map's key order.
fn changed_keys(
    prefix: &str,
    current: &Map<String, Json>,
    desired: &Map<String, Json>,
) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (k, v) in desired {
        if current.get(k).unwrap_or(&Json::Null) != v {
            keys.push(k.clone());
        }
    }
    for (k, v) in current {
        if !desired.contains_key(k) && !v.is_null() {
            keys.push(k.clone());
        }
    }
    keys.into_iter()
        .map(|k| {
            if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            }
        })
        .collect()
}

/// The metadata to send so the target ends up with `desired`: the desired values, and the
/// default for each key the target has set but the snapshot does not.
fn meta_payload(
    table: &SystemTable,
    current: &Map<String, Json>,
    desired: &Map<String, Json>,
) -> Json {
    let columns = (table.columns)();
    let mut out = desired.clone();
    for k in current.keys() {
        if !out.contains_key(k) {
            let default = columns
                .iter()
                .find(|c| &c.name == k)
                .and_then(|c| c.default.clone())
                .unwrap_or(Json::Null);
            out.insert(k.clone(), default);
        }
    }
    Json::Object(out)
}

/// Metadata as a create payload carries it: the snapshot's object without ids.
fn meta_for_create(table: &SystemTable, meta: Option<&Map<String, Json>>) -> Json {
    match meta {
        None => Json::Null,
        Some(m) => {
            let skip = identity_keys(table);
            let mut out = m.clone();
            out.retain(|k, _| !skip.contains(&k.as_str()) || k == "one_collection");
            Json::Object(out)
        }
    }
}

/// A field's `schema` as `POST /fields` takes it: only portable keys, and no foreign key
/// (relations create those, after every field exists).
fn schema_payload(f: &FieldEntry) -> Json {
    let Some(_) = &f.schema else {
        return Json::Null;
    };
    let p = portable_field(f);
    let mut out = Map::new();
    for k in [
        "default_value",
        "max_length",
        "numeric_precision",
        "numeric_scale",
        "is_nullable",
        "is_unique",
        "is_primary_key",
        "has_auto_increment",
    ] {
        // Keep the snapshot's own default (an integer stays an integer); the portable
        // form is for comparing.
        let v = if k == "default_value" {
            f.schema
                .as_ref()
                .and_then(|s| s.get(k))
                .cloned()
                .unwrap_or(Json::Null)
        } else {
            p.get(k).cloned().unwrap_or(Json::Null)
        };
        if OPTIONAL_SIZES.contains(&k) && v.is_null() {
            continue;
        }
        out.insert(k.to_string(), v);
    }
    if p.get("has_auto_increment") == Some(&Json::Bool(true)) {
        out.insert("default_value".into(), Json::Null);
    }
    Json::Object(out)
}

fn field_payload(f: &FieldEntry) -> Json {
    json!({
        "field": f.field,
        "type": f.field_type,
        "schema": schema_payload(f),
        "meta": meta_for_create(&tables::FIELDS, f.meta.as_ref()),
    })
}

fn relation_payload(r: &RelationEntry) -> Json {
    let schema = r.schema.as_ref().map(|s| {
        let mut out = Map::new();
        for k in ["on_delete", "on_update"] {
            if let Some(v) = s.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
        Json::Object(out)
    });
    json!({
        "collection": r.collection,
        "field": r.field,
        "related_collection": r.related,
        "schema": schema.unwrap_or(Json::Null),
        "meta": meta_for_create(&tables::RELATIONS, r.meta.as_ref()),
    })
}

/// What it takes to turn `current` into `desired`, in an order that can be applied step by
/// step (see [`Step::phase`]). Collections, fields and relations absent from `desired`
/// are deleted (Directus's "mirror" mode).
pub fn diff(current: &Snapshot, desired: &Snapshot) -> Result<Plan, SnapshotError> {
    diff_in(current, desired, Mode::Mirror)
}

/// [`diff`], keeping what `desired` does not mention when `mode` is [`Mode::Merge`].
pub fn diff_in(current: &Snapshot, desired: &Snapshot, mode: Mode) -> Result<Plan, SnapshotError> {
    let mut plan = mirror(current, desired)?;
    if mode == Mode::Merge {
        // A delete followed by a create of the same object is a replacement, not a removal.
        let recreated = |d: &Step, steps: &[Step]| {
            steps.iter().any(|s| {
                s.action == Action::Create
                    && s.target == d.target
                    && s.collection == d.collection
                    && s.field == d.field
            })
        };
        let all = plan.steps.clone();
        plan.steps
            .retain(|s| s.action != Action::Delete || recreated(s, &all));
    }
    Ok(plan)
}

fn mirror(current: &Snapshot, desired: &Snapshot) -> Result<Plan, SnapshotError> {
    let cur = Model::of(current)?;
    let want = Model::of(desired)?;
    let mut steps = Vec::new();

    // Collections.
    for d in &want.collections {
        match cur.collections.iter().find(|c| c.name == d.name) {
            None => {
                // Columns are created with the table (primary key first, which the table
                // needs); alias fields, having no column, are created afterwards.
                let mut fields: Vec<&FieldEntry> = want
                    .fields
                    .iter()
                    .filter(|f| f.collection == d.name && f.schema.is_some())
                    .collect();
                fields.sort_by_key(|f| {
                    !f.schema
                        .as_ref()
                        .is_some_and(|s| flag(s, "is_primary_key", false))
                });
                let payload = json!({
                    "collection": d.name,
                    "meta": meta_for_create(&tables::COLLECTIONS, d.meta.as_ref()),
                    "schema": if d.folder { Json::Null } else { json!({ "name": d.name }) },
                    "fields": if d.folder {
                        Vec::new()
                    } else {
                        fields.into_iter().map(field_payload).collect()
                    },
                });
                steps.push(Step {
                    action: Action::Create,
                    target: Target::Collection,
                    collection: d.name.clone(),
                    field: None,
                    payload: Some(payload),
                    changes: Vec::new(),
                });
            }
            Some(c) => {
                let Some(dm) = &d.meta else { continue };
                let want_meta = portable_meta(&tables::COLLECTIONS, Some(dm));
                let have_meta = portable_meta(&tables::COLLECTIONS, c.meta.as_ref());
                if want_meta != have_meta {
                    steps.push(Step {
                        action: Action::Update,
                        target: Target::Collection,
                        collection: d.name.clone(),
                        field: None,
                        payload: Some(
                            json!({ "meta": meta_payload(&tables::COLLECTIONS, &have_meta, &want_meta) }),
                        ),
                        changes: changed_keys("meta", &have_meta, &want_meta),
                    });
                }
            }
        }
    }
    let created: Vec<String> = steps
        .iter()
        .filter(|s| s.action == Action::Create)
        .map(|s| s.collection.clone())
        .collect();
    let deleted: Vec<&str> = cur
        .collections
        .iter()
        .filter(|c| !want.collections.iter().any(|d| d.name == c.name))
        .map(|c| c.name.as_str())
        .collect();
    let mut later = Vec::new();
    for name in &deleted {
        later.push(Step {
            action: Action::Delete,
            target: Target::Collection,
            collection: name.to_string(),
            field: None,
            payload: None,
            changes: Vec::new(),
        });
    }

    // Fields.
    for d in &want.fields {
        let in_new_table = created.contains(&d.collection);
        match cur
            .fields
            .iter()
            .find(|c| c.collection == d.collection && c.field == d.field)
        {
            None if in_new_table && d.schema.is_some() => {}
            None => steps.push(Step {
                action: Action::Create,
                target: Target::Field,
                collection: d.collection.clone(),
                field: Some(d.field.clone()),
                payload: Some(field_payload(d)),
                changes: Vec::new(),
            }),
            Some(c) => {
                if let Some(step) = field_update(c, d) {
                    steps.push(step);
                }
            }
        }
    }
    for c in &cur.fields {
        if deleted.contains(&c.collection.as_str()) {
            continue;
        }
        if !want
            .fields
            .iter()
            .any(|d| d.collection == c.collection && d.field == c.field)
        {
            steps.push(Step {
                action: Action::Delete,
                target: Target::Field,
                collection: c.collection.clone(),
                field: Some(c.field.clone()),
                payload: None,
                changes: Vec::new(),
            });
        }
    }

    // Relations.
    for d in &want.relations {
        match cur
            .relations
            .iter()
            .find(|c| c.collection == d.collection && c.field == d.field)
        {
            None => steps.push(Step {
                action: Action::Create,
                target: Target::Relation,
                collection: d.collection.clone(),
                field: Some(d.field.clone()),
                payload: Some(relation_payload(d)),
                changes: Vec::new(),
            }),
            Some(c) => {
                let (have, want_r) = (portable_relation(c), portable_relation(d));
                let mut changes = changed_keys("schema", &have, &want_r);
                let mut payload = Map::new();
                if have != want_r {
                    if have["related_collection"] != want_r["related_collection"]
                        || have["has_foreign_key"] != want_r["has_foreign_key"]
                    {
                        // What the relation points at changes: a new relation, not an edit.
                        steps.push(Step {
                            action: Action::Delete,
                            target: Target::Relation,
                            collection: d.collection.clone(),
                            field: Some(d.field.clone()),
                            payload: None,
                            changes: Vec::new(),
                        });
                        steps.push(Step {
                            action: Action::Create,
                            target: Target::Relation,
                            collection: d.collection.clone(),
                            field: Some(d.field.clone()),
                            payload: Some(relation_payload(d)),
                            changes: Vec::new(),
                        });
                        continue;
                    }
                    payload.insert(
                        "schema".into(),
                        json!({ "on_delete": want_r["on_delete"], "on_update": want_r["on_update"] }),
                    );
                } else {
                    changes.clear();
                }
                if let Some(dm) = &d.meta {
                    let want_meta = portable_meta(&tables::RELATIONS, Some(dm));
                    let have_meta = portable_meta(&tables::RELATIONS, c.meta.as_ref());
                    if want_meta != have_meta {
                        changes.extend(changed_keys("meta", &have_meta, &want_meta));
                        payload.insert(
                            "meta".into(),
                            meta_payload(&tables::RELATIONS, &have_meta, &want_meta),
                        );
                    }
                }
                if !payload.is_empty() {
                    steps.push(Step {
                        action: Action::Update,
                        target: Target::Relation,
                        collection: d.collection.clone(),
                        field: Some(d.field.clone()),
                        payload: Some(Json::Object(payload)),
                        changes,
                    });
                }
            }
        }
    }
    for c in &cur.relations {
        if !want
            .relations
            .iter()
            .any(|d| d.collection == c.collection && d.field == c.field)
        {
            steps.push(Step {
                action: Action::Delete,
                target: Target::Relation,
                collection: c.collection.clone(),
                field: Some(c.field.clone()),
                payload: None,
                changes: Vec::new(),
            });
        }
    }

    steps.extend(later);
    let mut plan = Plan { steps };
    plan.sort();
    Ok(plan)
}

/// The update that turns field `c` into `d`, if they differ on a portable part.
fn field_update(c: &FieldEntry, d: &FieldEntry) -> Option<Step> {
    let have = portable_field(c);
    let mut want = portable_field(d);
    for k in OPTIONAL_SIZES {
        if want.get(*k) == Some(&Json::Null) {
            if let Some(v) = have.get(*k) {
                want.insert(k.to_string(), v.clone());
            }
        }
    }
    let mut payload = Map::new();
    let mut changes = Vec::new();
    if have.get("type") != want.get("type") {
        payload.insert("type".into(), json!(d.field_type));
        changes.push("type".to_string());
    }
    if d.schema.is_some() && c.schema.is_some() {
        let mut schema = Map::new();
        for (k, v) in &want {
            if k == "type" || have.get(k) == Some(v) {
                continue;
            }
            let sent = if k == "default_value" {
                d.schema
                    .as_ref()
                    .and_then(|s| s.get(k))
                    .cloned()
                    .unwrap_or(Json::Null)
            } else {
                v.clone()
            };
            schema.insert(k.clone(), sent);
            changes.push(format!("schema.{k}"));
        }
        if !schema.is_empty() {
            payload.insert("schema".into(), Json::Object(schema));
        }
    }
    if let Some(dm) = &d.meta {
        let want_meta = portable_meta(&tables::FIELDS, Some(dm));
        let have_meta = portable_meta(&tables::FIELDS, c.meta.as_ref());
        if want_meta != have_meta {
            changes.extend(changed_keys("meta", &have_meta, &want_meta));
            payload.insert(
                "meta".into(),
                meta_payload(&tables::FIELDS, &have_meta, &want_meta),
            );
        }
    }
    if payload.is_empty() {
        return None;
    }
    Some(Step {
        action: Action::Update,
        target: Target::Field,
        collection: d.collection.clone(),
        field: Some(d.field.clone()),
        payload: Some(Json::Object(payload)),
        changes,
    })
}

// ---------------------------------------------------------------------------------------
// Applying.

/// A step that failed; the steps before it were applied.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
pub struct ApplyError {
    pub step: String,
    pub applied: usize,
    #[source]
    pub source: SchemaError,
}

/// Applies the steps in order through the schema service, calling `before` ahead of each
/// (for progress output). Stops at the first failure.
pub async fn apply(
    service: &SchemaService,
    plan: &Plan,
    mut before: impl FnMut(&Step),
) -> Result<usize, ApplyError> {
    for (i, step) in plan.steps.iter().enumerate() {
        before(step);
        apply_step(service, step)
            .await
            .map_err(|source| ApplyError {
                step: step.describe(),
                applied: i,
                source,
            })?;
    }
    Ok(plan.steps.len())
}

async fn apply_step(service: &SchemaService, step: &Step) -> Result<(), SchemaError> {
    let empty = Json::Object(Map::new());
    let payload = step.payload.as_ref().unwrap_or(&empty);
    let c = step.collection.as_str();
    let field = || {
        step.field
            .as_deref()
            .ok_or_else(|| SchemaError::Invalid(format!("{}: no field named", step.describe())))
    };
    match (step.action, step.target) {
        (Action::Create, Target::Collection) => service.create_collection(payload).await,
        (Action::Update, Target::Collection) => service.update_collection(c, payload).await,
        (Action::Delete, Target::Collection) => service.delete_collection(c).await,
        (Action::Create, Target::Field) => service.create_field(c, payload).await,
        (Action::Update, Target::Field) => service.update_field(c, field()?, payload).await,
        (Action::Delete, Target::Field) => service.delete_field(c, field()?).await,
        (Action::Create, Target::Relation) => service.create_relation(payload).await,
        (Action::Update, Target::Relation) => service.update_relation(c, field()?, payload).await,
        (Action::Delete, Target::Relation) => service.delete_relation(c, field()?).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Dialect;
    use crate::schema::introspect::{build, Catalogue, RawColumn, RawForeignKey, RawTable};
    use crate::schema::meta::MetaRows;

    fn col(name: &str, base: &str, full: &str) -> RawColumn {
        RawColumn {
            name: name.into(),
            base_type: base.into(),
            full_type: full.into(),
            data_type: base.into(),
            nullable: true,
            ..Default::default()
        }
    }

    /// `customers(id serial, name varchar(100) not null default 'x')` and
    /// `orders(id serial, customer → customers on delete set null, total numeric(10,2))`,
    /// as a database of `dialect` would describe them.
    fn shop(dialect: Dialect) -> Schema {
        let (int, varchar, numeric) = match dialect {
            Dialect::Postgres => ("int4", "varchar", "numeric"),
            Dialect::MySql => ("int", "varchar", "decimal"),
            Dialect::Sqlite => ("integer", "varchar", "numeric"),
        };
        let id = RawColumn {
            nullable: false,
            auto_increment: true,
            numeric_precision: (dialect == Dialect::Postgres).then_some(32),
            ..col("id", int, int)
        };
        let name = RawColumn {
            nullable: false,
            max_length: Some(100),
            default_value: json!("x"),
            ..col("name", varchar, "varchar(100)")
        };
        let customer = col("customer", int, int);
        let total = RawColumn {
            numeric_precision: Some(10),
            numeric_scale: Some(2),
            // A decimal default may come back as text; it is still the same number.
            default_value: if dialect == Dialect::MySql {
                json!("1.50")
            } else {
                json!(1.5)
            },
            ..col("total", numeric, "numeric(10,2)")
        };
        let catalogue = Catalogue {
            tables: vec![
                RawTable {
                    name: "customers".into(),
                    columns: vec![id.clone(), name],
                    primary_key: vec!["id".into()],
                    ..Default::default()
                },
                RawTable {
                    name: "orders".into(),
                    columns: vec![id, customer, total],
                    primary_key: vec!["id".into()],
                    ..Default::default()
                },
            ],
            foreign_keys: vec![RawForeignKey {
                constraint_name: format!("{dialect:?}_fk"),
                table: "orders".into(),
                column: "customer".into(),
                foreign_schema: (dialect == Dialect::Postgres).then(|| "public".into()),
                foreign_table: "customers".into(),
                foreign_column: Some("id".into()),
                on_update: if dialect == Dialect::MySql {
                    "RESTRICT".into()
                } else {
                    "NO ACTION".into()
                },
                on_delete: "SET NULL".into(),
            }],
        };
        build(dialect, catalogue, MetaRows::default(), &[])
    }

    fn empty(dialect: Dialect) -> Snapshot {
        Snapshot::of(&build(
            dialect,
            Catalogue::default(),
            MetaRows::default(),
            &[],
        ))
    }

    #[test]
    fn snapshot_is_sorted_and_leaves_out_ids_and_vendor_details() {
        let mut row = Map::new();
        row.insert("id".into(), json!(7));
        row.insert("collection".into(), json!("orders"));
        row.insert("field".into(), json!("total"));
        row.insert("note".into(), json!("money"));
        let mut schema = shop(Dialect::Postgres);
        schema.collections["orders"].fields["total"].meta = Some(row);
        let s = Snapshot::of(&schema);
        assert_eq!(s.version, 1);
        assert_eq!(s.vendor, "postgres");
        let names: Vec<String> = s
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{}.{}",
                    f["collection"].as_str().unwrap(),
                    f["field"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "customers.id",
                "customers.name",
                "orders.customer",
                "orders.id",
                "orders.total"
            ]
        );
        let total = &s.fields[4];
        assert_eq!(
            total["meta"],
            json!({"collection": "orders", "field": "total", "note": "money"})
        );
        assert!(total["schema"].get("foreign_key_schema").is_none());
        assert_eq!(total["schema"]["numeric_scale"], 2);
        assert_eq!(
            s.collections[0],
            json!({"collection": "customers", "meta": null, "schema": {"name": "customers"}})
        );
        assert!(s.relations[0]["schema"].get("foreign_key_schema").is_none());
        assert_eq!(s.relations[0]["related_collection"], "customers");
    }

    #[test]
    fn yaml_and_json_round_trip_and_bad_files_are_refused() {
        let s = Snapshot::of(&shop(Dialect::Sqlite));
        for f in [Format::Yaml, Format::Json] {
            let back = Snapshot::parse(&s.to_text(f), f).unwrap();
            assert_eq!(back, s, "{f:?}");
        }
        assert!(matches!(
            Snapshot::parse("version: 2\ncollections: []\n", Format::Yaml),
            Err(SnapshotError::Version(2))
        ));
        assert!(matches!(
            Snapshot::parse("collections: [", Format::Yaml),
            Err(SnapshotError::Parse(_))
        ));
        assert!(matches!(
            Snapshot::parse("[1, 2]", Format::Json),
            Err(SnapshotError::Parse(_))
        ));
        assert!(matches!(
            Snapshot::parse("{\"collections\": []}", Format::Json),
            Err(SnapshotError::Parse(_))
        ));
        assert!(matches!(
            Snapshot::parse("version: 1\ncollections: [{meta: null}]\n", Format::Yaml),
            Err(SnapshotError::Invalid(_))
        ));
        assert!(matches!(
            Snapshot::parse(
                "version: 1\ncollections: []\nfields: [{collection: a, field: b, type: string}]\n",
                Format::Yaml
            ),
            Err(SnapshotError::Invalid(_))
        ));
        assert!(matches!(
            Format::parse("xml"),
            Err(SnapshotError::Format(_))
        ));
        assert_eq!(
            Format::of_path(std::path::Path::new("a/b.JSON")),
            Some(Format::Json)
        );
        assert_eq!(Format::of_path(std::path::Path::new("a/b")), None);
    }

    #[test]
    fn identical_schemas_on_every_database_kind_have_no_difference() {
        for a in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
            for b in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
                let plan = diff(&Snapshot::of(&shop(a)), &Snapshot::of(&shop(b))).unwrap();
                assert!(plan.is_empty(), "{a:?} -> {b:?}: {plan:?}");
            }
        }
    }

    #[test]
    fn an_empty_database_gets_collections_then_relations() {
        let plan = diff(
            &empty(Dialect::MySql),
            &Snapshot::of(&shop(Dialect::Postgres)),
        )
        .unwrap();
        let lines: Vec<String> = plan.steps.iter().map(Step::describe).collect();
        assert_eq!(
            lines,
            [
                "create collection customers (2 fields)",
                "create collection orders (3 fields)",
                "create relation orders.customer -> customers",
            ]
        );
        let orders = plan.steps[1].payload.as_ref().unwrap();
        assert_eq!(orders["schema"], json!({"name": "orders"}));
        // The primary key comes first; no vendor details nor foreign keys in fields.
        assert_eq!(orders["fields"][0]["field"], "id");
        assert_eq!(
            orders["fields"][0]["schema"],
            json!({"default_value": null, "is_nullable": false, "is_unique": true,
                   "is_primary_key": true, "has_auto_increment": true})
        );
        let total = orders["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == "total")
            .unwrap();
        assert_eq!(total["type"], "decimal");
        assert_eq!(total["schema"]["numeric_precision"], 10);
        assert_eq!(total["schema"]["numeric_scale"], 2);
        assert_eq!(total["schema"]["default_value"], 1.5);
        let rel = plan.steps[2].payload.as_ref().unwrap();
        assert_eq!(
            rel,
            &json!({"collection": "orders", "field": "customer", "related_collection": "customers",
                    "schema": {"on_delete": "SET NULL", "on_update": "NO ACTION"}, "meta": null})
        );
    }

    #[test]
    fn removals_come_first_relations_before_fields_before_collections() {
        let current = Snapshot::of(&shop(Dialect::Sqlite));
        let mut desired = current.clone();
        desired.relations.clear();
        desired.fields.retain(|f| f["field"] != "total");
        desired.fields.retain(|f| f["collection"] != "customers");
        desired
            .collections
            .retain(|c| c["collection"] != "customers");
        let lines: Vec<String> = diff(&current, &desired)
            .unwrap()
            .steps
            .iter()
            .map(Step::describe)
            .collect();
        assert_eq!(
            lines,
            [
                "delete relation orders.customer",
                "delete field orders.total",
                "delete collection customers",
            ]
        );
    }

    #[test]
    fn merge_mode_keeps_what_the_snapshot_does_not_mention() {
        let current = Snapshot::of(&shop(Dialect::Sqlite));
        let mut desired = current.clone();
        desired.fields.retain(|f| f["field"] != "total");
        desired
            .collections
            .retain(|c| c["collection"] != "customers");
        desired.fields.retain(|f| f["collection"] != "customers");
        desired.relations[0]["related_collection"] = json!("orders");
        let lines = |mode| -> Vec<String> {
            diff_in(&current, &desired, mode)
                .unwrap()
                .steps
                .iter()
                .map(Step::describe)
                .collect()
        };
        assert_eq!(
            lines(Mode::Merge),
            [
                "delete relation orders.customer",
                "create relation orders.customer -> orders"
            ]
        );
        assert_eq!(lines(Mode::Mirror).len(), 4);
        assert_eq!(Mode::parse("merge").unwrap(), Mode::Merge);
        assert!(matches!(Mode::parse("all"), Err(SnapshotError::Mode(_))));
    }

    #[test]
    fn field_changes_name_only_what_differs() {
        let current = Snapshot::of(&shop(Dialect::Postgres));
        let mut desired = current.clone();
        let name = desired
            .fields
            .iter_mut()
            .find(|f| f["field"] == "name")
            .unwrap();
        name["schema"]["default_value"] = json!("y");
        name["schema"]["max_length"] = json!(200);
        name["meta"] =
            json!({"collection": "customers", "field": "name", "note": "who", "hidden": false});
        // No opinion: a null size is not a change.
        let total = desired
            .fields
            .iter_mut()
            .find(|f| f["field"] == "total")
            .unwrap();
        total["schema"]["numeric_precision"] = Json::Null;
        total["schema"]["data_type"] = json!("decimal");
        let plan = diff(&current, &desired).unwrap();
        assert_eq!(plan.steps.len(), 1, "{plan:?}");
        let step = &plan.steps[0];
        assert_eq!(
            step.describe(),
            "update field customers.name: schema.default_value, schema.max_length, meta.note"
        );
        assert_eq!(
            step.payload.as_ref().unwrap(),
            &json!({"schema": {"default_value": "y", "max_length": 200}, "meta": {"note": "who"}})
        );
    }

    #[test]
    fn null_meta_has_no_opinion_and_default_meta_equals_none() {
        let mut with_meta = Snapshot::of(&shop(Dialect::Sqlite));
        for f in &mut with_meta.fields {
            f["meta"] = json!({"id": 3, "collection": f["collection"], "field": f["field"],
                               "hidden": false, "width": "full", "special": [], "sort": null});
        }
        let bare = Snapshot::of(&shop(Dialect::Sqlite));
        assert!(diff(&bare, &with_meta).unwrap().is_empty());
        assert!(diff(&with_meta, &bare).unwrap().is_empty());
        let mut noted = with_meta.clone();
        noted.fields[0]["meta"]["note"] = json!("n");
        // Keys with nowhere to be stored are not differences.
        let mut newer = with_meta.clone();
        newer.fields[0]["meta"]["status_field"] = json!("state");
        assert!(diff(&bare, &newer).unwrap().is_empty());
        let plan = diff(&noted, &with_meta).unwrap();
        assert_eq!(plan.steps.len(), 1);
        // Resetting a key the snapshot leaves unset sends its default.
        assert_eq!(
            plan.steps[0].payload.as_ref().unwrap()["meta"],
            json!({"note": null})
        );
    }

    #[test]
    fn relation_action_changes_update_and_a_new_target_recreates() {
        let current = Snapshot::of(&shop(Dialect::MySql));
        let mut desired = current.clone();
        desired.relations[0]["schema"]["on_delete"] = json!("CASCADE");
        let plan = diff(&current, &desired).unwrap();
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(
            plan.steps[0].payload.as_ref().unwrap(),
            &json!({"schema": {"on_delete": "CASCADE", "on_update": "NO ACTION"}})
        );
        desired.relations[0]["related_collection"] = json!("orders");
        let lines: Vec<String> = diff(&current, &desired)
            .unwrap()
            .steps
            .iter()
            .map(Step::describe)
            .collect();
        assert_eq!(
            lines,
            [
                "delete relation orders.customer",
                "create relation orders.customer -> orders"
            ]
        );
    }

    #[test]
    fn plans_survive_the_api_shape() {
        let plan = diff(
            &empty(Dialect::Sqlite),
            &Snapshot::of(&shop(Dialect::MySql)),
        )
        .unwrap();
        let api = plan.to_api();
        assert_eq!(api["collections"].as_array().unwrap().len(), 2);
        assert_eq!(api["relations"][0]["action"], "create");
        assert_eq!(api["relations"][0]["target"], "relation");
        assert_eq!(api["systemFields"], json!([]));
        assert_eq!(Plan::from_api(&api).unwrap(), plan);
        assert!(Plan::from_api(
            &json!({"fields": [{"action": "create", "target": "field", "collection": "a"}]})
        )
        .is_err());
        assert!(Plan::from_api(&json!({"fields": [{"action": "delete", "target": "relation", "collection": "a", "field": "b"}]})).is_err());
        assert!(Plan::from_api(&json!([])).is_err());
    }

    /// A snapshot as Directus 11 writes it (null specials, numeric precision on integers,
    /// keys Rectus does not store, a relation to a system collection).
    const DIRECTUS_SNAPSHOT: &str = r#"
version: 1
directus: 11.5.1
vendor: postgres
collections:
  - collection: articles
    meta:
      accountability: all
      collection: articles
      icon: article
      note: null
      singleton: false
      sort: null
      archive_app_filter: true
      item_duplication_fields: null
      versioning: false
      status: null
    schema:
      name: articles
fields:
  - collection: articles
    field: id
    type: integer
    meta:
      collection: articles
      field: id
      hidden: true
      interface: input
      readonly: true
      special: null
      sort: 1
      width: full
    schema:
      name: id
      table: articles
      data_type: integer
      default_value: null
      max_length: null
      numeric_precision: 32
      numeric_scale: 0
      is_nullable: false
      is_unique: true
      is_indexed: false
      is_primary_key: true
      is_generated: false
      generation_expression: null
      has_auto_increment: true
      foreign_key_table: null
      foreign_key_column: null
  - collection: articles
    field: title
    type: string
    meta: null
    schema:
      name: title
      table: articles
      data_type: character varying
      default_value: null
      max_length: 255
      is_nullable: true
      is_unique: false
      is_primary_key: false
      has_auto_increment: false
  - collection: articles
    field: user_created
    type: uuid
    meta:
      collection: articles
      field: user_created
      special:
        - user-created
      interface: select-dropdown-m2o
    schema:
      name: user_created
      table: articles
      data_type: uuid
      is_nullable: true
      is_primary_key: false
      foreign_key_table: directus_users
      foreign_key_column: id
systemFields: []
relations:
  - collection: articles
    field: user_created
    related_collection: directus_users
    meta:
      junction_field: null
      many_collection: articles
      many_field: user_created
      one_allowed_collections: null
      one_collection: directus_users
      one_collection_field: null
      one_deselect_action: nullify
      one_field: null
      sort_field: null
    schema:
      table: articles
      column: user_created
      foreign_key_table: directus_users
      foreign_key_column: id
      constraint_name: articles_user_created_foreign
      on_update: NO ACTION
      on_delete: SET NULL
"#;

    #[test]
    fn reads_and_plans_a_directus_snapshot() {
        let desired = Snapshot::parse(DIRECTUS_SNAPSHOT, Format::Yaml).unwrap();
        let plan = diff(&empty(Dialect::Sqlite), &desired).unwrap();
        let lines: Vec<String> = plan.steps.iter().map(Step::describe).collect();
        assert_eq!(
            lines,
            [
                "create collection articles (3 fields)",
                "create relation articles.user_created -> directus_users",
            ]
        );
        let payload = plan.steps[0].payload.as_ref().unwrap();
        assert_eq!(payload["meta"]["icon"], "article");
        assert!(payload["meta"].get("collection").is_none());
        let created = &payload["fields"][2];
        assert_eq!(created["meta"]["special"], json!(["user-created"]));
        assert!(created["meta"].get("field").is_none());
        // Integers carry no precision; strings keep their length.
        assert!(payload["fields"][0]["schema"]
            .get("numeric_precision")
            .is_none());
        assert_eq!(payload["fields"][1]["schema"]["max_length"], 255);
        assert_eq!(
            plan.steps[1].payload.as_ref().unwrap()["schema"],
            json!({"on_delete": "SET NULL", "on_update": "NO ACTION"})
        );
        // Once created (metadata stored without the keys Rectus has no column for), the
        // same snapshot plans nothing.
        let mut applied = desired.clone();
        applied.directus = "0.1.0".into();
        applied.vendor = "sqlite".into();
        applied.collections[0]["meta"]
            .as_object_mut()
            .unwrap()
            .shift_remove("status");
        applied.fields[0]["schema"]["numeric_precision"] = Json::Null;
        assert!(diff(&applied, &desired).unwrap().is_empty());
    }

    #[test]
    fn hash_follows_the_schema_not_the_program_version() {
        let a = Snapshot::of(&shop(Dialect::Sqlite));
        let mut b = a.clone();
        b.directus = "0.0.0".into();
        assert_eq!(a.hash(), b.hash());
        b.fields.pop();
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 64);
    }
}
