//! The scalar path of derived features (`expr::scalar`, what online reads run) against
//! the batch evaluator (DataFusion's physical expression on a one-row batch): generated
//! typed expressions over every node the scalar path compiles, on rows of edge values
//! (nulls, ±0, NaNs of both signs and two payloads, ±inf, the int64 limits and values
//! near them, equal values), give the same value bit for bit or both fail; an
//! expression with a node it does not cover says it is not compiled. Then hand cases.

use std::sync::Arc;

use featc_runtime::expr::derived::CompiledDerived;
use featc_runtime::expr::scalar::{Fallback, NotCompiled};
use featc_runtime::ir::{BinaryOp, DataType, Expr, ExprKind, Function, Literal, SourceSpan};
use featc_runtime::plan::{DerivedPlan, FeatureRef};
use featc_runtime::row::{Cells, ValuesBuilder};
use featc_runtime::value::Value;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::FileFailurePersistence;

/// The inputs every generated expression may read: a derived feature's input columns.
const INPUTS: [(&str, DataType); 9] = [
    ("i0", DataType::Int64),
    ("i1", DataType::Int64),
    ("f0", DataType::Float64),
    ("f1", DataType::Float64),
    ("b0", DataType::Bool),
    ("s0", DataType::String),
    ("s1", DataType::String),
    ("t0", DataType::Timestamp),
    ("d0", DataType::Date),
];

/// The value types the scalar path holds, in the generator's order.
const TYPES: [DataType; 6] = [
    DataType::Int64,
    DataType::Float64,
    DataType::Bool,
    DataType::String,
    DataType::Timestamp,
    DataType::Date,
];
const I: usize = 0;
const F: usize = 1;
const B: usize = 2;
const S: usize = 3;

const INTS: [i64; 16] = [
    0,
    1,
    -1,
    2,
    3,
    -7,
    100,
    i64::MAX,
    i64::MIN,
    i64::MAX - 1,
    i64::MIN + 1,
    3_037_000_499,
    -3_037_000_500,
    1 << 62,
    -(1 << 62),
    9_007_199_254_740_993,
];

fn floats() -> Vec<f64> {
    vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.5,
        -2.5,
        3.0,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_0001),
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        9.223_372_036_854_776e18,
        1e300,
    ]
}

const STRINGS: [&str; 7] = ["", "a", "b", "B", "ab", "é", "a\0"];
const TIMES: [i64; 6] = [0, -1, 1, i64::MIN, i64::MAX, 1_700_000_000_000_000];
const DATES: [i32; 6] = [0, -1, 1, i32::MIN, i32::MAX, 19_000];

fn node(kind: ExprKind, ty: DataType) -> Expr {
    Expr {
        kind,
        ty,
        nullable: true,
        span: SourceSpan::default(),
    }
}

fn column(name: &str) -> Expr {
    let ty = INPUTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no input {name}"));
    node(ExprKind::Column(name.into()), ty)
}

fn lit(l: Literal, ty: DataType) -> Expr {
    node(ExprKind::Literal(l), ty)
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr, ty: DataType) -> Expr {
    node(
        ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        ty,
    )
}

fn call(func: Function, args: Vec<Expr>, ty: DataType) -> Expr {
    node(ExprKind::Call { func, args }, ty)
}

/// A value of type `TYPES[t]` from the edge sets.
fn value_of(t: usize) -> BoxedStrategy<Value> {
    match t {
        I => select(INTS.to_vec()).prop_map(Value::Int64).boxed(),
        F => select(floats()).prop_map(Value::Float64).boxed(),
        B => any::<bool>().prop_map(Value::Bool).boxed(),
        S => select(STRINGS.to_vec())
            .prop_map(|s| Value::String(Arc::from(s)))
            .boxed(),
        4 => select(TIMES.to_vec()).prop_map(Value::Timestamp).boxed(),
        _ => select(DATES.to_vec()).prop_map(Value::Date).boxed(),
    }
}

