//! The group as the HTTP API sees it (`api::route::Routing`): the tasks open here,
//! the owners the registry lists, and the group's lines of `/metrics`.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::Group;
use crate::api::route::Routing;
use crate::api::App;

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

    fn metrics(&self) -> String {
        let c = &self.counters;
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        counter(
            &mut out,
            "featc_group_rebalances_total",
            "Rebalances this member took part in.",
            c.rebalances.load(Relaxed),
        );
        counter(
            &mut out,
            "featc_group_tasks_opened_total",
            "Partitions opened here (restored from the store).",
            c.tasks_opened.load(Relaxed),
        );
        counter(
            &mut out,
            "featc_group_tasks_closed_total",
            "Partitions closed here (checkpointed to the store) on a revocation.",
            c.tasks_closed.load(Relaxed),
        );
        gauge(
            &mut out,
            "featc_group_handover_open_seconds_last",
            "Time the last partition opened here took (download and recovery).",
            c.open_us_last.load(Relaxed) as f64 / 1e6,
        );
        gauge(
            &mut out,
            "featc_group_handover_close_seconds_last",
            "Time the last partition closed here took (checkpoint and upload).",
            c.close_us_last.load(Relaxed) as f64 / 1e6,
        );
        counter(
            &mut out,
            "featc_group_routed_reads_total",
            "Shares of reads answered by another instance.",
            c.routed_reads.load(Relaxed),
        );
        counter(
            &mut out,
            "featc_group_routed_failures_total",
            "Shares of reads whose owner did not answer.",
            c.routed_failures.load(Relaxed),
        );
        counter(
            &mut out,
            "featc_group_forwarded_total",
            "Source records forwarded to the internal topics by this member.",
            c.forwarded.load(Relaxed),
        );
        counter(
            &mut out,
            "featc_group_uploads_total",
            "Checkpoints copied to the state store.",
            c.uploads.load(Relaxed),
        );
        counter(
            &mut out,
            "featc_group_errors_total",
            "Failures of the group's thread (each reported on stderr).",
            c.errors.load(Relaxed),
        );
        let tasks = self.tasks();
        gauge(
            &mut out,
            "featc_group_partitions_owned",
            "Partitions (tasks) this member owns.",
            tasks.len() as f64,
        );
        let _ = writeln!(out, "# HELP featc_group_partition_records_total Records applied to an owned partition's state over its life.\n# TYPE featc_group_partition_records_total counter");
        for t in &tasks {
            let _ = writeln!(
                out,
                "featc_group_partition_records_total{{entity=\"{}\",partition=\"{}\"}} {}",
                t.entity,
                t.partition,
                t.records().0
            );
        }
        let _ = writeln!(out, "# HELP featc_group_partition_dead_total Records of an owned partition dead-lettered over its life.\n# TYPE featc_group_partition_dead_total counter");
        for t in &tasks {
            let _ = writeln!(
                out,
                "featc_group_partition_dead_total{{entity=\"{}\",partition=\"{}\"}} {}",
                t.entity,
                t.partition,
                t.records().1
            );
        }
        let _ = writeln!(out, "# HELP featc_group_partition_position The next offset an owned partition reads, per topic partition it has read.\n# TYPE featc_group_partition_position gauge");
        for t in &tasks {
            for ((topic, p), next) in t.positions() {
                let _ = writeln!(out, "featc_group_partition_position{{entity=\"{}\",partition=\"{}\",topic=\"{topic}\",topic_partition=\"{p}\"}} {next}", t.entity, t.partition);
            }
        }
        let _ = writeln!(out, "# HELP featc_group_partition_lag Records in an owned partition not yet applied (its end as last fetched, every second).\n# TYPE featc_group_partition_lag gauge");
        for t in &tasks {
            if let Some(lag) = t.lag() {
                let _ = writeln!(
                    out,
                    "featc_group_partition_lag{{entity=\"{}\",partition=\"{}\"}} {lag}",
                    t.entity, t.partition
                );
            }
        }
        let _ = writeln!(out, "# HELP featc_group_source_position The committed next offset of each source partition this member forwards.\n# TYPE featc_group_source_position gauge");
        for ((topic, p), next) in self
            .sources
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "featc_group_source_position{{topic=\"{topic}\",partition=\"{p}\"}} {next}"
            );
        }
        out
    }
}
