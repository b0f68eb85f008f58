//! The codecs of a featc cluster: featc's (`FeatcLogicalCodec`, `FeatcPhysicalCodec`)
//! delegating everything that is not featc's to Ballista's own codecs, which know
//! Ballista's shuffle nodes and the file formats of scans. Client, scheduler and
//! executors must all use these.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::prelude::SessionConfig;
use featc_runtime::batch::codec::{FeatcLogicalCodec, FeatcPhysicalCodec};

use ballista_core::extension::SessionConfigExt;

pub fn logical() -> Arc<FeatcLogicalCodec> {
    Arc::new(FeatcLogicalCodec::new(Arc::new(
        BallistaLogicalExtensionCodec::default(),
    )))
}

pub fn physical() -> Arc<FeatcPhysicalCodec> {
    Arc::new(FeatcPhysicalCodec::new(Arc::new(
        BallistaPhysicalExtensionCodec::default(),
    )))
}

/// `config` with featc's codecs installed (what a client session encodes plans with).
pub fn install(config: SessionConfig) -> SessionConfig {
    config
        .with_ballista_logical_extension_codec(logical())
        .with_ballista_physical_extension_codec(physical())
}
