//! Running the interval plan over a module's command channel.
//!
//! The harness provides a [`CommandSender`] (server v3 commands over MQTT, which it already
//! sends, or [`ShellCommandChannel`]); [`shorten_intervals`] reads the module's values, sets the
//! rig's intervals and returns the plan; [`restore_intervals`] puts the values back after the
//! scenario (every restore command is tried, even after a failure).

use std::future::Future;

use crate::intervals::{check_response, IntervalPlan};
use crate::rig::BenchRig;
use crate::shell::ShellCommandChannel;

/// Sends one console command to the module and returns its response text.
pub trait CommandSender {
    /// Send `command`; the module's response (its console output).
    fn send(&mut self, command: &str) -> impl Future<Output = Result<String, String>> + Send;
}

impl CommandSender for ShellCommandChannel {
    fn send(&mut self, command: &str) -> impl Future<Output = Result<String, String>> + Send {
        let ch = self.clone();
        let command = command.to_string();
        async move {
            tokio::task::spawn_blocking(move || ch.run(&command).map_err(|e| e.to_string()))
                .await
                .map_err(|e| format!("shell command task failed: {e}"))?
        }
    }
}

/// Read the module's interval values, set the rig's `bench.intervals`, and return the plan
/// whose [`IntervalPlan::restore`] undoes it. Nothing is set when reading or planning fails.
pub async fn shorten_intervals<S: CommandSender>(
    rig: &BenchRig,
    sender: &mut S,
) -> Result<IntervalPlan, String> {
    if rig.intervals.is_empty() {
        return Ok(IntervalPlan::default());
    }
    let mut responses = Vec::new();
    for c in rig.interval_read_commands() {
        responses.push(sender.send(&c).await.map_err(|e| format!("`{c}`: {e}"))?);
    }
    let plan = rig.interval_plan(&responses)?;
    for (i, c) in plan.apply.iter().enumerate() {
        let r = sender.send(c).await.map_err(|e| format!("`{c}`: {e}"))?;
        if let Err(e) = check_response(c, &r) {
            // Undo what was already set before reporting.
            let undo = IntervalPlan {
                apply: Vec::new(),
                restore: plan.restore[plan.restore.len() - i..].to_vec(),
                changes: Vec::new(),
            };
            let _ = restore_intervals(&undo, sender).await;
            return Err(e.to_string());
        }
    }
    Ok(plan)
}

/// Send every restore command of `plan`; all are tried, the failures are reported together.
pub async fn restore_intervals<S: CommandSender>(
    plan: &IntervalPlan,
    sender: &mut S,
) -> Result<(), String> {
    let mut failures = Vec::new();
    for c in &plan.restore {
        match sender.send(c).await {
            Ok(r) => {
                if let Err(e) = check_response(c, &r) {
                    failures.push(e.to_string());
                }
            }
            Err(e) => failures.push(format!("`{c}`: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "restoring the module's intervals failed: {}",
            failures.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::rig::parse_bench_rig;

    /// A module console with the firmware's config commands (`config list/set/rm`).
    #[derive(Default)]
    struct FirmwareConsole {
        store: BTreeMap<String, String>,
        sent: Vec<String>,
        refuse: Option<String>,
    }

    impl CommandSender for FirmwareConsole {
        fn send(&mut self, command: &str) -> impl Future<Output = Result<String, String>> + Send {
            self.sent.push(command.to_string());
            let w: Vec<&str> = command.split_whitespace().collect();
            let out = match w.as_slice() {
                _ if self.refuse.as_deref() == Some(command) => {
                    "Error: parameter is not writeable\n".to_string()
                }
                ["config", "list", "server.v3"] => {
                    if self.store.is_empty() {
                        "server.v3 not found\n".to_string()
                    } else {
                        let mut s = "server.v3 (readable writeable)\n".to_string();
                        for (k, v) in &self.store {
                            s.push_str(&format!("  {k}: {v}\n"));
                        }
                        s
                    }
                }
                ["config", "set", "server.v3", k, v] => {
                    self.store.insert(k.to_string(), v.to_string());
                    "Parameter has been set.\n".to_string()
                }
                ["config", "rm", "server.v3", k] => match self.store.remove(*k) {
                    Some(_) => format!("Instance {k} has been removed.\n"),
                    None => String::new(),
                },
                _ => "Unrecognised command\n".to_string(),
            };
            async move { Ok(out) }
        }
    }

    fn rig() -> BenchRig {
        parse_bench_rig(
            "kind: bench\nmodule: { vehicle_id: B, mqtt_user: b, profile: fw-3.3.006 }\n\
             timing: { tolerance_ms: 500 }\nbench:\n  broker: { tap: \"127.0.0.1:1\", server: 127.0.0.1 }\n  \
             can: { can1: { socketcan: vcan0 } }\n  power: { off: \"true\" }\n  \
             intervals: { idle: 2, connected: 2, on: 2 }\n",
            Path::new("r.yaml"),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn shorten_then_restore_leaves_the_store_as_it_was() {
        let mut m = FirmwareConsole::default();
        m.store.insert("updatetime.connected".into(), "60".into());
        m.store.insert("server".into(), "10.0.0.1".into());
        let before = m.store.clone();
        let plan = shorten_intervals(&rig(), &mut m).await.unwrap();
        assert_eq!(m.store["updatetime.idle"], "2");
        assert_eq!(m.store["updatetime.connected"], "2");
        assert_eq!(m.store["updatetime.on"], "2");
        assert_eq!(m.sent[0], "config list server.v3");
        restore_intervals(&plan, &mut m).await.unwrap();
        assert_eq!(m.store, before);
    }

    #[tokio::test]
    async fn a_refused_set_undoes_the_earlier_ones() {
        let mut m = FirmwareConsole {
            refuse: Some("config set server.v3 updatetime.on 2".into()),
            ..FirmwareConsole::default()
        };
        let e = shorten_intervals(&rig(), &mut m).await.unwrap_err();
        assert!(e.contains("not writeable"), "{e}");
        assert!(m.store.is_empty(), "{:?}", m.store);
    }

    #[tokio::test]
    async fn unreadable_listing_sets_nothing() {
        struct Broken;
        impl CommandSender for Broken {
            async fn send(&mut self, _command: &str) -> Result<String, String> {
                Ok("ERROR: cannot lock config store\n".to_string())
            }
        }
        let e = shorten_intervals(&rig(), &mut Broken).await.unwrap_err();
        assert!(e.contains("cannot lock config store"), "{e}");
    }

    #[tokio::test]
    async fn shell_channel_is_a_sender() {
        let mut ch = ShellCommandChannel {
            template: "echo Parameter has been set. # {command}".into(),
            timeout: std::time::Duration::from_secs(5),
        };
        assert_eq!(
            ch.send("config set server.v3 updatetime.idle 2")
                .await
                .unwrap(),
            "Parameter has been set.\n"
        );
    }
}
