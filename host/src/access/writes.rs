//! The checks on one item written by a non-administrator, nested items included (each
//! against its own collection's permissions), as Directus's `process-payload` and
//! `validate-access` do them:
//!
//! 1. the action must be granted on the collection (else `403`);
//! 2. every key of the payload must be a permitted field (else `403` naming the field);
//! 3. the action's presets fill in what the payload does not set;
//! 4. the result must pass every validation filter (`400 FAILED_VALIDATION`);
//! 5. an update or delete reaches only rows its permission filters match — the items
//!    service checks the targeted keys in the write's transaction with
//!    [`WriteAccess::row_rules`], and any key outside is `403`.

use super::permissions::{Action, ActionRules, Permissions};
use super::validate::{self, ValidationFailure};
use super::variables::Variables;
use crate::query::compile::CompileError;
use crate::query::Filter;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The action is not granted, or a targeted item is out of reach.
    #[error("You don't have permission to access this.")]
    Forbidden,
    /// A field the caller may not write.
    #[error(transparent)]
    Field(CompileError),
    #[error(transparent)]
    Validation(#[from] ValidationFailure),
    /// A change to the caller's own rights.
    #[error("{0}")]
    Escalation(String),
}

/// Profile fields a user may change on its own row; role, status, tokens, provider and the
/// like are the administrator's.
pub const SELF_EDITABLE: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "password",
    "location",
    "title",
    "description",
    "tags",
    "avatar",
    "language",
    "email_notifications",
    "appearance",
    "theme_dark",
    "theme_light",
    "theme_light_overrides",
    "theme_dark_overrides",
    "text_direction",
    "last_page",
];

/// One caller's write permissions, for one request.
pub struct WriteAccess<'a> {
    pub permissions: &'a Permissions,
    pub vars: &'a Variables,
    pub now: DateTime<Utc>,
}

