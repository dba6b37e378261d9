//! The standard OVMS metrics (module-facts §6.2): name, class and native unit.

/// How a metric stores its value (the firmware's metric class).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricClass {
    /// `OvmsMetricBool`: `yes` / `no`.
    Bool,
    /// `OvmsMetricInt`: decimal integer (32-bit in the firmware).
    Int,
    /// `OvmsMetricInt64`: decimal integer, or a date by unit.
    Int64,
    /// `OvmsMetricFloat`: 32-bit float, `%g`.
    Float,
    /// `OvmsMetricString`: raw text.
    String,
    /// `OvmsMetricVector<float>`: elements joined by `,`.
    FloatVec,
    /// `OvmsMetricVector<int>`: elements joined by `,`.
    IntVec,
}

/// The native unit, as far as it changes the payload text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricUnit {
    /// Any unit rendered as a plain number (%, km, V, s, ...).
    Plain,
    /// Seconds since midnight UTC, rendered `HH:MM:SS`.
    TimeUtc,
    /// Seconds since the Unix epoch, rendered `YYYY-MM-DD HH:MM:SS UTC`.
    DateUtc,
    /// Seconds since the Unix epoch in local time; the emulated module has no timezone configured,
    /// so it renders like [`MetricUnit::DateUtc`] with the abbreviation `UTC`.
    DateLocal,
    /// Degrees of latitude/longitude: fixed 6 decimals when the profile says so (3.3.005+), else `%g`.
    Degrees,
}

/// One entry of the standard metric table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// Metric name, e.g. `v.b.soc`.
    pub name: &'static str,
    /// Storage class.
    pub class: MetricClass,
    /// Native unit (only what affects the text).
    pub unit: MetricUnit,
    /// The native unit's label (`%`, `km`, `kWh`, `°C`, `utc` for dates/times in UTC, `local` for
    /// local dates; empty for unitless metrics). Informational: payloads never carry it.
    pub unit_label: &'static str,
}

use MetricClass::*;
use MetricUnit::*;

const fn d(
    name: &'static str,
    class: MetricClass,
    unit: MetricUnit,
    unit_label: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        class,
        unit,
        unit_label,
    }
}

