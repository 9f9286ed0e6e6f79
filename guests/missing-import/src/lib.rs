//! Imports `rectus:extension/log.shout`, which no host provides (see `wit/types.wit` here,
//! a copy of the real package with that one function added).

wit_bindgen::generate!({ path: "wit", world: "operation" });

use rectus::extension::{log, types};

struct Op;

impl Guest for Op {
    fn info() -> OperationInfo {
        OperationInfo {
            id: "missing-import".into(),
            name: "Missing import".into(),
            description: String::new(),
            options_json: "{}".into(),
        }
    }

    fn run(_ctx: types::Context, _options: String, _data: String) -> Result<String, types::HostError> {
        log::shout("hello");
        Ok("null".into())
    }
}

export!(Op);
