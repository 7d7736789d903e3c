package ingest_test

import (
	"context"
	"fmt"
	"log"
	"path/filepath"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/ingest"
)

// Read turns a publisher's file into a release, here the demo CPT workbook
// with the built-in CPT profile.
func ExampleRead() {
	prof, err := ingest.Builtin(codeset.CPT)
	if err != nil {
		log.Fatal(err)
	}
	opts := ingest.Options{Profile: prof, Label: "2024", Effective: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	rel, rep, err := ingest.Read(context.Background(), opts, filepath.Join("..", "testdata", "demo", "cpt-2024.xlsx"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rel.System, rel.Label, len(rel.Codes), "codes from", rel.Sources[0].Name)
	fmt.Println("categories:", codeset.CategoryCounts(rel.Codes))
	fmt.Println("warnings:", len(rep.Warnings))
	// Output:
	// cpt 2024 47 codes from cpt-2024.xlsx
	// categories: map[I:32 II:7 III:6 PLA:2]
	// warnings: 0
}
