package tasks

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"

	"mps/internal/httpjson"
)

// Upload is the answer to POST /api/v1/uploads: use Input as a task input.
type Upload struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Input string `json:"input"`
}

// handleUpload streams a body to DataDir/uploads/<id>/<name>. The body is
// either the file itself (name from ?name= or X-Filename) or multipart
// form data whose first file part is taken. Bodies over UploadLimit get
// 413 and leave nothing behind.
func (s *Service) handleUpload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, int64(s.cfg.Tasks.UploadLimit)+64<<10)
	var src io.Reader = r.Body
	name := r.URL.Query().Get("name")
	if name == "" {
		name = r.Header.Get("X-Filename")
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				writeError(w, uploadStatus(err), "multipart upload without a file part")
				return
			}
			if part.FileName() != "" {
				src, name = part, part.FileName()
				break
			}
		}
	}
	id := s.newID()
	dir := filepath.Join(s.cfg.DataDir, "uploads", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	final := filepath.Join(dir, safeName(name))
	n, err := s.saveUpload(src, final)
	if err != nil {
		_ = os.RemoveAll(dir)
		writeError(w, uploadStatus(err), "upload: "+err.Error())
		return
	}
	s.log.Info("upload stored", "id", id, "size", n)
	httpjson.Write(w, http.StatusCreated, Upload{ID: id, Name: filepath.Base(final), Size: n, Input: uploadPrefix + id})
}

func (s *Service) saveUpload(src io.Reader, final string) (int64, error) {
	tmp := final + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(src, int64(s.cfg.Tasks.UploadLimit)+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > int64(s.cfg.Tasks.UploadLimit) {
		err = fmt.Errorf("%w (limit %d bytes)", ErrTooLarge, int64(s.cfg.Tasks.UploadLimit))
	}
	if err == nil && n == 0 {
		err = errors.New("empty upload")
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, final)
}

func uploadStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, ErrTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}
