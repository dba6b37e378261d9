//! The firmware's store-time unit conversions, with its exact float arithmetic: the value is a
//! 32-bit float, the factor a double, the product is computed in double and rounded back to float.

/// Miles → km factor of the firmware's unit converter (not the exact 1.609344).
pub const MI_TO_KM: f64 = 1.609347;
/// psi → kPa factor of the firmware's unit converter.
pub const PSI_TO_KPA: f64 = 6.894757293168361;
/// km → miles factor used by the firmware's readers.
pub const KM_TO_MI: f64 = 0.62137;

/// `float × double → float`, as the firmware's float conversion overload does.
#[inline]
pub fn convert_f32(x: f32, factor: f64) -> f32 {
    ((x as f64) * factor) as f32
}

/// Miles (or mph) stored into a km (km/h) metric.
#[inline]
pub fn mi_to_km(x: f32) -> f32 {
    convert_f32(x, MI_TO_KM)
}

/// psi stored into a kPa metric.
#[inline]
pub fn psi_to_kpa(x: f32) -> f32 {
    convert_f32(x, PSI_TO_KPA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovms_firmware::metrics::format_g6;

    #[test]
    fn spec_examples() {
        assert_eq!(format_g6(mi_to_km(187.0)), "300.948");
        assert_eq!(format_g6(mi_to_km(170.0)), "273.589");
        assert_eq!(format_g6(mi_to_km(6000.0)), "9656.08");
        assert_eq!(format_g6(mi_to_km(1.0)), "1.60935");
        assert_eq!(format_g6(mi_to_km(125.0)), "201.168");
        assert_eq!(format_g6(mi_to_km(38.0)), "61.1552");
        assert_eq!(format_g6(mi_to_km(123456.0f32 / 10.0)), "19868.4");
    }
}
