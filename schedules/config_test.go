package schedules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "codeset.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadmeConfig loads the example configuration in README.md, so that
// the documented example keeps working.
func TestReadmeConfig(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```toml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```toml block")
	}
	t.Setenv("CODESET_TOKEN", "from-env")
	c, err := LoadConfig(writeConfig(t, string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := c.BuildJobs()
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) < 2 || c.BearerToken() != "from-env" || c.Listen == "" {
		t.Errorf("README config: %d jobs, token %q, listen %q", len(jobs), c.BearerToken(), c.Listen)
	}
	for _, j := range jobs {
		if !strings.HasPrefix(j.Schedule, "CRON_TZ=") {
			t.Errorf("job %s: schedule %q has no time zone", j.Name, j.Schedule)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig(writeConfig(t, `
data = "data"
out = "/srv/public"
shutdown_grace = "5s"
[[jobs]]
name = "cpt"
system = "cpt"
schedule = "*/1 * * * * *"
timezone = "Europe/Berlin"
catch_up = false
label_pattern = '^vendor-(?P<year>\d{4})\.csv$'
map = ["code=Proc"]
[jobs.inbox]
dir = "inbox"
`))
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.Job("cpt")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(c.LedgerPath())
	if job.CatchUp || job.Schedule != "CRON_TZ=Europe/Berlin */1 * * * * *" || len(job.LabelRules) != 1 || job.Profile == nil ||
		c.Path("/srv/public") != "/srv/public" || filepath.Base(dir) != "data" || c.Grace() != 5*time.Second {
		t.Errorf("job %+v, ledger %s", job, c.LedgerPath())
	}
	if src, ok := job.Source.(InboxSource); !ok || src.Dir != filepath.Join(filepath.Dir(dir), "inbox") {
		t.Errorf("source %#v: want the inbox next to the config", job.Source)
	}
	if _, err := c.Job("hcpcs"); err == nil || !strings.Contains(err.Error(), `no job "hcpcs"`) {
		t.Errorf("unknown job: %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	head := "data = \"d\"\nout = \"o\"\n[[jobs]]\nname = \"cpt\"\nsystem = \"cpt\"\n"
	inbox := "[jobs.inbox]\ndir = \"in\"\n"
	tests := []struct{ text, want string }{
		{"out = \"o\"\n", "data and out are required"},
		{"data = \"d\"\nout = \"o\"\nlisten = 1\n", "listen"},
		{"data = \"d\"\nout = \"o\"\nlisen = \"x\"\n", `unknown key "lisen"`},
		{"data = \"d\"\nout = \"o\"\ntoken = \"a\"\ntoken_env = \"B\"\n", "token or token_env"},
		{head, "exactly one source"},
		{head + inbox + "[jobs.url]\nurl = \"https://x\"\n", "exactly one source"},
		{head + "[jobs.url]\nurl = \"ftp://x\"\n", "want an http"},
		{head + "schedule = \"@daily\"\n" + inbox, "timezone is required"},
		{head + "schedule = \"@daily\"\ntimezone = \"Mars/Base\"\n" + inbox, `timezone "Mars/Base"`},
		{head + "schedule = \"61 * * * *\"\ntimezone = \"UTC\"\n" + inbox, `schedule "61 * * * *"`},
		{head + "schedule = \"CRON_TZ=UTC @daily\"\ntimezone = \"UTC\"\n" + inbox, "not in the schedule"},
		{head + "label_pattern = \"^x\"\n" + inbox, "no named group"},
		{head + "label_template = \"{year}\"\n" + inbox, "needs label_pattern"},
		{"data = \"d\"\nout = \"o\"\n[[jobs]]\nname = \"Bad Name\"\nsystem = \"cpt\"\n", "bad name"},
		{"data = \"d\"\nout = \"o\"\n[[jobs]]\nname = \"x\"\nsystem = \"snomed\"\n", "unknown code system"},
		{head + inbox + "[[jobs]]\nname = \"cpt\"\nsystem = \"cpt\"\n" + inbox, "defined twice"},
	}
	for _, tt := range tests {
		_, err := LoadConfig(writeConfig(t, tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("config\n%s\nerr = %v, want %q", tt.text, err, tt.want)
		}
	}
}

// FuzzLoadConfig feeds arbitrary text to the config loader: it either
// refuses the file with an error that names it, or gives a config whose
// every job builds.
func FuzzLoadConfig(f *testing.F) {
	f.Add("data = \"d\"\nout = \"o\"\n[[jobs]]\nname = \"cpt\"\nsystem = \"cpt\"\n[jobs.inbox]\ndir = \"in\"\nglob = \"*.xlsx\"\n")
	f.Add("[[jobs]]\nname = \"x\"\nsystem = \"hcpcs\"\nschedule = \"@every 1s\"\ntimezone = \"UTC\"\n[jobs.url]\nurl = \"https://h.example/f.xlsx\"\n")
	f.Add("listen = \"127.0.0.1:0\"\ntoken_env = \"T\"\nshutdown_grace = \"5s\"\n")
	f.Add("[[jobs]]\nname = \"a\"\nsystem = \"cpt\"\nlabel_pattern = '(?P<year>\\d{4})'\nlabel_template = \"{year}\"\nmax_delete_share = 2.0\n[jobs.inbox]\ndir = \"i\"\n")
	f.Add("= broken [[")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(dir, "codeset.toml")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		jobs, err := c.BuildJobs()
		if err != nil {
			t.Errorf("a checked config gives a job that does not build: %v", err)
		}
		for _, j := range jobs {
			if _, err := codeset.ParseSystem(string(j.System)); err != nil || j.Source == nil {
				t.Errorf("job %s: system %q, source %v", j.Name, j.System, j.Source)
			}
		}
	})
}
