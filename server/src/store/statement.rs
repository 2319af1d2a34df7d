//! A statement and its parameters, built once and run by either path to the database:
//! sqlx (both engines), or a job on a SQLite connection of this process
//! ([`super::direct`]). The SQL is the store's portable SQL with `$n` placeholders; both
//! paths bind `$n` to the n-th parameter, however often and in whatever order it appears.

use std::borrow::Cow;

use sqlx::{Any, Executor, Row, any::AnyRow};

use crate::error::Result;

/// One parameter's value: the few types the store binds.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    Null,
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            SqlValue::Text(text) => ValueRef::Text(text.as_bytes()),
            SqlValue::Int(number) => ValueRef::Integer(*number),
            SqlValue::Null => ValueRef::Null,
        }))
    }
}

#[derive(Clone, Debug)]
pub struct Statement {
    sql: Cow<'static, str>,
    params: Vec<SqlValue>,
}

impl Statement {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Statement {
        Statement {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    /// Binds the next parameter (`$1` first).
    pub fn text(mut self, value: impl Into<String>) -> Statement {
        self.params.push(SqlValue::Text(value.into()));
        self
    }

    pub fn opt_text(mut self, value: Option<&str>) -> Statement {
        self.params
            .push(value.map_or(SqlValue::Null, |text| SqlValue::Text(text.to_owned())));
        self
    }

    pub fn int(mut self, value: i64) -> Statement {
        self.params.push(SqlValue::Int(value));
        self
    }

    fn query(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments<'_>> {
        let mut query = sqlx::query(&self.sql);
        for value in &self.params {
            query = match value {
                SqlValue::Text(text) => query.bind(text.as_str()),
                SqlValue::Int(number) => query.bind(*number),
                SqlValue::Null => query.bind(None::<String>),
            };
        }
        query
    }

    /// Runs it through sqlx; answers the number of rows it changed.
    pub async fn execute<'e>(&self, db: impl Executor<'e, Database = Any>) -> Result<u64> {
        Ok(self.query().execute(db).await?.rows_affected())
    }

    /// Its rows, through sqlx.
    pub async fn fetch_all<'e>(
        &self,
        db: impl Executor<'e, Database = Any>,
    ) -> Result<Vec<AnyRow>> {
        Ok(self.query().fetch_all(db).await?)
    }

    /// A prepared (and cached) statement on `conn` with every `$n` bound.
    fn prepare_direct<'c>(
        &self,
        conn: &'c rusqlite::Connection,
    ) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
        let mut prepared = conn.prepare_cached(&self.sql)?;
        for index in 1..=prepared.parameter_count() {
            let number = prepared
                .parameter_name(index)
                .and_then(|name| name.strip_prefix('$'))
                .and_then(|number| number.parse::<usize>().ok())
                .ok_or(rusqlite::Error::InvalidParameterCount(
                    index,
                    self.params.len(),
                ))?;
            let value = number
                .checked_sub(1)
                .and_then(|at| self.params.get(at))
                .ok_or(rusqlite::Error::InvalidParameterCount(
                    number,
                    self.params.len(),
                ))?;
            prepared.raw_bind_parameter(index, value)?;
        }
        Ok(prepared)
    }

    /// Runs it on a SQLite connection of this process; answers the rows it changed.
    pub fn execute_direct(&self, conn: &rusqlite::Connection) -> rusqlite::Result<u64> {
        Ok(self.prepare_direct(conn)?.raw_execute()? as u64)
    }

    /// Its rows on a SQLite connection of this process, each read by `read_row`.
    pub fn query_direct<T>(
        &self,
        conn: &rusqlite::Connection,
        mut read_row: impl FnMut(&rusqlite::Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut prepared = self.prepare_direct(conn)?;
        let mut rows = prepared.raw_query();
        let mut read = Vec::new();
        while let Some(row) = rows.next()? {
            read.push(read_row(row)?);
        }
        Ok(read)
    }
}

/// A row's columns by name, from either path: so that a row type is read by one function.
pub trait Columns {
    fn text(&self, name: &str) -> Result<Option<String>>;
    fn int(&self, name: &str) -> Result<Option<i64>>;

    fn required_text(&self, name: &str) -> Result<String> {
        self.text(name)?.ok_or_else(|| missing(name))
    }

    fn required_int(&self, name: &str) -> Result<i64> {
        self.int(name)?.ok_or_else(|| missing(name))
    }
}

fn missing(column: &str) -> crate::error::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: "NULL where a value is required".into(),
    }
    .into()
}

impl Columns for AnyRow {
    fn text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.try_get(name)?)
    }

    fn int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.try_get(name)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.get(name)?)
    }

    fn int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.get(name)?)
    }
}
