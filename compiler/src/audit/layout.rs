//! What a served-log file holds, against today's project: its read times, the spine
//! columns the recomputation needs (the keys and request fields of the logged
//! features), and each logged feature with the project's feature of that name and
//! whether its meaning changed since the serve.

use std::collections::BTreeMap;

use featc_runtime::ir::{FeatureId, Project};
use featc_runtime::stats::{
    APPLIED_SEQ_COLUMN as APPLIED_SEQ, APPLYING_SEQ_COLUMN as APPLYING_SEQ, CLOCK_KEY,
    FEATURES_KEY, HELD_FROM_PREFIX as HELD_FROM, MEANINGS_KEY, READ_TIME_COLUMN as READ_TIME,
    SERVED_AT_COLUMN as SERVED_AT, STATUS_SUFFIX as STATUS, WATERMARK_PREFIX,
};

use super::error::AuditError;
use super::log::LogFile;

/// One feature column of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub name: String,
    /// Today's feature of that name; `None`: no longer defined.
    pub id: Option<FeatureId>,
    /// Its meaning when served differs from today's (or it is no longer defined):
    /// a difference is explained by the change. `false` when the log does not say
    /// what it meant (a log written without meanings).
    pub changed: bool,
    /// The views its value comes from (`views_of`).
    pub views: Vec<String>,
    /// Those views' sources.
    pub sources: Vec<String>,
}

/// A file's layout (files with equal schemas share one).
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub features: Vec<Logged>,
    /// The spine's columns: the read time, then the key and request-field columns
    /// the recomputed features need.
    pub spine: Vec<String>,
    /// The key columns (a subset of `spine`), for reports.
    pub keys: Vec<String>,
    /// The request fields (in `spine`) declared non-nullable: null in a read that
    /// did not ask for the features reading them, where the recomputation gets a
    /// stand-in value (`fill_unasked`) whose results are never compared.
    pub required_fields: Vec<String>,
    /// Whether the file has `served_at`.
    pub served_at: bool,
    /// The views whose events could wait for their lookups, with their
    /// `held_from.<view>` column (in `spine`) and their sources.
    pub held: Vec<HeldView>,
    /// Whether the file logs how far into its log a durable server's state was
    /// (`applied_seq`, `applying_seq`, in `spine`).
    pub progress: bool,
    /// Per source, its `watermark.<source>` column (in `spine`).
    pub watermarks: Vec<(String, String)>,
    /// The server's clock (`wall`, `events`), where the file says.
    pub clock: Option<String>,
}

/// A view whose events could wait for their as-of lookups at a read.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldView {
    pub view: String,
    pub column: String,
    pub sources: Vec<String>,
}

