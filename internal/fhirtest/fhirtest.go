// Package fhirtest runs the independent FHIR tools that .ci/run installs
// in .ci/node (a validator and a client library from npm) for the tests
// that check codeset's FHIR output against them. It is for tests only.
//
// Without node or the installed tools a test needing them fails when CI is
// set (CI must have them) and is skipped, saying so, otherwise.
package fhirtest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// nodeDir finds .ci/node above the working directory.
func nodeDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".ci", "node")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("fhirtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// need returns the node binary and the tools folder, or ends the test.
func need(t testing.TB) (node, dir string) {
	t.Helper()
	dir = nodeDir(t)
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "fhir-kit-client"))
	}
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "fhir"))
	}
	if err != nil {
		msg := "FHIR validator and client not installed (node and " + filepath.Join(dir, "node_modules") + "; run: npm ci --prefix .ci/node): " + err.Error()
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(msg)
		}
		t.Skip("SKIP: " + msg)
	}
	return node, dir
}

// Validate checks every file with the independent validators and fails
// the test for each error they find. It returns how many files it checked.
func Validate(t testing.TB, files ...string) int {
	t.Helper()
	for f, errs := range Problems(t, files...) {
		for _, e := range errs {
			t.Errorf("%s: invalid FHIR: %s", filepath.Base(f), e)
		}
	}
	return len(files)
}

// Problems runs the independent validators on files and returns the
// errors they find, by file.
func Problems(t testing.TB, files ...string) map[string][]string {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("fhirtest: no files to validate")
	}
	node, dir := need(t)
	cmd := exec.Command(node, append([]string{filepath.Join(dir, "validate.js")}, files...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res map[string][]string
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("validate.js: %v %v\n%s\n%s", runErr, err, stdout.Bytes(), stderr.Bytes())
	}
	n := 0
	for _, f := range files {
		if _, ok := res[f]; !ok {
			t.Errorf("validate.js did not report on %s", f)
		}
		n += len(res[f])
	}
	if (runErr != nil) != (n > 0) {
		t.Errorf("validate.js: exit %v with %d errors\n%s", runErr, n, stderr.Bytes())
	}
	return res
}

// ValidateJSON writes each body to a file under a temporary folder and
// validates them all; names label the bodies in failures.
func ValidateJSON(t testing.TB, bodies map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for name, b := range bodies {
		f := filepath.Join(dir, name+".json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	Validate(t, files...)
}

// Call is one request the FHIR client makes: an operation (op "$lookup"
// and so on, on resourceType, method GET or POST) or the server's
// CapabilityStatement (op "capabilities").
type Call struct {
	Name         string            `json:"name"`
	Op           string            `json:"op"`
	ResourceType string            `json:"resourceType,omitempty"`
	Method       string            `json:"method,omitempty"`
	Input        map[string]string `json:"input,omitempty"`
}

// Client makes calls with the fhir-kit-client library against the FHIR
// base URL base and returns each answer, raw, by call name.
func Client(t testing.TB, base string, calls []Call) map[string]json.RawMessage {
	t.Helper()
	node, dir := need(t)
	in, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "client.js"), base, string(in))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("client.js: %v\n%s", err, stderr.Bytes())
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("client.js: %v\n%s", err, stdout.Bytes())
	}
	return out
}
