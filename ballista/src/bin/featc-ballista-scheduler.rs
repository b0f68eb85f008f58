//! `featc-ballista-scheduler`: a Ballista scheduler that plans featc training sets:
//! featc's codecs (`featc_ballista::codecs`) and, for each session, featc's query
//! planner and optimizer rules (`settings::scheduler_session`). Listens on loopback
//! unless told otherwise: Ballista's endpoints have no authentication.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use clap::Parser;
use datafusion::prelude::SessionConfig;
use featc_ballista::{codecs, logging, settings};

/// A Ballista scheduler for featc training sets (`featc training-set --ballista
/// df://HOST:PORT`). Start featc-ballista-executor processes against it.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The address to listen on. Ballista has no authentication: keep it on
    /// loopback or a trusted network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// The port clients (`df://HOST:PORT`) and executors connect to.
    #[arg(long, default_value_t = 50050)]
    port: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init(log::Level::Info);
    let args = Args::parse();
    if !args.bind.is_loopback() {
        log::warn!("listening on {}: Ballista has no authentication", args.bind);
    }
    let config = SchedulerConfig {
        bind_host: args.bind.to_string(),
        bind_port: args.port,
        external_host: args.bind.to_string(),
        override_logical_codec: Some(codecs::logical()),
        override_physical_codec: Some(codecs::physical()),
        override_session_builder: Some(Arc::new(settings::scheduler_session)),
        override_config_producer: Some(Arc::new(|| settings::session_config(SessionConfig::new()))),
        ..SchedulerConfig::default()
    };
    let cluster = match BallistaCluster::new_from_config(&config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("featc-ballista-scheduler: {e}");
            return ExitCode::FAILURE;
        }
    };
    let address = SocketAddr::new(args.bind, args.port);
    match start_server(cluster, address, Arc::new(config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("featc-ballista-scheduler: {address}: {e}");
            ExitCode::FAILURE
        }
    }
}
