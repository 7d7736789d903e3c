// Package publish owns what codeset writes for others to read: the SQLite
// snapshot format, the Store of snapshots, the changelog renderers, the
// published tree with its indexes, pointers and history database, and the
// HTTP handler that serves it.
//
// # Snapshots
//
// A snapshot is one release in a SQLite file. PRAGMA application_id is
// ApplicationID ("CSET") and PRAGMA user_version is SchemaVersion; a file
// without them is refused. The tables, created by Schema:
//
//   - release: a single row of schema_version, system, label, effective
//     (ISO date YYYY-MM-DD, or the empty string when unknown), tool_version and
//     code_count.
//   - source_files: name, sha256 and bytes of each publisher file the
//     release was read from, in the order given.
//   - category_counts: category and codes, the number of codes in each
//     non-empty category.
//   - codes: one row per code, WITHOUT ROWID and keyed by code (text, so
//     "00100" keeps its zeros), with category, short, medium, long and
//     status (all TEXT NOT NULL, empty when absent) and attributes, a JSON
//     object of any other attributes with sorted keys, '{}' when none.
//
// code_hashes packs the code and row hash (codes.hash, see RowHash) of
// every code, in code order, so that a comparison of two snapshots reads a
// few blobs and decodes only the rows that differ (Compare).
//
// A snapshot is written once and never changed. Its bytes depend only on
// the release: every table is filled in key order in one transaction of a
// new file (no VACUUM needed), so two
// runs over the same input give identical files.
//
// # Store
//
// A Store keeps snapshots as DIR/SYSTEM/LABEL.sqlite.
//
// # Changelogs
//
// WriteJSON writes the machine-readable changelog, a stable contract:
//
//	{
//	  "system": "cpt",
//	  "from": "2025",              (null for a first release)
//	  "to": "2026",
//	  "from_effective": "2025-01-01", (or null)
//	  "to_effective": "2026-01-01",   (or null)
//	  "summary": {"added": 0, "deleted": 0, "revised": 0, "cosmetic": 0, "reactivated": 0, "unchanged": 0},
//	  "changes": [
//	    {"code": "...", "change": "revised", "category": "I", "description": "...",
//	     "fields": {"long": {"before": "...", "after": "..."}}}
//	  ]
//	}
//
// WriteMarkdown and WriteHTML write the changelog people read; WriteCSV and
// WriteXLSX the one coders sort and filter (a row per changed field, before
// and after).
//
// # Published tree
//
// The tree is plain files, so any web server, object store or CDN can serve
// it unchanged:
//
//	OUT/index.json              every system and release (RootIndex)
//	OUT/index.html              the same for people
//	OUT/SYSTEM/index.json       the system's releases, oldest first (SystemIndex)
//	OUT/SYSTEM/latest.json      Pointer to the release with the latest effective date
//	OUT/SYSTEM/current.json     Pointer to the latest release in effect (absent before any)
//	OUT/SYSTEM/history.sqlite   every code across all releases (HistorySchema)
//	OUT/SYSTEM/LABEL/           one immutable folder per release:
//	    SYSTEM-LABEL.sqlite     the snapshot
//	    changelog.{md,html,json,csv,xlsx}
//	    SHA256SUMS              for sha256sum -c, run inside the folder
//	    manifest.json           release metadata, counts, every other file with bytes and SHA-256
//
// PublishAt builds a release folder under a temporary name and renames it
// into place, so it appears complete or not at all, and never changes a
// published release. It then calls Reindex, which brings the history,
// indexes and pointers up to date with the release folders, each file
// replaced atomically (temporary file, fsync, rename, directory fsync) and
// only when it changes. The history database records the SHA-256 of every
// snapshot it holds: when it holds the first releases of the system it is
// extended by the new ones (each release adding its own changes, found by
// an ordered merge of row hashes), when it holds all of them it is left
// alone, and otherwise it is rebuilt; an extended history has the bytes of
// a rebuilt one. Pointers are
// small JSON files rather than symbolic links so that static hosts serve
// them; "current" depends on the date, so Reindex must run again when a
// release takes effect (codeset reindex).
//
// PublishAt, Reindex, Unpublish and WriteSnapshot hold an flock on the
// folder they write (the tree, or the snapshot's folder) while they work.
// Temporary names all start with "." and are skipped by every reader;
// holding the lock, a writer removes those left by a process that was
// killed.
//
// Every published file is a function of the input files alone (and, for
// current.json and the indexes, of the date): no wall-clock time, random
// order or host name is written, so checksums mean something.
//
// NewHandler serves the tree over HTTP; package pull downloads from it.
package publish
