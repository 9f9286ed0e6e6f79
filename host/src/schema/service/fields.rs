//! Fields: parsing `{field, type, schema?, meta?}` payloads into column specs and
//! metadata rows, and the steps of adding, altering and dropping a column.

use super::plan::Plan;
use super::{convert, count, has_rows, object, rebuild, required_str, SchemaError};
use crate::db::{Db, Dialect, Sql};
use crate::schema::ddl::{self, ColumnSpec};
use crate::schema::meta::{self, MetaMap};
use crate::schema::types::{special_override, ALIAS_SPECIALS};
use crate::schema::{names, Collection, Field, FieldType, Schema};
use crate::system::tables;
use serde_json::{Map, Value as Json};

/// Keys of `rectus_fields` the server sets itself.
pub(super) const FIXED: &[&str] = &["id", "collection", "field"];

/// A parsed `{field, type, schema?, meta?}`.
pub(super) struct FieldInput {
    pub name: String,
    pub ty: FieldType,
    /// `schema`, when given as an object.
    pub schema: Map<String, Json>,
    /// `meta` validated, when given as an object.
    pub meta: Option<MetaMap>,
}

pub(super) fn parse_type(name: &str) -> Result<FieldType, SchemaError> {
    match FieldType::parse(name) {
        Some(FieldType::Unknown) | None => Err(SchemaError::Invalid(format!(
            "\"{name}\" is not a field type"
        ))),
        Some(t) => Ok(t),
    }
}

pub(super) fn parse(payload: &Json) -> Result<FieldInput, SchemaError> {
    let obj = object(payload, "A field")?;
    let name = required_str(obj, "field")?.to_string();
    names::check_field(&name)?;
    let ty = parse_type(required_str(obj, "type")?)?;
    let schema = match obj.get("schema") {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(o)) => o.clone(),
        Some(_) => return Err(SchemaError::Invalid("\"schema\" must be an object".into())),
    };
    let meta = match obj.get("meta") {
        None | Some(Json::Null) => None,
        Some(m) => Some(meta::validate(&tables::FIELDS, m, FIXED)?),
    };
    Ok(FieldInput {
        name,
        ty,
        schema,
        meta,
    })
}

fn opt_bool(schema: &Map<String, Json>, key: &str) -> Result<Option<bool>, SchemaError> {
    match schema.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(SchemaError::Invalid(format!(
            "\"schema.{key}\" must be a boolean"
        ))),
    }
}

fn opt_u32(
    schema: &Map<String, Json>,
    key: &str,
    min: u32,
    max: u32,
) -> Result<Option<u32>, SchemaError> {
    match schema.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (min as u64..=max as u64).contains(&n) => Ok(Some(n as u32)),
            _ => Err(SchemaError::Invalid(format!(
                "\"schema.{key}\" must be a whole number from {min} to {max}"
            ))),
        },
    }
}

/// Longest `varchar` every database accepts in a utf8mb4 MySQL row; longer text is `text`.
const MAX_VARCHAR: u32 = 16383;

/// Applies the `schema` options of a payload to a column spec (those given replace).
pub(super) fn apply_schema_options(
    dialect: Dialect,
    spec: &mut ColumnSpec,
    schema: &Map<String, Json>,
) -> Result<(), SchemaError> {
    if let Some(d) = schema.get("default_value") {
        spec.raw_default = None;
        spec.default = if d.is_null() { None } else { Some(d.clone()) };
    }
    // Clients echo the `schema` they read, where a text column reports its byte limit:
    // the length only means something for varchar types.
    if spec.field_type.has_length() {
        if let Some(n) = opt_u32(schema, "max_length", 1, MAX_VARCHAR)? {
            spec.max_length = Some(n);
        }
    }
    if let Some(n) = opt_bool(schema, "is_nullable")? {
        spec.nullable = n;
    }
    // A primary key is unique by itself (and reported so); no extra constraint.
    if let Some(u) = opt_bool(schema, "is_unique")? {
        spec.unique = u && !spec.primary_key;
    }
    if spec.field_type == FieldType::Decimal {
        if let Some(p) = opt_u32(schema, "numeric_precision", 1, 65)? {
            spec.precision = Some(p);
        }
        if let Some(s) = opt_u32(schema, "numeric_scale", 0, 30)? {
            spec.scale = Some(s);
        }
        if spec.scale.unwrap_or(5) > spec.precision.unwrap_or(10) {
            return Err(SchemaError::Invalid(
                "\"schema.numeric_scale\" cannot exceed \"schema.numeric_precision\"".into(),
            ));
        }
    }
    if spec.primary_key {
        spec.nullable = false;
    }
    if let Some(d) = &spec.default {
        // Rendered now so a bad default is a 400 before anything runs.
        ddl::literal(dialect, spec.field_type, &spec.name, d)?;
    }
    Ok(())
}

