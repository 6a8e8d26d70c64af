//! `bench codecs`: every codec of `historian::codec` on a tenant's points, in
//! blocks of 1,024 as segments store them. For each codec: bytes per value,
//! encode and decode speed (best of `--repeat`), and a bit-exact round-trip
//! check (a codec that fails it is an error, not a row).

use std::time::Instant;

use historian::codec::{self, BLOCK_LEN};
use historian::{Selector, ValueType};
use serde_json::json;

use crate::admin::print;
use crate::args::BenchCodecsArgs;
use crate::context::{existing_tenant, Context};
use crate::error::{CliError, CliResult};

type Enc = fn(&[u64], &mut Vec<u8>);
type Dec = fn(&[u8], u64, &mut [u64]) -> Result<(), historian::bytes::DecodeError>;

fn pco_encode(bits: &[u64], out: &mut Vec<u8>) {
    if codec::pco_block::encode(bits, out).is_err() {
        codec::floats::plain_encode(bits, out);
    }
}

fn ts_encode(v: &[u64], out: &mut Vec<u8>) {
    let ts: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    codec::timestamps::encode(&ts, out);
}

fn ts_decode(s: &[u8], base: u64, out: &mut [u64]) -> Result<(), historian::bytes::DecodeError> {
    let mut ts = [0i64; BLOCK_LEN];
    let ts = ts.get_mut(..out.len()).unwrap_or_default();
    codec::timestamps::decode(s, base, ts)?;
    for (o, t) in out.iter_mut().zip(ts.iter()) {
        *o = *t as u64;
    }
    Ok(())
}

fn int_encode(v: &[u64], out: &mut Vec<u8>) {
    let ints: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    codec::ints::encode(&ints, out);
}

fn int_decode(s: &[u8], base: u64, out: &mut [u64]) -> Result<(), historian::bytes::DecodeError> {
    let mut ints = [0i64; BLOCK_LEN];
    let ints = ints.get_mut(..out.len()).unwrap_or_default();
    codec::ints::decode(s, base, ints)?;
    for (o, t) in out.iter_mut().zip(ints.iter()) {
        *o = *t as u64;
    }
    Ok(())
}

/// (role, codec name, encoder, decoder).
const FLOAT_CODECS: [(&str, &str, Enc, Dec); 6] = [
    (
        "values",
        "chosen",
        codec::floats::encode,
        codec::floats::decode,
    ),
    ("values", "alp", codec::alp::encode, codec::floats::decode),
    ("values", "xor", codec::xor::encode, codec::floats::decode),
    ("values", "pco", pco_encode, codec::floats::decode),
    (
        "values",
        "float-zstd",
        codec::floats::zstd_encode,
        codec::floats::decode,
    ),
    (
        "values",
        "float-plain",
        codec::floats::plain_encode,
        codec::floats::decode,
    ),
];

struct Row {
    role: &'static str,
    codec: &'static str,
    values: u64,
    bytes: u64,
    encode_s: f64,
    decode_s: f64,
}

/// Runs `bench codecs`.
pub fn run(ctx: &Context, args: &BenchCodecsArgs) -> CliResult {
    let engine = ctx.open_existing()?;
    let tenant = existing_tenant(&engine, &args.tenant)?;
    let data = tenant.scan_all(&Selector::all(), i64::MIN, i64::MAX)?;
    let mut ts_blocks: Vec<Vec<u64>> = Vec::new();
    let mut float_blocks: Vec<Vec<u64>> = Vec::new();
    let mut int_blocks: Vec<Vec<u64>> = Vec::new();
    for s in &data {
        for (ts, vals) in s
            .cols
            .ts
            .chunks(BLOCK_LEN)
            .zip(s.cols.values.chunks(BLOCK_LEN))
        {
            ts_blocks.push(ts.iter().map(|&t| t as u64).collect());
            match s.value_type {
                ValueType::F64 => float_blocks.push(vals.to_vec()),
                ValueType::I64 | ValueType::Bool => int_blocks.push(vals.to_vec()),
            }
        }
    }
    let mut rows = Vec::new();
    if !ts_blocks.is_empty() {
        rows.push(measure(
            "timestamps",
            "chosen",
            ts_encode,
            ts_decode,
            &ts_blocks,
            args.repeat,
        )?);
    }
    if !float_blocks.is_empty() {
        for (role, name, enc, dec) in FLOAT_CODECS {
            rows.push(measure(role, name, enc, dec, &float_blocks, args.repeat)?);
        }
    }
    if !int_blocks.is_empty() {
        rows.push(measure(
            "values",
            "ints",
            int_encode,
            int_decode,
            &int_blocks,
            args.repeat,
        )?);
    }
    report(args, &rows)
}

