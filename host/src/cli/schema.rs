//! `rectus schema snapshot|diff|apply`.

use super::{CliError, SchemaCommand};
use crate::config::Config;

pub async fn run(_config: Config, _command: SchemaCommand) -> Result<(), CliError> {
    Err(CliError::Other("schema snapshots are not built yet".into()))
}