impl Layout {
    pub fn of(
        file: &LogFile,
        project: &Project,
        today: &BTreeMap<String, String>,
    ) -> Result<Layout, AuditError> {
        let metadata = file.schema.metadata();
        let Some(names) = metadata
            .get(FEATURES_KEY)
            .and_then(|j| serde_json::from_str::<Vec<String>>(j).ok())
        else {
            return Err(AuditError::Log {
                path: file.path.clone(),
                message: format!(
                    "names no features (schema metadata `{FEATURES_KEY}`): not a file of a served log"
                ),
            });
        };
        let meanings: Option<BTreeMap<String, String>> = metadata
            .get(MEANINGS_KEY)
            .and_then(|j| serde_json::from_str(j).ok());
        let missing = |column: &str, why: String| AuditError::MissingColumn {
            path: file.path.clone(),
            column: column.to_string(),
            why,
        };
        if file.schema.index_of(READ_TIME).is_err() {
            return Err(missing(READ_TIME, "every read's time".to_string()));
        }
        let mut features = Vec::with_capacity(names.len());
        for name in names {
            for column in [name.clone(), format!("{name}{STATUS}")] {
                if file.schema.index_of(&column).is_err() {
                    return Err(missing(&column, format!("logged feature `{name}`")));
                }
            }
            let id = project.feature_by_name(&name);
            let changed = match (&id, &meanings) {
                (None, _) => true,
                (Some(_), Some(m)) => m.get(&name) != today.get(&name),
                (Some(_), None) => false,
            };
            let views = id.map(|id| views_of(project, id)).unwrap_or_default();
            let mut sources: Vec<String> = Vec::new();
            for view in project.views.iter().filter(|v| views.contains(&v.name)) {
                for source in view.sources().filter_map(|s| project.sources.get(s.0)) {
                    if !sources.contains(&source.name) {
                        sources.push(source.name.clone());
                    }
                }
            }
            features.push(Logged {
                name,
                id,
                changed,
                views,
                sources,
            });
        }
        let ids: Vec<FeatureId> = features.iter().filter_map(|f| f.id).collect();
        let needed = featc_runtime::io::spine_keys(project, &ids);
        let mut spine = vec![READ_TIME.to_string()];
        for (column, _) in &needed {
            if file.schema.index_of(column).is_err() {
                return Err(missing(
                    column,
                    "a key or request field the logged features read".to_string(),
                ));
            }
            spine.push(column.clone());
        }
        let keys = key_columns(project, &ids);
        let held: Vec<HeldView> = file
            .schema
            .fields()
            .iter()
            .filter_map(|f| {
                let view = f.name().strip_prefix(HELD_FROM)?;
                let view = project.views.iter().find(|v| v.name == view)?;
                Some(HeldView {
                    view: view.name.clone(),
                    column: f.name().clone(),
                    sources: view
                        .sources()
                        .filter_map(|s| project.sources.get(s.0))
                        .map(|s| s.name.clone())
                        .collect(),
                })
            })
            .collect();
        spine.extend(held.iter().map(|h| h.column.clone()));
        let progress = [APPLIED_SEQ, APPLYING_SEQ]
            .iter()
            .all(|c| file.schema.index_of(c).is_ok());
        if progress {
            spine.extend([APPLIED_SEQ.to_string(), APPLYING_SEQ.to_string()]);
        }
        let watermarks: Vec<(String, String)> = file
            .schema
            .fields()
            .iter()
            .filter_map(|f| {
                let source = f.name().strip_prefix(WATERMARK_PREFIX)?;
                Some((source.to_string(), f.name().clone()))
            })
            .collect();
        spine.extend(watermarks.iter().map(|(_, c)| c.clone()));
        let required_fields = spine
            .iter()
            .filter(|c| {
                !keys.contains(c)
                    && project
                        .requests
                        .iter()
                        .flat_map(|r| &r.fields)
                        .any(|f| f.name == **c && !f.nullable)
            })
            .cloned()
            .collect();
        Ok(Layout {
            features,
            spine,
            keys,
            required_fields,
            held,
            served_at: file.schema.index_of(SERVED_AT).is_ok(),
            progress,
            watermarks,
            clock: metadata.get(CLOCK_KEY).cloned(),
        })
    }

    /// Whether `column` of the spine is a key or request field (not one of what the
    /// log says of the state at the read).
    pub fn is_read_column(&self, column: &str) -> bool {
        column != READ_TIME
            && !self.held.iter().any(|h| h.column == column)
            && !self.watermarks.iter().any(|(_, c)| c == column)
            && column != APPLIED_SEQ
            && column != APPLYING_SEQ
    }

    /// The log's columns of the logged features: value and status.
    pub fn feature_columns(&self) -> Vec<String> {
        self.features
            .iter()
            .flat_map(|f| [f.name.clone(), format!("{}{STATUS}", f.name)])
            .collect()
    }
}

/// The views a feature's value comes from (its own; a derived feature's, those of
/// the features it reads, transitively).
fn views_of(project: &Project, feature: FeatureId) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in project.aggregations_of(&[feature]) {
        if let Some(view) = id.view().and_then(|v| project.views.get(v)) {
            if !out.contains(&view.name) {
                out.push(view.name.clone());
            }
        }
    }
    out
}

/// The entity key columns of `ids`' entities, each once.
fn key_columns(project: &Project, ids: &[FeatureId]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in project.aggregations_of(ids) {
        let Some(view) = id.view().and_then(|v| project.views.get(v)) else {
            continue;
        };
        let Some(entity) = project.entities.get(view.entity.0) else {
            continue;
        };
        for k in &entity.keys {
            if !out.contains(&k.name) {
                out.push(k.name.clone());
            }
        }
    }
    out
}
