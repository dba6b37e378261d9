//! The metrics store: OVMS metric names, native units, the firmware's string formatting, and a
//! "modified since last sent" mark per metric.
//!
//! Semantics (firmware `ovms_metrics.cpp`):
//! - a metric is *undefined* until its first set; [`Metrics::as_string`] is `None` then;
//! - a set that **changes** the value marks the metric modified for server v3; setting the same value
//!   again keeps it defined but does not mark it (floats compare as the stored `f32`, vectors element
//!   by element, a length change counts as a change);
//! - the server v3 bit is read with test-and-clear ([`Metrics::take_modified`]);
//! - iteration is in ascending byte order of the name (the firmware's `strcmp` order).
//!
//! Unknown names are accepted: the first set creates the metric with the class of the value.

mod date;
mod filter;
pub mod format;
mod registry;
mod value;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub use date::{format_date, format_time_of_day};
pub use filter::{MetricFilter, PatternList};
pub use format::{format_fixed, format_g6};
pub use registry::{standard, MetricClass, MetricDef, MetricUnit, STANDARD_METRICS};
pub use value::MetricValue;

/// One metric in the store.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    class: MetricClass,
    unit: MetricUnit,
    value: Option<MetricValue>,
    modified: bool,
}

impl Metric {
    fn new(class: MetricClass, unit: MetricUnit) -> Metric {
        Metric {
            class,
            unit,
            value: None,
            modified: false,
        }
    }

    /// Storage class.
    pub fn class(&self) -> MetricClass {
        self.class
    }

    /// Native unit (as far as it affects the text).
    pub fn unit(&self) -> MetricUnit {
        self.unit
    }

    /// Whether the metric has been set at least once.
    pub fn is_defined(&self) -> bool {
        self.value.is_some()
    }

    /// The stored value, normalised to the metric's class (`None` while undefined).
    pub fn value(&self) -> Option<&MetricValue> {
        self.value.as_ref()
    }

    /// Whether the server v3 modified bit is set.
    pub fn is_modified(&self) -> bool {
        self.modified
    }

    /// Whether the value is a true Bool (for `v.e.on` and friends); false when undefined.
    pub fn as_bool(&self) -> bool {
        matches!(self.value, Some(MetricValue::Bool(true)))
    }

    /// The payload text (`AsString()`); `latlon_fixed6` selects fixed 6 decimals for degrees.
    pub fn render(&self, latlon_fixed6: bool) -> Option<String> {
        let v = self.value.as_ref()?;
        Some(match v {
            MetricValue::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            MetricValue::Int(i) => match self.unit {
                MetricUnit::TimeUtc => format_time_of_day(*i),
                MetricUnit::DateUtc | MetricUnit::DateLocal => format_date(*i, "UTC"),
                _ => i.to_string(),
            },
            MetricValue::Float(f) => {
                if self.unit == MetricUnit::Degrees && latlon_fixed6 {
                    format_fixed(*f, 6)
                } else {
                    format_g6(*f)
                }
            }
            MetricValue::Str(s) => s.clone(),
            MetricValue::FloatVec(v) => v
                .iter()
                .map(|x| format_g6(*x))
                .collect::<Vec<_>>()
                .join(","),
            MetricValue::IntVec(v) => v
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(","),
        })
    }
}

/// The class a value of an unknown metric gets on its first set.
fn class_of(value: &MetricValue) -> MetricClass {
    match value {
        MetricValue::Bool(_) => MetricClass::Bool,
        MetricValue::Int(_) => MetricClass::Int,
        MetricValue::Float(_) => MetricClass::Float,
        MetricValue::Str(_) => MetricClass::String,
        MetricValue::FloatVec(_) => MetricClass::FloatVec,
        MetricValue::IntVec(_) => MetricClass::IntVec,
    }
}

fn parse_bool(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "yes" | "1" | "true" | "on"
    )
}

fn parse_f32(s: &str) -> f32 {
    s.trim().parse::<f32>().unwrap_or(0.0)
}

fn parse_i64(s: &str) -> i64 {
    let t = s.trim();
    t.parse::<i64>()
        .unwrap_or_else(|_| t.parse::<f64>().map(|f| f as i64).unwrap_or(0))
}

