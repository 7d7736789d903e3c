package main

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// TestTerminalProgress runs codeset run under a pseudo-terminal, where it
// must show its progress on stderr, and again with stderr a pipe, where
// stderr must stay empty.
func TestTerminalProgress(t *testing.T) {
	bin := binary(t)
	file, err := filepath.Abs(filepath.Join("..", "..", "testdata", "demo", "cpt-2024.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(dir string) *exec.Cmd {
		return exec.Command(bin, "--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "public"),
			"run", "--system", "cpt", "--release", "2024", file)
	}

	t.Run("terminal", func(t *testing.T) {
		cmd := run(t.TempDir())
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 100})
		if err != nil {
			t.Skipf("no pseudo-terminal here: %v", err)
		}
		defer f.Close()
		var out bytes.Buffer
		// Reading ends with EIO on Linux once the child has exited.
		if _, err := io.Copy(&out, f); err != nil && !errors.Is(err, syscall.EIO) {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("codeset run: %v\n%s", err, out.String())
		}
		got := out.String()
		for _, want := range []string{"reading codes", "storing snapshot", "publishing files", "published:"} {
			if !strings.Contains(got, want) {
				t.Errorf("terminal output lacks %q:\n%q", want, got)
			}
		}
	})

	t.Run("pipe", func(t *testing.T) {
		cmd := run(t.TempDir())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("codeset run: %v\n%s", err, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("stderr is not a terminal, yet it got:\n%q", stderr.String())
		}
		if !strings.Contains(stdout.String(), "published:") {
			t.Errorf("stdout lacks the summary:\n%s", stdout.String())
		}
	})

	t.Run("quiet", func(t *testing.T) {
		cmd := run(t.TempDir())
		cmd.Args = append(cmd.Args[:1], append([]string{"--quiet"}, cmd.Args[1:]...)...)
		f, err := pty.Start(cmd)
		if err != nil {
			t.Skipf("no pseudo-terminal here: %v", err)
		}
		defer f.Close()
		var out bytes.Buffer
		io.Copy(&out, f)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("codeset run: %v\n%s", err, out.String())
		}
		if strings.Contains(out.String(), "reading codes") {
			t.Errorf("--quiet still shows progress:\n%q", out.String())
		}
	})
}

// TestMistypedOneLine checks that a mistyped command or flag costs the user
// one line, not the whole usage.
func TestMistypedOneLine(t *testing.T) {
	bin := binary(t)
	for _, args := range [][]string{{"rn"}, {"--dat", "x", "releases"}, {"run", "--sytem", "cpt"}, {"runs", "--jsn"}} {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil {
			t.Errorf("codeset %s: no error", strings.Join(args, " "))
		}
		got := stderr.String()
		if strings.Count(got, "\n") != 1 || !strings.Contains(got, "did you mean") || !strings.Contains(got, "--help") {
			t.Errorf("codeset %s: stderr %q, want one line with did you mean and --help", strings.Join(args, " "), got)
		}
	}
}
