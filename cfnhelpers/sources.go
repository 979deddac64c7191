package cfnhelpers

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// sources downloads each archive (zip, tar, tar.gz, tar.bz2, told apart
// by their first bytes) and unpacks it into its directory. An HTTP error
// fails the config, as cfn-init does; a URL that nothing answers is
// skipped with a warning.
func (a *applier) sources(m map[string]any) error {
	for _, dir := range sortedKeys(m) {
		if !filepath.IsAbs(dir) {
			return fmt.Errorf("sources: %s is not an absolute path", dir)
		}
		u := str(m[dir])
		a.log("INFO", "Retrieving %s into %s", u, dir)
		b, err := a.fetch(u)
		var un unreachable
		if errors.As(err, &un) {
			// The simulated internet has only the world's own hosts: an
			// archive elsewhere (GitHub, a vendor) cannot be had, and the
			// rest of the config still can.
			a.log("WARNING", "Skipping source %s: %v (nothing answers there from this instance)", dir, err)
			continue
		}
		if err != nil {
			return err
		}
		if err := unpack(b, dir); err != nil {
			return fmt.Errorf("Failed to unpack %s into %s: %w", u, dir, err)
		}
		a.mark("sources", dir)
	}
	return nil
}

func unpack(b []byte, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return unzip(b, dir)
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return err
		}
		return untar(z, dir)
	case bytes.HasPrefix(b, []byte("BZh")):
		return untar(bzip2.NewReader(bytes.NewReader(b)), dir)
	}
	return untar(bytes.NewReader(b), dir)
}

// inside joins an archive's entry name to dir, refusing names that leave it.
func inside(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if p != dir && !strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/") {
		return "", fmt.Errorf("entry %q leaves %s", name, dir)
	}
	return p, nil
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a zip or tar archive: %w", err)
		}
		p, err := inside(dir, h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, os.FileMode(h.Mode)&os.ModePerm|0o700)
		case tar.TypeReg:
			err = writeFrom(p, tr, os.FileMode(h.Mode)&os.ModePerm)
		case tar.TypeSymlink:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				_ = os.Remove(p)
				err = os.Symlink(h.Linkname, p)
			}
		}
		if err != nil {
			return err
		}
	}
}

func unzip(b []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	for _, f := range zr.File {
		p, err := inside(dir, f.Name)
		if err != nil {
			return err
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		mode := f.Mode() & os.ModePerm
		if mode == 0 {
			mode = 0o644
		}
		err = writeFrom(p, rc, mode)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFrom(p string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
