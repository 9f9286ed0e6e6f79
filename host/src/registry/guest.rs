//! Guest modules: extensions loaded from `EXTENSIONS_PATH` (Rhai scripts now, WASM
//! components later) beside the built-ins. The loader (`crate::extensions`) puts and
//! removes them as folders come, change and go; a folder that failed to load is kept here
//! with its error so `GET /extensions` can show it.
//!
//! The enabled flag is shared (`Arc<AtomicBool>`) with the hooks the loader registered,
//! so switching a guest off stops its hooks at the next event.

use super::{Registry, Source};
use crate::db::{Db, DbError};
use crate::runtime::capabilities::Grants;
use serde_json::{json, Value as Json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Clone)]
pub struct Guest {
    pub id: String,
    /// The folder under `EXTENSIONS_PATH`: a guest's identity while it is loaded (two
    /// folders may claim one id; the second is kept with an error).
    pub folder: String,
    pub kinds: Vec<String>,
    pub source: Source,
    pub version: String,
    pub capabilities: Vec<String>,
    /// What an admin granted of `capabilities` (stored in `rectus_extension_grants`).
    pub grants: Grants,
    /// Why the folder did not load; such a guest runs nothing.
    pub error: Option<String>,
    pub enabled: Arc<AtomicBool>,
}

impl Guest {
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Directus's `/extensions` item shape, plus `error` (null when loaded).
    pub fn to_api(&self) -> Json {
        let source = self.source.name();
        json!({
            "id": self.id,
            "bundle": null,
            "meta": {"id": self.id, "enabled": self.enabled(), "folder": self.folder, "source": source, "bundle": null, "granted": self.grants.list()},
            "schema": {
                "name": self.id,
                "version": self.version,
                "type": self.kinds.first().map(String::as_str).unwrap_or(""),
                "kinds": self.kinds,
                "local": true,
                "source": source,
                "capabilities": self.capabilities,
            },
            "error": self.error,
        })
    }
}

impl Registry {
    /// Adds a guest or replaces the one from the same folder. A loaded guest takes its
    /// enabled state from `rectus_extensions` (recorded, enabled, the first time); a
    /// broken one is shown disabled and leaves the stored state alone.
    pub async fn put_guest(&self, db: &Db, guest: Guest) -> Result<Guest, DbError> {
        let on = match guest.error {
            None => {
                self.stored_enabled(db, &guest.id, &guest.folder, guest.source)
                    .await?
            }
            Some(_) => false,
        };
        guest.enabled.store(on, Ordering::Release);
        if guest.error.is_none() {
            guest.grants.set(self.stored_grants(db, &guest.id).await?);
        }
        let mut guests = self.guests.write().expect("guest list lock");
        guests.retain(|g| g.folder != guest.folder);
        guests.push(guest.clone());
        guests.sort_by(|a, b| a.folder.cmp(&b.folder));
        Ok(guest)
    }

    /// Removes the guest loaded from `folder`; its stored state stays, so putting the
    /// folder back remembers whether it was switched off.
    pub fn remove_guest(&self, folder: &str) -> Option<Guest> {
        let mut guests = self.guests.write().expect("guest list lock");
        let at = guests.iter().position(|g| g.folder == folder)?;
        Some(guests.remove(at))
    }

    /// The folder of the module (built-in or loaded guest) that already uses `id`, other
    /// than `folder` itself.
    pub fn id_taken(&self, id: &str, folder: &str) -> Option<String> {
        if let Some(m) = self.get(id) {
            return Some(format!("the built-in module \"{}\"", m.id));
        }
        self.guests
            .read()
            .expect("guest list lock")
            .iter()
            .find(|g| g.id == id && g.folder != folder && g.error.is_none())
            .map(|g| format!("the folder \"{}\"", g.folder))
    }

    pub fn guests(&self) -> Vec<Guest> {
        self.guests.read().expect("guest list lock").clone()
    }

    /// Every module, built-ins first, in `/extensions`'s shape.
    pub fn to_api(&self) -> Vec<Json> {
        self.modules()
            .iter()
            .map(|m| m.to_api())
            .chain(self.guests().iter().map(Guest::to_api))
            .collect()
    }
}
