//! PostgreSQL: the store several nodes share (see `wire` and `writer`).
