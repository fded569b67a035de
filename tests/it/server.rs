//! The SAPI-compatible server on a real socket (port 0), driven by a plain HTTP client (reqwest blocking)
//! and raw TCP for byte-level checks. Protocol: docs/sapi-protocol.md (checklist §10).

use crate::common::{mock8q, shared_data};

use flate2::write::ZlibEncoder;
use qasa::sapi::qp::{decode_answer, encode_f64_le, QpAnswer};
use qasa::server::{FaultConfig, Server, ServerConfig, ServerHandle, SolverSource};
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const MOCK: &str = "Mock8Q_system1.1";
const GRAPH_ID: &str = "0a1b2c3d4e";

fn mock_config() -> ServerConfig {
    ServerConfig {
        solvers: vec![SolverSource::File(
            shared_data().join("sapi/mock-solver-Mock8Q.json"),
        )],
        seed: 11,
        ..ServerConfig::default()
    }
}

fn start(config: ServerConfig) -> ServerHandle {
    Server::start(config).expect("server starts")
}

fn media(kind: &str) -> String {
    format!("application/vnd.dwave.sapi.{kind}+json; version=3.0.0")
}

fn get(url: &str, kind: &str) -> Response {
    Client::new()
        .get(url)
        .header("Accept", media(kind))
        .send()
        .expect("GET")
}

fn json_of(r: Response) -> Value {
    r.json().expect("JSON body")
}

fn content_type(r: &Response) -> String {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// `lin` over the Mock8Q qubits from `h` (qubit → field); other qubits NaN.
fn lin(h: &[(u32, f64)]) -> String {
    let vals: Vec<f64> = mock8q()
        .qubits()
        .iter()
        .map(|q| {
            h.iter()
                .find(|(k, _)| k == q)
                .map(|(_, v)| *v)
                .unwrap_or(f64::NAN)
        })
        .collect();
    encode_f64_le(&vals)
}

/// Number of Mock8Q couplers with both ends among `active`.
fn active_couplers(active: &[u32]) -> usize {
    mock8q()
        .couplers()
        .iter()
        .filter(|(u, v)| active.contains(u) && active.contains(v))
        .count()
}

fn job(h: &[(u32, f64)], params: Value) -> Value {
    let active: Vec<u32> = h.iter().map(|p| p.0).collect();
    let quad = encode_f64_le(&vec![0.0; active_couplers(&active)]);
    json!({"solver": {"name": MOCK, "version": {"graph_id": GRAPH_ID}},
           "data": {"format": "qp", "lin": lin(h), "quad": quad, "offset": 0.0},
           "type": "ising", "params": params, "label": "test"})
}

fn deflate(body: &Value) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(body.to_string().as_bytes()).unwrap();
    e.finish().unwrap()
}

/// POST problems/ the way the official client does: zlib body, no Content-Type.
fn submit(base: &str, body: &Value) -> Response {
    Client::new()
        .post(format!("{base}problems/"))
        .header("Accept", media("problems"))
        .header("Content-Encoding", "deflate")
        .body(deflate(body))
        .send()
        .expect("POST")
}

/// Long-poll until every id is terminal (a long poll returns once any listed problem is terminal, so only
/// the unfinished ones are polled); returns the final short statuses in `ids` order.
fn wait_all(base: &str, ids: &[String]) -> Vec<Value> {
    let terminal = |p: &Value| {
        ["COMPLETED", "FAILED", "CANCELLED"].contains(&p["status"].as_str().unwrap_or(""))
    };
    let mut done: std::collections::HashMap<String, Value> = std::collections::HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.len() < ids.len() {
        assert!(Instant::now() < deadline, "problems {ids:?} never finished");
        let open: Vec<&str> = ids
            .iter()
            .filter(|i| !done.contains_key(*i))
            .map(String::as_str)
            .collect();
        let v = json_of(get(
            &format!("{base}problems/?id={}&timeout=10", open.join(",")),
            "problems",
        ));
        for p in v.as_array().unwrap().iter().filter(|p| terminal(p)) {
            done.insert(p["id"].as_str().unwrap().to_string(), p.clone());
        }
    }
    ids.iter().map(|i| done[i].clone()).collect()
}

fn answer_of(base: &str, id: &str) -> QpAnswer {
    let v = json_of(get(&format!("{base}problems/{id}/"), "problem"));
    assert_eq!(v["status"], "COMPLETED", "{v}");
    decode_answer(&v["answer"]).expect("a valid qp answer")
}

