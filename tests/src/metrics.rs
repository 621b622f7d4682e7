//! A parser for the OpenMetrics text that `/metrics` serves, so that tests read values rather
//! than match strings. It checks what a scraper relies on: every sample belongs to a family
//! declared by `# TYPE`, label values are quoted and escaped, values are numbers, and the text
//! ends with `# EOF`.

use std::collections::{BTreeMap, HashMap};

/// One sample: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name, such as `auth_requests_total`.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// A parsed scrape.
#[derive(Debug, Clone)]
pub struct Scrape {
    /// Family name to type, from the `# TYPE` lines.
    pub types: HashMap<String, String>,
    /// Every sample, in order.
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parses exposition text.
    ///
    /// # Errors
    /// The first line that breaks the format, with the reason.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut types = HashMap::new();
        let mut samples = Vec::new();
        let mut ended = false;
        for line in text.lines() {
            if ended {
                return Err(format!("text after # EOF: {line:?}"));
            }
            if line == "# EOF" {
                ended = true;
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (family, kind) = rest
                    .split_once(' ')
                    .ok_or_else(|| format!("bad TYPE line {line:?}"))?;
                types.insert(family.to_owned(), kind.to_owned());
            } else if line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
            } else {
                let sample = parse_sample(line).map_err(|e| format!("{e} in {line:?}"))?;
                if family_of(&sample.name, &types).is_none() {
                    return Err(format!("{:?} has no # TYPE", sample.name));
                }
                samples.push(sample);
            }
        }
        if !ended {
            return Err("no # EOF at the end".to_owned());
        }
        Ok(Self { types, samples })
    }

    /// The value of the sample `name` with exactly `labels`, if there is one.
    ///
    /// # Panics
    /// When several samples match, which a valid scrape never has.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut matches = self
            .samples
            .iter()
            .filter(|s| s.name == name && s.labels == wanted);
        let found = matches.next().map(|s| s.value);
        assert!(matches.next().is_none(), "two samples {name} {labels:?}");
        found
    }

    /// A counter's value: 0 when the series does not exist yet, as Prometheus reads it.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// The sum of every sample `name` whose labels include `labels`.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .sum()
    }
}

/// The declared family a sample belongs to: its name, or its name less a known suffix.
fn family_of<'t>(name: &str, types: &'t HashMap<String, String>) -> Option<&'t String> {
    types.get(name).or_else(|| {
        ["_total", "_bucket", "_count", "_sum", "_created", "_info"]
            .iter()
            .find_map(|suffix| types.get(name.strip_suffix(suffix)?))
    })
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or_else(|| "no value".to_owned())?;
    let name = &line[..name_end];
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
    {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let value = rest
        .strip_prefix(' ')
        .ok_or_else(|| "no space before the value".to_owned())?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other
            .parse()
            .map_err(|e| format!("bad value {other:?}: {e}"))?,
    };
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Parses `k="v",k2="v2"}` and returns the labels and the text after `}`.
fn parse_labels(mut text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(after) = text.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (key, after) = text
            .split_once("=\"")
            .ok_or_else(|| "a label without =\"".to_owned())?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((_, c)) => value.push(c),
                None => return Err("an unterminated label value".to_owned()),
            }
        };
        if labels.insert(key.to_owned(), value).is_some() {
            return Err(format!("label {key:?} twice"));
        }
        text = &after[end + 1..];
        text = text.strip_prefix(',').unwrap_or(text);
    }
}

#[cfg(test)]
// Counter values are small integers, which f64 holds exactly.
#[allow(clippy::float_cmp)]
mod tests {
    use super::Scrape;

    #[test]
    fn parses_families_labels_escapes_and_special_values() {
        let text = "# HELP a_requests Requests.\n# TYPE a_requests counter\n\
                    a_requests_total{result=\"ok\"} 3\n\
                    a_requests_total{result=\"x\\\"y\\\\z\",reason=\"a,b}\"} 1\n\
                    # TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.5\n# EOF\n";
        let scrape = Scrape::parse(text).expect("parses");
        assert_eq!(
            scrape.get("a_requests_total", &[("result", "ok")]),
            Some(3.0)
        );
        assert_eq!(
            scrape.get(
                "a_requests_total",
                &[("result", "x\"y\\z"), ("reason", "a,b}")]
            ),
            Some(1.0)
        );
        assert_eq!(scrape.get("h_bucket", &[("le", "+Inf")]), Some(2.0));
        assert_eq!(scrape.get("h_sum", &[]), Some(0.5));
        assert_eq!(scrape.sum("a_requests_total", &[]), 4.0);
        assert_eq!(scrape.counter("a_requests_total", &[("result", "no")]), 0.0);
    }

    #[test]
    fn refuses_what_a_scraper_would() {
        for bad in [
            "# TYPE a counter\na_total 1\n",
            "b_total 1\n# EOF\n",
            "# TYPE a counter\na_total{k=\"v} 1\n# EOF\n",
            "# TYPE a counter\na_total one\n# EOF\n",
            "# TYPE a counter\n# EOF\na_total 1\n",
        ] {
            assert!(Scrape::parse(bad).is_err(), "{bad:?}");
        }
    }
}
