//! ci/mosquitto-image/stage.sh stages a self-contained root file system for the image.

use std::path::Path;
use std::process::Command;

#[test]
fn stage_script_builds_a_self_contained_rootfs() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ci/mosquitto-image/stage.sh"
    );
    let ctx = tempfile::tempdir().unwrap();
    let out = Command::new("sh")
        .arg(script)
        .arg(ctx.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = ctx.path().join("rootfs");
    assert!(root.join("usr/sbin/mosquitto").is_file());
    assert!(ctx.path().join("Dockerfile").is_file());
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(passwd.starts_with("root:x:0:0:"));
    // Every library ldd names is in the rootfs at the same path.
    let ldd = Command::new("ldd")
        .arg("/usr/sbin/mosquitto")
        .output()
        .unwrap();
    let ldd = String::from_utf8_lossy(&ldd.stdout);
    let libs: Vec<&str> = ldd
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .collect();
    assert!(libs.len() > 3, "{ldd}");
    for lib in libs {
        assert!(
            root.join(lib.trim_start_matches('/')).is_file(),
            "missing {lib}"
        );
    }
    // As root, prove it runs with nothing but the rootfs: chroot and ask for the version.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 && Path::new("/usr/sbin/chroot").exists() {
        let run = Command::new("/usr/sbin/chroot")
            .arg(&root)
            .args(["/usr/sbin/mosquitto", "-h"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout).to_string()
            + &String::from_utf8_lossy(&run.stderr);
        assert!(text.contains("mosquitto version 2."), "{text}");
    } else {
        println!("chroot check not run: needs root and /usr/sbin/chroot");
    }
}
