//! The batch path of the alert stage: what the `[alert]` rules would have fired on the
//! history, run in event time by the same lifecycle as `omen serve`.
//!
//! Each worker keeps one `omen_alert::AlertSlot` per series (the slot the live path uses too),
//! made on the series' first sample from its labels (the series columns; a map or struct
//! column flattened into its entries), fed every scored sample with its sample timestamp.
//! Each alert episode becomes one [`Episode`]; an alert still firing when its series' data
//! ends stays firing (no resolved time): the input ending is not the series going stale.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::TimestampMillisecondArray;
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use omen_alert::{AlertEvent, AlertSlot, CompiledAlerts, EventKind, Observation};
use omen_core::{Labels, Score};
use omen_engine::StepContext;
use omen_ingest::SeriesKeys;

use crate::error::{Context, Result};
use crate::output::timestamp_type;

/// One alert episode: from firing to resolved (or the end of the data).
#[derive(Debug, Clone)]
pub(crate) struct Episode {
    /// The series key, as the pipeline made it.
    pub(crate) key: Box<[u8]>,
    /// The alert's id (stable for the episode).
    id: String,
    /// The series' index in its worker's replay.
    series: usize,
    pub(crate) alertname: String,
    /// The last severity of the episode (a rise updates it).
    pub(crate) severity: String,
    pub(crate) fired_at_ms: i64,
    pub(crate) resolved_at_ms: Option<i64>,
    pub(crate) peak_score: f64,
    pub(crate) value_at_fire: f64,
    pub(crate) expected_at_fire: f64,
    /// The explanation at firing, as JSON (as the webhook carries it).
    pub(crate) explanation: String,
}

/// One worker's alert state: every series it scores, by the replay's series index.
pub(crate) struct WorkerAlerts {
    rules: Arc<CompiledAlerts>,
    /// Each series' alert slot (the one the live path uses too), with its labels once a rule
    /// covers it.
    series: Vec<(AlertSlot, Option<Labels>)>,
    /// Episodes not resolved yet, by alert id.
    open: HashMap<String, usize>,
    episodes: Vec<Episode>,
    events: Vec<AlertEvent>,
}

impl WorkerAlerts {
    pub(crate) fn new(rules: Arc<CompiledAlerts>) -> Self {
        Self {
            rules,
            series: Vec::new(),
            open: HashMap::new(),
            episodes: Vec::new(),
            events: Vec::new(),
        }
    }

    /// One scored sample of the series `key` (`context` from the replay's step).
    pub(crate) fn observe(
        &mut self,
        keys: &SeriesKeys,
        key: &[u8],
        context: StepContext,
        timestamp_ms: i64,
        value: f64,
        score: &Score,
    ) -> Result<()> {
        if self.series.len() <= context.series {
            self.series
                .resize_with(context.series + 1, Default::default);
        }
        let (slot, labels) = &mut self.series[context.series];
        if let AlertSlot::Unseen = slot {
            let seen = Labels::from_pairs(&series_labels(keys, key)?);
            // A batch run restores nothing: every series starts without firing alerts.
            if slot.state(&self.rules, &seen, Vec::new).is_some() {
                *labels = Some(seen);
            }
        }
        let Some(labels) = labels else {
            return Ok(());
        };
        let observation = Observation {
            labels,
            timestamp_ms,
            value,
            score,
            season_period_ms: context.season_period_ms,
            last_change_ms: context.last_change_ms,
        };
        slot.observe(&self.rules, &observation, Vec::new, &mut self.events);
        for event in self.events.drain(..) {
            let alert = &event.alert;
            match event.kind {
                EventKind::Firing => {
                    self.open.insert(alert.id.clone(), self.episodes.len());
                    self.episodes.push(Episode {
                        key: key.into(),
                        id: alert.id.clone(),
                        series: context.series,
                        alertname: alert.rule.clone(),
                        severity: alert.severity().to_owned(),
                        fired_at_ms: alert.starts_at_ms,
                        resolved_at_ms: None,
                        peak_score: alert.explanation.peak_score,
                        value_at_fire: alert.explanation.value,
                        expected_at_fire: alert.explanation.expected,
                        explanation: serde_json::to_string(&alert.explanation)
                            .context("cannot write an alert's explanation")?,
                    });
                }
                EventKind::Updated | EventKind::Resolved => {
                    let Some(&at) = self.open.get(&alert.id) else {
                        continue;
                    };
                    let episode = &mut self.episodes[at];
                    episode.severity = alert.severity().to_owned();
                    episode.peak_score = episode.peak_score.max(alert.explanation.peak_score);
                    if event.kind == EventKind::Resolved {
                        episode.resolved_at_ms = alert.ends_at_ms.or(Some(timestamp_ms));
                        self.open.remove(&alert.id);
                    }
                }
            }
        }
        Ok(())
    }

    /// Every episode; those still firing at the end of their series keep no resolved time
    /// and take the peak score of the episode so far.
    pub(crate) fn finish(mut self) -> Vec<Episode> {
        for &at in self.open.values() {
            let episode = &mut self.episodes[at];
            let Some((slot, _)) = self.series.get(episode.series) else {
                continue;
            };
            for firing in slot.firing_states(&self.rules) {
                if episode.alertname == firing.rule && episode.fired_at_ms == firing.starts_at_ms {
                    episode.peak_score = episode.peak_score.max(firing.peak_score);
                }
            }
        }
        self.open.clear();
        std::mem::take(&mut self.episodes)
    }
}

