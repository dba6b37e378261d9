//! [`DbcVehicle`]: a [`Vehicle`] driven by DBC files and a YAML [`VehicleDefinition`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ovms_firmware::metrics::MetricValue;
use ovms_firmware::time::Instant;
use ovms_firmware::vehicle::{CanFrame, Vehicle, VehicleOutput};

use crate::dbc::{id_key, Dbc, LoadOptions};
use crate::definition::{located, Conversion, MetricKind, MetricMapping, VehicleDefinition};
use crate::VehicleError;

/// One mapping resolved against its DBC message.
#[derive(Clone, Debug)]
struct Resolved {
    metric: String,
    signal: u16,
    kind: MetricKind,
    scale: Option<f64>,
    offset: Option<f64>,
    convert: Option<Conversion>,
    map: Option<Vec<(i64, MetricValue)>>,
    default: Option<MetricValue>,
    when: Option<(u16, Option<f64>, Option<f64>)>,
}

/// The mappings of one message on one bus.
#[derive(Clone, Debug)]
struct Entry {
    db: usize,
    msg: usize,
    mappings: Vec<Resolved>,
}

/// A vehicle decoded by DBC files per bus, with signals mapped to metrics by a YAML definition.
#[derive(Debug)]
pub struct DbcVehicle {
    name: String,
    type_code: String,
    dbs: Vec<(u8, Dbc)>,
    entries: HashMap<(u8, u32), Entry>,
    scratch: Vec<(u16, f64)>,
}

/// A mapped value as text → metric value of `kind`; `None` when the text does not parse.
fn typed(kind: MetricKind, text: &str) -> Option<MetricValue> {
    let t = text.trim();
    Some(match kind {
        MetricKind::String => MetricValue::Str(text.to_string()),
        MetricKind::Bool => match t.to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" | "on" => MetricValue::Bool(true),
            "no" | "false" | "0" | "off" => MetricValue::Bool(false),
            _ => return None,
        },
        MetricKind::Int => MetricValue::Int(t.parse().ok()?),
        MetricKind::Float => MetricValue::Float(t.parse().ok()?),
    })
}

impl DbcVehicle {
    /// Loads a YAML definition and its DBC files (paths relative to the YAML).
    pub fn load(yaml: &Path) -> Result<Self, VehicleError> {
        let def = VehicleDefinition::load(yaml)?;
        Self::from_definition(def, yaml)
    }

    /// Builds the vehicle from a parsed definition; `yaml` locates the DBC files and errors.
    pub fn from_definition(def: VehicleDefinition, yaml: &Path) -> Result<Self, VehicleError> {
        let paths: Vec<PathBuf> = def.dbc_paths(yaml);
        let mut dbs = Vec::new();
        for (r, p) in def.dbc.iter().zip(&paths) {
            if !p.is_file() {
                return Err(located(
                    yaml,
                    r.file.referenced,
                    format!("DBC file {} not found", p.display()),
                ));
            }
            let db = Dbc::load(p, LoadOptions { lenient: r.lenient })?;
            dbs.push((r.bus, db));
        }
        let mut entries: HashMap<(u8, u32), Entry> = HashMap::new();
        for m in &def.metrics {
            let (bus, db_i, msg_i, res) = Self::resolve(&dbs, m, yaml)?;
            let msg = &dbs[db_i].1.messages()[msg_i];
            let key = (bus, id_key(msg.id, msg.extended));
            entries
                .entry(key)
                .or_insert(Entry {
                    db: db_i,
                    msg: msg_i,
                    mappings: Vec::new(),
                })
                .mappings
                .push(res);
        }
        Ok(DbcVehicle {
            name: def.name,
            type_code: def.type_code,
            dbs,
            entries,
            scratch: Vec::with_capacity(64),
        })
    }

