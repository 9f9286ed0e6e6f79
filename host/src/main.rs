use clap::Parser;
use rectus::cli::{self, Cli, Command};
use rectus::config::Config;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rectus: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    cli::init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rectus: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match args.command {
            Command::Start => cli::start(config).await,
            Command::Bootstrap => {
                let db = cli::connect(&config).await?;
                cli::bootstrap(&config, &db).await
            }
            Command::Schema { command } => cli::schema::run(config, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rectus: {e}");
            ExitCode::FAILURE
        }
    }
}
