"""The catalogue a CLI suite works on, read straight from its database for the suites' checks:
MLC_HOME/catalog.db (SQLite), or the PostgreSQL schema MLC_CATALOG names when the suite runs
against a server (lib.sh sets it when MLC_TEST_POSTGRES is set).

    python3 catalog_db.py dump        every row of every table, ordered (lib.sh's fingerprint)
    python3 catalog_db.py query SQL   the rows of SQL, one line each ('|'-separated)
"""
import os
import sys


class Catalog:
    """A DB-API connection with sqlite3's conveniences on both backends: execute() returns the
    cursor, and '?' placeholders work for PostgreSQL too."""

    def __init__(self):
        self.url = os.environ.get("MLC_CATALOG", "")
        if self.url:
            import psycopg2  # python3-psycopg2
            self.con = psycopg2.connect(self.url)
            self.con.autocommit = True
        else:
            import sqlite3
            self.con = sqlite3.connect(os.path.join(os.environ["MLC_HOME"], "catalog.db"))

    @property
    def postgres(self):
        return bool(self.url)

    def execute(self, sql, params=()):
        cursor = self.con.cursor()
        cursor.execute(sql.replace("?", "%s") if self.postgres else sql, params)
        return cursor

    def tables(self):
        if self.postgres:
            rows = self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        else:
            rows = self.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return [name for (name,) in rows.fetchall()]

    def triggers(self):
        """PostgreSQL: the enabled triggers on the catalogue's tables, as 'table.trigger'."""
        rows = self.execute("SELECT c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                            "AND NOT t.tgisinternal AND t.tgenabled <> 'D' ORDER BY 1")
        return [name for (name,) in rows.fetchall()]

    def integrity(self):
        """'ok', or the database's complaint: SQLite's integrity and foreign-key checks; PostgreSQL
        enforces types and references on every write, so there: the four append-only triggers."""
        if not self.postgres:
            verdict = self.execute("PRAGMA integrity_check").fetchone()[0]
            references = self.execute("PRAGMA foreign_key_check").fetchall()
            return verdict if verdict != "ok" else (f"foreign_key_check: {references}" if references else "ok")
        expected = ["history.history_is_append_only", "history.history_is_append_only_truncate",
                    "target_log.target_log_is_append_only", "target_log.target_log_is_append_only_truncate"]
        found = self.triggers()
        return "ok" if found == expected else f"append-only triggers {found}, expected {expected}"

    def dump(self):
        """Every row of every table, and the schema: SQLite's table, index and trigger definitions and
        user_version; PostgreSQL's triggers (mlc_schema is a table)."""
        if self.postgres:
            lines = [f"trigger: {name}" for name in self.triggers()]
        else:
            lines = [f"schema: {row!r}" for row in self.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()]
            lines.append(f"user_version: {self.execute('PRAGMA user_version').fetchone()[0]}")
        for table in self.tables():
            rows = self.execute(f'SELECT * FROM "{table}"').fetchall()
            lines += sorted(f"{table}: {row!r}" for row in rows)
        return "\n".join(lines)

    def close(self):
        self.con.close()


if __name__ == "__main__":
    catalog = Catalog()
    if sys.argv[1] == "dump":
        print(catalog.dump())
    elif sys.argv[1] == "query":
        for row in catalog.execute(sys.argv[2]).fetchall():
            print("|".join("" if value is None else str(value) for value in row))
    else:
        sys.exit(f"catalog_db.py: unknown command {sys.argv[1]}")