    fn resolve(
        dbs: &[(u8, Dbc)],
        m: &MetricMapping,
        yaml: &Path,
    ) -> Result<(u8, usize, usize, Resolved), VehicleError> {
        let at = m.metric.referenced;
        let found = dbs
            .iter()
            .enumerate()
            .filter(|(_, (bus, _))| m.bus.is_none_or(|b| b == *bus))
            .find_map(|(i, (bus, db))| {
                let idx = match (&m.message, &m.id) {
                    (Some(name), _) => db.find_by_name(&name.value),
                    (None, Some(id)) => db.messages().iter().position(|x| x.id == id.value),
                    (None, None) => None,
                };
                idx.map(|k| (*bus, i, k))
            });
        let (bus, db_i, msg_i) = match (&m.message, &m.id, found) {
            (None, None, _) => {
                return Err(located(
                    yaml,
                    at,
                    "a mapping needs `message` or `id`".into(),
                ))
            }
            (_, _, Some(f)) => f,
            (Some(name), _, None) => {
                return Err(located(
                    yaml,
                    name.referenced,
                    format!("no DBC message `{}` on this bus", name.value),
                ))
            }
            (None, Some(id), None) => {
                return Err(located(
                    yaml,
                    id.referenced,
                    format!("no DBC message with id {:#x} on this bus", id.value),
                ))
            }
        };
        let msg = &dbs[db_i].1.messages()[msg_i];
        let signal = msg.signal_index(&m.signal.value).ok_or_else(|| {
            located(
                yaml,
                m.signal.referenced,
                format!("message `{}` has no signal `{}`", msg.name, m.signal.value),
            )
        })? as u16;
        let when = match &m.when {
            None => None,
            Some(c) => {
                let k = msg.signal_index(&c.signal.value).ok_or_else(|| {
                    located(
                        yaml,
                        c.signal.referenced,
                        format!("message `{}` has no signal `{}`", msg.name, c.signal.value),
                    )
                })?;
                Some((k as u16, c.equals, c.not_equals))
            }
        };
        if m.kind == MetricKind::String && m.map.is_none() {
            return Err(located(
                yaml,
                at,
                "`kind: string` needs a `map` of values to text".into(),
            ));
        }
        let mut map = None;
        if let Some(entries) = &m.map {
            let mut v = Vec::new();
            for (k, text) in entries {
                let value = typed(m.kind, text).ok_or_else(|| {
                    located(
                        yaml,
                        at,
                        format!("map value `{text}` is not a valid {:?} value", m.kind),
                    )
                })?;
                v.push((*k, value));
            }
            map = Some(v);
        }
        let default = match &m.default {
            None => None,
            Some(text) => Some(typed(m.kind, text).ok_or_else(|| {
                located(
                    yaml,
                    at,
                    format!("default `{text}` is not a valid {:?} value", m.kind),
                )
            })?),
        };
        let res = Resolved {
            metric: m.metric.value.clone(),
            signal,
            kind: m.kind,
            scale: m.scale,
            offset: m.offset,
            convert: m.convert,
            map,
            default,
            when,
        };
        Ok((bus, db_i, msg_i, res))
    }

    /// The definition's vehicle name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The loaded DBC databases with their buses.
    pub fn databases(&self) -> &[(u8, Dbc)] {
        &self.dbs
    }

    /// Number of (bus, message) pairs with mappings.
    pub fn mapped_messages(&self) -> usize {
        self.entries.len()
    }
}

/// The metric value of one mapping for a physical signal value; `None` when nothing is stored.
fn value_of(r: &Resolved, phys: f64) -> Option<MetricValue> {
    let mut v = phys;
    if let Some(s) = r.scale {
        v *= s;
    }
    if let Some(o) = r.offset {
        v += o;
    }
    if let Some(map) = &r.map {
        let hit = if v.fract() == 0.0 {
            map.iter().find(|(k, _)| *k as f64 == v)
        } else {
            None
        };
        return hit
            .map(|(_, val)| val.clone())
            .or_else(|| r.default.clone());
    }
    let f = v as f32;
    let f = match r.convert {
        Some(c) => c.apply(f),
        None => f,
    };
    Some(match r.kind {
        MetricKind::Float => MetricValue::Float(f),
        MetricKind::Int => MetricValue::Int(if r.convert.is_some() {
            f as i64
        } else {
            v as i64
        }),
        MetricKind::Bool => MetricValue::Bool(v != 0.0),
        MetricKind::String => return None,
    })
}

impl Vehicle for DbcVehicle {
    fn type_code(&self) -> &str {
        &self.type_code
    }

    fn init(&mut self, _now: Instant, out: &mut Vec<VehicleOutput>) {
        out.push(VehicleOutput::Metric {
            name: "v.type".into(),
            value: MetricValue::Str(self.type_code.clone()),
        });
    }

    fn handle_frame(&mut self, _now: Instant, frame: CanFrame<'_>, out: &mut Vec<VehicleOutput>) {
        let Some(entry) = self
            .entries
            .get(&(frame.bus, id_key(frame.id, frame.extended)))
        else {
            return;
        };
        self.scratch.clear();
        self.dbs[entry.db]
            .1
            .compiled(entry.msg)
            .decode_into(frame.data, &mut self.scratch);
        let get = |k: u16| self.scratch.iter().find(|(i, _)| *i == k).map(|(_, v)| *v);
        for r in &entry.mappings {
            let Some(phys) = get(r.signal) else { continue };
            if let Some((c, eq, ne)) = r.when {
                let Some(cv) = get(c) else { continue };
                if eq.is_some_and(|e| cv != e) || ne.is_some_and(|n| cv == n) {
                    continue;
                }
            }
            if let Some(value) = value_of(r, phys) {
                out.push(VehicleOutput::Metric {
                    name: r.metric.clone(),
                    value,
                });
            }
        }
    }
}
