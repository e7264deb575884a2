//! Fuzz bench for the parsers of outside input: N deterministic mutations
//! (default 1,000,000; `PARSERS_FUZZ_CASES` changes it) of valid cloud,
//! control-socket and Kassatka samples go through each parser, counting
//! values and errors; a panic stops the run with the seed and the input.

use masterkassa::cloud::models::{
    AssortmentPage, RetailStoreList, parse_json, parse_operation, parse_poll,
};
use masterkassa::control::Request;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

const CLOUD: &[&[u8]] = &[
    include_bytes!("../sim/moysklad/src/samples/minion_retaildemand.json"),
    include_bytes!("../sim/moysklad/src/samples/minion_retailsalesreturn.json"),
    include_bytes!("../sim/moysklad/src/samples/minion_prepayment.json"),
    include_bytes!("../sim/moysklad/src/samples/openshift.json"),
    include_bytes!("../sim/moysklad/src/samples/assortment.json"),
    include_bytes!("../sim/moysklad/src/samples/admin_retailstore.json"),
];
const CONTROL: &[&[u8]] = &[
    br#"{"cmd":"status"}"#,
    br#"{"cmd":"close_shift","kassa":"main"}"#,
];
const KASSATKA: &[&[u8]] = &[include_bytes!("../tests/fixtures/kassatka/documents.xml")];

type Parser = fn(&[u8]) -> bool;

/// xorshift64: the same seed gives the same cases on every machine.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One to four edits: flip, insert, delete a run, or cut short.
    fn mutate(&mut self, sample: &[u8]) -> Vec<u8> {
        let mut body = sample.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(body.len());
            let byte = self.next() as u8;
            match self.below(4) {
                0 => {
                    if let Some(b) = body.get_mut(at) {
                        *b = byte;
                    }
                }
                1 => body.insert(at.min(body.len()), byte),
                2 => {
                    let end = (at + 1 + self.below(32)).min(body.len());
                    if at < end {
                        body.drain(at..end);
                    }
                }
                _ => body.truncate(at),
            }
        }
        body
    }
}

fn run(name: &str, samples: &[&[u8]], parse: Parser, cases: u64, seed: u64) -> bool {
    let mut mutator = Mutator(seed);
    let (mut values, mut errors) = (0u64, 0u64);
    let started = Instant::now();
    for case in 0..cases {
        let sample = samples[mutator.below(samples.len())];
        let body = mutator.mutate(sample);
        match catch_unwind(AssertUnwindSafe(|| parse(&body))) {
            Ok(true) => values += 1,
            Ok(false) => errors += 1,
            Err(_) => {
                eprintln!(
                    "PANIC in {name} at case {case} (seed {seed}); input: {:?}",
                    String::from_utf8_lossy(&body)
                );
                return false;
            }
        }
    }
    println!(
        "{name:<22} {cases:>9} cases  {values:>9} values  {errors:>9} errors  {:>7.1} s",
        started.elapsed().as_secs_f64()
    );
    true
}

fn main() {
    let cases = std::env::var("PARSERS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000u64);
    let seed = 0x6d6b_6173_7361_u64;
    let parsers: &[(&str, &[&[u8]], Parser)] = &[
        ("cloud poll", CLOUD, |b| parse_poll(b).is_ok()),
        ("cloud operation", CLOUD, |b| parse_operation(b).is_ok()),
        ("cloud assortment", CLOUD, |b| {
            parse_json::<AssortmentPage>("entity/assortment", b).is_ok()
        }),
        ("cloud retailstore", CLOUD, |b| {
            parse_json::<RetailStoreList>("admin/retailstore", b).is_ok()
        }),
        ("control request", CONTROL, |b| {
            serde_json::from_slice::<Request>(b).is_ok()
        }),
        ("kassatka documents", KASSATKA, |b| {
            kassatka_format::documents::parse_documents(b).is_ok()
        }),
        ("kassatka csv", KASSATKA, |b| {
            masterkassa::kassatka::csv_text::read(&String::from_utf8_lossy(b)).is_ok()
        }),
    ];
    // A caught panic still prints its message; the summary says which parser.
    let mut all_ok = true;
    for (name, samples, parse) in parsers {
        all_ok &= run(name, samples, *parse, cases, seed);
    }
    if !all_ok {
        eprintln!("parsers_fuzz: a parser panicked");
        std::process::exit(1);
    }
}
