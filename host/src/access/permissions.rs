//! One caller's permissions: the `rectus_permissions` rows of its policies, merged per
//! collection and action as Directus 11 merges them. Pure data and logic; loading the
//! rows is `policies.rs`'s, applying them is the compiler's (reads) and `writes.rs`'s.
//!
//! Merging (Directus's "cases"): rows with the same row filter are one rule with the union
//! of their fields. A row is visible if any rule's filter matches it; a field is returned
//! for a row only if a rule granting the field matches it. Writes OR the rules' filters,
//! take the union of their fields, merge presets in policy order, and AND validations.

use crate::query::filter::parse_filter;
use crate::query::Filter;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    Share,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "create" => Action::Create,
            "read" => Action::Read,
            "update" => Action::Update,
            "delete" => Action::Delete,
            "share" => Action::Share,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Share => "share",
        }
    }

    pub const ALL: [Action; 5] = [
        Action::Create,
        Action::Read,
        Action::Update,
        Action::Delete,
        Action::Share,
    ];
}

/// The fields a rule grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    All,
    Some(BTreeSet<String>),
}

impl Fields {
    pub fn contains(&self, field: &str) -> bool {
        match self {
            Fields::All => true,
            Fields::Some(set) => set.contains(field),
        }
    }

    fn union(&mut self, other: &Fields) {
        match (&mut *self, other) {
            (Fields::All, _) => {}
            (_, Fields::All) => *self = Fields::All,
            (Fields::Some(a), Fields::Some(b)) => a.extend(b.iter().cloned()),
        }
    }

    /// `fields` as stored: a CSV string, a JSON array, or null (no field).
    pub fn parse(v: Option<&Json>) -> Fields {
        let names: Vec<String> = match v {
            Some(Json::String(s)) => match serde_json::from_str::<Vec<String>>(s) {
                Ok(list) => list,
                Err(_) => s.split(',').map(|p| p.trim().to_string()).collect(),
            },
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        if names.iter().any(|n| n == "*") {
            return Fields::All;
        }
        Fields::Some(names.into_iter().filter(|n| !n.is_empty()).collect())
    }

    /// As Directus lists them: `["*"]` or the names.
    pub fn to_json(&self) -> Json {
        match self {
            Fields::All => Json::from(vec!["*"]),
            Fields::Some(set) => Json::from(set.iter().cloned().collect::<Vec<_>>()),
        }
    }
}

/// One permission row as stored.
#[derive(Debug, Clone)]
pub struct PermissionRow {
    pub collection: String,
    pub action: Action,
    pub fields: Fields,
    /// The row filter; `None` (null or `{}`) is every row.
    pub filter: Option<Filter>,
    pub validation: Option<Filter>,
    pub presets: Option<Map<String, Json>>,
}

impl PermissionRow {
    /// From the stored JSON values; a filter that does not parse denies (no rows), with a
    /// warning, rather than failing every request of the caller.
    pub fn from_stored(
        collection: &str,
        action: Action,
        fields: Option<&Json>,
        permissions: Option<&Json>,
        validation: Option<&Json>,
        presets: Option<&Json>,
    ) -> PermissionRow {
        let filter_of = |v: Option<&Json>, what: &str| -> Option<Filter> {
            let v = stored_json(v)?;
            if v.as_object().is_some_and(Map::is_empty) {
                return None;
            }
            match parse_filter(&v, false) {
                Ok(f) => Some(f),
                Err(e) => {
                    tracing::warn!(
                        collection,
                        action = action.name(),
                        "permission {what} can't be used ({}); it matches nothing",
                        e.reason
                    );
                    Some(Filter::Or(Vec::new()))
                }
            }
        };
        PermissionRow {
            collection: collection.to_string(),
            action,
            fields: Fields::parse(fields),
            filter: filter_of(permissions, "filter"),
            validation: filter_of(validation, "validation"),
            presets: stored_json(presets).and_then(|v| match v {
                Json::Object(m) => Some(m),
                _ => None,
            }),
        }
    }
}

/// A JSON column's value: parsed when the database hands back text.
fn stored_json(v: Option<&Json>) -> Option<Json> {
    match v? {
        Json::Null => None,
        Json::String(s) => serde_json::from_str(s).ok().filter(|v: &Json| !v.is_null()),
        other => Some(other.clone()),
    }
}

/// What every caller with `app_access` may read on top of its permissions, as Directus's
/// `appAccessMinimalPermissions` grants it: its own user, roles, policies, their access
/// rows and permissions, and its own activity.
pub fn app_minimal() -> Vec<PermissionRow> {
    let row = |collection: &str, filter: Json| {
        PermissionRow::from_stored(
            collection,
            Action::Read,
            Some(&Json::from("*")),
            Some(&filter),
            None,
            None,
        )
    };
    vec![
        row(
            "rectus_users",
            serde_json::json!({"id": {"_eq": "$CURRENT_USER"}}),
        ),
        row(
            "rectus_roles",
            serde_json::json!({"id": {"_in": "$CURRENT_ROLES"}}),
        ),
        row(
            "rectus_policies",
            serde_json::json!({"id": {"_in": "$CURRENT_POLICIES"}}),
        ),
        row(
            "rectus_permissions",
            serde_json::json!({"policy": {"_in": "$CURRENT_POLICIES"}}),
        ),
        row(
            "rectus_access",
            serde_json::json!({"_or": [{"user": {"_eq": "$CURRENT_USER"}}, {"role": {"_in": "$CURRENT_ROLES"}}]}),
        ),
        row(
            "rectus_activity",
            serde_json::json!({"user": {"_eq": "$CURRENT_USER"}}),
        ),
    ]
}

/// A distinct row filter with the union of the fields granted under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub filter: Option<Filter>,
    pub fields: Fields,
}

