//! The journal's SQL schema and its migrations, versioned by
//! `PRAGMA user_version`: version N means migrations 1..=N have run. Each
//! migration runs in its own transaction together with the version bump, so
//! a crash mid-upgrade leaves the previous version intact.
//!
//! Never edit a released migration; append a new one.

use rusqlite::Connection;

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: operations, their transition history, shifts, outbox, last errors.
    r#"
    CREATE TABLE operations (
        id           INTEGER PRIMARY KEY,
        kassa        TEXT NOT NULL,
        source       TEXT NOT NULL,
        op_id        TEXT NOT NULL,
        raw          TEXT NOT NULL,
        state        TEXT NOT NULL,
        state_data   TEXT NOT NULL,
        received_at  INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        finished_at  INTEGER,
        UNIQUE (kassa, source, op_id)
    );
    CREATE INDEX operations_by_state ON operations (kassa, state, id);
    CREATE INDEX operations_by_finish ON operations (kassa, finished_at);

    CREATE TABLE transitions (
        id          INTEGER PRIMARY KEY,
        operation   INTEGER NOT NULL REFERENCES operations (id),
        event       TEXT NOT NULL,
        state       TEXT NOT NULL,
        state_data  TEXT NOT NULL,
        at          INTEGER NOT NULL
    );
    CREATE INDEX transitions_by_operation ON transitions (operation, id);

    CREATE TABLE shifts (
        id            INTEGER PRIMARY KEY,
        kassa         TEXT NOT NULL,
        sync_id       TEXT NOT NULL UNIQUE,
        fn_serial     TEXT NOT NULL,
        state         TEXT NOT NULL,
        state_data    TEXT NOT NULL,
        open_synced   INTEGER NOT NULL DEFAULT 0,
        close_synced  INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    );
    CREATE INDEX shifts_by_kassa ON shifts (kassa, id);

    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        kassa            TEXT NOT NULL,
        kind             TEXT NOT NULL,
        operation        INTEGER REFERENCES operations (id),
        shift            INTEGER REFERENCES shifts (id),
        body             TEXT NOT NULL,
        status           TEXT NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_error       TEXT,
        last_attempt_at  INTEGER,
        created_at       INTEGER NOT NULL,
        done_at          INTEGER
    );
    CREATE INDEX outbox_by_status ON outbox (kassa, status, id);

    CREATE TABLE kassa_errors (
        kassa    TEXT PRIMARY KEY,
        at       INTEGER NOT NULL,
        message  TEXT NOT NULL
    );
    "#,
    // 2: outbox entries by operation and by shift, for retention (which
    // must not remove anything with an undelivered entry) and for finding
    // the first answer of an operation handed out again; download cursors.
    r#"
    CREATE INDEX outbox_by_operation ON outbox (operation);
    CREATE INDEX outbox_by_shift ON outbox (shift);

    -- How far a source has been downloaded with everything up to there
    -- journaled (Kassatka): a restart resumes there.
    CREATE TABLE download_cursors (
        kassa   TEXT PRIMARY KEY,
        until   INTEGER NOT NULL,
        at      INTEGER NOT NULL
    );
    "#,
];

/// The schema version this build writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Reads `PRAGMA user_version`.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Runs every migration above the file's version. The caller has checked
/// the file is not newer than [`VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    migrate_with(conn, MIGRATIONS)
}

fn migrate_with(conn: &mut Connection, migrations: &[&str]) -> rusqlite::Result<()> {
    let target = migrations.len() as i64;
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
        // Read the version inside the write lock: two processes opening
        // the same fresh file must not both run migration 1.
        let current = version(&tx)?;
        if current >= target {
            return tx.commit();
        }
        let index = usize::try_from(current).unwrap_or(0);
        tx.execute_batch(migrations[index])?;
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn migrations_run_in_order_once_and_bump_the_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        let v1 = ["CREATE TABLE a (x INTEGER);"];
        migrate_with(&mut conn, &v1).unwrap();
        assert_eq!(version(&conn).unwrap(), 1);
        conn.execute("INSERT INTO a VALUES (7)", []).unwrap();
        // Reopening at the same version runs nothing again.
        migrate_with(&mut conn, &v1).unwrap();
        let v2 = [
            "CREATE TABLE a (x INTEGER);",
            "ALTER TABLE a ADD COLUMN y TEXT;",
        ];
        migrate_with(&mut conn, &v2).unwrap();
        assert_eq!(version(&conn).unwrap(), 2);
        let (x, y): (i64, Option<String>) = conn
            .query_row("SELECT x, y FROM a", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((x, y), (7, None));
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version_intact() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_with(&mut conn, &["CREATE TABLE a (x INTEGER);"]).unwrap();
        let broken = [
            "CREATE TABLE a (x INTEGER);",
            "CREATE TABLE b (x INTEGER); THIS IS NOT SQL;",
        ];
        assert!(migrate_with(&mut conn, &broken).is_err());
        assert_eq!(version(&conn).unwrap(), 1);
        assert_eq!(tables(&conn), ["a"], "half of migration 2 was kept");
    }

    #[test]
    fn the_shipped_schema_creates_every_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), VERSION);
        assert_eq!(
            tables(&conn),
            [
                "download_cursors",
                "kassa_errors",
                "operations",
                "outbox",
                "shifts",
                "sqlite_sequence",
                "transitions"
            ]
        );
    }
}
