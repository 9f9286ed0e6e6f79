//! The enabled state of modules, kept in `rectus_extensions` so a switch survives restarts.

use super::{Module, Registry, Source};
use crate::db::{Db, DbError};
use crate::schema::meta;
use crate::system::tables;
use serde_json::{json, Value as Json};

impl Registry {
    /// Applies the stored state to the registered modules, and records modules seen for
    /// the first time (enabled).
    pub async fn load_state(&self, db: &Db) -> Result<(), DbError> {
        let mut sql = db.sql();
        sql.push("SELECT * FROM ").ident(tables::EXTENSIONS.name);
        let rows: Vec<_> = db
            .fetch_all(&sql)
            .await?
            .into_iter()
            .map(|r| meta::normalize_row(&tables::EXTENSIONS, r))
            .collect();
        for m in self.modules() {
            match rows
                .iter()
                .find(|r| r.get("id").and_then(Json::as_str) == Some(m.id))
            {
                Some(row) => {
                    m.set_enabled(row.get("enabled").and_then(Json::as_bool).unwrap_or(true))
                }
                None => {
                    let mut values = serde_json::Map::new();
                    values.insert("id".into(), json!(m.id));
                    values.insert("enabled".into(), json!(true));
                    values.insert("folder".into(), json!(m.id));
                    values.insert("source".into(), json!(m.source_name()));
                    db.execute(&meta::insert(db.dialect(), &tables::EXTENSIONS, &values))
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The stored enabled state of a guest module; a module seen for the first time is
    /// recorded, enabled.
    pub(super) async fn stored_enabled(
        &self,
        db: &Db,
        id: &str,
        folder: &str,
        source: Source,
    ) -> Result<bool, DbError> {
        let mut sql = db.sql();
        sql.push("SELECT * FROM ")
            .ident(tables::EXTENSIONS.name)
            .push(" WHERE ")
            .ident("id")
            .push(" = ")
            .bind(id);
        if let Some(row) = db.fetch_all(&sql).await?.into_iter().next() {
            let row = meta::normalize_row(&tables::EXTENSIONS, row);
            return Ok(row.get("enabled").and_then(Json::as_bool).unwrap_or(true));
        }
        let mut values = serde_json::Map::new();
        values.insert("id".into(), json!(id));
        values.insert("enabled".into(), json!(true));
        values.insert("folder".into(), json!(folder));
        values.insert("source".into(), json!(source.name()));
        db.execute(&meta::insert(db.dialect(), &tables::EXTENSIONS, &values))
            .await?;
        Ok(true)
    }

    /// Switches a module (built-in or guest) on or off, in the database first so the
    /// switch is never lost; returns the module in `/extensions`'s shape.
    pub async fn set_enabled(
        &self,
        db: &Db,
        id: &str,
        enabled: bool,
    ) -> Result<Option<Json>, DbError> {
        let guest = self
            .guests()
            .into_iter()
            .find(|g| g.id == id && g.error.is_none());
        let builtin = self.get(id);
        if builtin.is_none() && guest.is_none() {
            return Ok(None);
        }
        let mut values = serde_json::Map::new();
        values.insert("enabled".into(), json!(enabled));
        let update = meta::update(db.dialect(), &tables::EXTENSIONS, &values, &[("id", id)])
            .expect("one column set");
        db.execute(&update).await?;
        if let Some(m) = builtin {
            m.set_enabled(enabled);
            return Ok(Some(m.to_api()));
        }
        let g = guest.expect("checked above");
        g.enabled
            .store(enabled, std::sync::atomic::Ordering::Release);
        Ok(Some(g.to_api()))
    }
}

impl Module {
    pub fn source_name(&self) -> &'static str {
        self.source.name()
    }

    /// Directus's `/extensions` item shape.
    pub fn to_api(&self) -> Json {
        json!({
            "id": self.id,
            "bundle": null,
            "meta": {"id": self.id, "enabled": self.enabled(), "folder": self.id, "source": self.source_name(), "bundle": null},
            "schema": {"name": self.id, "version": self.version, "type": self.kind, "local": true, "source": self.source_name()},
        })
    }
}

impl Registry {
    /// What an admin granted to the guest `id` (empty when nothing was granted).
    pub(super) async fn stored_grants(&self, db: &Db, id: &str) -> Result<Vec<String>, DbError> {
        let t = &tables::EXTENSION_GRANTS;
        let mut sql = db.sql();
        sql.push("SELECT * FROM ")
            .ident(t.name)
            .push(" WHERE ")
            .ident("extension")
            .push(" = ")
            .bind(id);
        let Some(row) = db.fetch_all(&sql).await?.into_iter().next() else {
            return Ok(Vec::new());
        };
        let row = meta::normalize_row(t, row);
        let granted = match row.get("granted") {
            Some(Json::String(text)) => serde_json::from_str(text).unwrap_or(Json::Null),
            Some(v) => v.clone(),
            None => Json::Null,
        };
        Ok(granted
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Replaces what the loaded guest `id` is granted: stored first (one transaction),
    /// then applied to its running calls. `None` when no loaded guest has that id.
    pub async fn set_grants(
        &self,
        db: &Db,
        id: &str,
        granted: Vec<String>,
    ) -> Result<Option<Json>, DbError> {
        let Some(guest) = self
            .guests()
            .into_iter()
            .find(|g| g.id == id && g.error.is_none())
        else {
            return Ok(None);
        };
        let t = &tables::EXTENSION_GRANTS;
        let mut values = serde_json::Map::new();
        values.insert("extension".into(), json!(id));
        values.insert("granted".into(), json!(granted));
        let mut tx = db.begin().await?;
        tx.execute(&meta::delete(db.dialect(), t, &[("extension", id)]))
            .await?;
        tx.execute(&meta::insert(db.dialect(), t, &values)).await?;
        tx.commit().await?;
        guest.grants.set(granted);
        Ok(Some(guest.to_api()))
    }
}