/// Convert `value` to the representation of `class` (as the typed `SetValue` overloads do).
fn normalise(class: MetricClass, value: MetricValue) -> MetricValue {
    use MetricValue as V;
    match class {
        MetricClass::Bool => V::Bool(match value {
            V::Bool(b) => b,
            V::Int(i) => i != 0,
            V::Float(f) => f != 0.0,
            V::Str(s) => parse_bool(&s),
            V::FloatVec(v) => !v.is_empty(),
            V::IntVec(v) => !v.is_empty(),
        }),
        MetricClass::Int | MetricClass::Int64 => V::Int(match value {
            V::Bool(b) => i64::from(b),
            V::Int(i) => i,
            V::Float(f) => f as i64,
            V::Str(s) => parse_i64(&s),
            V::FloatVec(v) => v.first().map(|f| *f as i64).unwrap_or(0),
            V::IntVec(v) => v.first().copied().unwrap_or(0),
        }),
        MetricClass::Float => V::Float(match value {
            V::Bool(b) => f32::from(u8::from(b)),
            V::Int(i) => i as f32,
            V::Float(f) => f,
            V::Str(s) => parse_f32(&s),
            V::FloatVec(v) => v.first().copied().unwrap_or(0.0),
            V::IntVec(v) => v.first().map(|i| *i as f32).unwrap_or(0.0),
        }),
        MetricClass::String => V::Str(match value {
            V::Str(s) => s,
            other => Metric {
                class: class_of(&other),
                unit: MetricUnit::Plain,
                value: Some(other),
                modified: false,
            }
            .render(false)
            .unwrap_or_default(),
        }),
        MetricClass::FloatVec => V::FloatVec(match value {
            V::FloatVec(v) => v,
            V::IntVec(v) => v.into_iter().map(|i| i as f32).collect(),
            V::Float(f) => vec![f],
            V::Int(i) => vec![i as f32],
            V::Bool(b) => vec![f32::from(u8::from(b))],
            V::Str(s) => split_list(&s).map(parse_f32).collect(),
        }),
        MetricClass::IntVec => V::IntVec(match value {
            V::IntVec(v) => v,
            V::FloatVec(v) => v.into_iter().map(|f| f as i64).collect(),
            V::Float(f) => vec![f as i64],
            V::Int(i) => vec![i],
            V::Bool(b) => vec![i64::from(b)],
            V::Str(s) => split_list(&s).map(parse_i64).collect(),
        }),
    }
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').filter(|p| !p.trim().is_empty())
}

/// Equality as the firmware sees it: floats compare as stored `f32` bit-for-value (so `NaN` is never
/// equal to itself, as in C++), vectors element by element with the length.
fn same_value(a: &MetricValue, b: &MetricValue) -> bool {
    a == b
}

/// Metrics kept sorted by name (`strcmp` order) with a hash index for lookups: sets are the hot
/// path (thousands per second), new names are rare.
#[derive(Clone, Debug, Default)]
struct SortedMap {
    entries: Vec<(String, Metric)>,
    index: HashMap<String, usize, BuildHasherDefault<Fnv1a>>,
}

