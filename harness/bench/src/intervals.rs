//! Shortening a real module's `server.v3` intervals for a scenario, and restoring them after.
//!
//! A bench scenario must not wait the firmware's 600 s idle interval on the wall clock, so the
//! harness sets the rig's `bench.intervals` before the scenario and restores the module's own
//! values after it. The module's console has no `config get`: the current values are read with
//! `config list server.v3`, which prints (firmware `ovms_config.cpp`, `config_list`)
//!
//! ```text
//! server.v3 (readable writeable)
//!   server: 192.168.7.1
//!   updatetime.connected: 10
//! ```
//!
//! listing only the instances that are *set*; an unset instance runs on the firmware default, so
//! restoring it means `config rm server.v3 <instance>` rather than setting the default. A
//! parameter never set at all prints `server.v3 not found`.
//!
//! `ovms-emu`'s command processor speaks a different subset ([`Dialect::OvmsEmu`]): it has
//! `config get PARAM INSTANCE` (answering the value or `Parameter not set`) and `config set`, but
//! no `config list` or `config rm`; there an unset instance is restored by setting the profile's
//! default.
//!
//! Pure logic: the harness sends [`Dialect::read_commands`], feeds the responses to
//! [`Dialect::parse_read`], builds an [`IntervalPlan`] with [`plan_intervals`], sends
//! [`IntervalPlan::apply`] (checking each response with [`check_response`]), runs the scenario,
//! then sends [`IntervalPlan::restore`].

use std::collections::BTreeMap;

use ovms_firmware::profile::Profile;

/// The config parameter holding the server v3 settings.
pub const PARAM: &str = "server.v3";

/// Why a console response or a plan is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    /// The module answered with an error line.
    #[error("module answered `{command}` with: {line}")]
    Module {
        /// The command sent.
        command: String,
        /// The error line.
        line: String,
    },
    /// A response line that is not part of a `config list` listing.
    #[error("`config list {param}` response line {line}: unexpected `{text}`")]
    Unexpected {
        /// The parameter listed.
        param: String,
        /// Line number from 1.
        line: usize,
        /// The line.
        text: String,
    },
    /// The parameter is protected: its values cannot be read (so not restored).
    #[error("`{param}` is protected on the module: its values cannot be read back")]
    Protected {
        /// The parameter.
        param: String,
    },
    /// An interval the profile (the firmware) does not have.
    #[error("profile {profile} has no `{PARAM} {key}`")]
    UnknownInterval {
        /// Profile name.
        profile: String,
        /// Instance (`updatetime.priority`).
        key: String,
    },
    /// Zero or otherwise unusable value.
    #[error("`{PARAM} {key}` = {value}: intervals must be at least 1 s")]
    BadValue {
        /// Instance.
        key: String,
        /// Value.
        value: u64,
    },
}

/// The instances of one config parameter as `config list <param>` printed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigListing {
    /// Parameter name.
    pub param: String,
    /// Set instances and their values (unset instances are absent).
    pub instances: BTreeMap<String, String>,
}

/// Which console command set the module has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    /// The OVMS firmware: `config list PARAM`, `config set`, `config rm`.
    #[default]
    Firmware,
    /// `ovms-emu`: `config get PARAM INSTANCE`, `config set` (no list, no rm).
    OvmsEmu,
}

impl Dialect {
    /// The commands that read the current values of the `wanted` instances.
    pub fn read_commands(self, wanted: &[(String, u64)]) -> Vec<String> {
        match self {
            Dialect::Firmware => vec![format!("config list {PARAM}")],
            Dialect::OvmsEmu => wanted
                .iter()
                .map(|(k, _)| format!("config get {PARAM} {k}"))
                .collect(),
        }
    }

