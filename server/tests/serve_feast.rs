//! Every request shape Feast 0.67's client and request models send is taken as
//! Feast's feature server takes it (docs/serving.md, "Feast"): reads with
//! `include_feature_view_version_metadata`, `features: []` beside a service and a null
//! service beside features; entity columns answered in the order sent; pushes with
//! `transform_on_write` and every `to`; Feast's `/write-to-online-store` as a source's
//! events (a view's name refused); and every refusal in Feast's error shape. Feast's
//! own client runs against the binary in scripts/check-feast.sh.

use std::path::Path;

use serde_json::{json, Value as Json};

use crate::support::*;

/// `featc serve examples/fraud --bootstrap --clock events`.
fn fraud() -> Served {
    let mut config = Served::config();
    config.clock = featc_server::Clock::Events;
    Served::start(Path::new("examples/fraud"), config, true)
}

const READ: &str = "/get-online-features";
const WRITE: &str = "/write-to-online-store";

/// The error object of a refusal, after checking the status, code and field.
fn refused(answer: (u16, Json), status: u16, code: &str, field: &str) -> Json {
    let (s, body) = answer;
    let error = refusal(&body);
    assert_eq!(
        (
            s,
            error["code"].as_str(),
            error["field"].as_str().unwrap_or("")
        ),
        (status, Some(code), field),
        "{body}"
    );
    error
}

/// A read's answer without its read time (two reads at one time answer the same).
fn values(answer: &Json) -> (Json, Json) {
    (
        answer["metadata"]["feature_names"].clone(),
        answer["results"].clone(),
    )
}

#[test]
fn reads_take_every_field_feasts_client_sends() {
    let served = fraud();
    let a = &served;
    let entities =
        json!({"user_id": [14, 26, 999999], "merchant_id": ["m_grocer", "m_travel", "m"]});
    // RemoteOnlineStore.get_online_features's body, by features and by service.
    let (s, by_features) = post(
        a,
        READ,
        &json!({"entities": entities, "full_feature_names": false,
                "include_feature_view_version_metadata": false,
                "features": ["user_spend:txn_count_7d", "user_merchant_history:pair_count_30d"]}),
    );
    assert_eq!(s, 200, "{by_features}");
    assert!(by_features["metadata"]
        .get("feature_view_metadata")
        .is_none());
    let (s, by_service) = post(
        a,
        READ,
        &json!({"entities": entities, "full_feature_names": true,
                "include_feature_view_version_metadata": true, "feature_service": "fraud_v1"}),
    );
    assert_eq!(s, 200, "{by_service}");
    // GetOnlineFeaturesRequest's defaults spelled out: `features: []` beside a service
    // means the service; a null service beside features means the features.
    let (s, empty_features) = post(
        a,
        READ,
        &json!({"entities": entities, "full_feature_names": true, "features": [],
                "feature_service": "fraud_v1"}),
    );
    assert_eq!(s, 200, "{empty_features}");
    assert_eq!(values(&empty_features), values(&by_service));
    let (s, null_service) = post(
        a,
        READ,
        &json!({"entities": entities, "feature_service": null,
                "features": ["user_spend:txn_count_7d", "user_merchant_history:pair_count_30d"]}),
    );
    assert_eq!(s, 200, "{null_service}");
    assert_eq!(values(&null_service), values(&by_features));

    // A non-empty list beside a service is ambiguous; a typo is still caught.
    refused(
        post(
            a,
            READ,
            &json!({"entities": entities, "features": ["txn_count_1h"], "feature_service": "fraud_v1"}),
        ),
        400,
        "bad_field",
        "feature_service",
    );
    let error = refused(
        post(
            a,
            READ,
            &json!({"entities": entities, "features": ["txn_count_1h"],
                    "include_feature_view_versions_metadata": false}),
        ),
        400,
        "unknown_field",
        "include_feature_view_versions_metadata",
    );
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `include_feature_view_version_metadata`"));
    refused(
        post(
            a,
            READ,
            &json!({"entities": entities, "features": ["txn_count_1h"],
                    "include_feature_view_version_metadata": "yes"}),
        ),
        400,
        "bad_field",
        "include_feature_view_version_metadata",
    );
    refused(
        post(
            a,
            READ,
            &json!({"entities": entities, "features": [], "feature_service": null}),
        ),
        400,
        "bad_field",
        "features",
    );
}

