package codeset_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The module's import path and the third-party modules with one home each.
const (
	module    = "github.com/codeset/codeset"
	excelize  = "github.com/xuri/excelize/v2"
	sqliteDrv = "modernc.org/sqlite"
	cron      = "github.com/robfig/cron/v3"
	toml      = "github.com/BurntSushi/toml"
	godiff    = "github.com/sergi/go-diff/diffmatchpatch"
	brotli    = "github.com/andybalholm/brotli"
	kgzip     = "github.com/klauspost/compress/gzip"
)

// goList runs go list with args and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// deps returns every package pkg needs to build (not its tests), itself
// included, less the standard library.
func deps(t *testing.T, pkg string) []string {
	return goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
}

// TestLayoutImports checks the rules of the package layout (README,
// "Development"): readers never import writers, the download client and the
// wire types need no third-party module, and each third-party dependency
// has one home.
func TestLayoutImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	// Packages that must build from the standard library and the module's
	// own stdlib-only packages alone.
	for _, pkg := range []string{module, module + "/publish/format", module + "/publish/durable", module + "/publish/pull", module + "/publish/pages"} {
		for _, d := range deps(t, pkg) {
			if !strings.HasPrefix(d, module) {
				t.Errorf("%s depends on third-party package %s", pkg, d)
			}
		}
	}
	// Nothing the module builds may need a package it should not.
	forbidden := map[string][]string{
		module + "/publish/pull":   {module + "/publish", module + "/publish/snapshot", module + "/publish/server", module + "/ingest", module + "/schedules"},
		module + "/publish/server": {module + "/publish", module + "/publish/changelog", excelize, module + "/ingest", module + "/schedules"},
		module + "/diff":           {module + "/publish", module + "/ingest", module + "/schedules"},
		module + "/ingest":         {module + "/publish", module + "/schedules", sqliteDrv},
	}
	for pkg, bad := range forbidden {
		for _, d := range deps(t, pkg) {
			if slices.Contains(bad, d) {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
	// Direct imports, package by package.
	homes := map[string][]string{
		excelize:  {module + "/ingest", module + "/publish/changelog"},
		sqliteDrv: {module + "/publish/dbfile"},
		cron:      {module + "/schedules"},
		toml:      {module + "/schedules"},
		godiff:    {module + "/diff"},
		brotli:    {module + "/publish/server"},
		kgzip:     {module + "/publish/server"},
	}
	for _, line := range goList(t, "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", "./...") {
		pkg, imports, _ := strings.Cut(line, "|")
		for _, imp := range strings.Split(imports, ",") {
			if home, ok := homes[imp]; ok && !slices.Contains(home, pkg) {
				t.Errorf("%s imports %s, whose home is %s", pkg, imp, strings.Join(home, " and "))
			}
			under := func(dir string) bool { return pkg == module+dir || strings.HasPrefix(pkg, module+dir+"/") }
			if under("/publish") && (strings.HasPrefix(imp, module+"/ingest") || strings.HasPrefix(imp, module+"/schedules")) {
				t.Errorf("%s imports %s: nothing under publish/ imports ingest or schedules", pkg, imp)
			}
		}
	}
}
