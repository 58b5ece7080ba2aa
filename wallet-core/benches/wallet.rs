//! Criterion benchmarks for DESIGN's wallet budgets: opening (without the
//! passphrase KDF, whose cost is deliberate), adding a card, listing 1,000.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use wallet_core::{NewCard, SoftwareKeyStore, SystemClock, Wallet};

fn luhn_pan(n: u64) -> String {
    let body = format!("4{:014}", n);
    let digits: Vec<u32> = body.chars().map(|c| c.to_digit(10).unwrap()).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn card(n: u64) -> NewCard {
    NewCard {
        pan: luhn_pan(n),
        expiry: "12/30".into(),
        cardholder_name: "Bench Mark".into(),
        nickname: Some(format!("card {n}")),
    }
}

fn benches(c: &mut Criterion) {
    let ks = Arc::new(SoftwareKeyStore::generate().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::create(dir.path(), ks.clone(), Arc::new(SystemClock)).unwrap();
    for n in 0..1000 {
        w.add_card(&card(n)).unwrap();
    }
    w.close().unwrap();

    c.bench_function("wallet/open", |b| {
        b.iter(|| Wallet::open(dir.path(), ks.clone(), Arc::new(SystemClock)).unwrap())
    });

    let w = Wallet::open(dir.path(), ks.clone(), Arc::new(SystemClock)).unwrap();
    c.bench_function("cards/list_1000", |b| b.iter(|| w.list_cards().unwrap()));

    let mut n = 1_000_000;
    c.bench_function("cards/add", |b| {
        b.iter_batched(
            || {
                n += 1;
                card(n)
            },
            |new| w.add_card(&new).unwrap(),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(wallet, benches);
criterion_main!(wallet);
