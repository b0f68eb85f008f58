//! `plan_groups`, the one pass that builds the feature plan: how features are grouped,
//! how lets are inlined, how inputs, predicates and filters are shared, and the ttl
//! rule each feature gets. The plan's invariants are checked on every plan here.

use featc::ir::{FeatureId, Project};
use featc::lower::groups::plan_groups;
use featc::print::ir::top;
use featc::SourceFile;
use featc_runtime::plan::{FeatureRef, Output, Plan};

const PROJECT: &str = "
source events {
    time ts
    columns {
        user_id: int64
        shop: string
        amount: float64?
        kind: string?
    }
}
source other {
    time at
    columns { user_id: int64  x: int64 }
}
entity user { key user_id: int64 }
entity user_shop { key (user_id: int64, shop_id: string) }

view a from events by user {
    where amount > 0
    let big = amount > 100
    feature a_sum  = sum(amount) over 1h
    feature a_big  = count_if(big) over 1h
    feature a_kind = count(*) where kind = 'x' over 1d
    ttl 7d
}
view b from events by user {
    where amount   >   0
    feature b_max  = max(amount)
    feature b_kind = count(*) where kind = 'x'
}
view c from events by user {
    let big = amount > 1000
    feature c_big = count_if(big)
}
view d from events by user_shop(user_id, shop) {
    feature d_n = count(*) over 1h
}
view e from other by user {
    feature e_sum = sum(x)
}
";

fn project() -> Project {
    let files = vec![SourceFile {
        name: "p.feat".into(),
        text: PROJECT.into(),
    }];
    featc::compile(&files).unwrap_or_else(|d| panic!("{}", d.render(&files, false)))
}

