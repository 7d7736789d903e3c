// Package snapshot owns the snapshot format, one release in a SQLite file,
// and the Store that keeps them as DIR/SYSTEM/LABEL.sqlite.
//
// PRAGMA application_id is ApplicationID ("CSET") and PRAGMA user_version
// is SchemaVersion; a file without them is refused. Schema creates the
// tables and says what each column holds:
//
//   - release: one row: schema version, system, label, effective date
//     (YYYY-MM-DD, or empty), the codeset version that wrote it, the number of
//     codes, and the source of the publisher's declared changes.
//   - source_files: name, SHA-256 and size of each publisher file read.
//   - category_counts: codes per non-empty category.
//   - codes: one row per code, keyed by code (text: "00100" keeps its
//     zeros): category, short, medium, long, status, attributes (compared,
//     a JSON object with sorted keys), meta (publisher bookkeeping such
//     as action codes and dates, not compared) and hash (RowHash of the
//     compared fields).
//   - code_hashes: the code and row hash of every code, in code order,
//     packed in chunks, so that a comparison of two snapshots reads a few
//     blobs and decodes only the rows that differ (Compare).
//   - headers: rows shipped beside the codes that are not codes (ICD-10
//     non-billable headers), in the same shape.
//   - declared_changes: what the publisher says changed (HCPCS action
//     codes, ICD-10 addenda).
//   - declared_counts: the publisher's own totals for those changes.
//   - declared_errata: the rows of the corrections files read with the
//     release, kept as evidence for the reconciliation's reasons.
//   - replacements: the replacement links the publisher states with the
//     release (crosswalk rows, HCPCS cross-references).
//
// A snapshot is written once and never changed. Its bytes depend only on
// the release: every table is filled in key order by one transaction of a
// new file (no VACUUM needed), so two runs over the same input give
// identical files. Write builds it under a
// temporary name and links it into place only when complete and synced.
package snapshot
