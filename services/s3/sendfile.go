package s3

import "io"

// WriteTo sends the object's bytes blob by blob, each as a length-limited
// file: what an HTTP response's connection sends with sendfile(2), so a
// GET does not copy the bytes through user space.
func (r *objectReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.left > 0 {
		if r.cur == nil {
			if err := r.next(); err != nil {
				return total, err
			}
		}
		lr := &io.LimitedReader{R: r.cur, N: r.left}
		n, err := io.Copy(w, lr)
		total += n
		r.left -= n
		if err != nil {
			return total, err
		}
		if r.left > 0 { // this blob is done: on to the next
			r.cur.Close()
			r.cur = nil
		}
	}
	return total, nil
}
