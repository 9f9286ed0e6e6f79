//! `extension.toml`: what an extension folder declares, parsed and checked before
//! anything in the folder runs.
//!
//! ```toml
//! id = "reject-negative-orders"
//! name = "Reject negative orders"
//! version = "1.0.0"
//! kinds = ["hook"]
//! source = "rhai"          # rhai | wasm; "builtin" folders are the host's own modules
//! entry = "hook.rhai"      # relative to the folder (a .wasm component for wasm)
//! sdk = "0.1.0"
//! capabilities = ["log"]   # asked for; an admin grants (runtime::capabilities)
//! ```

use serde::Deserialize;
use std::path::{Component, Path};

/// The SDK versions this host loads (`wit/`'s `rectus:extension@0.1.0`).
pub const SDK_VERSIONS: &[&str] = &["0.1.0"];
/// Every module kind of the SDK (its worlds).
pub const KINDS: &[&str] = &["endpoint", "hook", "operation", "storage", "mail-transport"];

#[derive(Debug, Deserialize)]
struct Raw {
    id: Option<String>,
    name: Option<String>,
    version: Option<String>,
    kinds: Option<Vec<String>>,
    source: Option<String>,
    entry: Option<String>,
    sdk: Option<String>,
    #[serde(default)]
    capabilities: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A module linked into the host; its folder is documentation, not something to load.
    Builtin,
    Rhai,
    /// A WebAssembly component built against `wit/`.
    Wasm,
}

/// A checked manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    pub kinds: Vec<String>,
    pub source: Source,
    /// The entry file, relative to the folder and inside it (absent for built-ins).
    pub entry: Option<String>,
    pub capabilities: Vec<String>,
}

/// A manifest that can't be used: the id it claimed (when it got that far) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub id: Option<String>,
    pub reason: String,
}

fn required(value: Option<String>, field: &str, id: &Option<String>) -> Result<String, Invalid> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(Invalid {
            id: id.clone(),
            reason: format!("\"{field}\" is required"),
        }),
    }
}

