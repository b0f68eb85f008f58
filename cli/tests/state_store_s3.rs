//! The state store group mode shares (`featc_server::group::store`), against a real
//! S3-protocol server (SeaweedFS, started here) and a directory: what is put reads
//! back from another `StateStore` on the same URL, a put replaces the whole object
//! (readers racing replacements see an old or a new value whole, never a mix), a list
//! is sorted and scoped to its prefix, a delete of a missing key is no error; a missing
//! bucket, a wrong secret and a dead or dropping endpoint are errors (not a `None`, not
//! a hang) naming the bucket and the key, never showing the secret.

use crate::cli_common::scratch;
use crate::services::S3Server;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use featc_server::group::store::{StateStore, StoreError};

/// A store on `url` at `server`, signing with `secret` (the server's, or a wrong one).
fn s3_store(server: &S3Server, url: &str, secret: &str) -> StateStore {
    s3_store_at(&server.endpoint(), &server.access_key, url, secret)
}

fn s3_store_at(endpoint: &str, access_key: &str, url: &str, secret: &str) -> StateStore {
    let options = [
        ("aws_endpoint", endpoint),
        ("aws_access_key_id", access_key),
        ("aws_secret_access_key", secret),
        ("aws_region", "us-east-1"),
    ];
    StateStore::open_with(url, &options).unwrap()
}

/// Round trip, replace, list and delete through two stores on one location, from
/// empty.
fn exercise(a: &StateStore, b: &StateStore) {
    assert_eq!(a.get("members/a.json").unwrap(), None);
    assert!(a.list("").unwrap().is_empty());
    a.put("tasks/user/3/checkpoint.bin", &[0, 1, 2, 255])
        .unwrap();
    let back = b.get("tasks/user/3/checkpoint.bin").unwrap();
    assert_eq!(back.as_deref(), Some(&[0, 1, 2, 255][..]));

    b.put("members/a.json", b"a longer first value").unwrap();
    b.put("members/a.json", b"short").unwrap();
    assert_eq!(a.get("members/a.json").unwrap().unwrap(), b"short");

    for key in [
        "members/c.json",
        "membersx/d.json",
        "tasks/user/10/checkpoint.bin",
        "members/b.json",
    ] {
        a.put(key, key.as_bytes()).unwrap();
    }
    assert_eq!(
        b.list("members/").unwrap(),
        ["members/a.json", "members/b.json", "members/c.json"]
    );
    assert_eq!(
        b.list("tasks/user/").unwrap(),
        [
            "tasks/user/10/checkpoint.bin",
            "tasks/user/3/checkpoint.bin"
        ]
    );
    assert_eq!(b.list("").unwrap().len(), 6);
    assert!(b.list("tasks/item/").unwrap().is_empty());

    a.delete("members/b.json").unwrap();
    b.delete("members/b.json").unwrap();
    b.delete("never/there.json").unwrap();
    assert_eq!(b.get("members/b.json").unwrap(), None);
    assert_eq!(
        a.list("members/").unwrap(),
        ["members/a.json", "members/c.json"]
    );
}

const BASE: usize = 100_000;
const REPLACEMENTS: usize = 50;

/// Version `v` of the raced object: its length and every byte say `v`, so that any
/// mix of two versions is seen.
fn version(v: usize) -> Vec<u8> {
    vec![(v % 251) as u8; BASE + v * 997]
}

fn version_of(bytes: &[u8]) -> Option<usize> {
    let extra = bytes.len().checked_sub(BASE)?;
    let v = extra / 997;
    let whole = extra % 997 == 0 && bytes.iter().all(|&b| b == (v % 251) as u8);
    whole.then_some(v)
}

/// 20 readers on `reader` while `writer` replaces one key 50 times: each read is one
/// whole version, and once the writer is done every reader reads the last.
fn race(writer: &StateStore, reader: &StateStore) {
    let key = "tasks/user/0/checkpoint.bin";
    writer.put(key, &version(0)).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..20)
            .map(|_| {
                let (reader, done) = (reader.clone(), &done);
                scope.spawn(move || {
                    let mut reads = 0;
                    loop {
                        let finished = done.load(Ordering::SeqCst);
                        let bytes = reader.get(key).unwrap().expect("the key is there");
                        let v = version_of(&bytes).unwrap_or_else(|| {
                            panic!("a read of {} bytes is no whole version", bytes.len())
                        });
                        assert!(v <= REPLACEMENTS, "version {v}");
                        reads += 1;
                        if finished {
                            assert_eq!(v, REPLACEMENTS, "a read after the last put");
                            return reads;
                        }
                    }
                })
            })
            .collect();
        for v in 1..=REPLACEMENTS {
            writer.put(key, &version(v)).unwrap();
        }
        done.store(true, Ordering::SeqCst);
        for r in readers {
            assert!(r.join().unwrap() >= 1);
        }
    });
}

