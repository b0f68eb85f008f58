//! The codecs of a featc cluster: featc's (`FeatcLogicalCodec`, `FeatcPhysicalCodec`)
//! delegating everything that is not featc's to Ballista's own codecs, which know
//! Ballista's shuffle nodes and the file formats of scans. Client, scheduler and
//! executors must all use these; executors also need featc's functions (`functions`).

use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
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

/// An executor's functions: DataFusion's and featc's key functions, which a shuffle's
/// hash expressions name (Ballista decodes those with DataFusion's default codec,
/// which finds a function by name in this registry).
pub fn functions() -> Arc<BallistaFunctionRegistry> {
    let mut registry = BallistaFunctionRegistry::default();
    for f in featc_runtime::batch::key_of::functions() {
        registry.scalar_functions.insert(f.name().to_string(), f);
    }
    Arc::new(registry)
}

/// `config` with featc's codecs installed (what a client session encodes plans with).
pub fn install(config: SessionConfig) -> SessionConfig {
    config
        .with_ballista_logical_extension_codec(logical())
        .with_ballista_physical_extension_codec(physical())
}
