//! Paging shared by every admin list: the `limit` and `offset` query parameters
//! and the `Page<T>` answer, so that each resource's list reads the same.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;

/// The most items one page may hold.
pub const MAX_LIMIT: i64 = 200;
const DEFAULT_LIMIT: i64 = 50;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many items (1 to 200; 50 when left out).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Skip this many items first.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl PageQuery {
    /// (limit, offset), checked: limit 1 to 200 (50 by default), offset at least 0.
    pub fn bounds(&self) -> Result<(i64, i64), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        let offset = self.offset.unwrap_or(0);
        if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
            return Err(ApiError::BadRequest(format!(
                "limit must be 1 to {MAX_LIMIT} and offset at least 0"
            )));
        }
        Ok((limit, offset))
    }
}

/// A page of one user's items, or everyone's: `?user=&limit=&offset=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserPageQuery {
    /// Only the items of this user id.
    pub user: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl UserPageQuery {
    /// (limit, offset), checked as `PageQuery::bounds` does.
    pub fn bounds(&self) -> Result<(i64, i64), ApiError> {
        PageQuery { limit: self.limit, offset: self.offset }.bounds()
    }
}

/// One page of a list, with the total the filter matched.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items there are in all.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl<T> Page<T> {
    /// A page of `rows` (already cut to `limit` from `offset`), each turned into `T`.
    pub fn of<R: Into<T>>(rows: Vec<R>, total: i64, (limit, offset): (i64, i64)) -> Self {
        Page { items: rows.into_iter().map(Into::into).collect(), total, limit, offset }
    }
}

/// A short list that needs no paging (departments, user types).
#[derive(Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}
