//! `haversine(lat1, lon1, lat2, lon2)`: the great-circle distance in kilometres on a
//! sphere of radius 6371 km, computed in the operation order semantics.md writes
//! ("Functions"), so that every path gets the same bits.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array};
use datafusion::common::Result;

use super::{floats, rows};

/// The Earth's mean radius, in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// The distance in kilometres between two points given in degrees. Nothing is
/// checked: a NaN or infinite coordinate gives NaN, a latitude beyond ±90° whatever
/// the formula gives.
pub fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let phi1 = lat1.to_radians();
    let phi2 = lat2.to_radians();
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let s_phi = (d_phi / 2.0).sin();
    let s_lambda = (d_lambda / 2.0).sin();
    let a = s_phi * s_phi + phi1.cos() * phi2.cos() * (s_lambda * s_lambda);
    let mut h = a.sqrt();
    // Not `f64::min`, which would turn a NaN into 1.
    if h > 1.0 {
        h = 1.0;
    }
    EARTH_RADIUS_KM * 2.0 * h.asin()
}

/// Evaluates `haversine` on its four float64 argument arrays.
pub(super) fn invoke(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (a, b, c, d) = (
        floats(args, 0)?,
        floats(args, 1)?,
        floats(args, 2)?,
        floats(args, 3)?,
    );
    let out: Float64Array = (0..rows(args))
        .map(|r| {
            let valid = [a, b, c, d].iter().all(|x| x.is_valid(r));
            valid.then(|| haversine(a.value(r), b.value(r), c.value(r), d.value(r)))
        })
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // Paris (Notre-Dame) to London (Trafalgar Square).
        let paris_london = haversine(48.8530, 2.3499, 51.5080, -0.1281);
        assert!((paris_london - 343.5).abs() < 0.5, "{paris_london}");
        assert_eq!(haversine(10.0, 20.0, 10.0, 20.0), 0.0);
        // Half the equator, and pole to pole: half the circumference.
        let half = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert!((haversine(0.0, 0.0, 0.0, 180.0) - half).abs() < 1e-9);
        assert!((haversine(90.0, 0.0, -90.0, 0.0) - half).abs() < 1e-9);
        // Symmetric.
        assert_eq!(
            haversine(51.5080, -0.1281, 48.8530, 2.3499).to_bits(),
            paris_london.to_bits()
        );
    }

    #[test]
    fn non_finite_coordinates_give_nan_not_a_clamped_distance() {
        assert!(haversine(f64::NAN, 0.0, 0.0, 0.0).is_nan());
        assert!(haversine(0.0, f64::INFINITY, 0.0, 0.0).is_nan());
    }
}
