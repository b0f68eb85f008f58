//! Snapshots of `featc fmt`'s layout: the shipped files (already formatted, so each
//! snapshot is the file itself) and messy inputs, comments and doc comments included.

use featc_grammar::{format, parse, LayoutError};

fn formatted(text: &str) -> String {
    let once = format(text).unwrap_or_else(|e| panic!("does not format: {e:?}"));
    assert_eq!(
        format(&once).as_deref(),
        Ok(once.as_str()),
        "not idempotent"
    );
    once
}

#[test]
fn fmt_examples_and_cases() {
    for (name, text) in [
        (
            "fraud_sources",
            include_str!("../../examples/fraud/sources.feat"),
        ),
        (
            "fraud_features",
            include_str!("../../examples/fraud/features.feat"),
        ),
        (
            "delivery",
            include_str!("../../examples/delivery/delivery.feat"),
        ),
        (
            "checkout",
            include_str!("../../examples/checkout/checkout.feat"),
        ),
        (
            "synthetic",
            include_str!("../../tests/cases/synthetic/features.feat"),
        ),
        (
            "marketplace",
            include_str!("../../tests/cases/marketplace/features.feat"),
        ),
        (
            "functions",
            include_str!("../../tests/functions/functions.feat"),
        ),
    ] {
        let out = formatted(text);
        assert_eq!(out, text, "{name} is not formatted");
        insta::assert_snapshot!(format!("fmt_{name}"), out);
    }
}

const MESSY: &str = r#"// header comment


/// Doc of the source.
source   tx{time ts   columns{user_id:int64,amount : float64?   // money
  cat:string }
  file 'a.csv' // trailing
  lateness 5m
    owner "me"  tags ["a","b",]
}
entity user{ key user_id :int64 }
entity pair { key (user_id: int64,
                   cat: string,) }



// about the view

/// View docs
view v from tx by user (user_id){
  // leading comment
  where amount>=0 and   not(cat=='x')
  let big=amount>100
  let small = amount<10 // tiny


  /// feature doc
  feature n=count(*)over 7d
  feature s = sum( amount ) where big
     over 1d offset 1h exclusive
  feature d = case when n>0 then s/n else -1 end
  feature e = if(cat <> 'y', 1, 2) /* block */
  feature f = count(*) where cat in ('a' , 'b') and amount is not null
  feature g = sum(amount * // a comment inside an expression
      2)
  feature h = avg(amount)over   10   events
  feature i = max(amount) over 30d max 200 events offset 1d
  ttl 30d }
service svc { n, v.s
  // the derived
  d
  feature r = s / nullif(n, 0)
}
service small { n, d }
request checkout { amount: float64, ok: bool }
view empty from tx by user {}
// end comment
"#;

#[test]
fn fmt_messy() {
    insta::assert_snapshot!(formatted(MESSY));
}

#[test]
fn fmt_keeps_every_comment_and_doc() {
    let out = formatted(MESSY);
    let comments = |t: &str| -> Vec<String> {
        t.lines()
            .filter_map(|l| {
                l.find("//")
                    .or(l.find("/*"))
                    .map(|i| l[i..].trim().to_string())
            })
            .collect()
    };
    assert_eq!(comments(MESSY), comments(&out));
    let docs = |t: &str| match parse(0, t) {
        Ok(f) => format!(
            "{:?}",
            f.items
                .iter()
                .map(|i| format!("{i:?}").matches("docs: [").count())
                .collect::<Vec<_>>()
        ),
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(docs(MESSY), docs(&out));
}

#[test]
fn fmt_only_comments_and_empty_files() {
    assert_eq!(formatted(""), "");
    assert_eq!(formatted("\n\n"), "");
    assert_eq!(formatted("// a\n\n\n// b   \n"), "// a\n\n// b\n");
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse() {
    assert!(matches!(
        format("view v from s by e { feature = count(*) }"),
        Err(LayoutError::Syntax(_))
    ));
    assert!(matches!(format("/* open"), Err(LayoutError::Syntax(_))));
}

#[test]
fn fmt_lays_out_the_epoch_clause_like_the_other_source_clauses() {
    let out = formatted("source s {\n  time ts\n   epoch    ms\n}\n");
    assert_eq!(out, "source s {\n    time ts\n    epoch ms\n}\n");
    let epoch = parse(0, &out)
        .expect("parses")
        .items
        .into_iter()
        .find_map(|i| match i {
            featc_grammar::ast::Item::Source(s) => s.epoch,
            _ => None,
        });
    assert_eq!(epoch.map(|e| e.name), Some("ms".to_string()));
}

#[test]
fn fmt_lays_out_the_partition_clause_like_the_other_source_clauses() {
    let out = formatted("source s {\n  time ts\n   partition   day  by   day\n}\n");
    assert_eq!(
        out,
        "source s {\n    time ts\n    partition day by day\n}\n"
    );
    let partition = parse(0, &out)
        .expect("parses")
        .items
        .into_iter()
        .find_map(|i| match i {
            featc_grammar::ast::Item::Source(s) => s.partition,
            _ => None,
        })
        .map(|p| (p.0.name, p.1.name));
    assert_eq!(partition, Some(("day".to_string(), "day".to_string())));
}

#[test]
fn fmt_crlf_and_tabs() {
    let out = formatted("entity user {\r\n\tkey user_id: int64\r\n}\r\n");
    assert_eq!(out, "entity user {\n    key user_id: int64\n}\n");
}

#[test]
fn fmt_block_comments_inside_a_line_stay_there() {
    let text = "entity e { key k: int64 }\nview /* a */ v from s by e /* b */ {\n    feature n = count(/* all */ *)\n}\n";
    assert_eq!(formatted(text), text);
}

#[test]
fn fmt_aligns_the_trailing_comments_of_consecutive_lines() {
    let text = "source s {\n    time ts // when\n    file 'a.csv'   // where\n    lateness 5m\n    delay 1s // late\n}\n";
    let want = "source s {\n    time ts      // when\n    file 'a.csv' // where\n    lateness 5m\n    delay 1s // late\n}\n";
    assert_eq!(formatted(text), want);
}
