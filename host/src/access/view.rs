//! What a caller may read, in the two shapes the read compiler takes:
//!
//! - a **readable schema**: the snapshot reduced to the collections the caller may read,
//!   their readable fields, and the relations between readable collections. The compiler
//!   resolves every name (fields, filters, sort, search, aggregate, groupBy, deep) against
//!   it, so `*` expands to readable fields only, a forbidden field is Directus's 403, and a
//!   relation into a collection the caller may not read is not there to expand or filter;
//! - **row views** ([`RowView`]): per collection whose rows or fields depend on the row,
//!   the distinct read rules and which fields only some rules grant. The compiler reads
//!   such a collection through a derived table that applies them.

use super::permissions::{Action, Permissions};
use super::variables::Variables;
use crate::query::compile::RowView;
use crate::schema::Schema;
use std::collections::HashMap;

/// `schema` reduced to what `perms` lets the caller read.
pub fn readable_schema(schema: &Schema, perms: &Permissions) -> Schema {
    let mut out = Schema {
        dialect: schema.dialect,
        collections: Default::default(),
        relations: Vec::new(),
    };
    for (name, c) in &schema.collections {
        let Some(rules) = perms.get(name, Action::Read) else {
            continue;
        };
        let mut c = c.clone();
        c.fields.retain(|f, _| rules.allows_field(f));
        out.collections.insert(name.clone(), c);
    }
    let readable = |n: &str| out.collections.contains_key(n);
    out.relations = schema
        .relations
        .iter()
        .filter(|r| readable(&r.collection) && r.related_collection.as_deref().is_none_or(readable))
        .cloned()
        .collect();
    out
}

/// The row views of the collections in `schema` (a full snapshot) that the caller reads
/// with row filters or per-row fields, filters unsubstituted.
pub fn row_views(schema: &Schema, perms: &Permissions) -> HashMap<String, RowView> {
    let mut out = HashMap::new();
    for (name, c) in &schema.collections {
        let Some(rules) = perms.get(name, Action::Read) else {
            continue;
        };
        let masked: Vec<(String, Vec<usize>)> = c
            .fields
            .values()
            .filter(|f| f.column.is_some() && rules.allows_field(&f.name))
            .filter_map(|f| Some((f.name.clone(), rules.field_cases(&f.name)?)))
            .collect();
        if rules.row_filter().is_none() && masked.is_empty() {
            continue;
        }
        out.insert(
            name.clone(),
            RowView {
                rules: rules.rules.iter().map(|r| r.filter.clone()).collect(),
                masked,
            },
        );
    }
    out
}

/// The views with the caller's variables in place.
pub fn substitute(views: &HashMap<String, RowView>, vars: &Variables) -> HashMap<String, RowView> {
    views
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                RowView {
                    rules: v
                        .rules
                        .iter()
                        .map(|r| r.as_ref().map(|f| vars.apply(f)))
                        .collect(),
                    masked: v.masked.clone(),
                },
            )
        })
        .collect()
}