/// The standard metrics (module-facts.md §6.2 plus a few the text names), sorted by name.
pub const STANDARD_METRICS: &[MetricDef] = &[
    d("m.monotonic", Int, Plain, "s"),
    d("m.time.utc", Int64, DateUtc, "utc"),
    d("s.v3.connected", Bool, Plain, ""),
    d("s.v3.peers", Int, Plain, ""),
    d("v.b.12v.current", Float, Plain, "A"),
    d("v.b.12v.voltage", Float, Plain, "V"),
    d("v.b.c.voltage", FloatVec, Plain, "V"),
    d("v.b.cac", Float, Plain, "Ah"),
    d("v.b.capacity", Float, Plain, "kWh"),
    d("v.b.consumption", Float, Plain, "Wh/km"),
    d("v.b.current", Float, Plain, "A"),
    d("v.b.energy.recd", Float, Plain, "kWh"),
    d("v.b.energy.used", Float, Plain, "kWh"),
    d("v.b.p.temp.avg", Float, Plain, "°C"),
    d("v.b.p.temp.max", Float, Plain, "°C"),
    d("v.b.p.temp.min", Float, Plain, "°C"),
    d("v.b.power", Float, Plain, "kW"),
    d("v.b.range.est", Float, Plain, "km"),
    d("v.b.range.full", Float, Plain, "km"),
    d("v.b.range.ideal", Float, Plain, "km"),
    d("v.b.soc", Float, Plain, "%"),
    d("v.b.soh", Float, Plain, "%"),
    d("v.b.temp", Float, Plain, "°C"),
    d("v.b.voltage", Float, Plain, "V"),
    d("v.c.charging", Bool, Plain, ""),
    d("v.c.climit", Float, Plain, "A"),
    d("v.c.current", Float, Plain, "A"),
    d("v.c.duration.full", Int, Plain, "min"),
    d("v.c.duration.range", Int, Plain, "min"),
    d("v.c.duration.soc", Int, Plain, "min"),
    d("v.c.kwh", Float, Plain, "kWh"),
    d("v.c.limit.range", Float, Plain, "km"),
    d("v.c.limit.soc", Float, Plain, "%"),
    d("v.c.mode", String, Plain, ""),
    d("v.c.pilot", Bool, Plain, ""),
    d("v.c.power", Float, Plain, "kW"),
    d("v.c.state", String, Plain, ""),
    d("v.c.substate", String, Plain, ""),
    d("v.c.time", Int, Plain, "s"),
    d("v.c.timerstart", Int, TimeUtc, "utc"),
    d("v.c.timestamp", Int64, DateLocal, "local"),
    d("v.c.type", String, Plain, ""),
    d("v.c.voltage", Float, Plain, "V"),
    d("v.d.cp", Bool, Plain, ""),
    d("v.d.fl", Bool, Plain, ""),
    d("v.d.fr", Bool, Plain, ""),
    d("v.d.hood", Bool, Plain, ""),
    d("v.d.rl", Bool, Plain, ""),
    d("v.d.rr", Bool, Plain, ""),
    d("v.d.trunk", Bool, Plain, ""),
    d("v.e.awake", Bool, Plain, ""),
    d("v.e.cabintemp", Float, Plain, "°C"),
    d("v.e.charging12v", Bool, Plain, ""),
    d("v.e.cooling", Bool, Plain, ""),
    d("v.e.drivetime", Int, Plain, "s"),
    d("v.e.footbrake", Float, Plain, "%"),
    d("v.e.gear", Int, Plain, ""),
    d("v.e.handbrake", Bool, Plain, ""),
    d("v.e.headlights", Bool, Plain, ""),
    d("v.e.heating", Bool, Plain, ""),
    d("v.e.hvac", Bool, Plain, ""),
    d("v.e.locked", Bool, Plain, ""),
    d("v.e.on", Bool, Plain, ""),
    d("v.e.parktime", Int, Plain, "s"),
    d("v.e.temp", Float, Plain, "°C"),
    d("v.e.throttle", Float, Plain, "%"),
    d("v.i.power", Float, Plain, "kW"),
    d("v.i.temp", Float, Plain, "°C"),
    d("v.m.rpm", Int, Plain, ""),
    d("v.m.temp", Float, Plain, "°C"),
    d("v.p.altitude", Float, Plain, "m"),
    d("v.p.direction", Float, Plain, "°"),
    d("v.p.gpslock", Bool, Plain, ""),
    d("v.p.gpsspeed", Float, Plain, "km/h"),
    d("v.p.gpstime", Int64, DateLocal, "local"),
    d("v.p.latitude", Float, Degrees, "°"),
    d("v.p.longitude", Float, Degrees, "°"),
    d("v.p.odometer", Float, Plain, "km"),
    d("v.p.speed", Float, Plain, "km/h"),
    d("v.p.trip", Float, Plain, "km"),
    d("v.p.valet.latitude", Float, Degrees, "°"),
    d("v.p.valet.longitude", Float, Degrees, "°"),
    d("v.t.alert", IntVec, Plain, ""),
    d("v.t.health", FloatVec, Plain, "%"),
    d("v.t.pressure", FloatVec, Plain, "kPa"),
    d("v.t.temp", FloatVec, Plain, "°C"),
    d("v.type", String, Plain, ""),
    d("v.vin", String, Plain, ""),
];

/// The standard definition of `name`, if it is a standard metric.
pub fn standard(name: &str) -> Option<&'static MetricDef> {
    STANDARD_METRICS
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(|i| &STANDARD_METRICS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique_so_binary_search_works() {
        for w in STANDARD_METRICS.windows(2) {
            assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
        }
        assert_eq!(standard("v.b.soc").unwrap().class, MetricClass::Float);
        assert_eq!(standard("v.b.soc").unwrap().unit_label, "%");
        assert_eq!(standard("v.t.pressure").unwrap().unit_label, "kPa");
        assert_eq!(standard("m.time.utc").unwrap().unit, MetricUnit::DateUtc);
        assert!(standard("xnl.v.b.gids").is_none());
    }
}
