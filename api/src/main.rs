//! Starts the API: logging, settings, then the server; prints what a developer needs to know.

use std::process::ExitCode;

use api::Application;
use settings::Settings;

#[actix_web::main]
async fn main() -> ExitCode {
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
    api::logging::init(settings.log.format);
    for warning in settings.warnings() {
        log::warn!("{warning}");
    }
    let app = Application::build(&settings)?;
    log::info!(
        "listening on http://{}:{} ({} environment)",
        settings.server.host,
        app.port(),
        settings.environment
    );
    #[cfg(feature = "dev-issuer")]
    if let Some(issuer) = app.dev_issuer() {
        log::warn!(
            "DEVELOPMENT ISSUER in use at {}: set auth.domain ({}) for a real tenant; \
             deployments build with --no-default-features, which leaves it out",
            issuer.issuer(),
            settings::env_vars("auth.domain")
        );
        println!(
            "{}",
            issuer.banner(&format!("http://127.0.0.1:{}", app.port()))?
        );
    }
    app.run_until_stopped().await?;
    log::info!("stopped");
    Ok(())
}
