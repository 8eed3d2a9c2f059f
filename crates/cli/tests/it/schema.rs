//! The checked-in JSON Schemas match the types. Regenerate with
//! `BOARDPROOF_UPDATE_SCHEMAS=1 cargo test schema`: that run rewrites them and fails (so it
//! can never stand for a passing check); review the diff and run again without it.

use crate::util::workspace;

#[test]
fn checked_in_schemas_match_the_types() {
    let dir = workspace().join("schemas");
    let update = std::env::var_os("BOARDPROOF_UPDATE_SCHEMAS").is_some();
    let all = boardproof_evidence::schemas()
        .into_iter()
        .chain(boardproof_ledger::documents::schemas())
        .chain(boardproof_lab::matrix::schemas());
    for (name, schema) in all {
        let path = dir.join(name);
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if update {
            assert!(
                !boardproof_testkit::in_ci(),
                "BOARDPROOF_UPDATE_SCHEMAS is set under CI: the schemas would be rewritten, not checked"
            );
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run BOARDPROOF_UPDATE_SCHEMAS=1 cargo test",
                path.display()
            )
        });
        assert_eq!(
            on_disk, text,
            "{} disagrees with the types; run BOARDPROOF_UPDATE_SCHEMAS=1 cargo test schema and review the diff",
            path.display()
        );
    }
    assert!(
        !update,
        "schemas rewritten from the types: review the diff, then run again without BOARDPROOF_UPDATE_SCHEMAS"
    );
}

#[test]
fn evidence_of_this_host_has_every_source() {
    let o = crate::util::run(&["collect", "--json"]);
    assert_eq!(crate::util::code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, boardproof_collect::SOURCES.to_vec());
    for s in v["sources"].as_array().unwrap() {
        if s["status"] != "ok" {
            assert!(s["reason"].as_str().is_some_and(|r| !r.is_empty()), "{s}");
        }
    }
    // Parses back into the typed model.
    boardproof_evidence::Evidence::from_json(&o.stdout).unwrap();
}