/// Expressions of type `TYPES[t]` one level deep: the inputs of that type, literals
/// (an int literal typed float64 too) and its null.
fn leaves(t: usize) -> BoxedStrategy<Expr> {
    let ty = TYPES[t];
    let mut options: Vec<BoxedStrategy<Expr>> = INPUTS
        .iter()
        .filter(|(_, it)| *it == ty)
        .map(|(n, _)| Just(column(n)).boxed())
        .collect();
    options.push(Just(lit(Literal::Null, ty)).boxed());
    let literal = match t {
        I => Some(select(INTS.to_vec()).prop_map(Literal::Int64).boxed()),
        F => Some(
            prop_oneof![
                select(floats()).prop_map(Literal::Float64),
                select(INTS.to_vec()).prop_map(Literal::Int64),
            ]
            .boxed(),
        ),
        B => Some(any::<bool>().prop_map(Literal::Bool).boxed()),
        S => Some(
            select(STRINGS.to_vec())
                .prop_map(|s| Literal::String(s.into()))
                .boxed(),
        ),
        _ => None,
    };
    if let Some(l) = literal {
        options.push(l.prop_map(move |l| lit(l, ty)).boxed());
    }
    Union::new(options).boxed()
}

/// A strategy of one expression of each type.
type Level = [BoxedStrategy<Expr>; 6];