/// The column a new field asks for.
pub(super) fn new_column(dialect: Dialect, input: &FieldInput) -> Result<ColumnSpec, SchemaError> {
    let mut spec = ColumnSpec::new(&input.name, input.ty);
    if opt_bool(&input.schema, "is_primary_key")? == Some(true) {
        if !matches!(
            input.ty,
            FieldType::Integer | FieldType::BigInteger | FieldType::Uuid | FieldType::String
        ) {
            return Err(SchemaError::Invalid(format!(
                "the primary key \"{}\" must be an integer, bigInteger, uuid or string field",
                input.name
            )));
        }
        spec.primary_key = true;
        spec.nullable = false;
        if opt_bool(&input.schema, "has_auto_increment")? == Some(true) {
            if !input.ty.can_auto_increment() {
                return Err(SchemaError::Invalid(format!(
                    "\"{}\" cannot auto-increment: only integer and bigInteger fields can",
                    input.name
                )));
            }
            spec.auto_increment = true;
        }
    } else if opt_bool(&input.schema, "has_auto_increment")? == Some(true) {
        return Err(SchemaError::Invalid(format!(
            "\"{}\" cannot auto-increment: only a primary key can",
            input.name
        )));
    }
    apply_schema_options(dialect, &mut spec, &input.schema)?;
    if spec.auto_increment {
        spec.default = None;
    }
    Ok(spec)
}

/// The `rectus_fields` row of a new field, when it needs one: metadata was given, or the
/// type or key implies a special (a csv is a text column, a uuid key is generated).
pub(super) fn new_meta_row(
    collection: &str,
    input: &FieldInput,
    spec: Option<&ColumnSpec>,
) -> Option<MetaMap> {
    let mut implied: Vec<&str> = input.ty.implied_special().into_iter().collect();
    if input.ty == FieldType::Uuid && spec.is_some_and(|s| s.primary_key) {
        implied.push("uuid");
    }
    if input.ty == FieldType::Alias {
        implied.extend(["alias", "no-data"]);
    }
    if input.meta.is_none() && implied.is_empty() {
        return None;
    }
    let mut row = input.meta.clone().unwrap_or_default();
    let mut special = crate::schema::special_of(Some(&row));
    let has_alias_special = special.iter().any(|s| ALIAS_SPECIALS.contains(&s.as_str()));
    for s in implied {
        let alias_only = s == "alias" || s == "no-data";
        if alias_only && has_alias_special {
            continue;
        }
        if !special.iter().any(|x| x == s) {
            special.push(s.to_string());
        }
    }
    if !special.is_empty() {
        row.insert(
            "special".into(),
            Json::Array(special.into_iter().map(Json::String).collect()),
        );
    }
    row.insert("collection".into(), Json::from(collection));
    row.insert("field".into(), Json::from(input.name.as_str()));
    Some(row)
}