    /// Turn the responses to [`Dialect::read_commands`] (same order) into a listing.
    pub fn parse_read(
        self,
        wanted: &[(String, u64)],
        responses: &[String],
    ) -> Result<ConfigListing, IntervalError> {
        match self {
            Dialect::Firmware => match responses {
                [one] => parse_config_list(PARAM, one),
                _ => Err(IntervalError::Unexpected {
                    param: PARAM.into(),
                    line: 0,
                    text: format!("expected 1 response, got {}", responses.len()),
                }),
            },
            Dialect::OvmsEmu => {
                if responses.len() != wanted.len() {
                    return Err(IntervalError::Unexpected {
                        param: PARAM.into(),
                        line: 0,
                        text: format!(
                            "expected {} responses, got {}",
                            wanted.len(),
                            responses.len()
                        ),
                    });
                }
                let mut out = ConfigListing {
                    param: PARAM.into(),
                    instances: BTreeMap::new(),
                };
                for ((key, _), text) in wanted.iter().zip(responses) {
                    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
                    if let Some(e) = error_line(line) {
                        return Err(IntervalError::Module {
                            command: format!("config get {PARAM} {key}"),
                            line: e.to_string(),
                        });
                    }
                    if line != "Parameter not set" {
                        out.instances.insert(key.clone(), line.to_string());
                    }
                }
                Ok(out)
            }
        }
    }
}

/// The commands that read the current `server.v3` instances on the firmware (one command).
pub fn read_commands() -> Vec<String> {
    Dialect::Firmware.read_commands(&[])
}

/// Parse the text `config list <param>` answered. `param not found` is an empty listing.
pub fn parse_config_list(param: &str, text: &str) -> Result<ConfigListing, IntervalError> {
    let mut out = ConfigListing {
        param: param.to_string(),
        instances: BTreeMap::new(),
    };
    let mut header = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let unexpected = || IntervalError::Unexpected {
            param: param.to_string(),
            line: i + 1,
            text: line.to_string(),
        };
        if let Some(e) = error_line(line) {
            return Err(IntervalError::Module {
                command: format!("config list {param}"),
                line: e.to_string(),
            });
        }
        if !header {
            if line == format!("{param} not found") {
                return Ok(out);
            }
            let rest = line.strip_prefix(param).ok_or_else(unexpected)?;
            if rest.contains("protected") {
                return Err(IntervalError::Protected {
                    param: param.to_string(),
                });
            }
            if !(rest.is_empty() || rest.starts_with(" (")) {
                return Err(unexpected());
            }
            header = true;
            continue;
        }
        let entry = line.strip_prefix("  ").ok_or_else(unexpected)?;
        match entry.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(' ') => {
                out.instances
                    .insert(k.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string());
            }
            _ => return Err(unexpected()),
        }
    }
    if !header {
        return Err(IntervalError::Unexpected {
            param: param.to_string(),
            line: 1,
            text: "(empty response)".into(),
        });
    }
    Ok(out)
}

fn error_line(line: &str) -> Option<&str> {
    let t = line.trim();
    let lower = t.to_ascii_lowercase();
    (lower.starts_with("error") || lower.starts_with("unrecognised command")).then_some(t)
}

/// Check the answer to a `config set` / `config rm` command: an `Error:` line fails.
pub fn check_response(command: &str, text: &str) -> Result<(), IntervalError> {
    match text.lines().find_map(error_line) {
        Some(l) => Err(IntervalError::Module {
            command: command.to_string(),
            line: l.to_string(),
        }),
        None => Ok(()),
    }
}

/// Whether the profile's firmware has the `server.v3` interval instance `key`.
pub fn profile_has_param(profile: &Profile, key: &str) -> bool {
    if key == "updatetime.keepalive" {
        return profile.spec().session.keepalive_param.as_deref() == Some(key);
    }
    key.starts_with("updatetime.") && profile.param_default(key).is_some()
}

/// One interval change of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntervalChange {
    /// Instance (`updatetime.connected`).
    pub key: String,
    /// Value set for the scenario (seconds).
    pub wanted: u64,
    /// The instance's value before (None: unset, the firmware default applied).
    pub before: Option<String>,
    /// The profile's default for the instance.
    pub default: Option<u64>,
}

/// The commands around one scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntervalPlan {
    /// `config set server.v3 updatetime.* N` lines, sent before the scenario.
    pub apply: Vec<String>,
    /// Lines restoring the module's values (reverse order), sent after the scenario.
    pub restore: Vec<String>,
    /// What changes.
    pub changes: Vec<IntervalChange>,
}