/// Expressions one level deeper than `sub`'s: every node the scalar path compiles
/// (and, rarely, a string function it does not), over `sub`'s expressions.
fn level(sub: &Level) -> Level {
    let num = || Union::new([sub[I].clone(), sub[F].clone()]).boxed();
    let case = |value: BoxedStrategy<Expr>, ty: DataType| {
        (
            proptest::collection::vec((sub[B].clone(), value.clone()), 1..=2),
            proptest::option::of(value),
        )
            .prop_map(move |(branches, otherwise)| {
                node(
                    ExprKind::Case {
                        branches,
                        otherwise: otherwise.map(Box::new),
                    },
                    ty,
                )
            })
            .boxed()
    };
    let coalesce = |value: BoxedStrategy<Expr>, ty: DataType| {
        proptest::collection::vec(value, 1..=3)
            .prop_map(move |args| node(ExprKind::Coalesce(args), ty))
            .boxed()
    };
    let pick = |value: BoxedStrategy<Expr>, ty: DataType| {
        let least_greatest = (
            select(vec![Function::Least, Function::Greatest]),
            proptest::collection::vec(value.clone(), 2..=3),
        )
            .prop_map(move |(f, args)| call(f, args, ty));
        let nullif =
            (value.clone(), value).prop_map(move |(a, b)| call(Function::Nullif, vec![a, b], ty));
        Union::new([least_greatest.boxed(), nullif.boxed()]).boxed()
    };
    // Each type's own compound nodes, then its leaves again.
    let int = Union::new_weighted(vec![
        (
            1,
            sub[I]
                .clone()
                .prop_map(|e| node(ExprKind::Neg(Box::new(e)), DataType::Int64))
                .boxed(),
        ),
        (
            4,
            (
                select(vec![
                    BinaryOp::Add,
                    BinaryOp::Sub,
                    BinaryOp::Mul,
                    BinaryOp::Mod,
                ]),
                sub[I].clone(),
                sub[I].clone(),
            )
                .prop_map(|(op, l, r)| binary(op, l, r, DataType::Int64))
                .boxed(),
        ),
        (2, case(sub[I].clone(), DataType::Int64)),
        (1, coalesce(sub[I].clone(), DataType::Int64)),
        (
            1,
            (
                select(vec![
                    Function::Abs,
                    Function::Floor,
                    Function::Ceil,
                    Function::Round,
                ]),
                sub[I].clone(),
            )
                .prop_map(|(f, a)| call(f, vec![a], DataType::Int64))
                .boxed(),
        ),
        (1, pick(sub[I].clone(), DataType::Int64)),
        (
            1,
            sub[S]
                .clone()
                .prop_map(|s| call(Function::Length, vec![s], DataType::Int64))
                .boxed(),
        ),
        (3, leaves(I)),
    ])
    .boxed();
    let float = Union::new_weighted(vec![
        (
            1,
            sub[I]
                .clone()
                .prop_map(|e| node(ExprKind::Cast(Box::new(e)), DataType::Float64))
                .boxed(),
        ),
        (
            1,
            num()
                .prop_map(|e| node(ExprKind::Neg(Box::new(e)), DataType::Float64))
                .boxed(),
        ),
        (
            4,
            (
                select(vec![
                    BinaryOp::Add,
                    BinaryOp::Sub,
                    BinaryOp::Mul,
                    BinaryOp::Mod,
                ]),
                sub[F].clone(),
                num(),
            )
                .prop_map(|(op, l, r)| binary(op, l, r, DataType::Float64))
                .boxed(),
        ),
        (
            1,
            (
                select(vec![BinaryOp::Add, BinaryOp::Mul]),
                sub[I].clone(),
                sub[F].clone(),
            )
                .prop_map(|(op, l, r)| binary(op, l, r, DataType::Float64))
                .boxed(),
        ),
        (
            3,
            (num(), num())
                .prop_map(|(l, r)| binary(BinaryOp::Div, l, r, DataType::Float64))
                .boxed(),
        ),
        (2, case(num(), DataType::Float64)),
        (1, coalesce(num(), DataType::Float64)),
        (
            2,
            (
                select(vec![
                    Function::Abs,
                    Function::Floor,
                    Function::Ceil,
                    Function::Round,
                    Function::Sqrt,
                    Function::Ln,
                    Function::Exp,
                ]),
                sub[F].clone(),
            )
                .prop_map(|(f, a)| call(f, vec![a], DataType::Float64))
                .boxed(),
        ),
        (
            1,
            (select(vec![Function::Sqrt, Function::Ln]), sub[I].clone())
                .prop_map(|(f, a)| call(f, vec![a], DataType::Float64))
                .boxed(),
        ),
        (
            1,
            (num(), num())
                .prop_map(|(a, b)| call(Function::Pow, vec![a, b], DataType::Float64))
                .boxed(),
        ),
        (1, pick(num(), DataType::Float64)),
        (3, leaves(F)),
    ])
    .boxed();
    let comparisons: Vec<BoxedStrategy<Expr>> = (0..TYPES.len())
        .map(|t| (sub[t].clone(), sub[t].clone()))
        .map(|pair| pair.boxed())
        .chain([(num(), num()).boxed()])
        .map(|pair| {
            (
                select(vec![
                    BinaryOp::Eq,
                    BinaryOp::NotEq,
                    BinaryOp::Lt,
                    BinaryOp::LtEq,
                    BinaryOp::Gt,
                    BinaryOp::GtEq,
                ]),
                pair,
            )
                .prop_map(|(op, (l, r))| binary(op, l, r, DataType::Bool))
                .boxed()
        })
        .collect();
    let any_type = || Union::new(sub.iter().cloned()).boxed();
    let in_lists: Vec<BoxedStrategy<Expr>> = (0..TYPES.len())
        .map(|t| {
            (
                sub[t].clone(),
                proptest::collection::vec(sub[t].clone(), 1..=5),
            )
                .boxed()
        })
        .chain([(num(), proptest::collection::vec(num(), 1..=5)).boxed()])
        .map(|items| {
            (items, any::<bool>())
                .prop_map(|((e, list), negated)| {
                    node(
                        ExprKind::InList {
                            expr: Box::new(e),
                            list,
                            negated,
                        },
                        DataType::Bool,
                    )
                })
                .boxed()
        })
        .collect();
    let boolean = Union::new_weighted(vec![
        (
            1,
            sub[B]
                .clone()
                .prop_map(|e| node(ExprKind::Not(Box::new(e)), DataType::Bool))
                .boxed(),
        ),
        (
            3,
            (
                select(vec![BinaryOp::And, BinaryOp::Or]),
                sub[B].clone(),
                sub[B].clone(),
            )
                .prop_map(|(op, l, r)| binary(op, l, r, DataType::Bool))
                .boxed(),
        ),
        (6, Union::new(comparisons).boxed()),
        (
            2,
            (any_type(), any::<bool>())
                .prop_map(|(e, negated)| {
                    node(
                        ExprKind::IsNull {
                            expr: Box::new(e),
                            negated,
                        },
                        DataType::Bool,
                    )
                })
                .boxed(),
        ),
        (4, Union::new(in_lists).boxed()),
        (1, case(sub[B].clone(), DataType::Bool)),
        (1, coalesce(sub[B].clone(), DataType::Bool)),
        (1, pick(sub[B].clone(), DataType::Bool)),
        (
            1,
            (sub[S].clone(), sub[S].clone())
                .prop_map(|(a, b)| call(Function::StartsWith, vec![a, b], DataType::Bool))
                .boxed(),
        ),
        (3, leaves(B)),
    ])
    .boxed();
    let others = |t: usize, extra: Vec<(u32, BoxedStrategy<Expr>)>| {
        let ty = TYPES[t];
        let mut options = vec![
            (2, case(sub[t].clone(), ty)),
            (1, coalesce(sub[t].clone(), ty)),
            (2, pick(sub[t].clone(), ty)),
            (3, leaves(t)),
        ];
        options.extend(extra);
        Union::new_weighted(options).boxed()
    };
    let lower = sub[S]
        .clone()
        .prop_map(|s| call(Function::Lower, vec![s], DataType::String))
        .boxed();
    [
        int,
        float,
        boolean,
        others(S, vec![(1, lower)]),
        others(4, Vec::new()),
        others(5, Vec::new()),
    ]
}