fn valid_id(id: &str) -> bool {
    id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Kinds the WASM runtime loads (the others are WIT worlds without a host side yet).
const WASM_KINDS: &[&str] = &["endpoint", "hook", "operation"];

/// Parses and checks `text`; `folder` is where relative paths point, for the entry check.
pub fn parse(text: &str, folder: &Path) -> Result<Manifest, Invalid> {
    let raw: Raw = toml::from_str(text).map_err(|e| Invalid {
        id: None,
        reason: format!("extension.toml is not valid: {}", e.message()),
    })?;
    let id = raw.id.clone();
    let fail = |reason: String| Invalid {
        id: id.clone(),
        reason,
    };
    let id_text = required(raw.id, "id", &id)?;
    if !valid_id(&id_text) {
        return Err(fail(format!(
            "id \"{id_text}\" must be lowercase letters, digits, - and _ (at most 64)"
        )));
    }
    let source = match required(raw.source, "source", &id)?.as_str() {
        "builtin" => Source::Builtin,
        "rhai" => Source::Rhai,
        "wasm" => Source::Wasm,
        "native" => {
            return Err(fail(
                "source \"native\" is not supported by this host yet".into(),
            ))
        }
        other => {
            return Err(fail(format!(
                "unknown source \"{other}\" (expected rhai or wasm)"
            )))
        }
    };
    let name = required(raw.name, "name", &id)?;
    let version = required(raw.version, "version", &id)?;
    let sdk = required(raw.sdk, "sdk", &id)?;
    if !SDK_VERSIONS.contains(&sdk.as_str()) {
        return Err(fail(format!(
            "unsupported SDK version \"{sdk}\" (this host loads {})",
            SDK_VERSIONS.join(", ")
        )));
    }
    let kinds = raw.kinds.unwrap_or_default();
    if kinds.is_empty() {
        return Err(fail("\"kinds\" must list at least one kind".into()));
    }
    for kind in &kinds {
        if !KINDS.contains(&kind.as_str()) {
            return Err(fail(format!(
                "unknown kind \"{kind}\" (expected one of {})",
                KINDS.join(", ")
            )));
        }
        if source == Source::Rhai && kind != "hook" && kind != "operation" {
            return Err(fail(format!(
                "kind \"{kind}\" is not supported for Rhai scripts yet (hook, operation)"
            )));
        }
        if source == Source::Wasm && !WASM_KINDS.contains(&kind.as_str()) {
            return Err(fail(format!(
                "kind \"{kind}\" is not supported for WASM components yet ({})",
                WASM_KINDS.join(", ")
            )));
        }
    }
    for c in &raw.capabilities {
        if !crate::runtime::capabilities::is_valid(c) {
            return Err(fail(format!(
                "unknown capability \"{c}\" (expected log, cache, items:read:<collection>, items:write:<collection>, http:<host> or env:<KEY>)"
            )));
        }
    }
    let entry = match source {
        Source::Builtin => None,
        Source::Rhai | Source::Wasm => {
            let entry = required(raw.entry, "entry", &id)?;
            let path = Path::new(&entry);
            // The entry must stay inside the folder: no absolute paths, no `..`.
            if !path
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
            {
                return Err(fail(format!(
                    "entry \"{entry}\" must be a path inside the extension's folder"
                )));
            }
            if !folder.join(path).is_file() {
                return Err(fail(format!("entry file \"{entry}\" is missing")));
            }
            Some(entry)
        }
    };
    Ok(Manifest {
        id: id_text,
        name,
        version,
        kinds,
        source,
        entry,
        capabilities: raw.capabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with_entry() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rectus-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hook.rhai"), "").unwrap();
        dir
    }

    const GOOD: &str = r#"
id = "neg"
name = "Negative orders"
version = "1.0.0"
kinds = ["hook"]
source = "rhai"
entry = "hook.rhai"
sdk = "0.1.0"
capabilities = ["log", "items:read:orders"]
"#;

    #[test]
    fn a_good_manifest_parses() {
        let m = parse(GOOD, &folder_with_entry()).unwrap();
        assert_eq!(
            (m.id.as_str(), m.source, m.entry.as_deref()),
            ("neg", Source::Rhai, Some("hook.rhai"))
        );
        assert_eq!(m.capabilities, vec!["log", "items:read:orders"]);
    }

    #[test]
    fn bad_manifests_say_why() {
        let dir = folder_with_entry();
        let cases = [
            (
                GOOD.replace("sdk = \"0.1.0\"", "sdk = \"9.0.0\""),
                "unsupported SDK version",
            ),
            (
                GOOD.replace("[\"hook\"]", "[\"widget\"]"),
                "unknown kind \"widget\"",
            ),
            (
                GOOD.replace("[\"hook\"]", "[\"endpoint\"]"),
                "not supported for Rhai",
            ),
            (
                GOOD.replace("[\"hook\"]", "[\"storage\"]")
                    .replace("\"rhai\"", "\"wasm\""),
                "not supported for WASM",
            ),
            (GOOD.replace("hook.rhai", "missing.rhai"), "is missing"),
            (
                GOOD.replace("hook.rhai", "../hook.rhai"),
                "inside the extension's folder",
            ),
            (
                GOOD.replace("version = \"1.0.0\"\n", ""),
                "\"version\" is required",
            ),
            (GOOD.replace("\"log\", ", "\"net\", "), "unknown capability"),
            (
                GOOD.replace("id = \"neg\"", "id = \"Neg Orders\""),
                "lowercase",
            ),
            ("id = ".to_string(), "not valid"),
        ];
        for (text, expected) in cases {
            let err = parse(&text, &dir).unwrap_err();
            assert!(err.reason.contains(expected), "{expected}: {}", err.reason);
        }
        let err = parse(&GOOD.replace("\"rhai\"", "\"lua\""), &dir).unwrap_err();
        assert_eq!(
            err.id.as_deref(),
            Some("neg"),
            "the id is known when it parsed"
        );
    }

    #[test]
    fn builtin_manifests_need_no_entry() {
        let m = parse(
            "id = \"rest\"\nname = \"REST API\"\nversion = \"0.1.0\"\nkinds = [\"endpoint\"]\nsource = \"builtin\"\nsdk = \"0.1.0\"\n",
            Path::new("/nonexistent"),
        )
        .unwrap();
        assert_eq!((m.source, m.entry), (Source::Builtin, None));
    }
}
