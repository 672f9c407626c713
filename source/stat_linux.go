package source

import (
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// statter stats the files of one open folder by name relative to it
// (fstatat): the path is not walked again for every file, and no FileInfo
// is made, which is most of what listing a large library costs.
type statter struct {
	fd int
	ok bool
	st unix.Stat_t
}

func newStatter(dir *os.File) *statter {
	s := &statter{}
	if rc, err := dir.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { s.fd, s.ok = int(fd), true })
	}
	return s
}

// stat stats file name of folder dir, following a link as os.Stat does.
func (s *statter) stat(dir, name string) (size int64, mtime time.Time, regular bool, err error) {
	if !s.ok {
		return statPath(filepath.Join(dir, name))
	}
	for {
		err = unix.Fstatat(s.fd, name, &s.st, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return 0, time.Time{}, false, err
	}
	return s.st.Size, time.Unix(int64(s.st.Mtim.Sec), int64(s.st.Mtim.Nsec)), s.st.Mode&unix.S_IFMT == unix.S_IFREG, nil
}
