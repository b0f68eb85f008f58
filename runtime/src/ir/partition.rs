//! A source's time partitions (`partition KEY by UNIT`): the promise that each hive
//! folder `KEY=VALUE/` of its data holds exactly the events of one UTC hour, day or
//! month, which lets a training set skip the folders no spine row can see.

use serde::{Deserialize, Serialize};

/// `partition KEY by UNIT` of a source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimePartition {
    /// The hive key: the folders are named `KEY=VALUE`.
    pub key: String,
    pub unit: PartitionUnit,
}

/// How much time one partition holds, and how its value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionUnit {
    Hour,
    Day,
    Month,
}

impl PartitionUnit {
    /// Every unit, for messages.
    pub const ALL: [PartitionUnit; 3] = [
        PartitionUnit::Hour,
        PartitionUnit::Day,
        PartitionUnit::Month,
    ];

    /// How the clause spells it.
    pub fn name(self) -> &'static str {
        match self {
            PartitionUnit::Hour => "hour",
            PartitionUnit::Day => "day",
            PartitionUnit::Month => "month",
        }
    }

    /// The unit the clause spells `name`.
    pub fn from_name(name: &str) -> Option<PartitionUnit> {
        PartitionUnit::ALL.into_iter().find(|u| u.name() == name)
    }

    /// How a partition's value is written, for messages.
    pub fn written(self) -> &'static str {
        match self {
            PartitionUnit::Hour => "YYYY-MM-DDTHH, YYYY-MM-DD-HH or YYYY-MM-DD HH",
            PartitionUnit::Day => "YYYY-MM-DD",
            PartitionUnit::Month => "YYYY-MM",
        }
    }
}