#[test]
fn entity_columns_are_answered_in_the_order_sent() {
    let served = fraud();
    for (body, order) in [
        (
            r#"{"features": ["pair_count_30d"], "entities": {"user_id": [14, 26], "merchant_id": ["m_grocer", "m_travel"]}}"#,
            ["user_id", "merchant_id"],
        ),
        (
            r#"{"entities": {"merchant_id": ["m_grocer", "m_travel"], "user_id": [14, 26]}, "features": ["pair_count_30d"]}"#,
            ["merchant_id", "user_id"],
        ),
    ] {
        let (s, raw) = request(&served, "POST", READ, &[], body.as_bytes());
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&raw));
        let answer: Json = serde_json::from_slice(&raw).unwrap();
        assert_eq!(
            answer["metadata"]["feature_names"],
            json!([order[0], order[1], "pair_count_30d"]),
            "{body}"
        );
        let sent: Json = serde_json::from_str(body).unwrap();
        for (i, key) in order.iter().enumerate() {
            assert_eq!(
                answer["results"][i]["values"], sent["entities"][key],
                "{body}"
            );
        }
    }
}

/// `n` transactions of a user the example has never seen, as Feast's request models
/// carry them (`df` columns), without a time.
fn new_user_events(user: i64, n: usize) -> serde_json::Map<String, Json> {
    let mut df = serde_json::Map::new();
    df.insert("user_id".into(), json!(vec![user; n]));
    df.insert("merchant_id".into(), json!(vec!["m_new"; n]));
    df.insert("amount".into(), json!(vec![20.0; n]));
    df.insert("category".into(), json!(vec!["dining"; n]));
    df.insert("is_mobile".into(), json!(vec![Json::Null; n]));
    df
}

/// `user`'s `txn_count_7d` as served now.
fn count(served: &Served, user: i64) -> Json {
    let (s, answer) = post(
        served,
        READ,
        &json!({"features": ["txn_count_7d"], "entities": {"user_id": [user]}}),
    );
    assert_eq!(s, 200, "{answer}");
    answer["results"][1]["values"][0].clone()
}

#[test]
fn pushes_take_feasts_push_request() {
    let served = fraud();
    let a = &served;
    let mut df = new_user_events(900_001, 1);
    df.insert("ts".into(), json!(["2024-04-01 00:00:00"]));
    // PushFeaturesRequest with every field, as Feast's models default them.
    let (s, answer) = post(
        a,
        "/push",
        &json!({"push_source_name": "transactions", "df": df, "allow_registry_cache": true,
                "to": "online", "transform_on_write": true}),
    );
    assert_eq!(
        (s, &answer),
        (200, &json!({"accepted": 1, "late": 0, "duplicate": false}))
    );
    // `online_and_offline`: the online part, and the answer says the rest was not.
    let (s, answer) = post(
        a,
        "/push",
        &json!({"push_source_name": "transactions", "df": df, "to": "online_and_offline",
                "transform_on_write": false, "allow_registry_cache": null}),
    );
    assert_eq!(
        (s, &answer),
        (
            200,
            &json!({"accepted": 1, "late": 0, "duplicate": false, "offline": false})
        )
    );
    assert_eq!(count(a, 900_001), json!(2));
    let error = refused(
        post(
            a,
            "/push",
            &json!({"push_source_name": "transactions", "df": df, "to": "offline"}),
        ),
        400,
        "unsupported",
        "to",
    );
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("no offline store"));
    refused(
        post(
            a,
            "/push",
            &json!({"push_source_name": "transactions", "df": df, "to": "both"}),
        ),
        400,
        "bad_field",
        "to",
    );
    refused(
        post(
            a,
            "/push",
            &json!({"push_source_name": "transactions", "df": df, "transform_on_write": 1}),
        ),
        400,
        "bad_field",
        "transform_on_write",
    );
    assert_eq!(count(a, 900_001), json!(2), "refused pushes apply nothing");
}

