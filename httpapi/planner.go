package httpapi

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed planner
var plannerFS embed.FS

// plannerFiles serves the planner board's static files under /planner/.
func plannerFiles() http.Handler {
	sub, err := fs.Sub(plannerFS, "planner")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/planner/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
