//! The backing services beside DynamoDB, each an accelerator or a pipe, none a source of truth:
//! the SQS queue to the worker ([`queue`]), the files bucket ([`files`]), the Redis cache ([`cache`], and the room member
//! lists read through it, [`members`]), the keys that sign task ids and tokens ([`signing`]),
//! and the SDK configuration that builds each of them once per cold start ([`config`]).

pub mod cache;
pub mod config;
pub mod files;
pub mod members;
pub mod presign;
pub mod queue;
pub mod signing;
