//! Tests of `text/time.rs` (kept apart so the parser file stays readable).

use super::*;
use proptest::prelude::*;

fn ts(s: &str) -> i64 {
    parse_timestamp(s, Timezone::UTC).unwrap()
}

fn err_offset(r: Result<i64>) -> usize {
    match r {
        Err(Error::Parse { offset, .. }) => offset,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn auto_detects_every_form() {
    assert_eq!(ts("2020-03-09T10:14:33Z"), 1_583_748_873_000_000_000);
    assert_eq!(ts("2020-03-09 10:14:33"), 1_583_748_873_000_000_000);
    assert_eq!(ts("2020-03-09t10:14:33z"), 1_583_748_873_000_000_000);
    assert_eq!(ts("2020-03-09T12:14:33+02:00"), 1_583_748_873_000_000_000);
    assert_eq!(ts("2020-03-09T04:44:33-0530"), 1_583_748_873_000_000_000);
    assert_eq!(ts("2020-03-09T10:14:33.5Z"), 1_583_748_873_500_000_000);
    assert_eq!(
        ts("2020-03-09T10:14:33.000000001Z"),
        1_583_748_873_000_000_001
    );
    assert_eq!(
        ts("2020-03-09T10:14:33.1000000000Z"),
        1_583_748_873_100_000_000
    );
    assert_eq!(ts("2020-03-09"), 1_583_712_000_000_000_000);
    assert_eq!(ts("  1583748873000000000 "), 1_583_748_873_000_000_000);
    assert_eq!(ts("-1"), -1);
    assert_eq!(ts("1970-01-01T00:00:00Z"), 0);
    assert_eq!(ts("1969-12-31T23:59:59.999999999Z"), -1);
}

#[test]
fn zone_applies_only_without_offset() {
    let tz = Timezone::parse("+02:00").unwrap();
    let p = |s| parse_timestamp(s, tz).unwrap();
    assert_eq!(p("2020-03-09 12:14:33"), ts("2020-03-09T10:14:33Z"));
    assert_eq!(p("2020-03-09"), ts("2020-03-08T22:00:00Z"));
    assert_eq!(p("2020-03-09T10:14:33Z"), ts("2020-03-09T10:14:33Z"));
}

#[test]
fn range_ends_are_exact() {
    assert_eq!(ts("1677-09-21T00:12:43.145224192Z"), i64::MIN);
    assert_eq!(ts("2262-04-11T23:47:16.854775807Z"), i64::MAX);
    assert!(parse_timestamp("1677-09-21T00:12:43.145224191Z", Timezone::UTC).is_err());
    assert!(parse_timestamp("2262-04-11T23:47:16.854775808Z", Timezone::UTC).is_err());
    assert!(parse_timestamp("9223372036854775808", Timezone::UTC).is_err());
    assert_eq!(ts("-9223372036854775808"), i64::MIN);
}

#[test]
fn bad_timestamps_name_the_offset() {
    let p = |s| parse_timestamp(s, Timezone::UTC);
    assert_eq!(err_offset(p("2020-13-09")), 5);
    assert_eq!(err_offset(p("2021-02-29")), 8);
    assert_eq!(err_offset(p("2020-03-09X10:14:33")), 10);
    assert_eq!(err_offset(p("2020-03-09 24:00:00")), 11);
    assert_eq!(err_offset(p("2020-03-09 10:14:60")), 17);
    assert_eq!(err_offset(p("2020-03-09 10:14:33.")), 20);
    assert_eq!(err_offset(p("2020-03-09 10:14:33.0000000001")), 29);
    assert_eq!(err_offset(p("  2020-03-09 10:14:33+02:00x")), 27);
    assert_eq!(err_offset(p("12.5")), 2);
    assert_eq!(err_offset(p("")), 0);
    let strict = parse_timestamp_as("2020-03-09 10:14:33", &TimeFormat::Rfc3339, Timezone::UTC);
    assert_eq!(err_offset(strict), 19);
}

#[test]
fn epoch_units_are_exact() {
    let p = |s, f| parse_timestamp_as(s, &f, Timezone::UTC).unwrap();
    assert_eq!(
        p("1583748873", TimeFormat::EpochS),
        1_583_748_873_000_000_000
    );
    assert_eq!(
        p("1583748873.5", TimeFormat::EpochS),
        1_583_748_873_500_000_000
    );
    assert_eq!(p("0.123456789", TimeFormat::EpochS), 123_456_789);
    assert_eq!(p("-1.5", TimeFormat::EpochS), -1_500_000_000);
    assert_eq!(
        p("1583748873123.25", TimeFormat::EpochMs),
        1_583_748_873_123_250_000
    );
    assert_eq!(p("7.001", TimeFormat::EpochUs), 7_001);
    assert_eq!(p("42", TimeFormat::EpochNs), 42);
    let bad = |s, f| parse_timestamp_as(s, &f, Timezone::UTC).is_err();
    assert!(bad("1.0000000001", TimeFormat::EpochS));
    assert!(bad("7.0001", TimeFormat::EpochUs));
    assert!(bad("1.5", TimeFormat::EpochNs));
    assert!(bad("9223372037", TimeFormat::EpochS));
    assert!(bad("1e9", TimeFormat::EpochS));
    assert!(bad(".5", TimeFormat::EpochS));
}

#[test]
fn strftime_patterns() {
    let f = TimeFormat::parse("%d/%m/%Y %H:%M:%S%.f").unwrap_err();
    assert!(matches!(f, Error::Parse { offset: 17, .. }), "{f:?}");
    let f = TimeFormat::parse("%d/%m/%Y %T.%f %z").unwrap();
    let p = |s| parse_timestamp_as(s, &f, Timezone::UTC);
    assert_eq!(
        p("9/3/2020 12:14:33.25 +02:00").unwrap(),
        ts("2020-03-09T10:14:33.25Z")
    );
    assert!(p("9/3/2020 12:14:33.25").is_err());
    let f = TimeFormat::parse("%F").unwrap();
    let tz = Timezone::parse("-01:00").unwrap();
    assert_eq!(
        parse_timestamp_as("2020-03-09", &f, tz).unwrap(),
        ts("2020-03-09T01:00:00Z")
    );
    let f = TimeFormat::Strftime("%Y%m%d%%".into());
    assert_eq!(
        parse_timestamp_as("20200309%", &f, tz).unwrap(),
        ts("2020-03-09T01:00:00Z")
    );
    assert!(parse_timestamp_as("x", &TimeFormat::Strftime("%q".into()), tz).is_err());
    assert!(parse_timestamp_as("x", &TimeFormat::Strftime("%".into()), tz).is_err());
}

#[test]
fn named_formats_and_zones() {
    assert_eq!(TimeFormat::parse("epoch_ms").unwrap(), TimeFormat::EpochMs);
    assert_eq!(TimeFormat::parse("RFC3339").unwrap(), TimeFormat::Rfc3339);
    assert!(TimeFormat::parse("iso").is_err());
    assert_eq!(Timezone::parse("utc").unwrap(), Timezone::UTC);
    assert_eq!(Timezone::parse("Z").unwrap().offset_seconds(), 0);
    assert_eq!(Timezone::parse("-0530").unwrap().offset_seconds(), -19_800);
    assert_eq!(Timezone::parse("+02").unwrap().offset_seconds(), 7_200);
    let e = Timezone::parse("Europe/Berlin").unwrap_err().to_string();
    assert!(e.contains("only fixed offsets"), "{e}");
    assert!(Timezone::parse("+24:00").is_err());
    assert!(Timezone::parse("+02:60").is_err());
}

#[test]
fn durations() {
    let d = |s| parse_duration(s).unwrap();
    assert_eq!(d("500ms"), 500_000_000);
    assert_eq!(d("1s"), NS_PER_S);
    assert_eq!(d("5m"), 300 * NS_PER_S);
    assert_eq!(d("1h30m"), 5_400 * NS_PER_S);
    assert_eq!(d("1d"), 86_400 * NS_PER_S);
    assert_eq!(d("1w"), 604_800 * NS_PER_S);
    assert_eq!(d("10us"), 10_000);
    assert_eq!(d("10µs"), 10_000);
    assert_eq!(d("100ns"), 100);
    assert_eq!(d("42"), 42);
    assert_eq!(d("-1m"), -60 * NS_PER_S);
    assert_eq!(d("0"), 0);
    for bad in [
        "",
        "1.5h",
        "5x",
        "h",
        "1h5",
        "106752d",
        "99999999999999999999999ns",
    ] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
    assert_eq!(d("9223372036854775807ns"), i64::MAX);
}

#[test]
fn civil_days_known_values() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    assert_eq!(format_rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
    assert_eq!(
        format_rfc3339_nanos(i64::MIN),
        "1677-09-21T00:12:43.145224192Z"
    );
    assert_eq!(
        format_rfc3339_nanos(i64::MAX),
        "2262-04-11T23:47:16.854775807Z"
    );
}

proptest! {
    #[test]
    fn format_then_parse_is_identity(t in any::<i64>(), off in -86_399i32..86_400) {
        let s = format_rfc3339_nanos(t);
        prop_assert_eq!(s.len(), 30);
        let tz = Timezone { offset_s: off };
        prop_assert_eq!(parse_timestamp(&s, tz).unwrap(), t);
        prop_assert_eq!(parse_timestamp_as(&s, &TimeFormat::Rfc3339, tz).unwrap(), t);
        prop_assert_eq!(parse_timestamp(&t.to_string(), tz).unwrap(), t);
    }

    #[test]
    fn civil_round_trips(days in -1_000_000i64..1_000_000) {
        let (y, m, d) = civil_from_days(days);
        prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
        prop_assert_eq!(days_from_civil(y, m, d), days);
    }

    #[test]
    fn epoch_seconds_decimal_is_exact(
        s in -9_000_000_000i64..9_000_000_000,
        n in 0u32..1_000_000_000,
    ) {
        let text = format!("{s}.{n:09}");
        let want = i128::from(s) * 1_000_000_000 + i128::from(n) * if s < 0 { -1 } else { 1 };
        let got = parse_timestamp_as(&text, &TimeFormat::EpochS, Timezone::UTC);
        prop_assert_eq!(got.ok().map(i128::from), i64::try_from(want).ok().map(i128::from));
    }

    #[test]
    fn parsers_never_panic(
        s in "\\PC{0,40}|[0-9:T .Z+-]{0,40}",
        spec in "[%YmdHMSfzTF: -]{0,12}",
    ) {
        let tz = Timezone::UTC;
        let _ = parse_timestamp(&s, tz);
        let epochs = [TimeFormat::EpochS, TimeFormat::EpochMs, TimeFormat::EpochUs];
        for f in epochs.into_iter().chain([TimeFormat::EpochNs, TimeFormat::Rfc3339]) {
            let _ = parse_timestamp_as(&s, &f, tz);
        }
        let _ = parse_timestamp_as(&s, &TimeFormat::Strftime(spec.clone()), tz);
        let _ = TimeFormat::parse(&spec);
        let _ = Timezone::parse(&s);
        let _ = parse_duration(&s);
    }
}
