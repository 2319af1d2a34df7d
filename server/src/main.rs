use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    sesame::cli::main().await
}