/// Shapes, energies = Σ h s, occurrences summing to num_reads.
fn check_answer(a: &QpAnswer, h: &[(u32, f64)], num_reads: u64, raw: bool) {
    let mut want: Vec<u32> = h.iter().map(|p| p.0).collect();
    want.sort();
    assert_eq!(a.active_variables, want);
    assert_eq!(a.num_variables, 8);
    assert_eq!(a.total_reads(), num_reads);
    assert_eq!(a.has_num_occurrences, !raw);
    let rows = a.solutions.to_spin_rows();
    assert_eq!(rows.len(), a.energies.len());
    if raw {
        assert_eq!(rows.len() as u64, num_reads);
    }
    for (row, e) in rows.iter().zip(&a.energies) {
        let sum: f64 = a
            .active_variables
            .iter()
            .zip(row)
            .map(|(q, &s)| h.iter().find(|p| p.0 == *q).unwrap().1 * f64::from(s))
            .sum();
        assert!((sum - e).abs() < 1e-12, "energy {e} != Σ h s = {sum}");
    }
    if !raw {
        assert!(
            a.energies.windows(2).all(|w| w[0] <= w[1]),
            "histogram sorted by energy"
        );
    }
}

#[test]
fn solver_list_and_get_with_vendor_media_types_etag_and_filters() {
    let s = start(mock_config());
    let base = s.base_url().to_string();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/sapi/v2/"));
    let r = get(&format!("{base}solvers/remote/"), "solver-definition-list");
    assert_eq!(r.status(), 200);
    assert_eq!(
        content_type(&r),
        format!("{}; charset=utf-8", media("solver-definition-list"))
    );
    let list = json_of(r);
    assert_eq!(
        list[0]["identity"],
        json!({"name": MOCK, "version": {"graph_id": GRAPH_ID}})
    );

    let url = format!("{base}solvers/remote/{MOCK}?filter=all%2C-status%2C-avg_load");
    let r = get(&url, "solver-definition");
    assert_eq!(
        content_type(&r),
        format!("{}; charset=utf-8", media("solver-definition"))
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));
    let stat = json_of(r);
    assert!(
        stat.get("status").is_none() && stat["properties"]["qubits"] == json!(mock8q().qubits())
    );
    let r = Client::new()
        .get(&url)
        .header("Accept", media("solver-definition"))
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);
    assert!(r.bytes().unwrap().is_empty());

    let dynamic = json_of(get(
        &format!(
            "{base}solvers/remote/{MOCK}/?filter=none%2C%2Bidentity%2C%2Bstatus%2C%2Bavg_load"
        ),
        "solver-definition",
    ));
    assert_eq!(
        dynamic,
        json!({"identity": {"name": MOCK, "version": {"graph_id": GRAPH_ID}}, "status": "ONLINE", "avg_load": 0.12})
    );

    let r = get(
        &format!("{base}solvers/remote/NoSuchSolver"),
        "solver-definition",
    );
    assert_eq!(r.status(), 404);
    assert_eq!(json_of(r)["error_code"], 404);
}

#[test]
fn byte_level_response_head() {
    let s = start(mock_config());
    let addr = s.local_addr();
    let mut tcp = TcpStream::connect(addr).unwrap();
    write!(
        tcp,
        "GET /sapi/v2/solvers/remote/{MOCK}?filter=none%2C%2Bidentity HTTP/1.1\r\nHost: x\r\nAccept: {}\r\nConnection: close\r\n\r\n",
        media("solver-definition")
    )
    .unwrap();
    let mut text = String::new();
    tcp.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains(
        "\r\nContent-Type: application/vnd.dwave.sapi.solver-definition+json; version=3.0.0; charset=utf-8\r\n"
    ));
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(
        body,
        format!(
            "{{\"identity\":{{\"name\":\"{MOCK}\",\"version\":{{\"graph_id\":\"{GRAPH_ID}\"}}}}}}"
        )
    );
}

