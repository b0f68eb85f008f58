//! A server running in process, on a tokio runtime of the test's own, for tests
//! written as plain (blocking) functions: started as `featc serve PROJECT` would start
//! it, stopped as SIGTERM stops it (`Server::shutdown`).

use std::path::Path;

use featc_server::{ServeConfig, Server};

use super::{history, project, Client};

/// A running server, its runtime, and a client of its routes.
pub struct Served {
    runtime: tokio::runtime::Runtime,
    server: Option<Server>,
    pub client: Client,
}

impl Served {
    /// A listener on a free loopback port, the rest of `ServeConfig`'s defaults.
    pub fn config() -> ServeConfig {
        ServeConfig::new("127.0.0.1:0".parse().expect("addr"))
    }

    /// Serves project folder `dir` (relative to the repository, or absolute) under
    /// `config`, after loading its history when `bootstrap` (as `featc serve DIR
    /// [--bootstrap]`).
    pub fn start(dir: &Path, config: ServeConfig, bootstrap: bool) -> Served {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio");
        let (project, plan, graph) = project::serving(&super::repo().join(dir));
        let server = runtime.block_on(async {
            let server = Server::start(graph.clone(), config)
                .await
                .expect("the server starts");
            if bootstrap {
                history::bootstrap(&server, &project, &plan, &graph).await;
            } else {
                server.ready().expect("ready");
            }
            server
        });
        let client = Client::of(&server);
        Served {
            runtime,
            server: Some(server),
            client,
        }
    }

    /// The address the server listens on (for tests that need a real socket).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.as_ref().expect("running").addr
    }

    /// The health listener's address (`ServeConfig::health_listen`).
    pub fn health_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref().expect("running").health_addr
    }

    /// The service the server's connections run (reads answered without the
    /// router), to call in process as `client` calls the router.
    pub fn dispatch(&self) -> featc_server::api::dispatch::Dispatch {
        let app = self.server.as_ref().expect("running").app();
        featc_server::api::dispatch::Dispatch::reads_first(
            std::sync::Arc::clone(app),
            featc_server::api::router(std::sync::Arc::clone(app)),
        )
    }

    /// Runs `f` to completion on the server's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// A graceful stop (in-flight requests finish, then the served log and the
    /// state are completed); it must succeed.
    pub fn stop(mut self) {
        let server = self.server.take().expect("running");
        self.runtime
            .block_on(server.shutdown())
            .expect("a clean stop");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.runtime.block_on(server.shutdown());
        }
    }
}
