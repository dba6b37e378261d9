//! `ovms-hil lint`: check feature files and rig files without running anything.
//!
//! Features: syntax (`file:line:col`), then every step against the step collection — undefined and
//! ambiguous steps are reported with `file:line`, and requirement tags that name no requirement are
//! warned about. Rig files (`*.yaml`): parsed with unknown keys rejected, `file:line:col`; bench rigs
//! also through `ovms_hil_bench::lint_bench_rig` (the `bench:` section in depth).

use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin;

use crate::coverage::ids;
use crate::rig::file::{RigFile, RigKind};

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `file:line[:col]: message`.
    pub text: String,
    /// Errors fail the lint; warnings do not.
    pub error: bool,
}

/// Lint `paths` (directories are searched for `.feature` and `.yaml` files).
pub fn lint(paths: &[PathBuf]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut features = Vec::new();
    let mut yamls = Vec::new();
    for p in paths {
        collect(p, &mut features, &mut yamls, &mut out);
    }
    features.sort();
    yamls.sort();
    let steps = crate::steps::collection();
    for f in &features {
        match crate::features::parse_feature(f) {
            Err(e) => out.push(Finding {
                text: e.to_string(),
                error: true,
            }),
            Ok(feat) => check_feature(&feat, f, &steps, &mut out),
        }
    }
    for y in &yamls {
        match RigFile::load(y) {
            Err(e) => out.push(Finding {
                text: e.to_string(),
                error: true,
            }),
            // Bench rigs: the `bench:` section in depth (broker, CAN, probe, power, commands,
            // intervals against the profile, tolerances), each finding with file:line:col.
            Ok(r) if r.kind == RigKind::Bench => out.extend(
                ovms_hil_bench::lint_bench_rig(y)
                    .into_iter()
                    .map(|d| Finding {
                        text: d.to_string(),
                        error: d.is_error(),
                    }),
            ),
            Ok(_) => {}
        }
    }
    out
}

fn collect(
    p: &Path,
    features: &mut Vec<PathBuf>,
    yamls: &mut Vec<PathBuf>,
    out: &mut Vec<Finding>,
) {
    if p.is_dir() {
        let Ok(rd) = std::fs::read_dir(p) else {
            out.push(Finding {
                text: format!("{}: cannot read directory", p.display()),
                error: true,
            });
            return;
        };
        for e in rd.flatten() {
            collect(&e.path(), features, yamls, out);
        }
    } else if p.extension().is_some_and(|e| e == "feature") {
        features.push(p.to_path_buf());
    } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
        yamls.push(p.to_path_buf());
    } else if !p.exists() {
        out.push(Finding {
            text: format!("{}: no such file or directory", p.display()),
            error: true,
        });
    }
}

fn check_feature(
    feat: &gherkin::Feature,
    path: &Path,
    steps: &cucumber::step::Collection<crate::world::HilWorld>,
    out: &mut Vec<Finding>,
) {
    let expanded = match feat.clone().expand_examples() {
        Ok(f) => f,
        Err(e) => {
            out.push(Finding {
                text: format!("{}: {e}", path.display()),
                error: true,
            });
            return;
        }
    };
    let mut check_tags = |tags: &[String], line: usize| {
        for t in tags.iter().filter(|t| ids::is_requirement_tag(t)) {
            if !ids::is_known_requirement(t) {
                out.push(Finding {
                    text: format!(
                        "{}:{line}: warning: @{t} names no known requirement",
                        path.display()
                    ),
                    error: false,
                });
            }
        }
    };
    check_tags(&expanded.tags, expanded.position.line);
    let scenarios = expanded
        .scenarios
        .iter()
        .chain(expanded.rules.iter().flat_map(|r| r.scenarios.iter()));
    let mut step_list: Vec<&gherkin::Step> = Vec::new();
    if let Some(b) = &expanded.background {
        step_list.extend(b.steps.iter());
    }
    for r in &expanded.rules {
        if let Some(b) = &r.background {
            step_list.extend(b.steps.iter());
        }
    }
    for s in scenarios {
        check_tags(&s.tags, s.position.line);
        step_list.extend(s.steps.iter());
    }
    let mut seen = std::collections::HashSet::new();
    for st in step_list {
        if !seen.insert((st.position.line, st.value.clone())) {
            continue;
        }
        match steps.find(st) {
            Ok(Some(_)) => {}
            Ok(None) => out.push(Finding {
                text: format!(
                    "{}:{}:{}: undefined step: {} {}",
                    path.display(),
                    st.position.line,
                    st.position.col,
                    st.keyword.trim(),
                    st.value
                ),
                error: true,
            }),
            Err(e) => {
                let defs: Vec<String> = e
                    .possible_matches
                    .iter()
                    .map(|(re, loc)| match loc {
                        Some(l) => format!("{re} ({}:{})", l.path, l.line),
                        None => re.to_string(),
                    })
                    .collect();
                out.push(Finding {
                    text: format!(
                        "{}:{}:{}: ambiguous step: {} {} — matches {}",
                        path.display(),
                        st.position.line,
                        st.position.col,
                        st.keyword.trim(),
                        st.value,
                        defs.join(" and ")
                    ),
                    error: true,
                });
            }
        }
    }
}

