//go:build unix

package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cdp drives headless Chromium through the DevTools protocol over the
// pipe Chromium opens with --remote-debugging-pipe (fd 3 in, fd 4 out,
// messages ending in a NUL byte), so a test can type, click and go back
// as a person would, with the standard library only.
type cdp struct {
	t       *testing.T
	cmd     *exec.Cmd
	w       *os.File
	mu      sync.Mutex
	next    int
	waiting map[int]chan cdpReply
	session string
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// startCDP starts Chromium and opens one page (tab) to drive.
func startCDP(t *testing.T, bin string) *cdp {
	t.Helper()
	toChrome, ours, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	theirs, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	profile, err := os.MkdirTemp("", "codeset-chromium-*")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--window-size=1280,1600", "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	// Its own process group, so that its helpers go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	fromChrome.Close()
	c := &cdp{t: t, cmd: cmd, w: ours, waiting: map[int]chan cdpReply{}}
	go c.read(theirs)
	t.Cleanup(func() {
		ours.Close()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		// Helpers may still be writing the profile as they die.
		for range 20 {
			if os.RemoveAll(profile) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	var target struct {
		TargetID string `json:"targetId"`
	}
	c.call("Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	c.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	c.session = att.SessionID
	c.call("Page.enable", nil, nil)
	c.call("Runtime.enable", nil, nil)
	return c
}

func (c *cdp) read(r *os.File) {
	br := bufio.NewReader(r)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue // an event
		}
		c.mu.Lock()
		ch := c.waiting[m.ID]
		delete(c.waiting, m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
}

// call sends a command to the page's session (to the browser before one is
// attached) and decodes its result into out.
func (c *cdp) call(method string, params any, out any) {
	c.t.Helper()
	if err := c.try(method, params, out); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

// try is call that returns the protocol's error instead of failing.
func (c *cdp) try(method string, params any, out any) error {
	c.t.Helper()
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpReply, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if c.session != "" {
		msg["sessionId"] = c.session
	}
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	select {
	case rep := <-ch:
		if rep.Error != nil {
			return errors.New(rep.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(rep.Result, out); err != nil {
				return err
			}
		}
		return nil
	case <-time.After(60 * time.Second):
		return errors.New("no answer from chromium")
	}
}

// eval evaluates expr in the page, awaiting a promise, and decodes its
// value into out.
func (c *cdp) eval(expr string, out any) {
	c.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := c.try("Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &res)
	// An expression that navigates (a click on a link, history.back())
	// may lose its page before it answers; so may a check made while a
	// page is being replaced. Neither is a failure: callers wait for
	// what they expect next.
	if err != nil && (strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "context was destroyed")) {
		return
	}
	if err != nil {
		c.t.Fatalf("Runtime.evaluate: %v", err)
	}
	if res.Exception != nil {
		c.t.Fatalf("eval %s: %s %s", expr, res.Exception.Text, res.Exception.Exception.Description)
	}
	if out != nil && len(res.Result.Value) > 0 {
		if err := json.Unmarshal(res.Result.Value, out); err != nil {
			c.t.Fatalf("eval %s: %v (%s)", expr, err, res.Result.Value)
		}
	}
}

// str evaluates expr to a string.
func (c *cdp) str(expr string) string {
	c.t.Helper()
	var s string
	c.eval(expr, &s)
	return s
}

// waitFor polls expr until it is true, failing the test after 20 seconds.
func (c *cdp) waitFor(what, expr string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		c.eval("!!("+expr+")", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waited 20s for %s (%s); page %s", what, expr, c.str("location.href"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// navigate loads url and waits until the page is complete.
func (c *cdp) navigate(url string) {
	c.t.Helper()
	c.call("Page.navigate", map[string]any{"url": url}, nil)
	c.waitFor("load of "+url, fmt.Sprintf("location.href === %q && document.readyState === 'complete'", url))
}

// typeText focuses the element selector names and types text into it.
func (c *cdp) typeText(selector, text string) {
	c.t.Helper()
	c.eval(fmt.Sprintf("(function(){var e=document.querySelector(%q); e.focus(); e.value=''; return true})()", selector), nil)
	c.call("Input.insertText", map[string]any{"text": text}, nil)
}

// screenshot saves the page as a PNG at path.
func (c *cdp) screenshot(path string) {
	c.t.Helper()
	var shot struct {
		Data string `json:"data"`
	}
	c.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": false}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}
