package schedules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/ingest"
	"github.com/codeset/codeset/schedules/release"
)

// Config is the service's configuration file, in TOML. Relative paths in it
// are relative to the file's directory. README.md has a commented example.
type Config struct {
	Data   string `toml:"data"`   // snapshot directory; also holds the ledger and locks
	Out    string `toml:"out"`    // published tree
	Listen string `toml:"listen"` // HTTP address, e.g. "127.0.0.1:8080"
	// Token is the bearer token of the HTTP trigger; TokenEnv names an
	// environment variable holding it instead, which keeps it out of the
	// file. Without either the HTTP trigger refuses every request.
	Token    string `toml:"token"`
	TokenEnv string `toml:"token_env"`
	// Ledger is the run ledger's SQLite file; default DATA/ledger.sqlite.
	Ledger string `toml:"ledger"`
	// ShutdownGrace is how long a stopping service lets running jobs
	// finish before abandoning them; default 30s.
	ShutdownGrace time.Duration `toml:"shutdown_grace"`
	Jobs          []JobConfig   `toml:"jobs"`

	dir string // the config file's directory
}

// JobConfig is one [[jobs]] entry.
type JobConfig struct {
	Name     string `toml:"name"`
	System   string `toml:"system"`
	Schedule string `toml:"schedule"` // cron spec, seconds optional; "" runs only when triggered
	Timezone string `toml:"timezone"` // IANA zone of the schedule, e.g. "America/Chicago"
	CatchUp  *bool  `toml:"catch_up"` // default true
	// LabelPattern and LabelTemplate replace the system's built-in label
	// rules: see LabelRule.
	LabelPattern  string   `toml:"label_pattern"`
	LabelTemplate string   `toml:"label_template"`
	Profile       string   `toml:"profile"` // layout profile JSON file
	Map           []string `toml:"map"`     // header mappings, "field=Header Name"
	// MaxDeleteShare and MinKeepShare set the job's publish guards (see
	// Guards); zero keeps the defaults, 0.05 and 0.8.
	MaxDeleteShare float64 `toml:"max_delete_share"`
	MinKeepShare   float64 `toml:"min_keep_share"`
	// Strict makes a disagreement with the publisher's own list that
	// nothing explains fail the run (Guards.Strict).
	Strict bool `toml:"strict"`

	Inbox *InboxConfig `toml:"inbox"`
	URL   *URLConfig   `toml:"url"`
}

// InboxConfig is a job's local inbox source.
type InboxConfig struct {
	Dir  string `toml:"dir"`
	Glob string `toml:"glob"`
}

// URLConfig is a job's HTTP(S) source.
type URLConfig struct {
	URL     string        `toml:"url"`
	Timeout time.Duration `toml:"timeout"`
	// MaxBytes caps the downloaded file; default 1 GiB.
	MaxBytes int64         `toml:"max_bytes"`
	Retries  *int          `toml:"retries"` // default 3
	Backoff  time.Duration `toml:"backoff"`
}