/// `error` is about an object (not the URL), names `address`, and shows no `secrets`.
fn check_error(error: StoreError, address: &str, secrets: &[&str]) {
    let text = error.to_string();
    assert!(matches!(error, StoreError::Object { .. }), "{text}");
    assert!(text.contains(address), "{text} does not name {address}");
    for secret in secrets {
        assert!(!text.contains(secret), "{text} shows a secret");
    }
}

/// Every operation on `store` fails, naming `url`'s bucket and the key.
fn every_operation_fails(store: &StateStore, url: &str, secrets: &[&str]) {
    let address = format!("{url}/members/a.json");
    check_error(
        store.put("members/a.json", b"{}").unwrap_err(),
        &address,
        secrets,
    );
    check_error(store.get("members/a.json").unwrap_err(), &address, secrets);
    check_error(
        store.delete("members/a.json").unwrap_err(),
        &address,
        secrets,
    );
    check_error(
        store.list("members/").unwrap_err(),
        &format!("{url}/members/"),
        secrets,
    );
}

#[test]
fn objects_read_back_replace_list_and_delete_on_s3() {
    let server = S3Server::start(&scratch("state-store-s3/round-trip"));
    server.create_bucket("featc-state");
    let url = "s3://featc-state/group/a";
    let a = s3_store(&server, url, &server.secret_key);
    let b = s3_store(&server, url, &server.secret_key);
    assert_eq!(a.url(), url);
    exercise(&a, &b);
    // The prefix is the URL's: another prefix sees none of it, the bucket's root all.
    let other = s3_store(&server, "s3://featc-state/group/b", &server.secret_key);
    assert!(other.list("").unwrap().is_empty());
    assert_eq!(other.get("members/a.json").unwrap(), None);
    let root = s3_store(&server, "s3://featc-state", &server.secret_key);
    assert_eq!(
        root.list("group/a/members/").unwrap(),
        ["group/a/members/a.json", "group/a/members/c.json"]
    );
}

#[test]
fn readers_racing_replacements_see_whole_values_on_s3() {
    let server = S3Server::start(&scratch("state-store-s3/race"));
    server.create_bucket("featc-race");
    let url = "s3://featc-race/state";
    let writer = s3_store(&server, url, &server.secret_key);
    let reader = s3_store(&server, url, &server.secret_key);
    race(&writer, &reader);
}

#[test]
fn a_missing_bucket_and_a_wrong_secret_are_errors_naming_the_bucket_and_key() {
    let server = S3Server::start(&scratch("state-store-s3/denied"));
    server.create_bucket("featc-state");
    let secret = server.secret_key.as_str();

    let missing = "s3://featc-missing/state";
    let store = s3_store(&server, missing, secret);
    every_operation_fails(&store, missing, &[secret]);

    let url = "s3://featc-state/state";
    let wrong = "featc-wrong-secret-31415";
    let store = s3_store(&server, url, wrong);
    every_operation_fails(&store, url, &[wrong, secret]);
    // The same secret with a key the server does not know: denied too.
    let store = s3_store_at(&server.endpoint(), "featc-unknown-key", url, secret);
    every_operation_fails(&store, url, &[secret]);

    // What was denied is there with the right credentials.
    let store = s3_store(&server, url, secret);
    store.put("members/a.json", b"{}").unwrap();
    assert_eq!(store.list("").unwrap(), ["members/a.json"]);
}

#[test]
fn a_dead_or_dropping_endpoint_is_an_error_not_a_hang() {
    let secret = "featc-dead-endpoint-secret";
    let url = "s3://featc-state/state";
    // Nothing listens on a port just freed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let dead = s3_store_at(&format!("http://127.0.0.1:{port}"), "key", url, secret);
    every_operation_fails(&dead, url, &[secret]);

    // A listener that drops every connection it accepts.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((connection, _)) => drop(connection),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        let dropping = s3_store_at(&endpoint, "key", url, secret);
        every_operation_fails(&dropping, url, &[secret]);
        stop.store(true, Ordering::SeqCst);
    });
    // Eight failed operations, each bounded by `OPERATION_TIMEOUT` but failing on
    // their own retries' errors long before.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_directory_form_works_the_same() {
    let dir = scratch("state-store-s3/directory").join("shared/state");
    let a = StateStore::open(dir.to_str().unwrap()).unwrap();
    let b = StateStore::open(&format!("file://{}", dir.display())).unwrap();
    exercise(&a, &b);
    race(&a, &b);
}
