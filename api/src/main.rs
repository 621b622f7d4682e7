//! Starts the API: logging, settings, then the server.

use std::process::ExitCode;

use api::Application;
use settings::Settings;

#[actix_web::main]
async fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole cause chain, which names the key and env var to fix.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    Application::build(&settings)?.run_until_stopped().await?;
    Ok(())
}
