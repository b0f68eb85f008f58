//! What a training set may use of the machine: how many partitions run the merge at
//! once, how much memory its operators may hold before sorts spill to disk, how much
//! disk the spills may take, and in how many passes by key share it runs (which
//! divides the disk its spills take).

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::execution::disk_manager::DiskManagerBuilder;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::SessionConfig;

/// The share of the machine's memory a training set uses when no limit is given:
/// what the memory pool counts (sort buffers, repartition queues) is not all a
/// process holds (the spine, the merge's per-key state, the output), so the pool
/// gets a sixth and the rest stays for those and for the machine.
pub const DEFAULT_MEMORY_FRACTION: f64 = 1.0 / 6.0;

/// DataFusion's default `sort_spill_reservation_bytes`.
const DEFAULT_SORT_SPILL_RESERVATION: usize = 10 << 20;

/// Used when the machine's memory cannot be read (not Linux).
const FALLBACK_MEMORY: usize = 2 << 30;

/// The most partitions a training set runs at once: each is a merge with its own
/// sorts and queues, planned before any row is read, so the count must be bounded
/// before the plan is made; far above the cores of any one machine.
pub const MAX_PARTITIONS: usize = 1024;

/// The most passes a training set runs in: each pass is a copy of the merge's plan,
/// made before any row is read, and reads the sources again; 1 024 passes divide a
/// spill by three orders of magnitude, past which more passes only cost reads.
pub const MAX_PASSES: usize = 1024;

/// Partitions and memory for one training set; `None` takes the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    /// Independent merges run at once (each owns the keys hashed to it); default:
    /// the machine's cores.
    pub partitions: Option<usize>,
    /// Bytes the memory pool grants before sorts spill; default:
    /// `DEFAULT_MEMORY_FRACTION` of the machine's memory.
    pub memory_limit: Option<usize>,
    /// Passes the merges run in, one after the other, each over the spine rows and
    /// events of one share of the keys (`passes_exec`); default: 1.
    pub passes: Option<usize>,
    /// Bytes the spill files may hold on disk at once; a run that needs more fails
    /// naming the limit (`job::RunFailure::SpillLimit`); default: DataFusion's,
    /// `DEFAULT_MAX_TEMP_DIRECTORY_SIZE` (100 GiB).
    pub spill_limit: Option<usize>,
}

/// The number of passes, as the session carries it to the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passes(pub usize);

impl Resources {
    /// The number of partitions (at least 1).
    pub fn partitions(&self) -> usize {
        self.partitions
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
            .max(1)
    }

    /// The memory pool's size in bytes.
    pub fn memory_limit(&self) -> usize {
        self.memory_limit.unwrap_or_else(|| {
            let total = crate::io::machine_memory().unwrap_or(FALLBACK_MEMORY);
            (total as f64 * DEFAULT_MEMORY_FRACTION) as usize
        })
    }

    /// The number of passes (at least 1).
    pub fn passes(&self) -> usize {
        self.passes.unwrap_or(1).max(1)
    }

    /// `config` with the partitions applied (DataFusion repartitions the inputs of
    /// every merge into that many hash partitions) and the passes (read by
    /// `planner`).
    pub fn configure(&self, config: SessionConfig) -> SessionConfig {
        // Each sort sets aside memory to merge its spilled runs (10 MiB by default):
        // under a small limit, that reservation alone would exhaust the pool.
        let merge_reserve = (self.memory_limit() / 16).min(DEFAULT_SORT_SPILL_RESERVATION);
        config
            .with_target_partitions(self.partitions())
            .with_sort_spill_reservation_bytes(merge_reserve)
            .with_extension(Arc::new(Passes(self.passes())))
    }

    /// Refuses partitions or passes above their bounds (`MAX_PARTITIONS`,
    /// `MAX_PASSES`), before any plan is made for them. The CLI and Python check
    /// the same bounds where the values are given; this holds them for every caller.
    pub fn check(&self) -> Result<(), ResourceError> {
        for (name, value, max) in [
            ("partitions", self.partitions, MAX_PARTITIONS),
            ("passes", self.passes, MAX_PASSES),
        ] {
            if let Some(value) = value.filter(|v| *v > max) {
                return Err(ResourceError::AboveBound { name, value, max });
            }
        }
        Ok(())
    }

