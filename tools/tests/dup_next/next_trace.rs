//! Tracer goldens (spec §7.8): every program under `tests/golden/next/` traced through the
//! sandbox must match its `.expected` annotation byte for byte, twice in a row.
//! The `.expected` files were produced by the tracer once and then checked line by line by hand
//! against the format rules in `src/next/trace.rs` (step numbering, changed variables only,
//! elision, truncation, exception/timeout markers).

use crate::next::sandbox::Limits;
use crate::next::trace::{trace, Knobs, Status};

fn golden_dir() -> std::path::PathBuf {
    crate::crate_dir().join("tests/golden/next")
}

fn knobs_for(case: &serde_json::Value) -> Knobs {
    let mut k = Knobs::default();
    if let Some(o) = case.get("knobs") {
        if let Some(v) = o.get("max_events").and_then(|v| v.as_u64()) {
            k.max_events = v as usize;
        }
        if let Some(v) = o.get("max_repr_chars").and_then(|v| v.as_u64()) {
            k.max_repr_chars = v as usize;
        }
    }
    k
}

#[test]
fn tracer_goldens_are_byte_stable() {
    let cases: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join("cases.json")).expect("cases.json"),
    )
    .expect("json");
    assert!(cases.len() >= 10);
    let limits = Limits::default();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let call = case["call"].as_str().expect("call");
        let code = std::fs::read_to_string(golden_dir().join(format!("{name}.py"))).expect("py");
        let expected =
            std::fs::read_to_string(golden_dir().join(format!("{name}.expected"))).expect("exp");
        let k = knobs_for(case);
        let a = trace(&code, call, &k, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.annotated, expected, "{name}");
        let b = trace(&code, call, &k, &limits).expect("second run");
        assert_eq!(a.annotated, b.annotated, "{name}: not stable");
        match name {
            "exception" => assert!(
                matches!(a.status, Status::Exception(ref e) if e.starts_with("ZeroDivisionError"))
            ),
            "infinite_loop" => assert_eq!(a.status, Status::Timeout),
            _ => assert_eq!(a.status, Status::Ok, "{name}"),
        }
    }
}

#[test]
fn spec_example_exactly() {
    let code = "def f(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n";
    let t = trace(code, "f([1, 2, 3])", &Knobs::default(), &Limits::default()).expect("trace");
    let want = "\
def f(xs):        # (0) xs=[1, 2, 3]
    s = 0         # (1) s=0
    for x in xs:  # (2) x=1; (4) x=2; (6) x=3
        s += x    # (3) s=1; (5) s=3; (7) s=6
    return s      # (8) __return__=6
";
    assert_eq!(t.annotated, want);
}

#[test]
fn wall_clock_backstop_kills_sleeping_code() {
    let code = "import time\ndef f():\n    time.sleep(30)\n";
    let limits = Limits {
        timeout: std::time::Duration::from_millis(500),
        ..Limits::default()
    };
    let t0 = std::time::Instant::now();
    let r = trace(code, "f()", &Knobs::default(), &limits);
    assert!(
        r.is_err(),
        "sleep is not a line event: only the wall clock can stop it"
    );
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn cli_trace_prints_the_golden() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pico"))
        .args(["next", "trace", "--call", "total(100)", "--code"])
        .arg(golden_dir().join("long_loop.py"))
        .output()
        .expect("run pico");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = std::fs::read_to_string(golden_dir().join("long_loop.expected")).expect("exp");
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}

#[test]
fn total_state_cap_and_elision_knobs() {
    let code = std::fs::read_to_string(golden_dir().join("loop.py")).expect("py");
    let k = Knobs {
        max_total_states: 4,
        ..Knobs::default()
    };
    let t = trace(&code, "f([1, 2, 3])", &k, &Limits::default()).expect("trace");
    assert_eq!(
        t.annotated,
        "def f(xs):        # (0) xs=[1, 2, 3]\n    s = 0         # (1) s=0\n    for x in xs:  # (2) x=1\n        s += x    # (3) s=1\n    return s\n# ... 5 more states not shown\n"
    );
    let k = Knobs {
        keep_first: 1,
        keep_last: 0,
        ..Knobs::default()
    };
    let t = trace(&code, "f([1, 2, 3])", &k, &Limits::default()).expect("trace");
    assert!(
        t.annotated.contains("    for x in xs:  # (2) x=1; ...\n"),
        "{}",
        t.annotated
    );
}
