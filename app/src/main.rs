//! `benchtop`: the GUI with no arguments, or a subcommand.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let process_start = std::time::Instant::now();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = benchtop_app::cli::Cli::parse();
    match benchtop_app::cli::run(cli, process_start) {
        Ok(code) => code,
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            // The reader went away (`benchtop ath parse … | head`): not an error.
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("benchtop: {}", said_once(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each cause only when the words so far do not already say it
/// (many errors put their source's words in their own message).
fn said_once(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
