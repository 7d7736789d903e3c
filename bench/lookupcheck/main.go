// Command lookupcheck asks two running codeset servers the same code
// lookups and reports every answer that differs: status, headers (Date
// apart) and body bytes as sent, plain and compressed (br, gzip). For
// checking that a change to the server keeps its answers.
//
// With -unpack, compressed bodies are unpacked before they are compared,
// and the headers that say how an answer was sent (Content-Encoding,
// Content-Length and the length sent, an ETag's W/) are left out: for a
// change to what is compressed, or how, that keeps the answers themselves.
// It unpacks brotli with the brotli command.
//
// With -paths, it also asks every path (with its query) listed in that
// file, one a line: other APIs, files of the tree, /healthz, errors.
//
//	go run ./bench/lookupcheck -a http://127.0.0.1:18432 -b http://127.0.0.1:18433 -system icd10cm -codes codes.txt
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	a := flag.String("a", "", "`URL` of the first server")
	b := flag.String("b", "", "`URL` of the second server")
	system := flag.String("system", "icd10cm", "code `system`")
	codes := flag.String("codes", "", "`file` of codes, one a line")
	unpack := flag.Bool("unpack", false, "compare bodies unpacked, and the headers but those of the coding")
	queries := flag.String("queries", "release=FY2025,release=FY2024,,release=latest,date=2024-01-01", "comma-separated query `strings` each code is asked with")
	paths := flag.String("paths", "", "`file` of further paths to ask, one a line (e.g. /healthz, /api/v1/icd10cm/search?q=diabetes)")
	flag.Parse()
	n, bad, err := run(*a, *b, *system, *codes, *paths, strings.Split(*queries, ","), *unpack)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lookupcheck:", err)
		os.Exit(1)
	}
	fmt.Printf("%d answers compared, %d differ\n", n, bad)
	if bad > 0 {
		os.Exit(1)
	}
}

type answer struct {
	status int
	header string
	body   []byte
}

func get(c *http.Client, u, enc string, unpack bool) (answer, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return answer{}, err
	}
	if enc != "" {
		req.Header.Set("Accept-Encoding", enc)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if unpack {
		switch resp.Header.Get("Content-Encoding") {
		case "gzip":
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				return answer{}, err
			}
			r = zr
		case "br":
			// The brotli command: the module's brotli package has its
			// one home in publish/server.
			cmd := exec.Command("brotli", "-dc")
			cmd.Stdin = resp.Body
			out, err := cmd.Output()
			if err != nil {
				return answer{}, fmt.Errorf("brotli -dc (-unpack needs the brotli command): %w", err)
			}
			r = bytes.NewReader(out)
		}
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return answer{}, err
	}
	var h []string
	for k, vs := range resp.Header {
		if unpack && (k == "Content-Encoding" || k == "Content-Length") {
			continue
		}
		if unpack && k == "Etag" {
			vs = []string{strings.TrimPrefix(strings.Join(vs, ", "), "W/")}
		}
		if k != "Date" {
			h = append(h, k+": "+strings.Join(vs, ", "))
		}
	}
	// The length net/http sends is in ContentLength, not in Header.
	if !unpack {
		h = append(h, fmt.Sprintf("length %d, chunked %v", resp.ContentLength, slices.Contains(resp.TransferEncoding, "chunked")))
	}
	slices.Sort(h)
	return answer{resp.StatusCode, strings.Join(h, "\n"), body}, nil
}

func run(a, b, system, codes, paths string, queries []string, unpack bool) (n, bad int, err error) {
	var ps []string
	if err := eachLine(codes, func(code string) {
		for _, q := range queries {
			p := fmt.Sprintf("/api/v1/%s/codes/%s", system, url.PathEscape(code))
			if q != "" {
				p += "?" + q
			}
			ps = append(ps, p)
		}
	}); err != nil {
		return 0, 0, err
	}
	if paths != "" {
		if err := eachLine(paths, func(p string) { ps = append(ps, p) }); err != nil {
			return 0, 0, err
		}
	}
	// DisableCompression: the bodies are compared as sent; redirects
	// too, not followed.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range ps {
		for _, enc := range []string{"", "br", "gzip"} {
			x, err := get(c, a+p, enc, unpack)
			if err != nil {
				return n, bad, err
			}
			y, err := get(c, b+p, enc, unpack)
			if err != nil {
				return n, bad, err
			}
			n++
			if x.status != y.status || x.header != y.header || !bytes.Equal(x.body, y.body) {
				bad++
				fmt.Printf("DIFF %s (Accept-Encoding %q): status %d / %d\n%s\n--\n%s\nbody equal: %v\n", p, enc, x.status, y.status, x.header, y.header, bytes.Equal(x.body, y.body))
			}
		}
	}
	return n, bad, nil
}

// eachLine calls f with each line of the file at path that is not blank,
// trimmed.
func eachLine(path string, f func(string)) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			f(s)
		}
	}
	return sc.Err()
}
