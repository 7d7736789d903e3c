package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
)

// ErrNotPublished reports a release that is not in the published tree.
var ErrNotPublished = codeset.NewError(codeset.ErrNotFound, "not published")

// Withdraw takes back the published release label of sys: it is added to
// SYSTEM/withdrawn.json with reason and now, and the indexes, pointers and
// history are rebuilt without it (see Reindex). Its folder stays as it
// was, so the label is never used again. Withdrawing a release already
// withdrawn only rebuilds the indexes, which finishes a withdrawal that was
// interrupted.
func Withdraw(ctx context.Context, outDir string, sys codeset.System, label, reason string, now time.Time) error {
	if err := checkRelease(sys, label); err != nil {
		return fmt.Errorf("withdraw: %w", err)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return codeset.NewError(codeset.ErrInvalid, "withdraw %s %s: a reason is required", sys, label)
	}
	if !Published(outDir, sys, label) {
		return fmt.Errorf("withdraw %s %s: %w under %s", sys, label, ErrNotPublished, outDir)
	}
	unlock, err := lockTree(ctx, outDir)
	if err != nil {
		return fmt.Errorf("withdraw %s %s: %w", sys, label, err)
	}
	defer unlock()
	list, err := format.ReadWithdrawn(outDir, sys)
	if err != nil {
		return fmt.Errorf("withdraw %s %s: %w", sys, label, err)
	}
	if !slices.ContainsFunc(list, func(w format.WithdrawnRelease) bool { return w.Label == label }) {
		list = append(list, format.WithdrawnRelease{Label: label, Reason: reason, At: now.UTC().Format(time.RFC3339)})
		b, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		if err := durable.Replace(filepath.Join(outDir, string(sys)), format.WithdrawnName, indexTempPrefix, append(b, '\n')); err != nil {
			return fmt.Errorf("withdraw %s %s: %w", sys, label, err)
		}
	}
	if _, err := reindex(ctx, outDir, now); err != nil {
		return fmt.Errorf("withdraw %s %s: %w (the release is withdrawn; run codeset reindex)", sys, label, err)
	}
	return nil
}
