//! The named types of an Avro schema (records, enums, fixeds, at any depth), by name:
//! a field that refers to a type defined earlier in the schema is read, and checked,
//! as what that name stands for. The compiler's check of a topic's Avro schema and the
//! server's decoder resolve names alike through this one walk.

use std::collections::HashMap;

use apache_avro::schema::{Name, Schema};

/// Every named type `schema` defines, by its full name.
pub fn avro_named_types(schema: &Schema) -> HashMap<Name, Schema> {
    let mut out = HashMap::new();
    collect(schema, &mut out);
    out
}

fn collect(schema: &Schema, out: &mut HashMap<Name, Schema>) {
    match schema {
        Schema::Record(r) => {
            out.insert(r.name.clone(), schema.clone());
            for f in &r.fields {
                collect(&f.schema, out);
            }
        }
        Schema::Enum(e) => {
            out.insert(e.name.clone(), schema.clone());
        }
        Schema::Fixed(f) => {
            out.insert(f.name.clone(), schema.clone());
        }
        Schema::Array(a) => collect(&a.items, out),
        Schema::Map(m) => collect(&m.types, out),
        Schema::Union(u) => u.variants().iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}
