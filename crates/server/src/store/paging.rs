//! Pages of a list: the limit, and where to start (an offset, or an opaque cursor).

use super::SqlBuilder;
use converra_api::{Pagination, Paging};

use super::{StoreError, StoreResult};

/// Where a page starts. A keyset cursor names the last row of the previous page, so rows
/// inserted while someone pages shift nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Offset(u64),
    /// Strictly after the row with this sort key and id (in the list's order).
    After {
        key: i64,
        id: String,
    },
}

#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u32,
    pub start: Start,
}

impl PageRequest {
    /// Checks `limit` (1..100) and decodes the cursor; `default_limit` differs per list.
    pub fn from_query(paging: &Paging, default_limit: u32) -> StoreResult<PageRequest> {
        let limit = paging.limit.unwrap_or(default_limit);
        if !(1..=Paging::MAX_LIMIT).contains(&limit) {
            return Err(StoreError::InvalidField {
                field: "limit",
                message: "must be between 1 and 100",
            });
        }
        // Checked even beside a cursor, which takes precedence: a value the API refuses is
        // refused wherever it stands.
        if paging
            .offset
            .is_some_and(|offset| offset > Paging::MAX_OFFSET)
        {
            return Err(StoreError::InvalidField {
                field: "offset",
                message: "must be at most 1000000000; page on with the cursor",
            });
        }
        let start = match &paging.cursor {
            Some(cursor) => decode_cursor(cursor).ok_or_else(|| StoreError::InvalidField {
                field: "cursor",
                message: "is not a cursor this API issued",
            })?,
            None => Start::Offset(paging.offset.unwrap_or(0)),
        };
        Ok(PageRequest { limit, start })
    }

    pub fn offset(&self) -> u64 {
        match self.start {
            Start::Offset(n) => n,
            Start::After { .. } => 0,
        }
    }

    /// Builds the pagination block from `limit + 1` fetched rows (the extra one only says
    /// that there is more), truncating `rows` to the page.
    pub fn finish<T>(
        &self,
        rows: &mut Vec<T>,
        total: u64,
        sort_key: impl Fn(&T) -> (i64, String),
    ) -> Pagination {
        let has_more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let next_cursor = if has_more {
            rows.last().map(|row| {
                let (key, id) = sort_key(row);
                encode_cursor(key, &id)
            })
        } else {
            None
        };
        Pagination {
            total,
            limit: self.limit,
            offset: self.offset(),
            has_more,
            next_cursor,
        }
    }
}

/// Appends to a query whose WHERE clause is open: the keyset condition of `page`, the
/// newest-first order on `table`'s `created_at` and `id`, and the limit (one extra row, for
/// [`PageRequest::finish`]) with the offset.
pub fn push_newest_first(query: &mut SqlBuilder, table: &str, page: &PageRequest) {
    if let Start::After { key, id } = &page.start {
        query
            .push(format!(" AND ({table}.created_at < "))
            .push_bind(*key)
            .push(format!(" OR ({table}.created_at = "))
            .push_bind(*key)
            .push(format!(" AND {table}.id < "))
            .push_bind(id.clone())
            .push("))");
    }
    query
        .push(format!(
            " ORDER BY {table}.created_at DESC, {table}.id DESC LIMIT "
        ))
        .push_bind(i64::from(page.limit) + 1);
    if let Start::Offset(offset) = page.start {
        query
            .push(" OFFSET ")
            .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
    }
}

pub fn encode_cursor(key: i64, id: &str) -> String {
    hex::encode(format!("{key}:{id}"))
}

fn decode_cursor(cursor: &str) -> Option<Start> {
    let text = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    let (key, id) = text.split_once(':')?;
    Some(Start::After {
        key: key.parse().ok()?,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_past_a_billion_is_refused() {
        let paging = |offset| Paging {
            offset: Some(offset),
            ..Paging::default()
        };
        assert!(PageRequest::from_query(&paging(Paging::MAX_OFFSET), 20).is_ok());
        assert!(PageRequest::from_query(&paging(Paging::MAX_OFFSET + 1), 20).is_err());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor(1_795_824_000_000, "conv_abc");
        assert_eq!(
            decode_cursor(&c),
            Some(Start::After {
                key: 1_795_824_000_000,
                id: "conv_abc".into()
            })
        );
        let bad = Paging {
            cursor: Some("zz".into()),
            ..Paging::default()
        };
        assert!(PageRequest::from_query(&bad, 20).is_err());
        let too_many = Paging {
            limit: Some(101),
            ..Paging::default()
        };
        assert!(PageRequest::from_query(&too_many, 20).is_err());
    }

    #[test]
    fn finish_trims_the_probe_row_and_points_at_the_last_kept_row() {
        let page = PageRequest {
            limit: 2,
            start: Start::Offset(0),
        };
        let mut rows = vec![(3, "c"), (2, "b"), (1, "a")];
        let p = page.finish(&mut rows, 3, |r| (r.0, r.1.to_owned()));
        assert_eq!(rows.len(), 2);
        assert!(p.has_more);
        assert_eq!(p.next_cursor, Some(encode_cursor(2, "b")));
    }
}
