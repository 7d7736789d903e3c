package schedules

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestLockHelper is not a test: TestLockDiesWithProcess runs the test binary
// with CODESET_LOCK_HELPER set to make this process hold a job lock until
// killed.
func TestLockHelper(t *testing.T) {
	dir := os.Getenv("CODESET_LOCK_HELPER")
	if dir == "" {
		t.Skip("helper process only")
	}
	if _, err := (Locks{Dir: dir}).Acquire(context.Background(), "cpt", false); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("locked")
	select {} // hold the lock until killed
}

func TestLockDiesWithProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "CODESET_LOCK_HELPER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}
	locks := Locks{Dir: dir, Poll: 10 * time.Millisecond}
	if _, err := locks.Acquire(context.Background(), "cpt", false); !errors.Is(err, ErrBusy) {
		t.Fatalf("lock held by another process: err = %v, want already running", err)
	}
	// Another job's lock is independent.
	release, err := locks.Acquire(context.Background(), "hcpcs", false)
	if err != nil {
		t.Fatal(err)
	}
	release()

	// A waiting Acquire gets the lock once the holder is killed.
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		release, err := locks.Acquire(ctx, "cpt", true)
		if err == nil {
			release()
		}
		got <- err
	}()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := <-got; err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
}

func TestLockWaitCancelled(t *testing.T) {
	locks := Locks{Dir: t.TempDir(), Poll: 5 * time.Millisecond}
	release, err := locks.Acquire(context.Background(), "cpt", false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := locks.Acquire(ctx, "cpt", true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	release()
	release() // twice is harmless
	r2, err := locks.Acquire(context.Background(), "cpt", false)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	r2()
}
