package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/codeset/codeset/schedules"
)

func (m *Main) withdrawCommand(ctx context.Context, args []string) error {
	fs := m.flags("withdraw", "--system S --release R --reason TEXT [--config FILE]",
		"Withdraw a published release (a label typo, a wrong file): its folder stays as it was,\n"+
			"but the indexes, pointers, history, search and API leave it out, the index page shows\n"+
			"it struck through with the reason, and its label is never used again. The ledger\n"+
			"records it. Running it again finishes a withdrawal that was interrupted.")
	cfgPath := fs.String("config", "", "configuration `file` (TOML); default: the --data and --out directories")
	sysFlag := fs.String("system", "", "code `system`: "+systemList())
	label := fs.String("release", "", "release `label` to withdraw")
	reason := fs.String("reason", "", "why, shown on the index page and kept in the ledger")
	if err := parse(fs, args); err != nil {
		return err
	}
	hint := "run 'codeset withdraw --help' for usage"
	sys, err := parseSystem(*sysFlag, hint)
	if err != nil {
		return err
	}
	switch {
	case *label == "":
		return usagef(hint, "--release is required")
	case *reason == "":
		return usagef(hint, "--reason is required: say why the release is withdrawn")
	case fs.NArg() > 0:
		return usagef(hint, "unexpected arguments: %v", fs.Args())
	}
	var runner *schedules.Runner
	if *cfgPath != "" {
		c, err := openConfig(ctx, "withdraw", *cfgPath, m.logger())
		if err != nil {
			return err
		}
		runner = c.runner
	} else {
		ledger, err := schedules.OpenLedger(ctx, m.ledgerPath())
		if err != nil {
			return err
		}
		runner = &schedules.Runner{Pipeline: m.pipeline(), Ledger: ledger, Locks: schedules.Locks{Dir: filepath.Join(m.DataDir, "locks")}, Now: m.Now}
	}
	defer runner.Ledger.Close()
	if _, err := runner.Withdraw(ctx, sys, *label, *reason, schedules.TriggerManual); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s %s withdrawn: %s\n", sys, *label, *reason)
	return nil
}