/// Everything a caller may do with one collection and action.
#[derive(Debug, Clone, Default)]
pub struct ActionRules {
    pub rules: Vec<Rule>,
    /// Presets merged in policy order (later policies win).
    pub presets: Map<String, Json>,
    /// Every validation filter, all of which a payload must pass.
    pub validations: Vec<Filter>,
}

impl ActionRules {
    fn add(&mut self, row: &PermissionRow) {
        match self.rules.iter_mut().find(|r| r.filter == row.filter) {
            Some(rule) => rule.fields.union(&row.fields),
            None => self.rules.push(Rule {
                filter: row.filter.clone(),
                fields: row.fields.clone(),
            }),
        }
        if let Some(p) = &row.presets {
            for (k, v) in p {
                self.presets.insert(k.clone(), v.clone());
            }
        }
        if let Some(v) = &row.validation {
            self.validations.push(v.clone());
        }
    }

    /// The union of the rules' fields.
    pub fn fields(&self) -> Fields {
        let mut all = Fields::Some(BTreeSet::new());
        for r in &self.rules {
            all.union(&r.fields);
        }
        all
    }

    pub fn allows_field(&self, field: &str) -> bool {
        self.rules.iter().any(|r| r.fields.contains(field))
    }

    /// Which rows the action reaches: `None` every row, else any of these filters.
    pub fn row_filter(&self) -> Option<Vec<&Filter>> {
        let mut out = Vec::new();
        for r in &self.rules {
            out.push(r.filter.as_ref()?);
        }
        Some(out)
    }

    /// How a field granted by some rules only is visible: `None` when it is visible on
    /// every reachable row (an unfiltered rule grants it, or every rule does); else the
    /// indexes of the rules that grant it.
    pub fn field_cases(&self, field: &str) -> Option<Vec<usize>> {
        let granting: Vec<usize> = (0..self.rules.len())
            .filter(|&i| self.rules[i].fields.contains(field))
            .collect();
        if granting.len() == self.rules.len()
            || granting.iter().any(|&i| self.rules[i].filter.is_none())
        {
            return None;
        }
        Some(granting)
    }
}

/// A caller's permissions, keyed by the collection's name in its schema (`rectus_users`
/// for `directus_users`) and action.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    pub by_collection: HashMap<String, HashMap<Action, ActionRules>>,
}

impl Permissions {
    pub fn from_rows(rows: &[PermissionRow]) -> Permissions {
        let mut p = Permissions::default();
        for row in rows {
            p.by_collection
                .entry(row.collection.clone())
                .or_default()
                .entry(row.action)
                .or_default()
                .add(row);
        }
        p
    }

    pub fn get(&self, collection: &str, action: Action) -> Option<&ActionRules> {
        self.by_collection.get(collection)?.get(&action)
    }

    /// The `$CURRENT_USER.<field>` / `$CURRENT_ROLE.<field>` paths any rule, validation or
    /// preset names.
    pub fn field_paths(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        for a in self.by_collection.values().flat_map(|a| a.values()) {
            for f in a
                .rules
                .iter()
                .filter_map(|r| r.filter.as_ref())
                .chain(a.validations.iter())
            {
                super::variables::field_paths(f, &mut out);
            }
            for v in a.presets.values() {
                if let Some(s) = v
                    .as_str()
                    .filter(|s| s.starts_with("$CURRENT_USER.") || s.starts_with("$CURRENT_ROLE."))
                {
                    out.insert(s.to_string());
                }
            }
        }
        out
    }

