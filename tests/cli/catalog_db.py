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

    def integrity(self):
        """'ok', or the database's complaint: SQLite's integrity and foreign-key checks (PostgreSQL
        enforces both on every write)."""
        if not self.postgres:
            verdict = self.execute("PRAGMA integrity_check").fetchone()[0]
            references = self.execute("PRAGMA foreign_key_check").fetchall()
            return verdict if verdict != "ok" else (f"foreign_key_check: {references}" if references else "ok")
        return "ok"

    def dump(self):
        lines = []
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