/// Build the apply/restore commands for `wanted` (`(updatetime.<key>, seconds)`) given the
/// module's current listing. Instances already at the wanted value are left alone.
pub fn plan_intervals(
    profile: &Profile,
    wanted: &[(String, u64)],
    current: &ConfigListing,
    dialect: Dialect,
) -> Result<IntervalPlan, IntervalError> {
    let mut plan = IntervalPlan::default();
    for (key, value) in wanted {
        if !profile_has_param(profile, key) {
            return Err(IntervalError::UnknownInterval {
                profile: profile.name().to_string(),
                key: key.clone(),
            });
        }
        if *value == 0 {
            return Err(IntervalError::BadValue {
                key: key.clone(),
                value: *value,
            });
        }
        let before = current.instances.get(key).cloned();
        if before.as_deref().map(str::trim) == Some(value.to_string().as_str()) {
            continue;
        }
        plan.apply.push(format!("config set {PARAM} {key} {value}"));
        let default = profile.param_default(key);
        plan.restore.push(match (&before, dialect, default) {
            (Some(v), _, _) if !v.is_empty() && !v.contains(char::is_whitespace) => {
                format!("config set {PARAM} {key} {v}")
            }
            // Unset before (or a value a command line cannot carry): removing the instance
            // returns it to the firmware default.
            (_, Dialect::Firmware, _) => format!("config rm {PARAM} {key}"),
            // ovms-emu has no `config rm`: set the profile's default value.
            (_, Dialect::OvmsEmu, Some(d)) => format!("config set {PARAM} {key} {d}"),
            (_, Dialect::OvmsEmu, None) => {
                return Err(IntervalError::UnknownInterval {
                    profile: profile.name().to_string(),
                    key: key.clone(),
                })
            }
        });
        plan.changes.push(IntervalChange {
            key: key.clone(),
            wanted: *value,
            before,
            default,
        });
    }
    plan.restore.reverse();
    Ok(plan)
}

