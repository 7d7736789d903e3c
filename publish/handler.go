package publish

import "net/http"

// NewHandler serves the published tree under outDir for download.
func NewHandler(outDir string) http.Handler { return http.FileServer(http.Dir(outDir)) }
