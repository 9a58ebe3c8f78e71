"""The database schema, as numbered migrations.

`SCHEMA_VERSION` is also written to `PRAGMA user_version`, which lets every connection check in one
cheap read (no sqlite-utils import) whether migrations are due or whether the file was written by a
newer t3cli — in which case it is refused and left untouched.
"""

from __future__ import annotations

from t3cli.store.schema_0003_receipt_fingerprint import MIGRATION as _RECEIPT_FINGERPRINT

SCHEMA_VERSION = 3

_EVENT_COLUMNS = (
    "sequence, event_id, stream_kind, stream_id, stream_version, type, payload, schema_version,"
    " command_id, causation_event_id, correlation_id, actor, occurred_at"
)

# Each entry: (name, statements). Applied in order, each atomically with its record.
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_initial",
        [
            """CREATE TABLE events (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                event_id TEXT NOT NULL UNIQUE,
                stream_kind TEXT NOT NULL,
                stream_id TEXT NOT NULL,
                stream_version INTEGER NOT NULL,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                schema_version INTEGER NOT NULL,
                command_id TEXT,
                causation_event_id TEXT,
                correlation_id TEXT,
                actor TEXT NOT NULL,
                occurred_at TEXT NOT NULL,
                UNIQUE (stream_id, stream_version)
            )""",
            "CREATE INDEX events_stream ON events (stream_id, sequence)",
            "CREATE INDEX events_command ON events (command_id)",
            # The log is append-only, enforced by the database itself.
            """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
               BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
            """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
               BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
            """CREATE TABLE command_receipts (
                command_id TEXT PRIMARY KEY,
                command_type TEXT NOT NULL,
                stream_id TEXT,
                status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
                first_sequence INTEGER,
                result_sequence INTEGER,
                error TEXT,
                error_kind TEXT,
                hint TEXT,
                accepted_at TEXT NOT NULL
            )""",
            """CREATE TABLE projection_state (
                projector TEXT PRIMARY KEY,
                last_applied_sequence INTEGER NOT NULL,
                version INTEGER NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            # A cursor only moves forward; a rebuild deletes the row and starts again from zero.
            """CREATE TRIGGER projection_cursor_forward
               BEFORE UPDATE OF last_applied_sequence ON projection_state
               WHEN NEW.last_applied_sequence <= OLD.last_applied_sequence
               BEGIN SELECT RAISE(ABORT, 'projection cursor may only move forward'); END""",
            """CREATE TABLE projects (
                project_id TEXT PRIMARY KEY,
                path TEXT NOT NULL UNIQUE,
                title TEXT NOT NULL,
                default_provider TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE threads (
                thread_id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT,
                title TEXT NOT NULL,
                provider_options TEXT,
                archived INTEGER NOT NULL DEFAULT 0,
                deleted INTEGER NOT NULL DEFAULT 0,
                active_turn_id TEXT,
                active_turn_status TEXT,
                pending_count INTEGER NOT NULL DEFAULT 0,
                sending_count INTEGER NOT NULL DEFAULT 0,
                failed_count INTEGER NOT NULL DEFAULT 0,
                created_sequence INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX threads_title ON threads (title)",
            "CREATE INDEX threads_project ON threads (project_id)",
            """CREATE TABLE sessions (
                thread_id TEXT PRIMARY KEY,
                status TEXT NOT NULL,
                provider TEXT,
                provider_session_id TEXT,
                error TEXT,
                stop_requested INTEGER NOT NULL DEFAULT 0,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE turns (
                turn_id TEXT PRIMARY KEY,
                thread_id TEXT NOT NULL,
                message_id TEXT NOT NULL,
                queue_item_id TEXT,
                status TEXT NOT NULL,
                interrupt_requested INTEGER NOT NULL DEFAULT 0,
                provider_session_id TEXT,
                error TEXT,
                input_tokens INTEGER,
                output_tokens INTEGER,
                cached_input_tokens INTEGER,
                cost_usd REAL,
                duration_ms INTEGER,
                requested_sequence INTEGER NOT NULL,
                requested_at TEXT NOT NULL,
                started_at TEXT,
                completed_at TEXT
            )""",
            "CREATE INDEX turns_thread ON turns (thread_id, requested_sequence)",
            """CREATE INDEX turns_active ON turns (thread_id)
               WHERE status IN ('requested', 'running')""",
            """CREATE TABLE queued_turns (
                queue_item_id TEXT PRIMARY KEY,
                thread_id TEXT NOT NULL,
                message_id TEXT NOT NULL,
                position INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'failed')),
                failure_reason TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                turn_id TEXT,
                queued_sequence INTEGER NOT NULL,
                queued_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX queued_turns_thread ON queued_turns (thread_id, position)",
            "CREATE INDEX queued_turns_status ON queued_turns (status, thread_id)",
            """CREATE TABLE messages (
                message_id TEXT PRIMARY KEY,
                thread_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                role TEXT NOT NULL,
                text TEXT NOT NULL,
                turn_id TEXT,
                queue_item_id TEXT,
                complete INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX messages_thread ON messages (thread_id, sequence)",
            """CREATE TABLE activities (
                activity_id TEXT PRIMARY KEY,
                thread_id TEXT NOT NULL,
                turn_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                kind TEXT NOT NULL,
                summary TEXT NOT NULL,
                status TEXT,
                detail TEXT NOT NULL,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX activities_thread ON activities (thread_id, sequence)",
            """CREATE TABLE thread_summaries (
                thread_id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL,
                title TEXT NOT NULL,
                provider TEXT NOT NULL,
                preview TEXT NOT NULL DEFAULT '',
                preview_message_id TEXT,
                message_count INTEGER NOT NULL DEFAULT 0,
                turn_count INTEGER NOT NULL DEFAULT 0,
                queue_depth INTEGER NOT NULL DEFAULT 0,
                input_tokens INTEGER NOT NULL DEFAULT 0,
                output_tokens INTEGER NOT NULL DEFAULT 0,
                cost_usd REAL NOT NULL DEFAULT 0,
                deleted INTEGER NOT NULL DEFAULT 0,
                last_activity_at TEXT NOT NULL,
                last_activity_sequence INTEGER NOT NULL
            )""",
            """CREATE INDEX thread_summaries_activity
               ON thread_summaries (last_activity_sequence)""",
            """CREATE TABLE thread_leases (
                thread_id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                expires_at REAL NOT NULL
            )""",
        ],
    ),
    (
        # Fewer B-trees written per command. Every index a dispatch touches costs at least one
        # more WAL page per commit (and a random-key index splits pages), and that, not Python,
        # dominated a single command's commit: 24 pages per `t3 queue` before, 14 after.
        # - events: no AUTOINCREMENT (the log is append-only, so `max(sequence) + 1` never reuses
        #   a sequence, and `sqlite_sequence` stops being written); no UNIQUE index on `event_id`
        #   (ids derive from the command id, unique by `command_receipts`' key, and the event's
        #   index); no `events_command` (a command's events are the receipt's sequence range).
        # - command_receipts and queued_turns: WITHOUT ROWID, keyed by their text id alone.
        # - queued_turns: instead of an index over every item's status, two partial indexes over
        #   the rows a reactor looks for (items being sent, pending heads), which a new item at
        #   the back of a queue never touches.
        # Rows are copied as they are; no projection needs rebuilding.
        "0002_lean_append",
        [
            "ALTER TABLE events RENAME TO events_v1",
            """CREATE TABLE events (
                sequence INTEGER PRIMARY KEY,
                event_id TEXT NOT NULL,
                stream_kind TEXT NOT NULL,
                stream_id TEXT NOT NULL,
                stream_version INTEGER NOT NULL,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                schema_version INTEGER NOT NULL,
                command_id TEXT,
                causation_event_id TEXT,
                correlation_id TEXT,
                actor TEXT NOT NULL,
                occurred_at TEXT NOT NULL,
                UNIQUE (stream_id, stream_version)
            )""",
            f"INSERT INTO events ({_EVENT_COLUMNS}) SELECT {_EVENT_COLUMNS} FROM events_v1",
            # Dropping a table fires none of its triggers, and takes its indexes with it.
            "DROP TABLE events_v1",
            "CREATE INDEX events_stream ON events (stream_id, sequence)",
            """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
               BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
            """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
               BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
            "ALTER TABLE command_receipts RENAME TO command_receipts_v1",
            """CREATE TABLE command_receipts (
                command_id TEXT PRIMARY KEY,
                command_type TEXT NOT NULL,
                stream_id TEXT,
                status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
                first_sequence INTEGER,
                result_sequence INTEGER,
                error TEXT,
                error_kind TEXT,
                hint TEXT,
                accepted_at TEXT NOT NULL
            ) WITHOUT ROWID""",
            "INSERT INTO command_receipts SELECT * FROM command_receipts_v1",
            "DROP TABLE command_receipts_v1",
            "ALTER TABLE queued_turns RENAME TO queued_turns_v1",
            """CREATE TABLE queued_turns (
                queue_item_id TEXT PRIMARY KEY,
                thread_id TEXT NOT NULL,
                message_id TEXT NOT NULL,
                position INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'failed')),
                failure_reason TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                turn_id TEXT,
                queued_sequence INTEGER NOT NULL,
                queued_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            ) WITHOUT ROWID""",
            "INSERT INTO queued_turns SELECT * FROM queued_turns_v1",
            "DROP TABLE queued_turns_v1",
            "CREATE INDEX queued_turns_thread ON queued_turns (thread_id, position)",
            """CREATE INDEX queued_turns_sending ON queued_turns (thread_id)
               WHERE status = 'sending'""",
            """CREATE INDEX queued_turns_head ON queued_turns (thread_id)
               WHERE status = 'pending' AND position = 1""",
        ],
    ),
    _RECEIPT_FINGERPRINT,
]

assert len(MIGRATIONS) == SCHEMA_VERSION