/// [`plan_intervals`] from the module's responses to [`Dialect::read_commands`].
pub fn plan_from_responses(
    profile: &Profile,
    wanted: &[(String, u64)],
    dialect: Dialect,
    responses: &[String],
) -> Result<IntervalPlan, IntervalError> {
    let listing = dialect.parse_read(wanted, responses)?;
    plan_intervals(profile, wanted, &listing, dialect)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prof(n: &str) -> Profile {
        Profile::builtin(n).unwrap()
    }

    const LISTING: &str = "server.v3 (readable writeable)\n  server: 192.168.7.1\n  updatetime.connected: 60\n  updatetime.idle: 600\n  user: bench\n";

    #[test]
    fn parses_a_listing() {
        let l = parse_config_list(PARAM, LISTING).unwrap();
        assert_eq!(l.instances.len(), 4);
        assert_eq!(l.instances["updatetime.connected"], "60");
        assert_eq!(l.instances["server"], "192.168.7.1");
    }

    #[test]
    fn crlf_and_empty_values() {
        let l = parse_config_list(
            PARAM,
            "server.v3 (readable writeable)\r\n  topic.prefix: \r\n",
        )
        .unwrap();
        assert_eq!(l.instances["topic.prefix"], "");
    }

    #[test]
    fn not_found_is_an_empty_listing() {
        let l = parse_config_list(PARAM, "server.v3 not found\n").unwrap();
        assert!(l.instances.is_empty());
    }

    #[test]
    fn old_header_without_flags() {
        let l = parse_config_list(PARAM, "server.v3\n  updatetime.idle: 30\n").unwrap();
        assert_eq!(l.instances["updatetime.idle"], "30");
    }

    #[test]
    fn errors_and_garbage_are_reported() {
        assert!(matches!(
            parse_config_list(PARAM, "ERROR: cannot lock config store\n"),
            Err(IntervalError::Module { .. })
        ));
        assert!(matches!(
            parse_config_list(PARAM, "server.v3 (protected read-only)\n  x\n"),
            Err(IntervalError::Protected { .. })
        ));
        let e = parse_config_list(PARAM, "server.v3 (readable writeable)\n  ok: 1\nbanana\n")
            .unwrap_err();
        assert_eq!(
            e,
            IntervalError::Unexpected {
                param: PARAM.into(),
                line: 3,
                text: "banana".into()
            }
        );
        assert!(parse_config_list(PARAM, "").is_err());
        assert!(parse_config_list(PARAM, "vehicle (readable writeable)\n").is_err());
    }

    #[test]
    fn plan_sets_and_restores_set_and_unset_instances() {
        let l = parse_config_list(PARAM, LISTING).unwrap();
        let wanted = vec![
            ("updatetime.connected".to_string(), 5),
            ("updatetime.on".to_string(), 2),
            ("updatetime.idle".to_string(), 600),
        ];
        let p = plan_intervals(&prof("fw-3.3.006"), &wanted, &l, Dialect::Firmware).unwrap();
        assert_eq!(
            p.apply,
            vec![
                "config set server.v3 updatetime.connected 5",
                "config set server.v3 updatetime.on 2",
            ],
            "idle already 600: untouched"
        );
        assert_eq!(
            p.restore,
            vec![
                "config rm server.v3 updatetime.on",
                "config set server.v3 updatetime.connected 60",
            ]
        );
        assert_eq!(p.changes[1].before, None);
        assert_eq!(p.changes[1].default, Some(5));
    }

    #[test]
    fn plan_rejects_intervals_the_firmware_lacks() {
        // fw-3.3.005 has updatetime.keepalive; the draft profile decides by its own spec.
        let l = ConfigListing::default();
        let k = vec![("updatetime.keepalive".to_string(), 30)];
        assert!(plan_intervals(&prof("fw-3.3.005"), &k, &l, Dialect::Firmware).is_ok());
        let bogus = vec![("updatetime.priority".to_string(), 30)];
        let e = plan_intervals(&prof("fw-3.3.006"), &bogus, &l, Dialect::Firmware).unwrap_err();
        assert!(e.to_string().contains("updatetime.priority"), "{e}");
        let zero = vec![("updatetime.idle".to_string(), 0)];
        assert!(matches!(
            plan_intervals(&prof("fw-3.3.006"), &zero, &l, Dialect::Firmware),
            Err(IntervalError::BadValue { .. })
        ));
    }

    #[test]
    fn plan_from_raw_response() {
        let w = [("updatetime.idle".to_string(), 3)];
        let r = ["server.v3 not found\n".to_string()];
        let p = plan_from_responses(&prof("fw-3.3.006"), &w, Dialect::Firmware, &r).unwrap();
        assert_eq!(p.apply, vec!["config set server.v3 updatetime.idle 3"]);
        assert_eq!(p.restore, vec!["config rm server.v3 updatetime.idle"]);
        assert!(Dialect::Firmware.parse_read(&w, &[]).is_err());
    }

    #[test]
    fn ovms_emu_dialect_reads_each_and_restores_defaults() {
        let w = vec![
            ("updatetime.idle".to_string(), 2),
            ("updatetime.connected".to_string(), 2),
        ];
        assert_eq!(
            Dialect::OvmsEmu.read_commands(&w),
            vec![
                "config get server.v3 updatetime.idle",
                "config get server.v3 updatetime.connected"
            ]
        );
        let r = ["Parameter not set\n".to_string(), "30\n".to_string()];
        let p = plan_from_responses(&prof("fw-3.3.006"), &w, Dialect::OvmsEmu, &r).unwrap();
        assert_eq!(
            p.restore,
            vec![
                "config set server.v3 updatetime.connected 30",
                "config set server.v3 updatetime.idle 600",
            ]
        );
        let bad = [
            "Error: usage: config get PARAM INSTANCE\n".to_string(),
            "1\n".to_string(),
        ];
        assert!(matches!(
            Dialect::OvmsEmu.parse_read(&w, &bad),
            Err(IntervalError::Module { .. })
        ));
        assert!(Dialect::OvmsEmu.parse_read(&w, &r[..1]).is_err());
    }

    #[test]
    fn responses_are_checked() {
        assert!(check_response("config set a b c", "Parameter has been set.\n").is_ok());
        assert!(check_response("config rm a b", "").is_ok());
        let e = check_response("config set nope b c", "Error: parameter not found\n").unwrap_err();
        assert!(e.to_string().contains("parameter not found"), "{e}");
    }

    #[test]
    fn read_command_is_config_list() {
        assert_eq!(read_commands(), vec!["config list server.v3"]);
    }
}
