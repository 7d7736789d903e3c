// Package publish writes the published tree: one immutable folder per
// release, and the indexes, pointers and history database that describe
// them. The wire format it writes is package format's; the snapshot format
// is package snapshot's; the changelogs are package changelog's; the server
// that reads the tree is package server, which imports nothing from here.
//
// # Published tree
//
// The tree is plain files, so any web server, object store or CDN can serve
// it unchanged:
//
//	OUT/index.json              every system and release (format.RootIndex)
//	OUT/index.html              the same for people
//	OUT/SYSTEM/index.json       the system's releases, oldest first (format.SystemIndex)
//	OUT/SYSTEM/latest.json      format.Pointer to the release with the latest effective date
//	OUT/SYSTEM/current.json     format.Pointer to the latest release in effect (absent before any)
//	OUT/SYSTEM/history.sqlite   every code across all releases (history.Schema)
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
// PublishAt, Reindex and Unpublish hold the tree's lock (durable.LockDir)
// while they work. Temporary names all start with "." and are skipped by
// every reader; holding the lock, a writer removes those left by a process
// that was killed.
//
// Every published file is a function of the input files alone (and, for
// current.json and the indexes, of the date): no wall-clock time, random
// order or host name is written, so checksums mean something.
package publish