/// FNV-1a: a fast hash for short metric names (the store never holds enough adversarial keys
/// for hash flooding to matter).
#[derive(Clone, Copy, Debug)]
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl SortedMap {
    fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    fn get(&self, name: &str) -> Option<&Metric> {
        self.position(name).map(|i| &self.entries[i].1)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Metric> {
        self.position(name).map(|i| &mut self.entries[i].1)
    }

    /// Insert a name that is not present yet; returns its position.
    fn insert_new(&mut self, name: &str, metric: Metric) -> usize {
        let pos = self
            .entries
            .partition_point(|(n, _)| n.as_bytes() < name.as_bytes());
        self.entries.insert(pos, (name.to_string(), metric));
        for (i, (n, _)) in self.entries.iter().enumerate().skip(pos) {
            self.index.insert(n.clone(), i);
        }
        pos
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &Metric)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The metrics store.
#[derive(Clone, Debug)]
pub struct Metrics {
    map: SortedMap,
    latlon_fixed6: bool,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A store with every standard metric registered (undefined), lat/lon rendered `%g`.
    pub fn new() -> Metrics {
        let mut map = SortedMap::default();
        for d in STANDARD_METRICS {
            map.insert_new(d.name, Metric::new(d.class, d.unit));
        }
        Metrics {
            map,
            latlon_fixed6: false,
        }
    }

    /// Render lat/lon (`v.p.latitude`, `v.p.longitude`, valet ones) with fixed 6 decimals (3.3.005+).
    pub fn set_latlon_fixed6(&mut self, fixed: bool) {
        self.latlon_fixed6 = fixed;
    }

    /// Whether lat/lon are rendered with fixed 6 decimals.
    pub fn latlon_fixed6(&self) -> bool {
        self.latlon_fixed6
    }

    /// Set a metric (creating it with the value's class when unknown). Returns whether the value
    /// changed, i.e. whether the metric is now marked modified by this set.
    pub fn set(&mut self, name: &str, value: MetricValue) -> bool {
        let pos = match self.map.position(name) {
            Some(i) => i,
            None => self
                .map
                .insert_new(name, Metric::new(class_of(&value), MetricUnit::Plain)),
        };
        let metric = &mut self.map.entries[pos].1;
        let v = normalise(metric.class, value);
        let changed = match &metric.value {
            Some(old) => !same_value(old, &v),
            None => true,
        };
        metric.value = Some(v);
        if changed {
            metric.modified = true;
        }
        changed
    }

    /// Set from command text (`metrics set NAME VALUE`): parsed by the metric's class; an unknown
    /// metric becomes Int, Float or String by what the text parses as. Returns whether it changed.
    pub fn set_from_text(&mut self, name: &str, text: &str) -> bool {
        let value = match self.map.get(name).map(|m| m.class) {
            Some(_) => MetricValue::Str(text.to_string()),
            None => {
                if let Ok(i) = text.trim().parse::<i64>() {
                    MetricValue::Int(i)
                } else if let Ok(f) = text.trim().parse::<f32>() {
                    MetricValue::Float(f)
                } else {
                    MetricValue::Str(text.to_string())
                }
            }
        };
        self.set(name, value)
    }

    /// The payload string of a defined metric (`AsString()`), `None` when undefined or unknown.
    pub fn as_string(&self, name: &str) -> Option<String> {
        self.map.get(name)?.render(self.latlon_fixed6)
    }

    /// The metric called `name`, if registered.
    pub fn get(&self, name: &str) -> Option<&Metric> {
        self.map.get(name)
    }

    /// Whether `name` is registered and defined.
    pub fn is_defined(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(Metric::is_defined)
    }

    /// Whether `name`'s server v3 modified bit is set.
    pub fn is_modified(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|m| m.modified)
    }

    /// Whether `name` is a defined Bool metric with value true (`v.e.on` ...).
    pub fn is_true(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(Metric::as_bool)
    }

    /// Test-and-clear the server v3 modified bit (`IsModifiedAndClear`).
    pub fn take_modified(&mut self, name: &str) -> bool {
        match self.map.get_mut(name) {
            Some(m) => std::mem::take(&mut m.modified),
            None => false,
        }
    }

    /// Clear the server v3 modified bit (`ClearModified`, as the full pass does).
    pub fn clear_modified(&mut self, name: &str) {
        if let Some(m) = self.map.get_mut(name) {
            m.modified = false;
        }
    }

    /// All registered metrics in ascending `strcmp` order of their names.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Metric)> {
        self.map.iter()
    }

    /// Registered metric names in `strcmp` order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.iter().map(|(k, _)| k)
    }

    /// Number of registered metrics.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no metric is registered.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Number of metrics whose modified bit is set.
    pub fn modified_count(&self) -> usize {
        self.map.iter().filter(|(_, m)| m.modified).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_until_set_then_formatted_per_class() {
        let mut m = Metrics::new();
        assert!(m.as_string("v.b.soc").is_none());
        assert!(!m.is_defined("v.b.soc"));
        m.set("v.b.soc", MetricValue::Float(85.0));
        assert_eq!(m.as_string("v.b.soc").unwrap(), "85");
        m.set("v.e.on", MetricValue::Bool(true));
        assert_eq!(m.as_string("v.e.on").unwrap(), "yes");
        m.set("v.c.timerstart", MetricValue::Int(27_000));
        assert_eq!(m.as_string("v.c.timerstart").unwrap(), "07:30:00");
        m.set("m.time.utc", MetricValue::Int(1_701_569_671));
        assert_eq!(
            m.as_string("m.time.utc").unwrap(),
            "2023-12-03 02:14:31 UTC"
        );
        m.set(
            "v.b.c.voltage",
            MetricValue::FloatVec(vec![3.912, 3.915, 3.91]),
        );
        assert_eq!(m.as_string("v.b.c.voltage").unwrap(), "3.912,3.915,3.91");
        m.set("v.t.alert", MetricValue::IntVec(vec![0, 1, 2]));
        assert_eq!(m.as_string("v.t.alert").unwrap(), "0,1,2");
        m.set("v.c.state", MetricValue::Str(String::new()));
        assert_eq!(m.as_string("v.c.state").unwrap(), "");
        assert!(m.is_defined("v.c.state"));
        // A Float metric set with an Int stores a float.
        m.set("v.b.voltage", MetricValue::Int(400));
        assert_eq!(
            m.get("v.b.voltage").unwrap().value(),
            Some(&MetricValue::Float(400.0))
        );
    }

    #[test]
    fn latlon_fixed_six_decimals_only_when_enabled() {
        let mut m = Metrics::new();
        m.set("v.p.latitude", MetricValue::Float(51.5074));
        assert_eq!(m.as_string("v.p.latitude").unwrap(), "51.5074");
        m.set_latlon_fixed6(true);
        assert_eq!(m.as_string("v.p.latitude").unwrap(), "51.507401");
        m.set("v.p.speed", MetricValue::Float(51.5074));
        assert_eq!(m.as_string("v.p.speed").unwrap(), "51.5074");
    }

    #[test]
    fn same_value_is_defined_but_not_modified() {
        let mut m = Metrics::new();
        assert!(m.set("v.b.soc", MetricValue::Float(80.5)));
        assert!(m.take_modified("v.b.soc"));
        assert!(!m.take_modified("v.b.soc"));
        assert!(!m.set("v.b.soc", MetricValue::Float(80.5)));
        assert!(!m.is_modified("v.b.soc"));
        // 80.5 as an Int-typed set converts to the same stored float: not modified.
        assert!(!m.set("v.b.soc", MetricValue::Str("80.5".into())));
        assert!(m.set("v.b.soc", MetricValue::Float(80.50001)));
        // Vectors: per element, and a resize counts.
        m.set("v.t.pressure", MetricValue::FloatVec(vec![1.0, 2.0]));
        m.clear_modified("v.t.pressure");
        assert!(!m.set("v.t.pressure", MetricValue::FloatVec(vec![1.0, 2.0])));
        assert!(m.set("v.t.pressure", MetricValue::FloatVec(vec![1.0, 2.0, 0.0])));
        assert!(m.set("v.t.pressure", MetricValue::FloatVec(vec![1.0, 2.5, 0.0])));
    }

    #[test]
    fn unknown_metrics_are_created_on_first_set_and_iteration_is_strcmp_sorted() {
        let mut m = Metrics::new();
        m.set("xnl.v.b.gids", MetricValue::Int(0));
        assert_eq!(m.get("xnl.v.b.gids").unwrap().class(), MetricClass::Int);
        assert_eq!(m.as_string("xnl.v.b.gids").unwrap(), "0");
        m.set("Z.upper", MetricValue::Bool(false));
        m.set("v.b.soc_x", MetricValue::Float(1.0));
        let names: Vec<&str> = m.names().collect();
        let mut sorted = names.clone();
        sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(names, sorted);
        assert_eq!(names[0], "Z.upper");
        assert!(m.set_from_text("new.text", "hello"));
        assert_eq!(m.get("new.text").unwrap().class(), MetricClass::String);
        assert!(m.set_from_text("new.float", "1.5"));
        assert_eq!(m.get("new.float").unwrap().class(), MetricClass::Float);
        assert!(m.set_from_text("v.e.on", "yes"));
        assert!(m.is_true("v.e.on"));
    }
}
