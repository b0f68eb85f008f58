//! The group as the HTTP API sees it (`api::route::Routing`): the tasks open here,
//! the owners the registry lists, and the group's lines of `/metrics`.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::{Group, Task};
use crate::api::route::Routing;
use crate::api::App;

/// A metric family of labelled rows: (name, kind, help, rows of (labels, value)).
type Family = (&'static str, &'static str, &'static str, Vec<(String, f64)>);

impl Routing for Group {
    fn partitions(&self) -> i32 {
        self.spec.partitions
    }

    fn local(&self, entity: &str, partition: i32) -> Option<Arc<App>> {
        self.local_app(self.entity_index(entity)?, partition)
    }

    fn owner(&self, entity: &str, partition: i32, fresh: bool) -> Option<String> {
        if fresh {
            self.registry.forget();
        }
        match self.registry.owner(entity, partition) {
            Ok(owner) => owner,
            Err(e) => {
                eprintln!("featc serve: group: cannot list the owners: {e}");
                None
            }
        }
    }

    fn routed(&self, ok: bool) {
        match ok {
            true => self.counters.routed_reads.fetch_add(1, Relaxed),
            false => self.counters.routed_failures.fetch_add(1, Relaxed),
        };
    }

    fn health(&self) -> serde_json::Value {
        let owned: Vec<serde_json::Value> = self
            .tasks()
            .iter()
            .map(|t| serde_json::json!({"entity": t.entity, "partition": t.partition, "lag": t.lag()}))
            .collect();
        serde_json::json!({
            "member": self.registry.member(),
            "address": self.registry.address(),
            "partitions": self.spec.partitions,
            "owned": owned,
        })
    }

    fn metrics(&self) -> String {
        let c = &self.counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Relaxed) as f64;
        let seconds = |a: &std::sync::atomic::AtomicU64| a.load(Relaxed) as f64 / 1e6;
        let tasks = self.tasks();
        // (name, kind, help, value) of the member's own figures.
        let member: [(&str, &str, &str, f64); 11] = [
            (
                "featc_group_rebalances_total",
                "counter",
                "Rebalances this member took part in.",
                load(&c.rebalances),
            ),
            (
                "featc_group_tasks_opened_total",
                "counter",
                "Partitions opened here (restored from the store).",
                load(&c.tasks_opened),
            ),
            (
                "featc_group_tasks_closed_total",
                "counter",
                "Partitions closed here (checkpointed to the store) on a revocation.",
                load(&c.tasks_closed),
            ),
            (
                "featc_group_handover_open_seconds_last",
                "gauge",
                "Time the last partition opened here took (download and recovery).",
                seconds(&c.open_us_last),
            ),
            (
                "featc_group_handover_close_seconds_last",
                "gauge",
                "Time the last partition closed here took (checkpoint and upload).",
                seconds(&c.close_us_last),
            ),
            (
                "featc_group_routed_reads_total",
                "counter",
                "Shares of reads answered by another instance.",
                load(&c.routed_reads),
            ),
            (
                "featc_group_routed_failures_total",
                "counter",
                "Shares of reads whose owner did not answer.",
                load(&c.routed_failures),
            ),
            (
                "featc_group_forwarded_total",
                "counter",
                "Source records forwarded to the internal topics by this member.",
                load(&c.forwarded),
            ),
            (
                "featc_group_uploads_total",
                "counter",
                "Checkpoints copied to the state store.",
                load(&c.uploads),
            ),
            (
                "featc_group_errors_total",
                "counter",
                "Failures of the group's thread (each reported on stderr).",
                load(&c.errors),
            ),
            (
                "featc_group_partitions_owned",
                "gauge",
                "Partitions (tasks) this member owns.",
                tasks.len() as f64,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in member {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        // Per owned partition: (name, kind, help, rows of (extra labels, value)).
        let label = |t: &Task| format!("entity=\"{}\",partition=\"{}\"", t.entity, t.partition);
        let per_task: [Family; 6] = [
            ("featc_group_partition_records_total", "counter", "Records applied to an owned partition's state over its life.",
                tasks.iter().map(|t| (label(t), t.records().0 as f64)).collect()),
            ("featc_group_partition_dead_total", "counter", "Records of an owned partition dead-lettered over its life.",
                tasks.iter().map(|t| (label(t), t.records().1 as f64)).collect()),
            ("featc_group_partition_holes_total", "counter", "Holes the broker served in an owned partition (a record before its predecessors), each read again, since it opened here.",
                tasks.iter().map(|t| (label(t), t.holes().0 as f64)).collect()),
            ("featc_group_partition_holes_skipped_total", "counter", "Holes still there after every read again, skipped (records the broker lost or compacted away), since it opened here.",
                tasks.iter().map(|t| (label(t), t.holes().1 as f64)).collect()),
            ("featc_group_partition_lag", "gauge", "Records in an owned partition not yet applied (its end as last fetched, every second).",
                tasks.iter().filter_map(|t| Some((label(t), t.lag()? as f64))).collect()),
            ("featc_group_partition_position", "gauge", "The next offset an owned partition reads, per topic partition it has read.",
                tasks.iter().flat_map(|t| t.positions().into_iter().map(move |((topic, p), next)| {
                    (format!("{},topic=\"{topic}\",topic_partition=\"{p}\"", label(t)), next as f64)
                })).collect()),
        ];
        for (name, kind, help, rows) in per_task {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in rows {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
        let name = "featc_group_source_position";
        let _ = writeln!(out, "# HELP {name} The committed next offset of each source partition this member forwards.\n# TYPE {name} gauge");
        for ((topic, p), next) in self
            .sources
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(out, "{name}{{topic=\"{topic}\",partition=\"{p}\"}} {next}");
        }
        out
    }
}
