//! A metric value in its native unit, as a vehicle decoder or a command hands it to the store.

/// A metric value in the metric's **native** unit (km, km/h, kPa, °C, ...). Unit conversion happens
/// before the value reaches the store, exactly once, as the firmware does at store time.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricValue {
    /// `yes` / `no`.
    Bool(bool),
    /// Decimal integer (also times of day and dates, by the metric's unit).
    Int(i64),
    /// A 32-bit float, rendered `%g` with 6 significant digits (or fixed, per metric).
    Float(f32),
    /// Raw text, may be empty.
    Str(String),
    /// Elements joined by `,`, each `%g`.
    FloatVec(Vec<f32>),
    /// Elements joined by `,`.
    IntVec(Vec<i64>),
}