/// `ovms-hil lint` entry point: prints findings, returns the exit code (0 clean, 2 errors).
pub fn main(paths: &[PathBuf]) -> u8 {
    let paths = if paths.is_empty() {
        vec![PathBuf::from("features"), PathBuf::from("rigs")]
    } else {
        paths.to_vec()
    };
    let findings = lint(&paths);
    for f in &findings {
        println!("{}", f.text);
    }
    let errors = findings.iter().filter(|f| f.error).count();
    println!("{errors} error(s), {} warning(s)", findings.len() - errors);
    if errors > 0 {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_step_and_unknown_tag_are_reported_with_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.feature");
        std::fs::write(
            &p,
            "Feature: x\n  @V3-NOPE-1\n  Scenario: y\n    Given the module is connected to the broker\n    When the moon turns blue\n",
        )
        .unwrap();
        let f = lint(std::slice::from_ref(&p));
        let texts: Vec<&str> = f.iter().map(|f| f.text.as_str()).collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("x.feature:5:") && t.contains("undefined step")),
            "{texts:?}"
        );
        assert!(texts.iter().any(|t| t.contains("@V3-NOPE-1")), "{texts:?}");
        assert_eq!(f.iter().filter(|f| f.error).count(), 1, "{texts:?}");
    }

    #[test]
    fn bad_rig_file_is_an_error_with_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.yaml");
        std::fs::write(&p, "kind: emulated\ntiming:\n  settle: 3\n").unwrap();
        let f = lint(&[p]);
        assert_eq!(f.len(), 1);
        assert!(f[0].text.contains("r.yaml:3:"), "{}", f[0].text);
    }

    #[test]
    fn shipped_bench_rigs_lint_clean() {
        let rigs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rigs");
        let mut n = 0;
        for entry in std::fs::read_dir(&rigs).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("bench-") && name.ends_with(".yaml") {
                let f = lint(std::slice::from_ref(&path));
                assert!(f.iter().all(|f| !f.error), "{name}: {f:?}");
                n += 1;
            }
        }
        assert!(n >= 3, "only {n} bench rigs found in {}", rigs.display());
    }

    #[test]
    fn bench_rig_is_linted_in_depth_with_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.yaml");
        // Valid for the generic rig format (the bench section is open there), but the
        // bench linter rejects the interval the profile does not have, at its position.
        std::fs::write(
            &p,
            "kind: bench\nmodule:\n  vehicle_id: B\n  profile: fw-3.3.006\nbench:\n  \
             broker: { tap: \"127.0.0.1:18830\", server: 127.0.0.1 }\n  \
             power: { on: \"true\", off: \"true\" }\n  intervals:\n    idle: 0\n",
        )
        .unwrap();
        assert!(RigFile::load(&p).is_ok());
        let f = lint(std::slice::from_ref(&p));
        let errs: Vec<&Finding> = f.iter().filter(|f| f.error).collect();
        assert!(!errs.is_empty(), "{f:?}");
        assert!(
            errs.iter().any(|e| e.text.contains("b.yaml:9:")),
            "expected a finding at the interval (line 9): {f:?}"
        );
    }
}