/// The column as it is now, as a spec (for comparing, and for undoing on MySQL).
pub(super) fn current_spec(dialect: Dialect, f: &Field) -> ColumnSpec {
    let c = f.column.clone().unwrap_or_default();
    let mut spec = ColumnSpec::new(&f.name, f.field_type);
    if f.field_type == FieldType::Unknown {
        spec.raw_type = Some(c.data_type.clone());
    } else if dialect == Dialect::MySql
        // MariaDB's JSON is LONGTEXT plus a check; restating `longtext` would drop it.
        && f.field_type != FieldType::Json
        && exact_mysql_type(&c.data_type)
    {
        // MODIFY restates the type: keep e.g. `mediumtext` or `smallint` as declared.
        spec.raw_type = Some(c.data_type.clone());
    }
    if f.field_type.has_length() {
        spec.max_length = c.max_length.and_then(|n| u32::try_from(n).ok());
    }
    if f.field_type == FieldType::Decimal {
        spec.precision = c.numeric_precision.and_then(|n| u32::try_from(n).ok());
        spec.scale = c.numeric_scale.and_then(|n| u32::try_from(n).ok());
    }
    spec.nullable = c.is_nullable;
    spec.primary_key = c.is_primary_key;
    spec.auto_increment = c.has_auto_increment;
    spec.unique = c.is_unique && !c.is_primary_key;
    if !c.default_value.is_null() && !c.has_auto_increment {
        spec.default = Some(c.default_value.clone());
    }
    spec
}

/// MySQL base types that need no length or precision to be restated exactly.
fn exact_mysql_type(data_type: &str) -> bool {
    matches!(
        data_type.to_ascii_lowercase().as_str(),
        "smallint"
            | "mediumint"
            | "bigint"
            | "int"
            | "double"
            | "float"
            | "mediumtext"
            | "longtext"
            | "tinytext"
            | "text"
            | "date"
            | "time"
            | "datetime"
            | "timestamp"
            | "year"
            | "blob"
            | "mediumblob"
            | "longblob"
            | "tinyblob"
    )
}

fn ensure_new_field(coll: &Collection, name: &str) -> Result<(), SchemaError> {
    // Column names are case-insensitive in SQLite and MySQL.
    if coll.fields.keys().any(|f| f.eq_ignore_ascii_case(name)) {
        return Err(SchemaError::Invalid(format!(
            "Field \"{name}\" already exists in collection \"{}\"",
            coll.name
        )));
    }
    Ok(())
}

fn is_clock_default(spec: &ColumnSpec) -> bool {
    spec.default
        .as_ref()
        .and_then(Json::as_str)
        .is_some_and(|s| {
            matches!(
                s.trim().to_ascii_uppercase().as_str(),
                "CURRENT_TIMESTAMP" | "NOW()"
            )
        })
}

fn unique_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_unique")
}

pub(super) async fn create(
    db: &Db,
    schema: &Schema,
    collection: &str,
    payload: &Json,
) -> Result<Plan, SchemaError> {
    let coll = super::collection_of(schema, collection)?;
    let input = parse(payload)?;
    ensure_new_field(coll, &input.name)?;
    let d = db.dialect();
    let mut plan = Plan::default();
    if input.ty == FieldType::Alias {
        let row = new_meta_row(collection, &input, None).expect("alias fields have a row");
        plan.meta(meta::insert(d, &tables::FIELDS, &row));
        return Ok(plan);
    }
    if coll.is_folder() {
        return Err(SchemaError::Invalid(format!(
            "\"{collection}\" is a folder: it can only hold alias fields"
        )));
    }
    let spec = new_column(d, &input)?;
    if spec.primary_key {
        return Err(SchemaError::Invalid(format!(
            "\"{collection}\" already has a primary key"
        )));
    }
    if !spec.nullable && spec.default.is_none() && has_rows(db, collection).await? {
        return Err(SchemaError::Invalid(format!(
            "A required field without a default value cannot be added to \"{collection}\", which has items; give it a default value"
        )));
    }
    match d {
        Dialect::Sqlite => {
            // ADD COLUMN cannot add a NOT NULL column without default nor use a clock
            // default there; the rebuild can.
            if (!spec.nullable && spec.default.is_none()) || is_clock_default(&spec) {
                let from = rebuild::read(db, schema, collection).await?;
                let mut to = from.clone();
                to.columns.push(spec.clone());
                plan.rebuild(rebuild::statements(&from, &to)?);
            } else {
                let plain = ColumnSpec {
                    unique: false,
                    ..spec.clone()
                };
                plan.ddl(ddl::add_column(d, collection, &plain)?, vec![]);
                if spec.unique {
                    plan.ddl(
                        format!(
                            "CREATE UNIQUE INDEX {} ON {} ({})",
                            d.quote(&unique_name(collection, &spec.name)),
                            d.quote(collection),
                            d.quote(&spec.name)
                        ),
                        vec![],
                    );
                }
            }
        }
        _ => plan.ddl(
            ddl::add_column(d, collection, &spec)?,
            vec![ddl::drop_column(d, collection, &spec.name)],
        ),
    }
    if let Some(row) = new_meta_row(collection, &input, Some(&spec)) {
        plan.meta(meta::insert(d, &tables::FIELDS, &row));
    }
    Ok(plan)
}

