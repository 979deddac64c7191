package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/cloudbox/cloudbox/ami"
	"github.com/cloudbox/cloudbox/dataplane/images"
)

// imagesCmd runs `cloudbox images`: it builds every image family's root
// file system that is missing, showing the builder's progress, so that a
// first launch (or a test run) does not wait for it. `cloudbox up` does
// the same in the background.
func imagesCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("images", flag.ExitOnError)
	dataDir := fs.String("data-dir", defaultDataDir(), "data directory (the images go to <data-dir>/images)")
	dir := fs.String("image-dir", "", "directory of the images (default $CLOUDBOX_IMAGE_DIR, else <data-dir>/images)")
	mirror := fs.String("image-mirror", "", "Debian mirror to build from (default: mmdebstrap's, deb.debian.org)")
	fs.Usage = commandUsage(fs, "images [--image-dir DIR] [--image-mirror URL]",
		"Builds the instances' root file systems now, with mmdebstrap, showing each step\n"+
			"(`cloudbox up` builds them in the background when an instance first needs one).\n"+
			"A built image is kept and reused.",
		"cloudbox images",
		"CLOUDBOX_IMAGE_DIR=/var/cache/cloudbox/images cloudbox images")
	fs.Parse(args)
	if *dir == "" {
		*dir = os.Getenv("CLOUDBOX_IMAGE_DIR")
	}
	if *dir == "" {
		*dir = filepath.Join(*dataDir, "images")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(w, nil))
	st, err := images.Open(images.Config{Dir: abs, BakedDir: filepath.Join(filepath.Dir(abs), "images-baked"), Mirror: *mirror, Log: log})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ami.Families))
	for i, f := range ami.Families {
		wg.Go(func() {
			if _, err := st.Layers(context.Background(), f, nil); err != nil {
				errs[i] = fmt.Errorf("%s: %w", f, err)
			}
		})
	}
	wg.Wait()
	for _, s := range st.Status() {
		fmt.Fprintf(w, "%-10s %s\n", s.Family, s.State)
	}
	return errors.Join(errs...)
}
