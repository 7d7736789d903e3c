// Package publish owns what codeset writes for others to read: the SQLite
// snapshot format, the Store of snapshots, the changelog renderers and the
// published tree.
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
// A snapshot is written once and never changed. Its bytes depend only on
// the release: codes are inserted in order and the file is vacuumed, so two
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
// WriteMarkdown writes the changelog people read.
//
// # Published tree
//
// Publish creates OUT/SYSTEM/LABEL/ holding SYSTEM-LABEL.sqlite,
// changelog.md, changelog.json and manifest.json, which lists the other
// files with their sizes and SHA-256 sums. A release folder appears
// complete or not at all, and a published release is never changed.
package publish
