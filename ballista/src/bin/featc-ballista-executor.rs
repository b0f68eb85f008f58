//! `featc-ballista-executor`: a Ballista executor that runs featc's operators (it
//! decodes them with `featc_ballista::codecs`). Listens on loopback unless told
//! otherwise: Ballista's endpoints have no authentication.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use clap::Parser;
use featc_ballista::{codecs, logging};

/// A Ballista executor for featc training sets, registered with a
/// featc-ballista-scheduler. Files a plan reads must be readable here at the paths
/// the client gave.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The address to listen on and advertise. Ballista has no authentication: keep
    /// it on loopback or a trusted network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// The Arrow Flight port (shuffle data and results are fetched from it).
    #[arg(long, default_value_t = 50051)]
    port: u16,
    /// The gRPC port (the scheduler pushes tasks to it).
    #[arg(long, default_value_t = 50052)]
    grpc_port: u16,
    /// The scheduler, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:50050")]
    scheduler: String,
    /// Tasks run at once (default: the machine's cores).
    #[arg(long, value_name = "N")]
    concurrent_tasks: Option<usize>,
    /// Where shuffle files are written (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init(log::Level::Info);
    let args = Args::parse();
    let Some((host, port)) = args.scheduler.rsplit_once(':') else {
        eprintln!("featc-ballista-executor: --scheduler takes HOST:PORT");
        return ExitCode::from(2);
    };
    let Ok(scheduler_port) = port.parse::<u16>() else {
        eprintln!("featc-ballista-executor: --scheduler: `{port}` is not a port");
        return ExitCode::from(2);
    };
    if !args.bind.is_loopback() {
        log::warn!("listening on {}: Ballista has no authentication", args.bind);
    }
    let defaults = ExecutorProcessConfig::default();
    let config = ExecutorProcessConfig {
        bind_host: args.bind.to_string(),
        external_host: Some(args.bind.to_string()),
        port: args.port,
        grpc_port: args.grpc_port,
        scheduler_host: host.to_string(),
        scheduler_port,
        // Executors may start before their scheduler listens.
        scheduler_connect_timeout_seconds: 30,
        vcores: args.concurrent_tasks.unwrap_or(defaults.vcores),
        work_dir: args.work_dir.map(|d| d.to_string_lossy().to_string()),
        override_logical_codec: Some(codecs::logical()),
        override_physical_codec: Some(codecs::physical()),
        override_function_registry: Some(codecs::functions()),
        ..defaults
    };
    match start_executor_process(Arc::new(config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("featc-ballista-executor: {e}");
            ExitCode::FAILURE
        }
    }
}
