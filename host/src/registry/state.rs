//! The enabled state of modules, kept in `rectus_extensions` so a switch survives restarts.

use super::{Module, Registry};
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

    /// Switches a module on or off, in the database first so the switch is never lost.
    pub async fn set_enabled(
        &self,
        db: &Db,
        id: &str,
        enabled: bool,
    ) -> Result<Option<&Module>, DbError> {
        let Some(m) = self.get(id) else {
            return Ok(None);
        };
        let mut values = serde_json::Map::new();
        values.insert("enabled".into(), json!(enabled));
        let update = meta::update(db.dialect(), &tables::EXTENSIONS, &values, &[("id", id)])
            .expect("one column set");
        db.execute(&update).await?;
        m.set_enabled(enabled);
        Ok(Some(m))
    }
}

impl Module {
    pub fn source_name(&self) -> &'static str {
        match self.source {
            super::Source::Builtin => "builtin",
        }
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