#[test]
fn feasts_online_writes_are_a_sources_events() {
    let served = fraud();
    let a = &served;
    // RemoteOnlineStore.online_write_batch's body for the FeatureView named after
    // the source: its columns, Feast's naive-UTC `event_timestamp`, `created`.
    let mut df = new_user_events(900_002, 2);
    df.insert(
        "event_timestamp".into(),
        json!(["2024-04-01T00:00:00", "2024-04-01T00:00:01.250000"]),
    );
    df.insert("created".into(), json!([null, null]));
    let write =
        json!({"feature_view_name": "transactions", "df": df, "allow_registry_cache": false});
    assert_eq!(count(a, 900_002), json!(0));
    let key = [("Idempotency-Key", "feast-write-1")];
    let (s, answer) = post_with(a, WRITE, &key, &write);
    assert_eq!(
        (s, &answer),
        (200, &json!({"accepted": 2, "late": 0, "duplicate": false}))
    );
    let (s, again) = post_with(a, WRITE, &key, &write);
    assert_eq!((s, &again["duplicate"]), (200, &json!(true)));
    assert_eq!(count(a, 900_002), json!(2));
    let (s, read) = post(
        a,
        READ,
        &json!({"features": ["first_seen", "last_category"], "entities": {"user_id": [900_002]}}),
    );
    assert_eq!(s, 200, "{read}");
    assert_eq!(
        read["results"][1]["values"],
        json!(["2024-04-01T00:00:00Z"])
    );
    assert_eq!(
        read["results"][2]["event_timestamps"],
        json!(["2024-04-01T00:00:01.250Z"])
    );

    // The source's own time column wins over Feast's `event_timestamp`.
    let mut both = df.clone();
    both.insert(
        "ts".into(),
        json!(["2024-04-01T00:00:02Z", "2024-04-01T00:00:02Z"]),
    );
    let (s, answer) = post(
        a,
        WRITE,
        &json!({"feature_view_name": "transactions", "df": both, "transform_on_write": true}),
    );
    assert_eq!((s, &answer["accepted"]), (200, &json!(2)), "{answer}");

    // A featc view, a name that is no source, and a source's checks.
    let error = refused(
        post(
            a,
            WRITE,
            &json!({"feature_view_name": "user_spend", "df": df}),
        ),
        400,
        "view_not_writable",
        "feature_view_name",
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("`user_spend` is a featc view")
            && message.contains("transactions, logins"),
        "{message}"
    );
    assert_eq!(error["class"], "FeastError");
    let error = refused(
        post(
            a,
            WRITE,
            &json!({"feature_view_name": "transaction", "df": df}),
        ),
        404,
        "unknown_source",
        "feature_view_name",
    );
    assert_eq!(error["class"], "FeatureViewNotFoundException");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `transactions`"));
    let mut typo = df.clone();
    typo.insert("amout".into(), json!([1.0, 2.0]));
    refused(
        post(
            a,
            WRITE,
            &json!({"feature_view_name": "transactions", "df": typo}),
        ),
        400,
        "unknown_column",
        "df.amout",
    );
    let mut timeless = df.clone();
    timeless.remove("event_timestamp");
    refused(
        post(
            a,
            WRITE,
            &json!({"feature_view_name": "transactions", "df": timeless}),
        ),
        400,
        "missing_column",
        "df.ts",
    );
    refused(
        post(
            a,
            WRITE,
            &json!({"feature_view_name": "transactions", "df": df, "to": "online"}),
        ),
        400,
        "unknown_field",
        "to",
    );
    assert_eq!(count(a, 900_002), json!(4), "refused writes apply nothing");
}

#[test]
fn refusals_have_feasts_error_shape() {
    let served = fraud();
    let (s, raw) = request(
        &served,
        "POST",
        READ,
        &[],
        br#"{"features": ["user_spend:txn_count_7"], "entities": {"user_id": [1]}}"#,
    );
    assert_eq!(s, 404);
    // Feast's client: `FeastError.from_error_detail(response.json())`, which
    // `json.loads` a string holding `module`, `class` and `message`.
    let Json::String(detail) = serde_json::from_slice::<Json>(&raw).unwrap() else {
        panic!("a JSON string: {}", String::from_utf8_lossy(&raw))
    };
    let detail: Json = serde_json::from_str(&detail).unwrap();
    assert_eq!(
        detail,
        json!({"module": "feast.errors", "class": "FeastObjectNotFoundException",
               "message": "unknown feature `user_spend:txn_count_7` (did you mean `user_spend:txn_count_7d`?)",
               "code": "unknown_feature", "field": "features[0]"})
    );
    for (body, class) in [
        (
            json!({"feature_service": "fraud_v2", "entities": {"user_id": [1]}}),
            "FeatureServiceNotFoundException",
        ),
        (
            json!({"features": ["txn_count_1h"], "entities": {"merchant_id": ["m"]}}),
            "FeastEntityDFMissingColumnsError",
        ),
        (
            json!({"features": ["txn_count_1h"], "entities": {"user_id": ["x"]}}),
            "FeastError",
        ),
    ] {
        let (_, answer) = post(&served, READ, &body);
        assert_eq!(refusal(&answer)["class"], class, "{answer}");
        assert_eq!(refusal(&answer)["module"], "feast.errors", "{answer}");
    }
    let (s, answer) = post(
        &served,
        "/push",
        &json!({"push_source_name": "transaction", "df": {}}),
    );
    assert_eq!(s, 404);
    assert_eq!(refusal(&answer)["class"], "PushSourceNotFoundException");
}