fn measure(
    role: &'static str,
    name: &'static str,
    enc: Enc,
    dec: Dec,
    blocks: &[Vec<u64>],
    repeat: u64,
) -> CliResult<Row> {
    let mut sections: Vec<Vec<u8>> = Vec::with_capacity(blocks.len());
    let mut encode_s = f64::INFINITY;
    for _ in 0..repeat {
        sections.clear();
        let started = Instant::now();
        for b in blocks {
            let mut out = Vec::with_capacity(b.len() * 2);
            enc(b, &mut out);
            sections.push(out);
        }
        encode_s = encode_s.min(started.elapsed().as_secs_f64());
    }
    let mut buf = [0u64; BLOCK_LEN];
    let mut decode_s = f64::INFINITY;
    let mut checksum = 0u64;
    for _ in 0..repeat {
        let started = Instant::now();
        for (s, b) in sections.iter().zip(blocks) {
            let out = buf.get_mut(..b.len()).unwrap_or_default();
            dec(s, 0, out).map_err(|e| {
                CliError::failure(format!(
                    "bench codecs: {name} cannot decode its own output: {e:?}"
                ))
            })?;
            checksum = out.iter().fold(checksum, |a, &x| a.wrapping_add(x));
        }
        decode_s = decode_s.min(started.elapsed().as_secs_f64());
    }
    for (s, b) in sections.iter().zip(blocks) {
        let out = buf.get_mut(..b.len()).unwrap_or_default();
        let exact = dec(s, 0, out).is_ok() && out == b.as_slice();
        if !exact {
            return Err(CliError::failure(format!(
                "bench codecs: {role} codec {name} does not round-trip bit-exactly"
            )));
        }
    }
    std::hint::black_box(checksum);
    Ok(Row {
        role,
        codec: name,
        values: blocks.iter().map(|b| b.len() as u64).sum(),
        bytes: sections.iter().map(|s| s.len() as u64).sum(),
        encode_s,
        decode_s,
    })
}

fn rate(n: u64, s: f64) -> f64 {
    if s > 0.0 {
        n as f64 / s
    } else {
        0.0
    }
}

fn report(args: &BenchCodecsArgs, rows: &[Row]) -> CliResult {
    if args.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "role": r.role, "codec": r.codec, "values": r.values, "bytes": r.bytes,
                    "bytes_per_value": r.bytes as f64 / r.values.max(1) as f64,
                    "encode_values_per_s": rate(r.values, r.encode_s),
                    "decode_values_per_s": rate(r.values, r.decode_s),
                })
            })
            .collect();
        return print(&format!(
            "{}\n",
            json!({"tenant": args.tenant, "codecs": rows})
        ));
    }
    let mut t = format!(
        "bench codecs: tenant {}, blocks of {BLOCK_LEN}, best of {}, one thread\n\
         {:<11} {:<12} {:>12} {:>9} {:>14} {:>14}\n",
        args.tenant,
        args.repeat,
        "role",
        "codec",
        "values",
        "B/value",
        "encode val/s",
        "decode val/s"
    );
    for r in rows {
        t.push_str(&format!(
            "{:<11} {:<12} {:>12} {:>9.3} {:>14.0} {:>14.0}\n",
            r.role,
            r.codec,
            r.values,
            r.bytes as f64 / r.values.max(1) as f64,
            rate(r.values, r.encode_s),
            rate(r.values, r.decode_s)
        ));
    }
    print(&t)
}