/// The labels of a series: each series column by name, a map column's entries and a struct
/// column's fields flattened into their own labels; null values left out.
pub(crate) fn series_labels(keys: &SeriesKeys, key: &[u8]) -> Result<Vec<(String, String)>> {
    let columns = keys.decode([key])?;
    let options = FormatOptions::default();
    let mut labels = Vec::new();
    for (field, column) in keys.schema().fields().iter().zip(&columns) {
        flatten(field.name(), column, &options, &mut labels)?;
    }
    labels.sort();
    labels.dedup_by(|a, b| a.0 == b.0);
    Ok(labels)
}

fn flatten(
    name: &str,
    column: &ArrayRef,
    options: &FormatOptions<'_>,
    labels: &mut Vec<(String, String)>,
) -> Result<()> {
    if column.is_null(0) {
        return Ok(());
    }
    match column.data_type() {
        DataType::Map(_, _) => {
            let map = column.as_map();
            let entries = map.value(0);
            let (names, values) = (entries.column(0), entries.column(1));
            let names = ArrayFormatter::try_new(names.as_ref(), options)?;
            for i in 0..entries.len() {
                let value = values.slice(i, 1);
                flatten(&names.value(i).to_string(), &value, options, labels)?;
            }
        }
        DataType::Struct(_) => {
            let fields = column.as_struct();
            for (field, child) in fields.fields().iter().zip(fields.columns()) {
                flatten(field.name(), child, options, labels)?;
            }
        }
        _ => {
            let text = ArrayFormatter::try_new(column.as_ref(), options)?
                .value(0)
                .to_string();
            labels.push((name.to_owned(), text));
        }
    }
    Ok(())
}

/// `alerts.parquet`: the series columns, then one column per field of an [`Episode`].
pub(crate) fn alerts_schema(series: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = series.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend([
        Field::new("alertname", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("fired_at", timestamp_type(), false),
        Field::new("resolved_at", timestamp_type(), true),
        Field::new("peak_score", DataType::Float64, false),
        Field::new("value_at_fire", DataType::Float64, false),
        Field::new("expected_at_fire", DataType::Float64, false),
        Field::new("explanation", DataType::Utf8, false),
    ]);
    Arc::new(Schema::new(fields))
}

/// One `alerts.parquet` batch.
pub(crate) fn alerts_batch(
    schema: &SchemaRef,
    keys: &SeriesKeys,
    episodes: &[Episode],
) -> Result<RecordBatch> {
    let mut columns = keys.decode(episodes.iter().map(|e| &*e.key))?;
    let floats = |f: fn(&Episode) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(episodes.iter().map(f)))
    };
    columns.extend([
        Arc::new(StringArray::from_iter_values(
            episodes.iter().map(|e| &e.alertname),
        )) as ArrayRef,
        Arc::new(StringArray::from_iter_values(
            episodes.iter().map(|e| &e.severity),
        )),
        Arc::new(
            TimestampMillisecondArray::from_iter_values(episodes.iter().map(|e| e.fired_at_ms))
                .with_timezone("UTC"),
        ),
        Arc::new(
            TimestampMillisecondArray::from_iter(episodes.iter().map(|e| e.resolved_at_ms))
                .with_timezone("UTC"),
        ),
        floats(|e| e.peak_score),
        floats(|e| e.value_at_fire),
        floats(|e| e.expected_at_fire),
        Arc::new(StringArray::from_iter_values(
            episodes.iter().map(|e| &e.explanation),
        )),
    ]);
    RecordBatch::try_new(schema.clone(), columns).context("cannot build the alerts table")
}

/// Episodes in a stable order: by fire time, then series and rule.
pub(crate) fn sort(episodes: &mut [Episode]) {
    episodes.sort_by(|a, b| {
        (a.fired_at_ms, &a.key, &a.alertname, &a.id).cmp(&(
            b.fired_at_ms,
            &b.key,
            &b.alertname,
            &b.id,
        ))
    });
}

/// The summary's lines on alerts: how many would have fired, per rule (every rule listed,
/// those that fired none too).
pub(crate) fn render_summary(rules: &CompiledAlerts, episodes: &[Episode]) -> String {
    let mut out = String::new();
    let still = episodes
        .iter()
        .filter(|e| e.resolved_at_ms.is_none())
        .count();
    let _ = writeln!(
        out,
        "alerts that would have fired: {} ({} still firing at the end of the data)",
        episodes.len(),
        still
    );
    for rule in rules.rule_names() {
        let fired = episodes.iter().filter(|e| e.alertname == rule).count();
        let _ = writeln!(out, "  {fired:>6}  {rule}");
    }
    out
}

#[cfg(test)]
mod tests {
    use arrow::array::{MapBuilder, StringBuilder};

    use super::*;

    #[test]
    fn a_map_column_is_flattened_into_labels() {
        let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        map.keys().append_value("job");
        map.values().append_value("shop");
        map.keys().append_value("zone");
        map.values().append_value("eu");
        map.append(true).unwrap();
        let map: ArrayRef = Arc::new(map.finish());
        let name: ArrayRef = Arc::new(StringArray::from(vec!["cpu"]));
        let schema = Arc::new(Schema::new(vec![
            Field::new("__name__", DataType::Utf8, false),
            Field::new("labels", map.data_type().clone(), true),
        ]));
        let keys = SeriesKeys::new(schema).unwrap();
        let rows = keys.encode(&[name, map]).unwrap().unwrap();
        let labels = series_labels(&keys, rows.row(0).data()).unwrap();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            labels,
            pairs(&[("__name__", "cpu"), ("job", "shop"), ("zone", "eu")])
        );
    }
}
