// Package format is the wire format of a published codeset tree: the names
// of its files, the manifest of a release folder, the pointers and indexes,
// the JSON changelog contract and the bodies of the HTTP API. It imports
// only the standard library and the root package, so a program that only
// reads a tree (package pull, a consumer's own tool) stays light.
//
// # JSON changelog
//
// WriteChangelog writes the machine-readable changelog, a stable contract
// (the README's "JSON changelog contract" lists every field):
//
//	{
//	  "system": "cpt",
//	  "from": "2025",                 (null for a first release)
//	  "to": "2026",
//	  "from_effective": "2025-01-01", (or null)
//	  "to_effective": "2026-01-01",   (or null)
//	  "summary": {"added": 0, "deleted": 0, "revised": 0, "cosmetic": 0, "reactivated": 0, "discontinued": 0, "unchanged": 0},
//	                                  ("short_title": N as well when an ICD-10 release changes short titles alone)
//	  "changes": [
//	    {"code": "...", "display": "...", "change": "revised", "category": "I", "description": "...",
//	     "fields": {"long": {"before": "...", "after": "..."}}}
//	  ],
//	  "reconciliation": null          (or what the publisher declared and how it agrees)
//	}
//
// ReadChangelog reads it back. Additions to the contract are additive:
// a reader ignores what it does not know.
package format
