//! A view over several sources served (semantics.md, "Views over several sources"):
//! pushes to each source land in the one view, a read sees their union, and a
//! restart from the durable log gives the same answer.

use serde_json::{json, Value as Json};

use crate::support::*;

const PROJECT: &str =
    "source payments {\n    time ts\n    columns { user_id: int64  amount: float64 }\n}\n\
    source logins {\n    time login_at\n    columns { user_id: int64  device: string }\n}\n\
    entity user { key user_id: int64 }\n\
    view activity from payments, logins by user {\n\
    \x20   feature events_1d = count(*) over 1d\n\
    \x20   feature logins_1d = count_if(source() = 'logins') over 1d\n\
    \x20   feature spent_1d = sum(amount) over 1d\n\
    \x20   feature devices = count_distinct(device)\n\
    }\n";

fn read(served: &Served) -> Vec<Json> {
    let (status, answer) = post(
        served,
        "/get-online-features",
        &json!({"features": ["events_1d", "logins_1d", "spent_1d", "devices"],
                "entities": {"user_id": [1]}, "at": "2024-01-01T12:00:00Z"}),
    );
    assert_eq!(status, 200, "{answer}");
    (1..=4)
        .map(|i| answer["results"][i]["values"][0].clone())
        .collect()
}

#[test]
fn pushes_to_each_source_meet_in_one_view_and_survive_a_restart() {
    let work = project_dir("union", PROJECT);
    let mut config = Served::config();
    config.state = Some(work.join("state"));
    let served = Served::start(&work, config.clone(), false);
    let (status, answer) = post(
        &served,
        "/push",
        &json!({"push_source_name": "payments", "df": {
            "ts": ["2024-01-01T00:00:00Z", "2024-01-01T10:00:00Z"],
            "user_id": [1, 1], "amount": [5.0, 2.5]}}),
    );
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post(
        &served,
        "/push",
        &json!({"push_source_name": "logins", "df": {
            "login_at": ["2024-01-01T01:00:00Z", "2024-01-01T10:00:00Z"],
            "user_id": [1, 1], "device": ["phone", "laptop"]}}),
    );
    assert_eq!(status, 200, "{answer}");
    let expected = vec![json!(4), json!(2), json!(7.5), json!(2)];
    assert_eq!(read(&served), expected);
    served.stop();
    let served = Served::start(&work, config, false);
    assert_eq!(read(&served), expected);
    served.stop();
}
