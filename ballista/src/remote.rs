//! A client session on a featc Ballista cluster: `connect("df://HOST:PORT", config)`
//! checks that the scheduler answers, then gives a `SessionContext` whose plans run
//! on the cluster (encoded with featc's codecs, under featc's settings).
//!
//! What a plan reads must be readable by the executors at the same paths: files are
//! named by path in the plan, not shipped. On one machine (as in
//! `scripts/check-ballista.sh`) any path is; across machines, use shared storage.

use std::fmt;
use std::time::Duration;

use ballista::prelude::SessionContextExt;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::{codecs, settings};

/// How long to wait for the scheduler's port to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A scheduler's address, `df://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
}

impl Address {
    pub fn parse(url: &str) -> Result<Address, RemoteError> {
        let bad = |why: &str| RemoteError::BadAddress {
            given: url.to_string(),
            why: why.to_string(),
        };
        let rest = url
            .strip_prefix("df://")
            .ok_or_else(|| bad("it must start with df://"))?;
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad("it must name a port: df://HOST:PORT"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| bad("the port must be a number from 1 to 65535"))?;
        if host.is_empty() || port == 0 || host.contains('/') {
            return Err(bad("it must be df://HOST:PORT"));
        }
        Ok(Address {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "df://{}:{}", self.host, self.port)
    }
}

/// Why a cluster session could not be had.
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteError {
    BadAddress {
        given: String,
        why: String,
    },
    /// Nothing answers at the scheduler's address.
    Unreachable {
        address: String,
        message: String,
    },
    /// The session could not be set up.
    Session {
        address: String,
        message: String,
    },
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::BadAddress { given, why } => {
                write!(f, "`{given}` is not a Ballista scheduler address: {why}")
            }
            RemoteError::Unreachable { address, message } => write!(
                f,
                "cannot reach the Ballista scheduler at {address}: {message} (is \
                 featc-ballista-scheduler running there?)"
            ),
            RemoteError::Session { address, message } => {
                write!(f, "Ballista scheduler at {address}: {message}")
            }
        }
    }
}

impl std::error::Error for RemoteError {}

/// A session on a cluster, and the scheduler it talks to.
pub struct Cluster {
    pub ctx: SessionContext,
    pub address: Address,
}

/// A session on the scheduler at `url` (`df://HOST:PORT`) with `config`'s settings
/// (batch size, partitions: the number of partitions of each shuffle) and featc's
/// (`settings`, `codecs`). Fails now, naming the address, when the scheduler's port
/// does not answer (Ballista itself would only fail once a query runs).
pub async fn connect(url: &str, config: SessionConfig) -> Result<Cluster, RemoteError> {
    let address = Address::parse(url)?;
    let unreachable = |message: String| RemoteError::Unreachable {
        address: address.to_string(),
        message,
    };
    let target = (address.host.as_str(), address.port);
    match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(target)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(unreachable(e.to_string())),
        Err(_) => {
            return Err(unreachable(format!(
                "no answer in {} s",
                CONNECT_TIMEOUT.as_secs()
            )))
        }
    }
    let config = codecs::install(settings::session_config(config));
    let state = featc_runtime::batch::session_state(config);
    let ctx = SessionContext::remote_with_state(&address.to_string(), state)
        .await
        .map_err(|e| RemoteError::Session {
            address: address.to_string(),
            message: e.strip_backtrace(),
        })?;
    Ok(Cluster { ctx, address })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = Address::parse("df://127.0.0.1:50050").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 50050));
        assert_eq!(a.to_string(), "df://127.0.0.1:50050");
        for bad in [
            "127.0.0.1:50050",
            "df://127.0.0.1",
            "df://:50050",
            "df://h:0",
            "df://h:99999",
            "df://h:x",
            "http://h:1",
            "df://h/x:1",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_scheduler_is_named() {
        // A port just bound and released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let url = format!("df://127.0.0.1:{port}");
        let Err(e) = connect(&url, SessionConfig::new()).await else {
            panic!("connected to nothing");
        };
        assert!(matches!(e, RemoteError::Unreachable { .. }), "{e}");
        assert!(e.to_string().contains(&url), "{e}");
    }
}
