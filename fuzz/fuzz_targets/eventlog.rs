//! TCG PC Client event logs: parse, decode every event, replay.
#![no_main]

use boardproof_formats::eventlog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = eventlog::parse(data) {
        for e in &log.events {
            let _ = eventlog::describe(e).to_string();
        }
        let _ = eventlog::replay(&log);
        let _ = log.startup_locality();
    }
});
