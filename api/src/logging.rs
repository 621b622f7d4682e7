//! Log output: `env_logger`'s text lines, or one JSON object per line for log aggregators, with
//! the structured fields a line carries (the request log's method, path, status, duration and
//! request id). `RUST_LOG` sets the level either way.

use std::io::Write;

use log::kv::{Error, Key, Value, VisitSource};
use serde_json::{Map, Value as Json};
use settings::LogFormat;

/// Starts logging to stderr in `format`, at `RUST_LOG` (default `info`).
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            let mut line = Map::new();
            line.insert(
                "timestamp".into(),
                buf.timestamp_micros().to_string().into(),
            );
            line.insert("level".into(), record.level().as_str().into());
            line.insert("target".into(), record.target().into());
            line.insert("message".into(), record.args().to_string().into());
            // A field that cannot be read is left out; the line itself is still written.
            let _ = record.key_values().visit(&mut Fields(&mut line));
            writeln!(buf, "{}", Json::Object(line))
        });
    }
    builder.init();
}

/// Copies a record's key-value fields into the JSON line, numbers as numbers.
struct Fields<'a>(&'a mut Map<String, Json>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), Error> {
        let value = if let Some(n) = value.to_u64() {
            Json::from(n)
        } else if let Some(x) = value.to_f64() {
            Json::from(x)
        } else {
            Json::from(value.to_string())
        };
        self.0.insert(key.as_str().to_owned(), value);
        Ok(())
    }
}
