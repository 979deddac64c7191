package s3

import (
	"io"
	"sync"
)

// pipeBuffers and pipeBufferSize shape copyHashing's pipeline: enough
// buffers that reading, writing and hashing each have one in hand.
const (
	pipeBuffers    = 4
	pipeBufferSize = 256 << 10
)

var pipePool = sync.Pool{New: func() any { return make([]byte, pipeBufferSize) }}

// copyHashing copies src to dst as io.Copy does while h sees the same
// bytes on another goroutine: hashing a large upload (MD5 alone runs at
// about the disk's speed here) then overlaps writing it instead of
// doubling its time.
func copyHashing(dst io.Writer, src io.Reader, h io.Writer) (int64, error) {
	free := make(chan []byte, pipeBuffers)
	for range pipeBuffers {
		free <- pipePool.Get().([]byte)
	}
	toHash := make(chan []byte, pipeBuffers)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range toHash {
			h.Write(b)
			free <- b[:cap(b)]
		}
	}()
	var total int64
	var err error
	for {
		b := <-free
		n, rerr := src.Read(b)
		if n > 0 {
			if _, werr := dst.Write(b[:n]); werr != nil {
				err = werr
			}
			total += int64(n)
			toHash <- b[:n]
		} else {
			free <- b
		}
		if err == nil && rerr != io.EOF {
			err = rerr
		}
		if err != nil || rerr != nil {
			break
		}
	}
	close(toHash)
	<-hashed
	for range pipeBuffers {
		pipePool.Put(<-free)
	}
	return total, err
}
