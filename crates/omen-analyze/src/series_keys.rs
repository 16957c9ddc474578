//! Series keys: the series columns of a row as one byte string (Arrow's row format), to
//! group and route rows by series, and back into columns and readable names.

use arrow::array::ArrayRef;
use arrow::compute::cast;
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::{Context, Result};

/// Series keys (row-format bytes) back into columns of the series schema.
#[derive(Debug)]
pub(crate) struct SeriesKeys {
    schema: SchemaRef,
    converter: Option<RowConverter>,
}

impl SeriesKeys {
    /// Keys for the series columns of `schema`; none at all when it has no columns.
    pub(crate) fn new(schema: SchemaRef) -> Result<Self> {
        let converter = if schema.fields().is_empty() {
            None
        } else {
            let fields = schema
                .fields()
                .iter()
                .map(|f| SortField::new(f.data_type().clone()))
                .collect();
            Some(RowConverter::new(fields).context("cannot key the series columns")?)
        };
        Ok(Self { schema, converter })
    }

    /// The series columns.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The key of each row of `columns` (the series columns of one batch), as one `Rows`.
    pub(crate) fn encode(&self, columns: &[ArrayRef]) -> Result<Option<arrow::row::Rows>> {
        match &self.converter {
            None => Ok(None),
            Some(converter) => Ok(Some(
                converter
                    .convert_columns(columns)
                    .context("cannot key the series columns")?,
            )),
        }
    }

    /// Columns of the series schema holding the series of each key, in order.
    pub(crate) fn decode<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<ArrayRef>> {
        let Some(converter) = &self.converter else {
            return Ok(Vec::new());
        };
        let parser = converter.parser();
        let rows: Vec<_> = keys.into_iter().map(|k| parser.parse(k)).collect();
        let columns = converter
            .convert_rows(rows)
            .context("cannot decode series keys")?;
        // The row format stores a dictionary's values, not its keys: restore the input's types.
        columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(column, field)| {
                if column.data_type() == field.data_type() {
                    Ok(column)
                } else {
                    cast(&column, field.data_type())
                        .context("cannot restore a series column's type")
                }
            })
            .collect()
    }

    /// Each key's series columns as `(name, value)` pairs, values as Arrow displays them and
    /// a null as `null_text`.
    pub(crate) fn labels<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a [u8]>,
        null_text: &str,
    ) -> Result<Vec<Vec<(String, String)>>> {
        let keys: Vec<&[u8]> = keys.into_iter().collect();
        if self.converter.is_none() {
            return Ok(vec![Vec::new(); keys.len()]);
        }
        let columns = self.decode(keys.iter().copied())?;
        let options = FormatOptions::default().with_null(null_text);
        let formatters = columns
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()
            .context("cannot format series columns")?;
        Ok((0..keys.len())
            .map(|row| {
                self.schema
                    .fields()
                    .iter()
                    .zip(&formatters)
                    .map(|(field, fmt)| (field.name().clone(), fmt.value(row).to_string()))
                    .collect()
            })
            .collect())
    }

    /// `name=value, name=value` for each key, for people.
    pub(crate) fn describe<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<String>> {
        if self.converter.is_none() {
            let count = keys.into_iter().count();
            return Ok(vec!["(the only series)".to_owned(); count]);
        }
        Ok(self
            .labels(keys, "null")?
            .into_iter()
            .map(|labels| {
                labels
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect())
    }
}