#[test]
fn deflate_submit_long_poll_answer_round_trip() {
    let s = start(ServerConfig {
        solve_time_ms: 100,
        submit_wait_ms: 0,
        ..mock_config()
    });
    let base = s.base_url().to_string();
    let h1 = [(0, -0.3), (4, 0.2), (7, 0.0)];
    let h2 = [(1, 0.5), (2, -0.1), (3, 0.05), (5, 1.0)];
    let body = json!([
        job(&h1, json!({"num_reads": 500, "auto_scale": false})),
        job(
            &h2,
            json!({"num_reads": 64, "answer_mode": "raw", "auto_scale": false})
        )
    ]);
    let r = submit(&base, &body);
    assert_eq!(r.status(), 200);
    assert_eq!(
        content_type(&r),
        format!("{}; charset=utf-8", media("problems"))
    );
    let items = json_of(r);
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 2);
    for it in items {
        assert!(
            ["PENDING", "IN_PROGRESS"].contains(&it["status"].as_str().unwrap()),
            "{it}"
        );
        assert_eq!(it["type"], "ising");
        assert_eq!(
            it["solver"],
            json!({"name": MOCK, "version": {"graph_id": GRAPH_ID}})
        );
        assert!(it["submitted_on"].as_str().unwrap().ends_with('Z'));
        assert!(it.get("answer").is_none());
    }
    let ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    let done = wait_all(&base, &ids);
    assert!(done.iter().all(|p| p["status"] == "COMPLETED"
        && p.get("answer").is_none()
        && p["solved_on"].is_string()));

    check_answer(&answer_of(&base, &ids[0]), &h1, 500, false);
    check_answer(&answer_of(&base, &ids[1]), &h2, 64, true);

    // /answer wraps the same answer; /info and /messages; trailing slash optional.
    let full = json_of(get(&format!("{base}problems/{}", ids[0]), "problem"));
    let wrapped = json_of(get(
        &format!("{base}problems/{}/answer", ids[0]),
        "problem-answer",
    ));
    assert_eq!(wrapped, json!({"answer": full["answer"]}));
    let info = json_of(get(
        &format!("{base}problems/{}/info", ids[0]),
        "problem-data",
    ));
    assert_eq!(info["data"]["lin"], json!(lin(&h1)));
    assert_eq!(info["params"]["num_reads"], 500);
    assert_eq!(info["metadata"]["status"], "COMPLETED");
    assert_eq!(
        json_of(get(
            &format!("{base}problems/{}/messages", ids[0]),
            "problem-message"
        )),
        json!([])
    );
    // Listing recent problems.
    let recent = json_of(get(&format!("{base}problems/?max_results=1"), "problems"));
    assert_eq!(recent.as_array().unwrap().len(), 1);
    assert_eq!(
        get(&format!("{base}problems/?status=BOGUS"), "problems").status(),
        400
    );
    assert_eq!(
        get(
            &format!("{base}problems/?id={}&timeout=99", ids[0]),
            "problems"
        )
        .status(),
        400
    );
}

#[test]
fn fast_problems_come_back_inline_with_timing_from_the_model() {
    let s = start(mock_config());
    let base = s.base_url().to_string();
    // Transcript S02: 10 reads on 2 qubits of the Advantage-4.1 timing model.
    let h = [(0, -1.0), (4, 0.5)];
    let items = json_of(submit(&base, &json!([job(&h, json!({"num_reads": 10}))])));
    let p = &items[0];
    assert_eq!(p["status"], "COMPLETED", "{p}");
    let a = decode_answer(&p["answer"]).unwrap();
    check_answer(&a, &h, 10, false);
    let t = &p["answer"]["timing"];
    assert_eq!(t["qpu_sampling_time"], 872.6);
    assert_eq!(t["qpu_programming_time"], 15072.88);
    assert_eq!(t["qpu_access_time"], 15945.48);
    assert_eq!(t["qpu_readout_time_per_sample"], 46.72);

    // A single object (low-level API, plain JSON with Content-Type) gets a single object back.
    let r = Client::new()
        .post(format!("{base}problems/"))
        .header("Accept", media("problems"))
        .header("Content-Type", "application/json")
        .body(job(&h, json!({"num_reads": 3, "answer_mode": "raw"})).to_string())
        .send()
        .unwrap();
    let one = json_of(r);
    assert_eq!(one["status"], "COMPLETED");
    check_answer(&decode_answer(&one["answer"]).unwrap(), &h, 3, true);
}

#[test]
fn token_is_required_when_configured() {
    let cfg = ServerConfig {
        token: qasa::sapi::Token::new("sekret"),
        ..mock_config()
    };
    assert!(
        !format!("{cfg:?}").contains("sekret"),
        "the token is redacted in Debug"
    );
    let s = start(cfg);
    let url = format!("{}solvers/remote/{MOCK}", s.base_url());
    for token in [None, Some("wrong")] {
        let mut rq = Client::new()
            .get(&url)
            .header("Accept", media("solver-definition"));
        if let Some(t) = token {
            rq = rq.header("X-Auth-Token", t);
        }
        let r = rq.send().unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            json_of(r),
            json!({"error_code": 401, "error_msg": "Invalid token or access denied."})
        );
    }
    let r = Client::new()
        .get(&url)
        .header("Accept", media("solver-definition"))
        .header("X-Auth-Token", "sekret")
        .send();
    assert_eq!(r.unwrap().status(), 200);
}