/// Expressions of type `TYPES[t]` at most `depth` levels deep.
fn exprs(depth: usize, t: usize) -> BoxedStrategy<Expr> {
    let mut current: Level = std::array::from_fn(leaves);
    for _ in 1..depth {
        current = level(&current);
    }
    current[t].clone()
}

/// `e`'s child expressions.
fn children(e: &Expr) -> Vec<Expr> {
    let mut children = Vec::new();
    let _ = e.kind.try_map_children::<()>(&mut |c| {
        children.push(c.clone());
        Ok(c.clone())
    });
    children
}

/// Whether `e` calls a function the scalar path does not compile.
fn uncovered(e: &Expr) -> bool {
    let here = matches!(
        &e.kind,
        ExprKind::Call {
            func: Function::Length | Function::Lower | Function::StartsWith,
            ..
        }
    );
    here || children(e).iter().any(uncovered)
}

fn row() -> impl Strategy<Value = Vec<Value>> {
    INPUTS
        .iter()
        .map(|(_, ty)| {
            let t = TYPES.iter().position(|x| x == ty).unwrap_or(0);
            prop_oneof![6 => value_of(t), 1 => Just(Value::Null)]
        })
        .collect::<Vec<_>>()
}

/// `expr` as a derived feature reading every input.
fn derived(expr: &Expr) -> CompiledDerived {
    let plan = DerivedPlan {
        name: "d".into(),
        owner: "v".into(),
        expr: expr.clone(),
        reads: (0..INPUTS.len())
            .map(|feature| FeatureRef { group: 0, feature })
            .collect(),
        request: Vec::new(),
        ty: expr.ty,
        nullable: true,
        span: SourceSpan::default(),
    };
    let feature = |r: FeatureRef| INPUTS.get(r.feature).map(|(n, t)| (n.to_string(), *t));
    CompiledDerived::new(&plan, &feature).unwrap_or_else(|e| panic!("{e} planning {expr:?}"))
}

