//! What a project declares as plain Python data (`Project.catalog()`): sources,
//! entities, requests, views, features and services, with types spelled as in
//! `.feat` files and durations in microseconds (the Python package makes them
//! `timedelta`s).

use featc::catalog::lineage::Lineage;
use featc::ir::{self, FeatureKind};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

fn columns<'py>(py: Python<'py>, cols: &[ir::Column]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for c in cols {
        let d = PyDict::new(py);
        d.set_item("name", &c.name)?;
        d.set_item("type", c.ty.name())?;
        d.set_item("nullable", c.nullable)?;
        out.append(d)?;
    }
    Ok(out)
}

fn meta(d: &Bound<'_, PyDict>, meta: &ir::Meta) -> PyResult<()> {
    d.set_item("doc", meta.docs.join("\n"))?;
    d.set_item("owner", meta.owner.clone())?;
    d.set_item("tags", meta.tags.clone())?;
    Ok(())
}

fn feature<'py>(
    py: Python<'py>,
    p: &ir::Project,
    id: ir::FeatureId,
    owner: (&str, &str),
    lineage: &Lineage,
) -> PyResult<Bound<'py, PyDict>> {
    let f = p.feature(id);
    let d = PyDict::new(py);
    d.set_item("name", &f.name)?;
    d.set_item(owner.0, owner.1)?;
    d.set_item("type", f.ty.name())?;
    d.set_item("nullable", p.can_be_null(id))?;
    match &f.kind {
        FeatureKind::Aggregate(a) => {
            d.set_item("kind", "aggregate")?;
            d.set_item("aggregation", a.agg.name())?;
            d.set_item("window_us", a.window_us)?;
            d.set_item("events", a.events)?;
            d.set_item("offset_us", a.offset_us)?;
            // The features it looks up (through its lets), in declaration order.
            d.set_item("looks_up", lineage.of_feature(id).looks_up)?;
        }
        FeatureKind::Derived(x) => {
            d.set_item("kind", "derived")?;
            let reads: Vec<&str> = x
                .reads
                .iter()
                .map(|&r| p.feature(r).name.as_str())
                .collect();
            d.set_item("reads", reads)?;
            let fields: Vec<String> = x
                .request_fields
                .iter()
                .filter_map(|&(r, i)| {
                    let req = p.requests.get(r)?;
                    Some(format!("{}.{}", req.name, req.fields.get(i)?.name))
                })
                .collect();
            d.set_item("request_fields", fields)?;
        }
    }
    meta(&d, &f.meta)?;
    Ok(d)
}

/// The catalog of `p` as a dict.
pub fn catalog<'py>(py: Python<'py>, p: &ir::Project) -> PyResult<Bound<'py, PyAny>> {
    let out = PyDict::new(py);
    let lineage = Lineage::of(p);
    let sources = PyList::empty(py);
    for s in &p.sources {
        let d = PyDict::new(py);
        d.set_item("name", &s.name)?;
        d.set_item("time_column", &s.time_column)?;
        d.set_item("columns", columns(py, &s.columns)?)?;
        d.set_item("file", s.location.clone())?;
        d.set_item("topic", s.topic.as_ref().map(|t| t.name.clone()))?;
        d.set_item("lateness_us", s.lateness_us)?;
        d.set_item("delay_us", s.delay_us)?;
        d.set_item("freshness_us", s.freshness_us)?;
        meta(&d, &s.meta)?;
        sources.append(d)?;
    }
    out.set_item("sources", sources)?;
    let entities = PyList::empty(py);
    for e in &p.entities {
        let d = PyDict::new(py);
        d.set_item("name", &e.name)?;
        d.set_item("keys", columns(py, &e.keys)?)?;
        meta(&d, &e.meta)?;
        entities.append(d)?;
    }
    out.set_item("entities", entities)?;
    let requests = PyList::empty(py);
    for r in &p.requests {
        let d = PyDict::new(py);
        d.set_item("name", &r.name)?;
        d.set_item("fields", columns(py, &r.fields)?)?;
        meta(&d, &r.meta)?;
        requests.append(d)?;
    }
    out.set_item("requests", requests)?;
    let views = PyList::empty(py);
    let features = PyList::empty(py);
    for (v, view) in p.views.iter().enumerate() {
        let d = PyDict::new(py);
        d.set_item("name", &view.name)?;
        d.set_item(
            "source",
            p.sources.get(view.source.0).map(|s| s.name.clone()),
        )?;
        // Every source, the first (`source`) first: a view `from a, b` reads the
        // union of their events.
        let sources: Vec<&str> = view
            .sources()
            .filter_map(|s| p.sources.get(s.0).map(|s| s.name.as_str()))
            .collect();
        d.set_item("sources", sources)?;
        d.set_item(
            "entity",
            p.entities.get(view.entity.0).map(|e| e.name.clone()),
        )?;
        d.set_item("ttl_us", view.ttl_us)?;
        // As-of lookups (each also a let): the let, the feature looked up as of each
        // event and the columns holding its entity's key.
        let lookups = PyList::empty(py);
        for l in &view.lookups {
            let k = PyDict::new(py);
            k.set_item("name", &l.name)?;
            let target = l.feature.view().and_then(|v| p.views.get(v));
            k.set_item("view", target.map(|v| v.name.clone()))?;
            k.set_item("feature", p.get_feature(l.feature).map(|f| f.name.clone()))?;
            k.set_item("key_columns", l.keys.clone())?;
            k.set_item("type", l.ty.name())?;
            lookups.append(k)?;
        }
        d.set_item("lookups", lookups)?;
        let names: Vec<&str> = view.features.iter().map(|f| f.name.as_str()).collect();
        d.set_item("features", names)?;
        meta(&d, &view.meta)?;
        views.append(d)?;
        for f in 0..view.features.len() {
            let id = ir::FeatureId::View {
                view: v,
                feature: f,
            };
            features.append(feature(py, p, id, ("view", &view.name), &lineage)?)?;
        }
    }
    out.set_item("views", views)?;
    let services = PyList::empty(py);
    for (s, service) in p.services.iter().enumerate() {
        let d = PyDict::new(py);
        d.set_item("name", &service.name)?;
        let names: Vec<&str> = service
            .features
            .iter()
            .map(|&id| p.feature(id).name.as_str())
            .collect();
        d.set_item("features", names)?;
        meta(&d, &service.meta)?;
        services.append(d)?;
        for f in 0..service.own.len() {
            let id = ir::FeatureId::Service {
                service: s,
                feature: f,
            };
            features.append(feature(py, p, id, ("service", &service.name), &lineage)?)?;
        }
    }
    out.set_item("features", features)?;
    out.set_item("services", services)?;
    Ok(out.into_any())
}