fn id(p: &Project, name: &str) -> FeatureId {
    p.feature_by_name(name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

fn plan(p: &Project, names: &[&str]) -> Plan {
    let ids: Vec<FeatureId> = names.iter().map(|n| id(p, n)).collect();
    let plan = plan_groups(p, &ids).expect("plans");
    plan.validate().expect("the plan keeps its invariants");
    plan
}

#[test]
fn features_are_grouped_by_source_and_entity_key_in_first_request_order() {
    let p = project();
    let plan = plan(&p, &["e_sum", "a_sum", "d_n", "b_max", "c_big"]);
    let groups: Vec<String> = plan.groups.iter().map(|g| g.describe()).collect();
    assert_eq!(
        groups,
        vec![
            "other by user_id",
            "events by user_id",
            "events by (user_id, shop_id)"
        ]
    );
    let features: Vec<Vec<&str>> = plan
        .groups
        .iter()
        .map(|g| g.feature_names().collect())
        .collect();
    assert_eq!(
        features,
        vec![vec!["e_sum"], vec!["a_sum", "b_max", "c_big"], vec!["d_n"]]
    );
    let keys: Vec<(&str, &str)> = plan.groups[2]
        .keys
        .iter()
        .map(|k| (k.name.as_str(), k.column.as_str()))
        .collect();
    assert_eq!(keys, vec![("user_id", "user_id"), ("shop_id", "shop")]);
    assert_eq!(plan.groups[0].time_column, "at");
}

#[test]
fn lets_are_inlined_and_the_same_expression_is_one_slot_whatever_its_span() {
    let p = project();
    let plan = plan(&p, &["a_sum", "a_big", "b_max", "c_big"]);
    let g = &plan.groups[0];
    let inputs: Vec<String> = g.inputs.iter().map(top).collect();
    // `amount` is read by a_sum and b_max (two spans, one slot); the two lets named
    // `big` are different expressions.
    assert_eq!(
        inputs,
        vec!["amount", "amount > float64(100)", "amount > float64(1000)"]
    );
    // `amount > 0` written twice (with different spacing) is one predicate.
    let predicates: Vec<String> = g.predicates.iter().map(top).collect();
    assert_eq!(predicates, vec!["amount > float64(0)"]);
    assert_eq!(g.filters, vec![vec![0]]);
    let filters: Vec<Option<usize>> = g.features.iter().map(|f| f.filter).collect();
    assert_eq!(filters, vec![Some(0), Some(0), Some(0), None]);
}

#[test]
fn a_feature_where_is_anded_with_its_views_where_and_the_ttl_sees_only_the_views() {
    let p = project();
    let plan = plan(&p, &["a_kind", "b_kind", "a_sum"]);
    let g = &plan.groups[0];
    let predicates: Vec<String> = g.predicates.iter().map(top).collect();
    assert_eq!(predicates, vec!["amount > float64(0)", "kind = 'x'"]);
    // a_kind: view and feature where; b_kind: the same two predicates, one filter.
    assert_eq!(g.filters, vec![vec![0, 1], vec![0]]);
    let a_kind = &g.features[0];
    assert_eq!(a_kind.filter, Some(0));
    let ttl = a_kind.ttl.expect("view a has a ttl");
    assert_eq!((ttl.ttl_us, ttl.filter), (7 * 86_400_000_000, Some(1)));
    assert!(a_kind.nullable(), "a count under a ttl can be null");
    let b_kind = &g.features[1];
    assert_eq!((b_kind.filter, b_kind.ttl), (Some(0), None));
    assert!(!b_kind.nullable());
}

#[test]
fn a_feature_requested_twice_is_computed_once_and_output_twice() {
    let p = project();
    let plan = plan(&p, &["b_max", "a_sum", "b_max"]);
    assert_eq!(plan.groups[0].features.len(), 2);
    let first = FeatureRef {
        group: 0,
        feature: 0,
    };
    assert_eq!(plan.outputs[0], Output::Aggregate(first));
    assert_eq!(plan.outputs[2], Output::Aggregate(first));
}

#[test]
fn a_broken_plan_is_refused_by_validate() {
    let p = project();
    let good = plan(&p, &["a_sum", "a_kind"]);
    let mut unused_input = good.clone();
    let again = unused_input.groups[0].inputs[0].clone();
    unused_input.groups[0].inputs.push(again);
    assert!(unused_input.validate().is_err(), "a repeated, unused input");
    let mut bad_filter = good.clone();
    bad_filter.groups[0].filters[0] = vec![1, 0];
    assert!(bad_filter.validate().is_err(), "predicates out of order");
    let mut bad_type = good.clone();
    bad_type.groups[0].features[0].ty = featc::ir::DataType::String;
    assert!(bad_type.validate().is_err(), "sum(float64) is not a string");
    let mut dangling = good;
    dangling.outputs.push(Output::Aggregate(FeatureRef {
        group: 0,
        feature: 9,
    }));
    assert!(dangling.validate().is_err(), "an output past the features");
}

/// Planning stays linear in the number of features: ten thousand views of one group,
/// each with its own `where`, check, plan and validate in a few seconds in a debug
/// build; the quadratic passes this replaced (each predicate compared with every
/// earlier one) took about ten times longer. No timing is asserted: a regression
/// shows as a slow test.
#[test]
fn ten_thousand_views_plan_in_linear_time() {
    let views: Vec<String> = (0..10_000)
        .map(|i| format!("view v{i} from events by user {{ where amount > {i} feature f{i} = sum(amount) over 1h }}"))
        .collect();
    let text = format!(
        "{}\n{}",
        &PROJECT[..PROJECT.find("view a").unwrap_or(0)],
        views.join("\n")
    );
    let files = vec![SourceFile {
        name: "many.feat".into(),
        text,
    }];
    let project = featc::compile(&files).unwrap_or_else(|d| panic!("{}", d.render(&files, false)));
    let plan = plan_groups(&project, &project.all_features()).expect("plans");
    plan.validate().expect("valid");
    assert_eq!(plan.groups.len(), 1);
    assert_eq!(plan.groups[0].predicates.len(), 10_000);
}
