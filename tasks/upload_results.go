package tasks

import (
	"path"
	"path/filepath"
)

// upload copies the files of every successful operation to the task's
// storage target, under the task's output path, and gives each file the
// target's URL. A failed upload fails the task with its error; the local
// files stay either way.
func (tr *taskRun) upload() {
	t, s := tr.t, tr.s
	tg, ok := s.cfg.Storage.Get(t.Target)
	if !ok {
		t.Error = "output target " + t.Target + ": no such storage target"
		return
	}
	outRoot := filepath.Join(s.cfg.Tasks.OutputDir, filepath.FromSlash(t.Output))
	for i := range t.Ops {
		st := &t.Ops[i]
		if st.State != StatusSuccess || st.Result == nil {
			continue
		}
		for j := range st.Result.Files {
			f := &st.Result.Files[j]
			key := path.Join(t.Output, st.Dir, f.Name)
			if _, err := tg.PutFile(tr.ctx, key, filepath.Join(outRoot, filepath.FromSlash(st.Dir), filepath.FromSlash(f.Name)), ""); err != nil {
				st.State, st.Error = StatusFail, "upload: "+err.Error()
				break
			}
			u, err := tg.URL(tr.ctx, key)
			if err != nil {
				st.State, st.Error = StatusFail, "upload: "+err.Error()
				break
			}
			f.URL = u
		}
	}
	tr.write()
}