    /// Whether any filter names a `$CURRENT_…` variable (then reads substitute per caller).
    pub fn uses_variables(&self) -> bool {
        self.by_collection
            .values()
            .flat_map(|a| a.values())
            .any(|a| {
                a.rules
                    .iter()
                    .filter_map(|r| r.filter.as_ref())
                    .chain(a.validations.iter())
                    .any(super::variables::mentions_variables)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(action: Action, fields: Json, filter: Json) -> PermissionRow {
        PermissionRow::from_stored("orders", action, Some(&fields), Some(&filter), None, None)
    }

    #[test]
    fn fields_parse_from_csv_and_arrays() {
        assert_eq!(Fields::parse(Some(&json!("*"))), Fields::All);
        assert_eq!(
            Fields::parse(Some(&json!("a,b"))),
            Fields::parse(Some(&json!(["b", "a"])))
        );
        assert_eq!(Fields::parse(Some(&json!("[\"*\"]"))), Fields::All);
        assert_eq!(Fields::parse(None), Fields::Some(BTreeSet::new()));
    }

    #[test]
    fn same_filter_rows_merge_into_one_rule() {
        let p = Permissions::from_rows(&[
            row(Action::Read, json!(["id"]), json!({"status": {"_eq": "a"}})),
            row(
                Action::Read,
                json!(["amount"]),
                json!({"status": {"_eq": "a"}}),
            ),
        ]);
        let r = p.get("orders", Action::Read).unwrap();
        assert_eq!(r.rules.len(), 1);
        assert!(r.allows_field("id") && r.allows_field("amount") && !r.allows_field("email"));
        assert_eq!(r.row_filter().unwrap().len(), 1);
        assert_eq!(r.field_cases("id"), None);
    }

    #[test]
    fn an_unfiltered_rule_opens_every_row_and_its_fields() {
        let p = Permissions::from_rows(&[
            row(
                Action::Read,
                json!(["id", "email"]),
                json!({"status": {"_eq": "a"}}),
            ),
            row(Action::Read, json!(["id"]), json!({})),
        ]);
        let r = p.get("orders", Action::Read).unwrap();
        assert!(r.row_filter().is_none());
        // `id` is granted by the unfiltered rule: plain; `email` only where status = a.
        assert_eq!(r.field_cases("id"), None);
        assert_eq!(r.field_cases("email"), Some(vec![0]));
    }

    #[test]
    fn a_field_granted_by_every_rule_needs_no_case() {
        let p = Permissions::from_rows(&[
            row(Action::Read, json!("*"), json!({"a": {"_eq": 1}})),
            row(Action::Read, json!(["id"]), json!({"b": {"_eq": 2}})),
        ]);
        let r = p.get("orders", Action::Read).unwrap();
        assert_eq!(r.row_filter().unwrap().len(), 2);
        assert_eq!(r.field_cases("id"), None);
        assert_eq!(r.field_cases("secret"), Some(vec![0]));
        assert_eq!(r.fields(), Fields::All);
    }

    #[test]
    fn presets_merge_in_order_and_validations_accumulate() {
        let mk = |presets: Json, validation: Json| {
            PermissionRow::from_stored(
                "orders",
                Action::Create,
                Some(&json!("*")),
                None,
                Some(&validation),
                Some(&presets),
            )
        };
        let p = Permissions::from_rows(&[
            mk(
                json!({"status": "draft", "a": 1}),
                json!({"amount": {"_gt": 0}}),
            ),
            mk(json!({"status": "new"}), json!({"amount": {"_lt": 10}})),
        ]);
        let r = p.get("orders", Action::Create).unwrap();
        assert_eq!(r.presets.get("status"), Some(&json!("new")));
        assert_eq!(r.presets.get("a"), Some(&json!(1)));
        assert_eq!(r.validations.len(), 2);
    }

    #[test]
    fn a_broken_filter_matches_nothing_instead_of_failing() {
        let p =
            Permissions::from_rows(&[row(Action::Read, json!("*"), json!({"x": {"_bogus": 1}}))]);
        let r = p.get("orders", Action::Read).unwrap();
        assert_eq!(r.row_filter().unwrap(), vec![&Filter::Or(Vec::new())]);
        // Stored as JSON text, as SQLite hands it back.
        let p = PermissionRow::from_stored(
            "o",
            Action::Read,
            Some(&json!("*")),
            Some(&json!("{\"a\":{\"_eq\":1}}")),
            None,
            None,
        );
        assert!(p.filter.is_some());
    }
}