// CronParser parses job schedules: five fields, or six with leading
// seconds, or a descriptor such as @daily or @every 1h, each optionally
// prefixed with CRON_TZ=Zone.
var CronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var jobNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`) })

// LoadConfig reads and checks the configuration file at path.
func LoadConfig(path string) (*Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		return nil, fmt.Errorf("config %s: unknown key %q", path, keys[0].String())
	}
	c.dir = filepath.Dir(path)
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &c, nil
}

// Path resolves a path from the config file against its directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// LedgerPath is where the run ledger lives.
func (c *Config) LedgerPath() string {
	if c.Ledger != "" {
		return c.Path(c.Ledger)
	}
	return filepath.Join(c.Path(c.Data), "ledger.sqlite")
}

// LockDir is where the job lock files live.
func (c *Config) LockDir() string { return filepath.Join(c.Path(c.Data), "locks") }

// BearerToken returns the HTTP trigger's token, "" when none is set.
func (c *Config) BearerToken() string {
	if c.TokenEnv != "" {
		return os.Getenv(c.TokenEnv)
	}
	return c.Token
}

// Grace returns ShutdownGrace or its default.
func (c *Config) Grace() time.Duration {
	if c.ShutdownGrace > 0 {
		return c.ShutdownGrace
	}
	return 30 * time.Second
}

func (c *Config) check() error {
	if c.Data == "" || c.Out == "" {
		return fmt.Errorf("data and out are required")
	}
	if c.Token != "" && c.TokenEnv != "" {
		return fmt.Errorf("set token or token_env, not both")
	}
	seen := map[string]bool{}
	for i, j := range c.Jobs {
		if !jobNameRE().MatchString(j.Name) {
			return fmt.Errorf("jobs[%d]: bad name %q: want lower-case letters, digits, '-' or '_'", i, j.Name)
		}
		if seen[j.Name] {
			return fmt.Errorf("job %s: defined twice", j.Name)
		}
		seen[j.Name] = true
		if _, err := c.job(j); err != nil {
			return fmt.Errorf("job %s: %w", j.Name, err)
		}
	}
	return nil
}

// BuildJobs builds the configured jobs.
func (c *Config) BuildJobs() ([]*Job, error) {
	var jobs []*Job
	for _, j := range c.Jobs {
		job, err := c.job(j)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", j.Name, err)
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

// Job returns the configured job name.
func (c *Config) Job(name string) (*Job, error) {
	var names []string
	for _, j := range c.Jobs {
		if j.Name == name {
			job, err := c.job(j)
			if err != nil {
				return nil, fmt.Errorf("job %s: %w", name, err)
			}
			return job, nil
		}
		names = append(names, j.Name)
	}
	return nil, fmt.Errorf("no job %q in the config: want one of %s", name, strings.Join(names, ", "))
}

func (c *Config) job(j JobConfig) (*Job, error) {
	sys, err := codeset.ParseSystem(j.System)
	if err != nil {
		return nil, err
	}
	job := &Job{Name: j.Name, System: sys, CatchUp: j.CatchUp == nil || *j.CatchUp,
		Guards: release.Guards{MaxDeleteShare: j.MaxDeleteShare, MinKeepShare: j.MinKeepShare, Strict: j.Strict}}
	// NaN passes every comparison as false, so check for it by name.
	if err := job.Guards.Validate(); err != nil {
		return nil, fmt.Errorf("max_delete_share and min_keep_share are shares between 0 and 1: %w", err)
	}
	switch {
	case (j.Inbox == nil) == (j.URL == nil):
		return nil, fmt.Errorf("give exactly one source: [jobs.inbox] or [jobs.url]")
	case j.Inbox != nil:
		if j.Inbox.Dir == "" {
			return nil, fmt.Errorf("inbox: dir is required")
		}
		if _, err := filepath.Match(j.Inbox.Glob, ""); err != nil {
			return nil, fmt.Errorf("inbox: bad glob %q: %w", j.Inbox.Glob, err)
		}
		job.Source = InboxSource{Dir: c.Path(j.Inbox.Dir), Glob: j.Inbox.Glob}
	default:
		retries := 3
		if j.URL.Retries != nil {
			retries = *j.URL.Retries
		}
		if j.URL.MaxBytes < 0 || j.URL.Timeout < 0 || retries < 0 || j.URL.Backoff < 0 {
			return nil, fmt.Errorf("url: max_bytes, timeout, retries and backoff must not be negative")
		}
		src := HTTPSource{URL: j.URL.URL, Timeout: j.URL.Timeout, MaxBytes: j.URL.MaxBytes, Retries: retries, Backoff: j.URL.Backoff}
		if !strings.HasPrefix(src.URL, "http://") && !strings.HasPrefix(src.URL, "https://") {
			return nil, fmt.Errorf("url: want an http:// or https:// URL, got %q", src.URL)
		}
		job.Source = src
	}
	if j.Schedule != "" {
		if j.Timezone == "" {
			return nil, fmt.Errorf("timezone is required with a schedule, e.g. \"UTC\" or \"America/New_York\"")
		}
		if strings.Contains(j.Schedule, "TZ=") {
			return nil, fmt.Errorf("schedule %q: give the zone in timezone, not in the schedule", j.Schedule)
		}
		if _, err := time.LoadLocation(j.Timezone); err != nil {
			return nil, fmt.Errorf("timezone %q: %w", j.Timezone, err)
		}
		job.Schedule = "CRON_TZ=" + j.Timezone + " " + j.Schedule
		if _, err := CronParser.Parse(job.Schedule); err != nil {
			return nil, fmt.Errorf("schedule %q: %w", j.Schedule, err)
		}
	}
	if j.LabelPattern != "" {
		r, err := ParseLabelRule(j.LabelPattern, j.LabelTemplate)
		if err != nil {
			return nil, err
		}
		job.LabelRules = []LabelRule{r}
	} else if j.LabelTemplate != "" {
		return nil, fmt.Errorf("label_template needs label_pattern")
	}
	if j.Profile != "" {
		if job.Profile, err = ingest.LoadProfile(c.Path(j.Profile)); err != nil {
			return nil, err
		}
	} else if len(j.Map) > 0 {
		if job.Profile, err = ingest.Builtin(sys); err != nil {
			return nil, err
		}
	}
	for _, spec := range j.Map {
		if err := job.Profile.Map(spec); err != nil {
			return nil, err
		}
	}
	if job.Profile != nil && job.Profile.System != sys {
		return nil, fmt.Errorf("profile is for %s, not %s", job.Profile.System, sys)
	}
	return job, nil
}