impl WriteAccess<'_> {
    fn rules(&self, collection: &str, action: Action) -> Result<&ActionRules, AccessError> {
        self.permissions
            .get(collection, action)
            .ok_or(AccessError::Forbidden)
    }

    /// Steps 1–4 for a create or update payload (of the items `keys`, on an update); the
    /// payload gets the presets.
    pub fn check_payload(
        &self,
        collection: &str,
        action: Action,
        payload: &mut Map<String, Json>,
        keys: &[Json],
    ) -> Result<(), AccessError> {
        self.guard_payload(collection, payload, keys)?;
        let rules = self.rules(collection, action)?;
        if let Some(field) = payload.keys().find(|k| !rules.allows_field(k)) {
            return Err(AccessError::Field(CompileError::field_forbidden(
                field, collection, "",
            )));
        }
        for (k, v) in &rules.presets {
            if !payload.contains_key(k) {
                payload.insert(k.clone(), self.vars.value(v));
            }
        }
        let create = action == Action::Create;
        for v in &rules.validations {
            validate::check(&self.vars.apply(v), payload, create, self.now)?;
        }
        Ok(())
    }

    /// No privilege escalation, whatever the permissions say: a non-administrator does
    /// not change its own role or policies, the access rows and permissions that give it
    /// its rights, its own user's privileged fields, or grant `admin_access`.
    fn guard_payload(
        &self,
        collection: &str,
        payload: &Map<String, Json>,
        keys: &[Json],
    ) -> Result<(), AccessError> {
        let v = self.vars;
        let mine = |list: &[String], value: Option<&Json>| {
            value
                .and_then(Json::as_str)
                .is_some_and(|s| list.iter().any(|x| x.eq_ignore_ascii_case(s)))
        };
        let me = v.user.iter().cloned().collect::<Vec<_>>();
        let key_in = |list: &[String]| keys.iter().any(|k| mine(list, Some(k)));
        let refused = match collection {
            "rectus_users" if key_in(&me) => {
                if let Some(field) = payload
                    .keys()
                    .find(|k| !SELF_EDITABLE.contains(&k.as_str()))
                {
                    return Err(AccessError::Escalation(format!(
                        "You can't change \"{field}\" of your own user."
                    )));
                }
                false
            }
            "rectus_roles" => key_in(&v.roles),
            "rectus_policies" => {
                key_in(&v.policies)
                    || payload
                        .get("admin_access")
                        .is_some_and(|a| a == &Json::Bool(true) || a == &Json::from(1))
            }
            "rectus_access" => {
                mine(&me, payload.get("user"))
                    || mine(&v.roles, payload.get("role"))
                    || mine(&v.policies, payload.get("policy"))
                    || (v.roles.is_empty()
                        && keys.is_empty()
                        && payload.get("role").is_none_or(Json::is_null)
                        && payload.get("user").is_none_or(Json::is_null))
            }
            "rectus_permissions" => mine(&v.policies, payload.get("policy")),
            _ => false,
        };
        if refused {
            return Err(AccessError::Escalation(
                "You can't change the roles, policies or permissions you act under.".into(),
            ));
        }
        Ok(())
    }

    /// Rows of system collections an update or delete may never reach, as a filter the
    /// targeted rows must match (see [`Self::guard_payload`]).
    pub fn guard_rows(&self, collection: &str) -> Option<Filter> {
        let v = self.vars;
        let ids = |list: &[String]| Json::from(list.to_vec());
        let json = match collection {
            "rectus_access" => serde_json::json!({"_and": [
                {"policy": {"_nin": ids(&v.policies)}},
                {"_or": [{"user": {"_null": true}}, {"user": {"_nin": ids(&v.user.iter().cloned().collect::<Vec<_>>())}}]},
                {"_or": [{"role": {"_null": true}}, {"role": {"_nin": ids(&v.roles)}}]},
            ]}),
            "rectus_permissions" => serde_json::json!({"policy": {"_nin": ids(&v.policies)}}),
            _ => return None,
        };
        crate::query::filter::parse_filter(&json, false).ok()
    }

    /// Which rows an update or delete may reach: `None` every row, else any of these
    /// filters (variables substituted). `403` when the action is not granted at all.
    pub fn row_rules(
        &self,
        collection: &str,
        action: Action,
    ) -> Result<Option<Vec<Filter>>, AccessError> {
        let rules = self.rules(collection, action)?;
        Ok(rules
            .row_filter()
            .map(|fs| fs.into_iter().map(|f| self.vars.apply(f)).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::permissions::PermissionRow;
    use serde_json::json;

    fn perms() -> Permissions {
        Permissions::from_rows(&[PermissionRow::from_stored(
            "orders",
            Action::Create,
            Some(&json!(["amount", "status"])),
            None,
            Some(&json!({"amount": {"_gt": 0}})),
            Some(&json!({"status": "draft", "owner": "$CURRENT_USER"})),
        )])
    }

    #[test]
    fn fields_presets_validation() {
        let p = perms();
        let vars = Variables::default();
        let w = WriteAccess {
            permissions: &p,
            vars: &vars,
            now: Utc::now(),
        };
        let mut ok = json!({"amount": 3}).as_object().unwrap().clone();
        w.check_payload("orders", Action::Create, &mut ok, &[])
            .unwrap();
        assert_eq!(ok.get("status"), Some(&json!("draft")));
        let mut bad_field = json!({"amount": 3, "owner": "x"})
            .as_object()
            .unwrap()
            .clone();
        assert!(matches!(
            w.check_payload("orders", Action::Create, &mut bad_field, &[]),
            Err(AccessError::Field(_))
        ));
        let mut invalid = json!({"amount": 0}).as_object().unwrap().clone();
        assert!(matches!(
            w.check_payload("orders", Action::Create, &mut invalid, &[]),
            Err(AccessError::Validation(_))
        ));
        assert!(matches!(
            w.row_rules("orders", Action::Delete),
            Err(AccessError::Forbidden)
        ));
        assert!(matches!(
            w.check_payload("customers", Action::Create, &mut ok, &[]),
            Err(AccessError::Forbidden)
        ));
    }
}