    /// A runtime whose memory pool is bounded by `memory_limit`, shared fairly
    /// between the operators that can spill (sorts) and naming the largest
    /// consumers when a query cannot fit; spills go to the OS temporary directory,
    /// at most `spill_limit` bytes of them at once. Refuses resources `check`
    /// refuses.
    pub fn runtime_env(&self) -> datafusion::common::Result<Arc<RuntimeEnv>> {
        self.check()
            .map_err(|e| datafusion::common::DataFusionError::Configuration(e.to_string()))?;
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(self.memory_limit()),
            NonZeroUsize::new(5).unwrap_or(NonZeroUsize::MIN),
        );
        let mut builder = RuntimeEnvBuilder::new().with_memory_pool(Arc::new(pool));
        if let Some(limit) = self.spill_limit {
            builder = builder.with_disk_manager_builder(
                DiskManagerBuilder::default().with_max_temp_directory_size(limit as u64),
            );
        }
        builder.build_arc()
    }
}

/// Parses a size as a user writes it: bytes, or a number with a unit (`K`, `M`, `G`,
/// `T`, with or without `B`/`iB`; powers of 1024), e.g. `4GiB`, `512M`, `1.5G`.
pub fn parse_size(text: &str) -> Result<usize, SizeError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| SizeError::NotASize(text.to_string()))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(SizeError::UnknownUnit {
                unit: other.to_string(),
                text: text.to_string(),
            })
        }
    };
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > usize::MAX as f64 {
        return Err(SizeError::Unusable(text.to_string()));
    }
    Ok(bytes as usize)
}

/// Why a text is not a size (`parse_size`), naming the text as the user wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum SizeError {
    /// No number to begin with.
    NotASize(String),
    /// A unit other than K, M, G or T.
    UnknownUnit { unit: String, text: String },
    /// Zero, less than a byte, or more than this machine can address.
    Unusable(String),
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeError::NotASize(text) => {
                write!(f, "`{text}` is not a size (e.g. 4GiB, 512M, 1073741824)")
            }
            SizeError::UnknownUnit { unit, text } => {
                write!(f, "unknown size unit `{unit}` in `{text}` (K, M, G or T)")
            }
            SizeError::Unusable(text) => write!(f, "`{text}` is not a usable size"),
        }
    }
}

impl std::error::Error for SizeError {}

/// Resources a training set refuses before planning (`Resources::check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceError {
    /// `name` (partitions or passes) is `value`, above its bound `max`.
    AboveBound {
        name: &'static str,
        value: usize,
        max: usize,
    },
}

impl fmt::Display for ResourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceError::AboveBound { name, value, max } => {
                write!(f, "{name} must be at most {max} (got {value})")
            }
        }
    }
}

impl std::error::Error for ResourceError {}

/// A size for people: `1.5 GiB`, `512 MiB`, `100 KiB`, `12 B`.
pub fn format_size(bytes: usize) -> String {
    let units = [
        (1usize << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (scale, unit) in units {
        if bytes >= scale {
            let value = bytes as f64 / scale as f64;
            return format!("{} {unit}", (value * 10.0).round() / 10.0);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_and_passes_above_their_bounds_are_refused_before_a_session() {
        let at_bounds = Resources {
            partitions: Some(MAX_PARTITIONS),
            passes: Some(MAX_PASSES),
            ..Resources::default()
        };
        assert_eq!(at_bounds.check(), Ok(()));
        let passes = Resources {
            passes: Some(MAX_PASSES + 1),
            ..Resources::default()
        };
        assert_eq!(
            passes.check().map_err(|e| e.to_string()),
            Err(format!(
                "passes must be at most {MAX_PASSES} (got {})",
                MAX_PASSES + 1
            ))
        );
        assert!(passes.runtime_env().is_err());
        let partitions = Resources {
            partitions: Some(usize::MAX),
            ..Resources::default()
        };
        assert!(matches!(
            partitions.check(),
            Err(ResourceError::AboveBound {
                name: "partitions",
                ..
            })
        ));
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_size(" 2 KB "), Ok(2048));
        assert!(parse_size("0").is_err());
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(format_size(12), "12 B");
        assert_eq!(format_size(100 << 10), "100 KiB");
        assert_eq!(format_size(3 << 29), "1.5 GiB");
    }

    #[test]
    fn defaults_are_positive() {
        let r = Resources::default();
        assert!(r.partitions() >= 1);
        assert!(r.memory_limit() > 0);
        assert_eq!(
            Resources {
                partitions: Some(0),
                ..Resources::default()
            }
            .partitions(),
            1
        );
        assert_eq!(r.passes(), 1);
    }
}