pub(super) async fn update(
    db: &Db,
    schema: &Schema,
    collection: &str,
    field: &str,
    payload: &Json,
) -> Result<Plan, SchemaError> {
    let (_, f) = super::field_of(schema, collection, field)?;
    let obj = object(payload, "A field")?;
    if let Some(name) = obj.get("field").and_then(Json::as_str) {
        if name != field {
            return Err(SchemaError::Invalid("Fields cannot be renamed".into()));
        }
    }
    let new_type = match obj.get("type") {
        None | Some(Json::Null) => f.field_type,
        Some(Json::String(t)) => parse_type(t)?,
        Some(_) => return Err(SchemaError::Invalid("\"type\" must be a string".into())),
    };
    let schema_opts = match obj.get("schema") {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(o)) => o.clone(),
        Some(_) => return Err(SchemaError::Invalid("\"schema\" must be an object".into())),
    };
    let mut meta_changes = match obj.get("meta") {
        None | Some(Json::Null) => MetaMap::new(),
        Some(m) => meta::validate(&tables::FIELDS, m, FIXED)?,
    };
    let d = db.dialect();
    let mut plan = Plan::default();

    if f.is_alias() {
        if new_type != FieldType::Alias || !schema_opts.is_empty() {
            return Err(SchemaError::Invalid(format!(
                "\"{field}\" is an alias field: it has no column to change"
            )));
        }
    } else {
        if new_type == FieldType::Alias {
            return Err(SchemaError::Invalid(format!(
                "\"{field}\" has a column and cannot become an alias field"
            )));
        }
        let old = current_spec(d, f);
        let mut new = old.clone();
        if new_type != f.field_type {
            new.field_type = new_type;
            new.raw_type = None;
            if !new_type.has_length() {
                new.max_length = None;
            }
            if new_type != FieldType::Decimal {
                new.precision = None;
                new.scale = None;
            }
        }
        for key in ["is_primary_key", "has_auto_increment"] {
            let now = if key == "is_primary_key" {
                old.primary_key
            } else {
                old.auto_increment
            };
            if opt_bool(&schema_opts, key)?.is_some_and(|v| v != now) {
                return Err(SchemaError::Invalid(format!(
                    "\"schema.{key}\" cannot be changed"
                )));
            }
        }
        apply_schema_options(d, &mut new, &schema_opts)?;
        let shape_changed = new.field_type != old.field_type
            || new.max_length != old.max_length
            || new.precision != old.precision
            || new.scale != old.scale;
        if shape_changed {
            new.raw_type = None;
        }
        if new != old {
            if shape_changed {
                if old.primary_key {
                    return Err(SchemaError::Invalid(format!(
                        "The type of the primary key \"{field}\" cannot be changed"
                    )));
                }
                if schema
                    .relations_using(collection, field)
                    .any(|r| r.schema.is_some())
                {
                    return Err(SchemaError::Invalid(format!(
                        "The type of \"{field}\" cannot be changed while a foreign key uses it; delete the relation first"
                    )));
                }
                convert::ensure_lossless(db, collection, &old, &new).await?;
            }
            if !new.nullable && old.nullable {
                let mut sql = db.sql();
                sql.push("SELECT COUNT(*) AS n FROM ")
                    .ident(collection)
                    .push(" WHERE ")
                    .ident(field)
                    .push(" IS NULL");
                if count(db, &sql).await? > 0 {
                    return Err(SchemaError::ContainsNulls {
                        collection: collection.to_string(),
                        field: field.to_string(),
                    });
                }
            }
            alter_steps(db, schema, &mut plan, collection, &old, &new, shape_changed).await?;
        }
        if new_type != f.field_type {
            // Specials that name another type would override the new one.
            let mut special = match meta_changes.get("special") {
                Some(Json::Array(_)) => crate::schema::special_of(Some(&meta_changes)),
                _ => f.special(),
            };
            special.retain(|s| {
                special_override(std::slice::from_ref(s)).is_none_or(|t| t == new_type)
            });
            if let Some(s) = new_type.implied_special() {
                if !special.iter().any(|x| x == s) {
                    special.push(s.to_string());
                }
            }
            if special != f.special() || meta_changes.contains_key("special") {
                meta_changes.insert(
                    "special".into(),
                    Json::Array(special.into_iter().map(Json::String).collect()),
                );
            }
        }
    }

    if !meta_changes.is_empty() {
        if f.meta.is_some() {
            let sql = meta::update(
                d,
                &tables::FIELDS,
                &meta_changes,
                &[("collection", collection), ("field", field)],
            )
            .expect("changes are not empty");
            plan.meta(sql);
        } else {
            meta_changes.insert("collection".into(), Json::from(collection));
            meta_changes.insert("field".into(), Json::from(field));
            plan.meta(meta::insert(d, &tables::FIELDS, &meta_changes));
        }
    }
    Ok(plan)
}