#[test]
fn malformed_problems_are_item_errors() {
    let s = start(mock_config());
    let base = s.base_url().to_string();
    let good = job(&[(0, 0.1)], json!({"num_reads": 5}));
    let mut short_lin = good.clone();
    short_lin["data"]["lin"] = json!(encode_f64_le(&[0.1, 0.2]));
    let mut coupled = job(&[(0, 0.1), (4, 0.1)], json!({}));
    coupled["data"]["quad"] = json!(encode_f64_le(&[-1.0]));
    let mut bad_b64 = good.clone();
    bad_b64["data"]["lin"] = json!("not base64!");
    let too_long = job(
        &[(0, 0.1)],
        json!({"num_reads": 10000, "annealing_time": 2000.0}),
    );
    let r = submit(&base, &json!([good, short_lin, coupled, bad_b64, too_long]));
    assert_eq!(r.status(), 200);
    let items = json_of(r);
    assert_eq!(items[0]["status"], "COMPLETED");
    for (k, needle) in [
        (
            1,
            "solver Mock8Q_system1.1: qp field `lin`: expected 7 values, found 2; lin has one value per entry of the solver's properties.qubits",
        ),
        (2, "non-zero coupling J = -1 on coupler (0, 4)"),
        (3, "base64"),
        (
            4,
            "Upper limit on user-specified timing related parameters exceeded: ",
        ),
    ] {
        assert_eq!(items[k]["error_code"], 400, "{}", items[k]);
        let msg = items[k]["error_msg"].as_str().unwrap();
        assert!(msg.contains(needle), "item {k}: {msg}");
    }
    assert_eq!(s.stats().problems_accepted, 1);
    assert_eq!(s.stats().problems_rejected, 4);
    // A malformed single object is a 400 reply; a body that is not JSON too.
    let r = Client::new()
        .post(format!("{base}problems/"))
        .header("Accept", media("problems"))
        .body(items[1].to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = Client::new()
        .post(format!("{base}problems/"))
        .header("Accept", media("problems"))
        .body("[{")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(json_of(r)["error_msg"]
        .as_str()
        .unwrap()
        .contains("not JSON"));
}

#[test]
fn accept_header_is_checked_like_sapi() {
    let s = start(mock_config());
    let url = format!("{}solvers/remote/{MOCK}", s.base_url());
    let with = |accept: Option<&str>| {
        let mut rq = Client::new().get(&url);
        if let Some(a) = accept {
            rq = rq.header("Accept", a);
        }
        rq.send().unwrap()
    };
    let v21 = "application/vnd.dwave.sapi.solver-definition+json; version=2.1.0";
    for bad in [
        v21,
        "application/json",
        "text/html",
        "application/vnd.dwave.sapi.problem+json; version=3.0.0",
    ] {
        let r = with(Some(bad));
        assert_eq!(r.status(), 415, "{bad}");
        assert_eq!(content_type(&r), "application/json");
    }
    let r = with(None);
    assert_eq!(r.status(), 200);
    assert!(r.headers()["x-deprecation"]
        .to_str()
        .unwrap()
        .starts_with("dep-1;"));
    assert!(with(Some(&media("solver-definition")))
        .headers()
        .get("x-deprecation")
        .is_none());

    let strict = start(ServerConfig {
        strict_accept: true,
        ..mock_config()
    });
    let r = Client::new()
        .get(format!("{}solvers/remote/{MOCK}", strict.base_url()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 415);
}

#[test]
fn cancel_pending_and_in_progress_problems() {
    let s = start(ServerConfig {
        solve_time_ms: 400,
        submit_wait_ms: 0,
        ..mock_config()
    });
    let base = s.base_url().to_string();
    let h = [(0, 0.1)];
    let items = json_of(submit(
        &base,
        &json!([job(&h, json!({})), job(&h, json!({}))]),
    ));
    let (a, b) = (
        items[0]["id"].as_str().unwrap().to_string(),
        items[1]["id"].as_str().unwrap().to_string(),
    );
    // The QPU takes problems one at a time: wait until the first is running (the second stays PENDING).
    let deadline = Instant::now() + Duration::from_secs(20);
    while json_of(get(&format!("{base}problems/{a}/"), "problem"))["status"] != "IN_PROGRESS" {
        assert!(Instant::now() < deadline, "problem never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let r = Client::new()
        .delete(format!("{base}problems/"))
        .header("Accept", media("problems"))
        .body(json!([b, a, "no-such-id"]).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = json_of(r);
    assert_eq!(out[0]["status"], "CANCELLED");
    assert_eq!(
        out[1],
        json!({"error_code": 202, "error_msg": "Attempting to cancel problem in progress."})
    );
    assert_eq!(out[2]["error_code"], 404);
    let done = wait_all(&base, &[a.clone(), b.clone()]);
    assert!(done.iter().all(|p| p["status"] == "CANCELLED"), "{done:?}");
    // Finished problems cannot be cancelled; single DELETE says so with 409.
    let r = Client::new()
        .delete(format!("{base}problems/{b}"))
        .header("Accept", media("problem"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(json_of(r)["error_msg"], "Problem has been finished.");
    assert_eq!(
        get(&format!("{base}problems/{b}/answer"), "problem-answer").status(),
        404
    );
}

#[test]
fn long_poll_returns_at_completion() {
    let s = start(ServerConfig {
        solve_time_ms: 300,
        submit_wait_ms: 0,
        ..mock_config()
    });
    let base = s.base_url().to_string();
    let items = json_of(submit(&base, &json!([job(&[(3, 0.2)], json!({}))])));
    let id = items[0]["id"].as_str().unwrap().to_string();
    // timeout=0 answers at once, before the 300 ms solve.
    let now = json_of(get(&format!("{base}problems/?id={id}"), "problems"));
    assert_ne!(now[0]["status"], "COMPLETED");
    // One long poll with a 30 s timeout returns COMPLETED; far sooner than the timeout (generous bound:
    // this checks that completion wakes the poll, not speed).
    let t0 = Instant::now();
    let v = json_of(get(
        &format!("{base}problems/?id={id}&timeout=30"),
        "problems",
    ));
    assert_eq!(v[0]["status"], "COMPLETED");
    assert!(t0.elapsed() < Duration::from_secs(20));
    // The same on GET problems/{id}/?timeout=N, which then carries the answer.
    let items = json_of(submit(&base, &json!([job(&[(3, 0.2)], json!({}))])));
    let id = items[0]["id"].as_str().unwrap();
    let v = json_of(get(&format!("{base}problems/{id}/?timeout=30"), "problem"));
    assert_eq!(v["status"], "COMPLETED");
    assert!(v["answer"]["solutions"].is_string());
}

fn statuses_under_faults(seed: u64) -> (Vec<(u16, Option<String>)>, u64) {
    let faults = FaultConfig {
        fail_rate: 0.4,
        fail_statuses: vec![429, 503, 500],
        ..FaultConfig::default()
    };
    let s = start(ServerConfig {
        seed,
        faults,
        ..mock_config()
    });
    let url = format!("{}solvers/remote/{MOCK}", s.base_url());
    let out = (0..40)
        .map(|_| {
            let r = get(&url, "solver-definition");
            let ra = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            (r.status().as_u16(), ra)
        })
        .collect();
    (out, s.stats().injected_failures)
}

#[test]
fn injected_request_failures_are_seeded() {
    let (a, injected) = statuses_under_faults(5);
    assert_eq!(a, statuses_under_faults(5).0);
    assert_ne!(a, statuses_under_faults(6).0);
    let failed = a.iter().filter(|(s, _)| *s != 200).count() as u64;
    assert_eq!(failed, injected);
    assert!(failed > 0 && failed < 40);
    for (status, retry_after) in &a {
        match status {
            200 | 500 => assert!(retry_after.is_none()),
            429 | 503 => assert_eq!(retry_after.as_deref(), Some("1")),
            other => panic!("unexpected status {other}"),
        }
    }
}

fn drops_under_faults(seed: u64) -> (Vec<bool>, u64) {
    let faults = FaultConfig {
        drop_rate: 0.5,
        ..FaultConfig::default()
    };
    let s = start(ServerConfig {
        seed,
        faults,
        ..mock_config()
    });
    let out = (0..30)
        .map(|_| {
            let mut tcp = TcpStream::connect(s.local_addr()).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            write!(tcp, "GET /sapi/v2/solvers/remote/{MOCK}?filter=none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut buf = Vec::new();
            let _ = tcp.read_to_end(&mut buf);
            buf.is_empty()
        })
        .collect();
    (out, s.stats().dropped_replies)
}

#[test]
fn dropped_replies_close_the_connection_unanswered_and_are_seeded() {
    let (a, dropped) = drops_under_faults(3);
    assert_eq!(a, drops_under_faults(3).0);
    assert_eq!(a.iter().filter(|d| **d).count() as u64, dropped);
    assert!(dropped > 0 && dropped < 30);
}

#[test]
fn dropped_posts_are_billed_unless_dropped_before_processing() {
    for before in [false, true] {
        let faults = FaultConfig {
            drop_rate: 1.0,
            drop_before: before,
            ..FaultConfig::default()
        };
        let s = start(ServerConfig {
            faults,
            ..mock_config()
        });
        let r = Client::new()
            .post(format!("{}problems/", s.base_url()))
            .header("Accept", media("problems"))
            .body(json!([job(&[(0, 0.1)], json!({}))]).to_string())
            .send();
        assert!(r.is_err(), "the reply must be lost");
        assert_eq!(s.stats().dropped_replies, 1);
        assert_eq!(s.stats().problems_accepted, u64::from(!before));
    }
}

#[test]
fn failed_problems_first_poll_429_and_latency() {
    let run = |seed| {
        let faults = FaultConfig {
            problem_fail_rate: 0.5,
            fail_first_poll: true,
            latency_ms: 20,
            ..FaultConfig::default()
        };
        let s = start(ServerConfig {
            seed,
            faults,
            submit_wait_ms: 0,
            ..mock_config()
        });
        let base = s.base_url().to_string();
        let t0 = Instant::now();
        let body = json!((0..12)
            .map(|_| job(&[(5, 0.3)], json!({"num_reads": 5})))
            .collect::<Vec<_>>());
        let items = json_of(submit(&base, &body));
        assert!(t0.elapsed() >= Duration::from_millis(20), "latency applies");
        let ids: Vec<String> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        let first = get(&format!("{base}problems/?id={}", ids.join(",")), "problems");
        assert_eq!(first.status(), 429);
        assert_eq!(first.headers()["retry-after"], "1");
        let done = wait_all(&base, &ids);
        let failed: Vec<bool> = done.iter().map(|p| p["status"] == "FAILED").collect();
        for p in done.iter().filter(|p| p["status"] == "FAILED") {
            assert!(p["error_message"]
                .as_str()
                .unwrap()
                .contains("(problem_fail_rate)"));
        }
        assert_eq!(
            failed.iter().filter(|f| **f).count() as u64,
            s.stats().problems_failed
        );
        failed
    };
    let a = run(21);
    assert_eq!(a, run(21));
    assert!(a.contains(&true) && a.contains(&false), "{a:?}");
}

#[test]
fn ledger_has_one_line_per_accepted_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let s = start(ServerConfig {
        ledger: Some(path.clone()),
        ..mock_config()
    });
    let base = s.base_url().to_string();
    let hs = [vec![(0, 0.1)], vec![(1, -0.2), (2, 0.3)], vec![(7, 1.0)]];
    let mut body: Vec<Value> = hs
        .iter()
        .enumerate()
        .map(|(k, h)| job(h, json!({"num_reads": 10 + k})))
        .collect();
    let mut bad = job(&[(0, 0.1)], json!({}));
    bad["data"]["lin"] = json!("");
    body.insert(1, bad);
    let items = json_of(submit(&base, &Value::Array(body)));
    let accepted: Vec<&Value> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("id").is_some())
        .collect();
    assert_eq!(accepted.len(), 3);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (k, (line, item)) in lines.iter().zip(&accepted).enumerate() {
        assert_eq!(line["id"], item["id"]);
        assert_eq!(line["num_reads"], 10 + k);
        assert_eq!(line["submitted_at"], item["submitted_on"]);
        let lin_bytes: Vec<u8> = qasa::sapi::qp::decode_f64_le(&lin(&hs[k]))
            .unwrap()
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let hex: String = Sha256::digest(&lin_bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(line["lin_sha256"], json!(hex));
    }
}

#[test]
fn old_answers_are_evicted_with_410() {
    // A zero budget keeps only the newest answer.
    let s = start(ServerConfig {
        answer_memory_mib: 0,
        ..mock_config()
    });
    let base = s.base_url().to_string();
    let body = json!([job(&[(0, 0.1)], json!({})), job(&[(1, 0.1)], json!({}))]);
    let items = json_of(submit(&base, &body));
    let (a, b) = (
        items[0]["id"].as_str().unwrap(),
        items[1]["id"].as_str().unwrap(),
    );
    wait_all(&base, &[a.to_string(), b.to_string()]);
    let r = get(&format!("{base}problems/{a}/"), "problem");
    assert_eq!(r.status(), 410);
    assert_eq!(
        get(&format!("{base}problems/{a}/answer"), "problem-answer").status(),
        410
    );
    assert_eq!(
        get(&format!("{base}problems/{b}/"), "problem").status(),
        200
    );
    // Status polls still know the problem.
    assert_eq!(
        json_of(get(&format!("{base}problems/?id={a}"), "problems"))[0]["status"],
        "COMPLETED"
    );
}

#[test]
fn sampling_is_deterministic_for_a_seed() {
    let run = |seed| {
        let s = start(ServerConfig {
            seed,
            ..mock_config()
        });
        let h = [(0, 0.05), (1, -0.05), (4, 0.0)];
        let items = json_of(submit(
            s.base_url(),
            &json!([job(&h, json!({"num_reads": 200, "answer_mode": "raw"}))]),
        ));
        (
            items[0]["id"].clone(),
            items[0]["answer"]["solutions"].clone(),
        )
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1).1, run(2).1);
}

#[test]
fn metadata_regions_point_at_the_server() {
    let s = start(mock_config());
    let url = format!("{}regions/", s.metadata_url());
    let r = Client::new()
        .get(&url)
        .header("Accept", "application/vnd.dwave.metadata.regions+json")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        content_type(&r),
        "application/vnd.dwave.metadata.regions+json; version=1.0.0; charset=utf-8"
    );
    let regions = json_of(r);
    assert!(regions
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["endpoint"] == s.base_url()));
    let one = Client::new()
        .get(format!("{url}eu-central-1"))
        .header("Accept", "application/vnd.dwave.metadata.region+json")
        .send()
        .unwrap();
    assert_eq!(json_of(one)["code"], "eu-central-1");
}

#[test]
fn synthetic_topology_and_real_record_are_served() {
    let s = start(ServerConfig {
        solvers: vec![
            SolverSource::Topology("chimera:2".into()),
            SolverSource::File(shared_data().join("solvers/Advantage_system4_1.solver.json.gz")),
        ],
        ..ServerConfig::default()
    });
    let base = s.base_url().to_string();
    assert_eq!(
        s.solver_names(),
        vec![
            "Virtual_chimera_2_2_4".to_string(),
            "Advantage_system4.1".to_string()
        ]
    );
    let v = json_of(get(
        &format!("{base}solvers/remote/Virtual_chimera_2_2_4"),
        "solver-definition",
    ));
    let p = &v["properties"];
    assert_eq!(p["num_qubits"], 32);
    assert_eq!(p["qubits"].as_array().unwrap().len(), 32);
    assert_eq!(
        p["topology"],
        json!({"type": "chimera", "shape": [2, 2, 4]})
    );
    assert_eq!(p["category"], "qpu");

    // Every working qubit of the real Advantage_system4.1 record at once, J = 0 on all its couplers.
    let rec = json_of(get(
        &format!("{base}solvers/remote/Advantage_system4.1"),
        "solver-definition",
    ));
    let qubits: Vec<u32> = serde_json::from_value(rec["properties"]["qubits"].clone()).unwrap();
    assert_eq!(qubits.len(), 5627);
    let ncoup = rec["properties"]["couplers"].as_array().unwrap().len();
    let h: Vec<f64> = qubits
        .iter()
        .map(|q| if q % 2 == 0 { 0.05 } else { -0.05 })
        .collect();
    let problem = json!({"solver": rec["identity"],
        "data": {"format": "qp", "lin": encode_f64_le(&h), "quad": encode_f64_le(&vec![0.0; ncoup])},
        "type": "ising", "params": {"num_reads": 20, "answer_mode": "raw", "auto_scale": false}});
    let items = json_of(submit(&base, &json!([problem])));
    let a = decode_answer(&items[0]["answer"]).unwrap();
    assert_eq!(a.num_variables, 5760);
    assert_eq!(a.active_variables, qubits);
    assert_eq!(a.total_reads(), 20);
    for (row, e) in a.solutions.to_spin_rows().iter().zip(&a.energies) {
        let sum: f64 = row.iter().zip(&h).map(|(&s, &hh)| hh * f64::from(s)).sum();
        assert!((sum - e).abs() < 1e-9);
    }
}

#[test]
fn ipv6_loopback_works() {
    let Ok(s) = Server::start(ServerConfig {
        host: "::1".into(),
        ..mock_config()
    }) else {
        return; // no IPv6 on this machine
    };
    assert!(
        s.base_url().starts_with("http://[::1]:"),
        "{}",
        s.base_url()
    );
    assert_eq!(
        get(
            &format!("{}solvers/remote/", s.base_url()),
            "solver-definition-list"
        )
        .status(),
        200
    );
}

#[test]
fn bad_configuration_is_an_error() {
    let cfg = |solvers| ServerConfig {
        solvers,
        ..ServerConfig::default()
    };
    assert!(Server::start(cfg(vec![])).is_err());
    let e = Server::start(cfg(vec![SolverSource::File("/no/such/file.json".into())]))
        .err()
        .unwrap();
    assert!(e.to_string().contains("/no/such/file.json"), "{e}");
    let e = Server::start(cfg(vec![SolverSource::Topology("bogus:1".into())]))
        .err()
        .unwrap();
    assert!(e.to_string().contains("bogus"), "{e}");
    let f = shared_data().join("sapi/mock-solver-Mock8Q.json");
    let e = Server::start(cfg(vec![
        SolverSource::File(f.clone()),
        SolverSource::File(f),
    ]))
    .err()
    .unwrap();
    assert!(e.to_string().contains("two solvers"), "{e}");
    let faults = FaultConfig {
        fail_rate: 2.0,
        ..FaultConfig::default()
    };
    assert!(Server::start(ServerConfig {
        faults,
        ..mock_config()
    })
    .is_err());
}

/// Kills the child on drop (also when the test panics).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `qasa serve ARGS` and reads the base URL from its first stdout line.
fn qasa_serve(args: &[&str]) -> (Child, String) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_qasa"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("qasa serve starts"),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    (child, url)
}

/// The names of the solvers served at `url` (token `t`).
fn served_names(url: &str) -> Vec<String> {
    let r = Client::new()
        .get(format!("{url}solvers/remote/?filter=none%2C%2Bidentity"))
        .header("Accept", media("solver-definition-list"))
        .header("X-Auth-Token", "t")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    json_of(r)
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["identity"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn qasa_serve_prints_the_base_url_first_and_serves() {
    let (_child, url) = qasa_serve(&["--topology", "chimera:1", "--port", "0", "--token", "t"]);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/sapi/v2/"),
        "{url}"
    );
    assert_eq!(served_names(&url), ["Virtual_chimera_1_1_4"]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qasa"))
        .args(["serve", "--drop-rate", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot start the SAPI server: drop_rate must be a fraction in [0, 1], got 2 (--drop-rate)\n"
    );
}

#[test]
fn qasa_serve_on_a_wildcard_address_prints_a_reachable_url() {
    let (_child, url) = qasa_serve(&[
        "--host",
        "0.0.0.0",
        "--topology",
        "chimera:1",
        "--token",
        "t",
    ]);
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.strip_suffix("/sapi/v2/"))
        .unwrap_or_else(|| panic!("{url}"));
    assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{url}");
    assert_eq!(served_names(&url), ["Virtual_chimera_1_1_4"]);
    // The IPv6 wildcard prints the IPv6 loopback (where the machine has IPv6).
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let (_child6, url6) =
            qasa_serve(&["--host", "::", "--topology", "chimera:1", "--token", "t"]);
        assert!(
            url6.starts_with("http://[::1]:") && url6.ends_with("/sapi/v2/"),
            "{url6}"
        );
        assert_eq!(served_names(&url6), ["Virtual_chimera_1_1_4"]);
    }
}

#[test]
fn long_polls_do_not_block_other_requests() {
    // The QPU takes 3 s; eight long polls wait on it while other requests are answered.
    let s = start(ServerConfig {
        solve_time_ms: 3000,
        submit_wait_ms: 0,
        ..mock_config()
    });
    let base = s.base_url().to_string();
    let items = json_of(submit(&base, &json!([job(&[(0, 0.1)], json!({}))])));
    let id = items[0]["id"].as_str().unwrap().to_string();
    let polls: Vec<_> = (0..8)
        .map(|_| {
            let url = format!("{base}problems/?id={id}&timeout=30");
            std::thread::spawn(move || json_of(get(&url, "problems"))[0]["status"].clone())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..5 {
        assert_eq!(
            get(&format!("{base}solvers/remote/{MOCK}"), "solver-definition").status(),
            200
        );
    }
    assert!(
        polls.iter().all(|t| !t.is_finished()),
        "long polls returned before the problem completed"
    );
    for t in polls {
        assert_eq!(t.join().unwrap(), "COMPLETED");
    }
}
