//! The report of a real replay, opened in headless Chromium: no console
//! message, no network request, the key figures in the rendered page, a PNG
//! screenshot. Chromium's NetLog is the witness for network requests: every
//! request the page starts carries the page's `file://` isolation key.
//!
//! Needs Chromium (`/usr/bin/chromium` or `SHORTFALL_CHROMIUM`). Without it
//! the test says so and passes, unless `SHORTFALL_REQUIRE_BROWSER=1`, which
//! `.ci/run` sets after installing Debian's chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_shortfall");

fn workspace() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SHORTFALL_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    if std::env::var("SHORTFALL_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("SHORTFALL_REQUIRE_BROWSER=1 but no chromium found");
    }
    eprintln!("browser test skipped: no chromium (set SHORTFALL_CHROMIUM)");
    None
}

struct Visit {
    console: Vec<String>,
    requests: Vec<String>,
    dom: String,
}

/// Opens `page` headless (twice: screenshot + NetLog, then the DOM after
/// layout). Flags as the machine notes ask: no background networking, a
/// fresh profile.
fn visit(chrome: &Path, page: &Path, work: &Path, shot: &Path) -> Visit {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let common = |profile: &str| {
        let mut c = Command::new(chrome);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ]);
        c.arg(format!("--user-data-dir={}", work.join(profile).display()));
        c
    };
    let net = work.join("netlog.json");
    let out = common("p1")
        .arg(format!("--log-net-log={}", net.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1240,3200")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut console: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let dom_out = common("p2")
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    console.extend(
        String::from_utf8_lossy(&dom_out.stderr)
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string),
    );
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&net).unwrap()).unwrap();
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .unwrap();
    let requests = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.contains("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .map(str::to_string)
        .collect();
    Visit {
        console,
        requests,
        dom: String::from_utf8_lossy(&dom_out.stdout).into_owned(),
    }
}

#[test]
fn the_report_renders_in_chromium_offline_and_clean() {
    let Some(chrome) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let run = work.path().join("run");
    let out = Command::new(BIN)
        .args(["--no-progress", "replay", "--scenario"])
        .arg(workspace().join("datasets/scenarios/black-thursday-aave-v3.toml"))
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = run.join("report.html");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("report.json")).unwrap()).unwrap();

    // Positive control: the detectors see a page that loads from the network
    // and logs to the console (so a clean result below means something).
    let bad = work.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><body><img src=\"https://example.invalid/x.png\"><script>console.error('boom')</script></body></html>",
    )
    .unwrap();
    let v = visit(
        &chrome,
        &bad,
        &work.path().join("bad"),
        &work.path().join("bad.png"),
    );
    assert!(
        v.requests.iter().any(|u| u.contains("example.invalid")),
        "{:?}",
        v.requests
    );
    assert!(
        v.console.iter().any(|l| l.contains("boom")),
        "{:?}",
        v.console
    );

    let shot = std::env::var_os("SHORTFALL_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.path().join("report.png"));
    let v = visit(&chrome, &report, &work.path().join("good"), &shot);
    assert!(v.console.is_empty(), "console messages: {:#?}", v.console);
    assert!(v.requests.is_empty(), "network requests: {:#?}", v.requests);
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot of {} bytes",
        png.len()
    );
    // The key figures, as the page shows them after layout.
    for key in ["bad_debt_usd", "npl_count", "liquidated_volume_usd"] {
        let f = json["headline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .unwrap();
        let shown = f["display"].as_str().unwrap();
        assert!(
            v.dom.contains(shown),
            "{key} = {shown} not in the rendered page"
        );
    }
    assert!(
        v.dom.contains("GENERATED"),
        "the generated-book notice is in the page"
    );
    assert!(v.dom.contains("<svg"), "charts rendered");
}

#[test]
fn the_observed_liquidations_report_renders_offline_and_clean() {
    let Some(chrome) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let fixtures = workspace().join("crates/ingest/tests/fixtures");
    let ds = work.path().join("aave");
    let ingest = Command::new(BIN)
        .args([
            "--no-progress",
            "-q",
            "ingest",
            "--format",
            "events-csv",
            "--mapping",
        ])
        .arg(workspace().join("datasets/mappings/aave_v2_subgraph_liquidations.toml"))
        .arg("--reserves")
        .arg(fixtures.join("aave_v2_reserves.subgraph.csv"))
        .arg("--dataset")
        .arg(&ds)
        .arg(fixtures.join("aave_v2_liquidations.subgraph.csv"))
        .output()
        .unwrap();
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    let page = work.path().join("observed.html");
    let out = Command::new(BIN)
        .args(["--no-progress", "forensics"])
        .arg(&ds)
        .arg("--out")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = visit(
        &chrome,
        &page,
        &work.path().join("obs"),
        &work.path().join("obs.png"),
    );
    assert!(v.console.is_empty(), "console messages: {:#?}", v.console);
    assert!(v.requests.is_empty(), "network requests: {:#?}", v.requests);
    assert!(v.dom.contains("Realised versus configured bonus"));
    assert!(v.dom.contains("<svg"), "chart rendered");
}
