// Package schedules runs the release pipeline and everything that decides
// when it runs.
//
// Pipeline ingests a publisher's files, compares them with the previous
// snapshot of the system, stores the new snapshot and publishes it.
//
// A Job names a feed: its code system, its Source (an inbox directory, an
// HTTP(S) URL, or the files of a codeset run), its schedule and how release
// labels derive from file names (LabelRule). Runner.Run is the one job
// function behind every kind of run: scheduled, catch-up, codeset trigger,
// the HTTP trigger and codeset run. It takes the job's lock (Locks: a mutex
// per job within the process, an flock across processes), skips a file
// already ingested, publishes a revision (LABEL-r2, ...) for a corrected
// file, runs the Pipeline and records the run in the Ledger, a SQLite file.
//
// Service runs the jobs on robfig/cron schedules, catches up a run missed
// while it was down, and serves the HTTP API (Service.Handler). Config is
// the TOML file that describes it all.
package schedules
