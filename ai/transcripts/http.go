package transcripts

import (
	"net/http"
	"strconv"

	"mps/internal/httpjson"
)

// SearchRoute is the endpoint the server registers Handler on.
const SearchRoute = "GET /api/v1/search"

// Handler answers GET /api/v1/search?q=WORDS[&path=PATH][&limit=N] with
// {"hits": [...]}.
func (ix *Index) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		if q == "" {
			httpjson.WriteError(w, http.StatusBadRequest, "missing q: the words to search for")
			return
		}
		limit := 0
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				httpjson.WriteError(w, http.StatusBadRequest, "limit must be a positive number")
				return
			}
			limit = n
		}
		hits, err := ix.Search(r.Context(), q, r.URL.Query().Get("path"), limit)
		if err != nil {
			httpjson.WriteError(w, http.StatusInternalServerError, "search: "+err.Error())
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"query": q, "hits": hits})
	})
}
