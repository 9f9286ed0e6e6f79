//! `rectus schema snapshot|diff|apply`: the data model as a file, what applying a file
//! would change, and applying it. The format, the comparison and the plan live in
//! [`crate::schema::snapshot`]; this module only reads and writes files and prints.
//!
//! `snapshot` and `diff` only read: on a database Rectus has never started on (no
//! `rectus_*` tables) they describe the tables without metadata instead of creating the
//! system tables. `apply` creates them (as `start` would), since changes record metadata.

use super::{connect, CliError, SchemaCommand};
use crate::config::Config;
use crate::db::Db;
use crate::schema::service::SchemaService;
use crate::schema::snapshot::{self, Format, Plan, Snapshot};
use crate::schema::{introspect, meta, Schema};
use crate::system::migrations;
use std::path::{Path, PathBuf};

pub async fn run(config: Config, command: SchemaCommand) -> Result<(), CliError> {
    match command {
        SchemaCommand::Snapshot { file, format } => {
            let format = choose_format(file.as_deref(), &format)?;
            let db = connect(&config).await?;
            let schema = read_schema(&db, &config.db_exclude_tables).await;
            db.close().await;
            let text = Snapshot::of(&schema?).to_text(format);
            match file {
                None => print!("{text}"),
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| {
                        CliError::Other(format!("cannot write {}: {e}", path.display()))
                    })?;
                    println!("Snapshot saved to {}", path.display());
                }
            }
            Ok(())
        }
        SchemaCommand::Diff { file } => {
            let desired = read_file(&file)?;
            let db = connect(&config).await?;
            let schema = read_schema(&db, &config.db_exclude_tables).await;
            db.close().await;
            let plan = snapshot::diff(&Snapshot::of(&schema?), &desired).map_err(one_line)?;
            print_plan(&plan, &file);
            Ok(())
        }
        SchemaCommand::Apply {
            file,
            dry_run,
            yes: _,
        } => {
            // A bad file fails before the database is touched.
            let desired = read_file(&file)?;
            let db = connect(&config).await?;
            let result = apply(&config, &db, &desired, &file, dry_run).await;
            db.close().await;
            result
        }
    }
}

async fn apply(
    config: &Config,
    db: &Db,
    desired: &Snapshot,
    file: &Path,
    dry_run: bool,
) -> Result<(), CliError> {
    if dry_run {
        let current = read_schema(db, &config.db_exclude_tables).await?;
        let plan = snapshot::diff(&Snapshot::of(&current), desired).map_err(one_line)?;
        print_plan(&plan, file);
        if !plan.is_empty() {
            println!("Dry run: nothing was changed.");
        }
        return Ok(());
    }
    migrations::run(db).await?;
    let service = SchemaService::load(db.clone(), config.db_exclude_tables.clone()).await?;
    let plan = snapshot::diff(&Snapshot::of(&service.current()), desired).map_err(one_line)?;
    print_plan(&plan, file);
    if plan.is_empty() {
        return Ok(());
    }
    let total = plan.steps.len();
    let applied = snapshot::apply(&service, &plan, |_| {})
        .await
        .map_err(|e| {
            one_line(format!(
                "{e} ({} of {total} changes were applied before it)",
                e.applied
            ))
        })?;
    println!(
        "Applied {applied} change{}.",
        if applied == 1 { "" } else { "s" }
    );
    Ok(())
}

fn print_plan(plan: &Plan, file: &Path) {
    if plan.is_empty() {
        println!(
            "No changes: the database already matches {}.",
            file.display()
        );
        return;
    }
    for step in &plan.steps {
        println!("{}", step.describe());
    }
}

/// The schema as the catalogue and, when present, the metadata rows describe it.
async fn read_schema(db: &Db, exclude: &[String]) -> Result<Schema, CliError> {
    let catalogue = introspect::read_catalogue(db).await?;
    let installed = catalogue.tables.iter().any(|t| t.name == "rectus_fields");
    let meta = if installed {
        meta::load(db).await?
    } else {
        meta::MetaRows::default()
    };
    Ok(introspect::build(db.dialect(), catalogue, meta, exclude))
}

/// `--format json` always wins; otherwise the file's extension decides, then YAML.
fn choose_format(file: Option<&Path>, format: &str) -> Result<Format, CliError> {
    let asked = Format::parse(format).map_err(one_line)?;
    Ok(match file.and_then(Format::of_path) {
        Some(by_name) if asked == Format::Yaml => by_name,
        _ => asked,
    })
}

fn read_file(path: &PathBuf) -> Result<Snapshot, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", path.display())))?;
    let format = Format::of_path(path).unwrap_or(Format::Yaml);
    Snapshot::parse(&text, format).map_err(|e| one_line(format!("{}: {e}", path.display())))
}

/// Errors are reported on one line, whatever the parser's message looks like.
fn one_line(e: impl std::fmt::Display) -> CliError {
    let text = e.to_string();
    CliError::Other(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_comes_from_the_flag_then_the_file_name() {
        let p = |s: &str| Some(Path::new(s).to_path_buf());
        assert_eq!(
            choose_format(p("a.json").as_deref(), "yaml").unwrap(),
            Format::Json
        );
        assert_eq!(
            choose_format(p("a.yml").as_deref(), "json").unwrap(),
            Format::Json
        );
        assert_eq!(
            choose_format(p("a").as_deref(), "yaml").unwrap(),
            Format::Yaml
        );
        assert_eq!(choose_format(None, "json").unwrap(), Format::Json);
        assert!(choose_format(None, "xml").is_err());
    }

    #[test]
    fn errors_are_one_line() {
        let e = one_line("line one\n  line two");
        assert_eq!(e.to_string(), "line one line two");
    }
}