/// The DDL that changes a column from `old` to `new`, per dialect.
async fn alter_steps(
    db: &Db,
    schema: &Schema,
    plan: &mut Plan,
    table: &str,
    old: &ColumnSpec,
    new: &ColumnSpec,
    shape_changed: bool,
) -> Result<(), SchemaError> {
    let d = db.dialect();
    if d == Dialect::Sqlite {
        let from = rebuild::read(db, schema, table).await?;
        let mut to = from.clone();
        let explicit_unique = |sql: &str, cols: &[String]| {
            cols == [new.name.clone()]
                && sql
                    .trim_start()
                    .to_ascii_uppercase()
                    .starts_with("CREATE UNIQUE")
        };
        let has_unique_index = to
            .indexes
            .iter()
            .any(|(_, cols, sql)| explicit_unique(sql, cols));
        if !new.unique {
            to.indexes
                .retain(|(_, cols, sql)| !explicit_unique(sql, cols));
        }
        let col = to
            .column_mut(&new.name)
            .ok_or_else(|| SchemaError::Invalid(format!("\"{}\" has no column", new.name)))?;
        let mut spec = new.clone();
        if !shape_changed {
            spec.raw_type = col.raw_type.clone();
        }
        if new.default == old.default {
            spec.raw_default = col.raw_default.clone();
        }
        spec.unique = new.unique && !has_unique_index;
        *col = spec;
        plan.rebuild(rebuild::statements(&from, &to)?);
        return Ok(());
    }
    // Uniqueness is handled below by the constraint's real name.
    let same_unique = ColumnSpec {
        unique: old.unique,
        ..new.clone()
    };
    let forward = ddl::alter_column(d, table, old, &same_unique)?;
    let backward = ddl::alter_column(d, table, &same_unique, old)?;
    for s in forward {
        plan.ddl(s, backward.clone());
    }
    let q = |s: &str| d.quote(s);
    if new.unique && !old.unique {
        let name = unique_name(table, &new.name);
        plan.ddl(
            format!(
                "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                q(table),
                q(&name),
                q(&new.name)
            ),
            vec![drop_unique(d, table, &name)],
        );
    } else if old.unique && !new.unique {
        for name in unique_constraints(db, table, &new.name).await? {
            plan.ddl(
                drop_unique(d, table, &name),
                vec![format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                    q(table),
                    q(&name),
                    q(&new.name)
                )],
            );
        }
    }
    Ok(())
}