/// The batch evaluator's value on one row: a one-row batch through the physical
/// expression, read back as the feature's type.
fn batch(d: &CompiledDerived, row: &[Value]) -> Result<Value, String> {
    let columns = row
        .iter()
        .zip(d.input_types())
        .map(|(v, ty)| {
            let mut b = ValuesBuilder::new(*ty, 1);
            assert!(b.append(v), "{v:?} is not a {ty:?}");
            b.finish().map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let array = d.evaluate(columns).map_err(|e| e.message)?;
    Ok(Cells::new(&array, d.ty())
        .map(|c| c.get(0))
        .unwrap_or(Value::Null))
}

/// Equal bit for bit: floats by `to_bits` (NaN payloads and signs, and zeros' signs,
/// count).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float64(x), Value::Float64(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn shown(v: &Result<Value, impl std::fmt::Debug>) -> String {
    match v {
        Ok(Value::Float64(x)) => format!("Float64({x:?}, bits {:#x})", x.to_bits()),
        other => format!("{other:?}"),
    }
}

/// Whether a float64 `+` or `*` in `e` may meet two NaNs on `row`: each operand is a
/// NaN literal, a float input holding a NaN, or computed (which a NaN can be).
fn nan_pair(e: &Expr, row: &[Value]) -> bool {
    let maybe_nan = |x: &Expr| match &x.kind {
        ExprKind::Literal(Literal::Float64(f)) => f.is_nan(),
        ExprKind::Literal(_) => false,
        ExprKind::Column(name) => INPUTS
            .iter()
            .zip(row)
            .any(|((n, _), v)| n == name && matches!(v, Value::Float64(f) if f.is_nan())),
        _ => x.ty == DataType::Float64,
    };
    let here = match &e.kind {
        ExprKind::Binary {
            op: BinaryOp::Add | BinaryOp::Mul,
            lhs,
            rhs,
        } => e.ty == DataType::Float64 && maybe_nan(lhs) && maybe_nan(rhs),
        _ => false,
    };
    here || children(e).iter().any(|c| nan_pair(c, row))
}

/// The scalar program and the batch evaluator agree on `row`: the same value bit for
/// bit, or both fail.
fn check_row(d: &CompiledDerived, expr: &Expr, row: &[Value]) -> Result<(), TestCaseError> {
    let program = d
        .scalar()
        .map_err(|e| TestCaseError::fail(format!("not compiled ({e}): {expr:?}")))?;
    let scalar = program.evaluate(row);
    let batch = batch(d, row);
    let agree = match (&scalar, &batch) {
        (Ok(a), Ok(b)) => same(a, b),
        (Err(Fallback::Error), Err(_)) => true,
        // Two NaNs through `+` or `*`: the batch path gives the value, whatever it is.
        (Err(Fallback::Batch), _) => nan_pair(expr, row),
        _ => false,
    };
    prop_assert!(
        agree,
        "scalar {} but batch {} on {row:?}\nfor {expr:#?}",
        shown(&scalar),
        shown(&batch)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_scalar_program_computes_the_batch_evaluators_values(
        (expr, rows) in (0..TYPES.len())
            .prop_flat_map(|t| exprs(4, t))
            .prop_flat_map(|e| (Just(e), proptest::collection::vec(row(), 1..=8))),
    ) {
        let d = derived(&expr);
        match (uncovered(&expr), d.scalar().err()) {
            (false, None) => {
                for row in &rows {
                    check_row(&d, &expr, row)?;
                }
            }
            (true, Some(NotCompiled::Function(_))) => {}
            (function, got) => prop_assert!(
                false,
                "uncovered function {function}, but {got:?}: {expr:?}"
            ),
        }
    }
}

/// A row of the inputs with `set` given and every other input null.
fn with(set: &[(&str, Value)]) -> Vec<Value> {
    INPUTS
        .iter()
        .map(|(n, _)| {
            set.iter()
                .find(|(m, _)| m == n)
                .map_or(Value::Null, |(_, v)| v.clone())
        })
        .collect()
}

/// The scalar value of `expr` on `row`, checked against the batch evaluator.
fn scalar_value(expr: &Expr, row: &[Value]) -> Result<Value, Fallback> {
    let d = derived(expr);
    if let Err(e) = check_row(&d, expr, row) {
        panic!("{e}");
    }
    match d.scalar() {
        Ok(p) => p.evaluate(row),
        Err(e) => panic!("not compiled: {e}"),
    }
}

fn int(v: i64) -> Value {
    Value::Int64(v)
}

fn float(v: f64) -> Value {
    Value::Float64(v)
}

#[test]
fn a_ratio_over_nullif_is_null_on_a_zero_count() {
    // `amount_max / nullif(txn_count, 0)`, the benchmark's derived feature.
    let ratio = binary(
        BinaryOp::Div,
        column("f0"),
        call(
            Function::Nullif,
            vec![column("i0"), lit(Literal::Int64(0), DataType::Int64)],
            DataType::Int64,
        ),
        DataType::Float64,
    );
    let at = |f: Value, i: Value| scalar_value(&ratio, &with(&[("f0", f), ("i0", i)]));
    assert_eq!(at(float(30.0), int(0)), Ok(Value::Null));
    assert_eq!(at(float(30.0), int(4)), Ok(float(7.5)));
    assert_eq!(at(Value::Null, int(4)), Ok(Value::Null));
    assert_eq!(at(float(30.0), Value::Null), Ok(Value::Null));
    // A zero dividend of either sign divides; only the divisor's zero is null.
    let Ok(Value::Float64(z)) = at(float(-0.0), int(-3)) else {
        panic!("a value")
    };
    assert_eq!(z.to_bits(), 0.0f64.to_bits());
}

#[test]
fn an_overflow_falls_back_to_the_batch_paths_error() {
    let sum = binary(BinaryOp::Add, column("i0"), column("i1"), DataType::Int64);
    let row = with(&[("i0", int(i64::MAX)), ("i1", int(1))]);
    assert_eq!(scalar_value(&sum, &row), Err(Fallback::Error));
    let message = batch(&derived(&sum), &row).expect_err("overflows");
    assert_eq!(
        message,
        "int64 overflow: 9223372036854775807 + 1 does not fit in int64"
    );
    let rem = binary(
        BinaryOp::Mod,
        column("i0"),
        lit(Literal::Int64(-1), DataType::Int64),
        DataType::Int64,
    );
    assert_eq!(
        scalar_value(&rem, &with(&[("i0", int(i64::MIN))])),
        Err(Fallback::Error)
    );
    assert_eq!(
        scalar_value(&rem, &with(&[("i0", int(7))])),
        Ok(int(0)),
        "7 % -1"
    );
    // The branch a `case` does not take is not evaluated, on both paths.
    let guarded = node(
        ExprKind::Case {
            branches: vec![(
                binary(
                    BinaryOp::Lt,
                    column("i0"),
                    lit(Literal::Int64(0), DataType::Int64),
                    DataType::Bool,
                ),
                sum.clone(),
            )],
            otherwise: Some(Box::new(lit(Literal::Int64(0), DataType::Int64))),
        },
        DataType::Int64,
    );
    assert_eq!(scalar_value(&guarded, &row), Ok(int(0)));
}

#[test]
fn float_comparisons_make_zeros_equal_and_agree_on_nans() {
    let cmp = |op: BinaryOp, a: f64, b: f64| {
        let e = binary(op, column("f0"), column("f1"), DataType::Bool);
        scalar_value(&e, &with(&[("f0", float(a)), ("f1", float(b))]))
    };
    let yes = Ok(Value::Bool(true));
    let no = Ok(Value::Bool(false));
    assert_eq!(cmp(BinaryOp::Eq, -0.0, 0.0), yes);
    assert_eq!(cmp(BinaryOp::Lt, -0.0, 0.0), no);
    assert_eq!(cmp(BinaryOp::Eq, f64::NAN, f64::NAN), yes);
    assert_eq!(cmp(BinaryOp::Gt, f64::NAN, f64::INFINITY), yes);
    // A negative NaN (what `inf - inf` gives on x86) or another payload is the one NaN
    // (semantics.md): equal to every NaN, above +inf, on both paths (`scalar_value`
    // checks the batch path gives the same), where Arrow's kernels would order it by
    // its bits, below -inf.
    let other_nan = f64::from_bits(0x7ff8_0000_0000_0001);
    assert_eq!(cmp(BinaryOp::Eq, -f64::NAN, f64::NAN), yes);
    assert_eq!(cmp(BinaryOp::Eq, other_nan, -f64::NAN), yes);
    assert_eq!(cmp(BinaryOp::NotEq, -f64::NAN, f64::NAN), no);
    assert_eq!(cmp(BinaryOp::Gt, -f64::NAN, f64::INFINITY), yes);
    assert_eq!(cmp(BinaryOp::Lt, -f64::NAN, f64::NEG_INFINITY), no);
    assert_eq!(cmp(BinaryOp::LtEq, -f64::NAN, f64::NAN), yes);
    // A NaN through `+` is that NaN; of two NaNs, the batch path says which comes out.
    let sum = binary(BinaryOp::Add, column("f0"), column("f1"), DataType::Float64);
    let add = |a: f64, b: f64| scalar_value(&sum, &with(&[("f0", float(a)), ("f1", float(b))]));
    let Ok(Value::Float64(n)) = add(1.0, -f64::NAN) else {
        panic!("a value")
    };
    assert_eq!(n.to_bits(), (-f64::NAN).to_bits());
    assert_eq!(add(f64::NAN, -f64::NAN), Err(Fallback::Batch));
    // `in` on floats is `=`: -0.0 is in (0.0).
    let within = node(
        ExprKind::InList {
            expr: Box::new(column("f0")),
            list: vec![lit(Literal::Float64(0.0), DataType::Float64)],
            negated: false,
        },
        DataType::Bool,
    );
    assert_eq!(scalar_value(&within, &with(&[("f0", float(-0.0))])), yes);
}

#[test]
fn uncovered_expressions_are_not_compiled() {
    let lower = call(Function::Lower, vec![column("s0")], DataType::String);
    assert_eq!(
        derived(&lower).scalar().map(|_| ()),
        Err(&NotCompiled::Function(Function::Lower))
    );
    let decimal = DataType::Decimal {
        precision: 10,
        scale: 2,
    };
    let d = lit(Literal::Decimal(1250), decimal);
    assert_eq!(
        derived(&d).scalar().map(|_| ()),
        Err(&NotCompiled::Type(decimal))
    );
    // `i0 in (coalesce(i1, 0), 5)` and `i0 in (i1, 5)` compile: a list with an item
    // that is not a constant is joined comparisons on both paths
    // (`in_list_as_comparisons`).
    let in_list = |first: Expr| {
        node(
            ExprKind::InList {
                expr: Box::new(column("i0")),
                list: vec![first, lit(Literal::Int64(5), DataType::Int64)],
                negated: false,
            },
            DataType::Bool,
        )
    };
    let zero = lit(Literal::Int64(0), DataType::Int64);
    let coalesced = node(
        ExprKind::Coalesce(vec![column("i1"), zero]),
        DataType::Int64,
    );
    assert!(derived(&in_list(coalesced)).scalar().is_ok());
    assert!(derived(&in_list(column("i1"))).scalar().is_ok());
    let mut deep = column("i0");
    for _ in 0..70 {
        deep = node(ExprKind::Neg(Box::new(deep)), DataType::Int64);
    }
    assert!(matches!(
        derived(&deep).scalar(),
        Err(NotCompiled::Depth(71))
    ));
}
