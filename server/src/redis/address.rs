//! How a user names the Redis an online store lives in (docs/online-store.md, "Redis
//! Cluster"): `redis://[USER:PASS@]HOST:PORT[/DB]` (one Redis, or any node of a Redis
//! Cluster: the server says which), `unix://PATH`, or a list of a cluster's seed nodes
//! `redis://[USER:PASS@]HOST:PORT,HOST:PORT[,...]`, each tried in turn.

use super::store::RedisError;

const SCHEME: &str = "redis://";

/// The address's nodes as one `redis://` (or `unix://`) URL each, in the order given:
/// one for a single address, one per seed for a list (the credentials and database
/// apply to each). Each URL is checked by the client; the error names the address.
pub fn seeds(url: &str) -> Result<Vec<String>, RedisError> {
    if !(url.starts_with(SCHEME) || url.starts_with("unix://")) {
        return Err(RedisError::NotAnAddress(url.to_string()));
    }
    let urls = match url.strip_prefix(SCHEME) {
        Some(rest) if rest.contains(',') => {
            let (user, hosts) = match rest.rfind('@') {
                Some(at) => rest.split_at(at + 1),
                None => ("", rest),
            };
            let (hosts, db) = match hosts.find('/') {
                Some(slash) => hosts.split_at(slash),
                None => (hosts, ""),
            };
            hosts
                .split(',')
                .map(|host| {
                    if host.is_empty() {
                        return Err(RedisError::Address {
                            url: url.to_string(),
                            message: "a node of the list is empty: give HOST:PORT,HOST:PORT".into(),
                        });
                    }
                    Ok(format!("{SCHEME}{user}{host}{db}"))
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        _ => vec![url.to_string()],
    };
    for one in &urls {
        redis::Client::open(one.as_str()).map_err(|e| RedisError::Address {
            url: url.to_string(),
            message: if urls.len() > 1 {
                format!("node `{}`: {e}", shown(one))
            } else {
                e.to_string()
            },
        })?;
    }
    Ok(urls)
}

/// The URL of a cluster node the cluster named (`host`, `port`), with the
/// credentials of the seed it was learnt from.
pub fn node_url(seed: &str, host: &str, port: u16) -> String {
    let rest = seed.strip_prefix(SCHEME).unwrap_or(seed);
    let user = match rest.rfind('@') {
        Some(at) => &rest[..=at],
        None => "",
    };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    format!("{SCHEME}{user}{host}:{port}")
}

/// The host of a `redis://` URL (what an empty host in `CLUSTER SLOTS` means: the
/// node that answered).
pub fn host_of(url: &str) -> String {
    let rest = url.strip_prefix(SCHEME).unwrap_or(url);
    let rest = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
    let rest = rest.split('/').next().unwrap_or(rest);
    match rest.rsplit_once(':') {
        Some((host, _)) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        None => rest.to_string(),
    }
}

/// A node's URL without its credentials, for messages.
pub fn shown(url: &str) -> String {
    match (url.strip_prefix(SCHEME), url.rfind('@')) {
        (Some(_), Some(at)) => format!("{SCHEME}{}", &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_one_url_per_seed_with_the_credentials_and_database() {
        assert_eq!(
            seeds("redis://u:p@a:1,b:2/0").ok(),
            Some(vec![
                "redis://u:p@a:1/0".to_string(),
                "redis://u:p@b:2/0".into()
            ])
        );
        assert_eq!(
            seeds("redis://a:1").ok(),
            Some(vec!["redis://a:1".to_string()])
        );
        assert!(matches!(
            seeds("redis://a:1,,b:2"),
            Err(RedisError::Address { .. })
        ));
        assert!(matches!(
            seeds("http://a:1"),
            Err(RedisError::NotAnAddress(_))
        ));
    }

    #[test]
    fn a_node_keeps_the_seeds_credentials() {
        assert_eq!(
            node_url("redis://u:p@a:1", "10.0.0.2", 7001),
            "redis://u:p@10.0.0.2:7001"
        );
        assert_eq!(node_url("redis://a:1/0", "::1", 7001), "redis://[::1]:7001");
        assert_eq!(shown("redis://u:p@a:1"), "redis://a:1");
        assert_eq!(host_of("redis://u:p@10.0.0.2:7001/0"), "10.0.0.2");
    }
}