fn drop_unique(d: Dialect, table: &str, name: &str) -> String {
    match d {
        Dialect::MySql => format!(
            "ALTER TABLE {} DROP INDEX {}",
            d.quote(table),
            d.quote(name)
        ),
        _ => format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            d.quote(table),
            d.quote(name)
        ),
    }
}

/// Names of the single-column unique constraints on a column (PostgreSQL, MySQL).
async fn unique_constraints(
    db: &Db,
    table: &str,
    column: &str,
) -> Result<Vec<String>, SchemaError> {
    let mut sql: Sql = db.sql();
    match db.dialect() {
        Dialect::Postgres => {
            sql.push(
                "SELECT con.conname AS name FROM pg_constraint con \
                 JOIN pg_class rel ON rel.oid = con.conrelid \
                 JOIN pg_namespace ns ON ns.oid = rel.relnamespace \
                 JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = con.conkey[1] \
                 WHERE ns.nspname = current_schema() AND con.contype = 'u' \
                 AND array_length(con.conkey, 1) = 1 AND rel.relname = ",
            )
            .bind(table)
            .push(" AND att.attname = ")
            .bind(column);
        }
        Dialect::MySql => {
            sql.push(
                "SELECT INDEX_NAME AS name FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY' \
                 AND TABLE_NAME = ",
            )
            .bind(table)
            .push(" GROUP BY INDEX_NAME HAVING COUNT(*) = 1 AND MAX(COLUMN_NAME) = ")
            .bind(column);
        }
        Dialect::Sqlite => return Ok(Vec::new()),
    }
    Ok(db
        .fetch_all(&sql)
        .await?
        .into_iter()
        .filter_map(|r| r.get("name").and_then(Json::as_str).map(str::to_string))
        .collect())
}

pub(super) async fn delete(
    db: &Db,
    schema: &Schema,
    collection: &str,
    field: &str,
) -> Result<Plan, SchemaError> {
    let (_, f) = super::field_of(schema, collection, field)?;
    if f.column.as_ref().is_some_and(|c| c.is_primary_key) {
        return Err(SchemaError::Invalid(format!(
            "\"{field}\" is the primary key of \"{collection}\" and cannot be deleted"
        )));
    }
    if let Some(r) = schema.relations_using(collection, field).next() {
        return Err(SchemaError::Invalid(format!(
            "\"{field}\" is used by the relation on \"{}.{}\"; delete the relation first",
            r.collection, r.field
        )));
    }
    let d = db.dialect();
    let mut plan = Plan::default();
    if let Some(c) = &f.column {
        match d {
            Dialect::Sqlite if c.is_indexed || c.is_unique => {
                // DROP COLUMN refuses indexed columns; the rebuild leaves them out.
                let from = rebuild::read(db, schema, collection).await?;
                let mut to = from.clone();
                to.columns.retain(|col| col.name != field);
                plan.rebuild(rebuild::statements(&from, &to)?);
            }
            Dialect::MySql => plan.ddl(
                ddl::drop_column(d, collection, field),
                vec![ddl::add_column(d, collection, &current_spec(d, f))?],
            ),
            _ => plan.ddl(ddl::drop_column(d, collection, field), vec![]),
        }
    }
    plan.meta(meta::delete(
        d,
        &tables::FIELDS,
        &[("collection", collection), ("field", field)],
    ));
    // The collection's own metadata stops naming the field (as Directus does).
    for key in ["sort_field", "archive_field"] {
        let mut cleared = MetaMap::new();
        cleared.insert(key.into(), Json::Null);
        if let Some(sql) = meta::update(
            d,
            &tables::COLLECTIONS,
            &cleared,
            &[("collection", collection), (key, field)],
        ) {
            plan.meta(sql);
        }
    }
    Ok(plan)
}
