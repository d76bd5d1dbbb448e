//! A page of a list: how many items, after which id (API.md "Paging of lists").

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: u64,
}

pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 200;
