package cloudinit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"unicode"
)

// Content types, as cloud-init names them.
const (
	typeNotMultipart = "text/x-not-multipart"
	typePlain        = "text/plain"
	typeShellScript  = "text/x-shellscript"
	typeCloudConfig  = "text/cloud-config"
	typeJSONP        = "text/cloud-config-jsonp"
	typeArchive      = "text/cloud-config-archive"
	typeBoothook     = "text/cloud-boothook"
	typeIncludeURL   = "text/x-include-url"
	typeIncludeOnce  = "text/x-include-once-url"
	typePartHandler  = "text/part-handler"
	typeJinja        = "text/jinja2"
	typeUpstartJob   = "text/upstart-job"
	typePerBoot      = "text/x-shellscript-per-boot"
	typePerInstance  = "text/x-shellscript-per-instance"
	typePerOnce      = "text/x-shellscript-per-once"
)

const (
	// maxDecompressed caps what gzip may expand to in one render: EC2
	// user data is at most 16 KiB, so more is a zip bomb, not a config.
	maxDecompressed = 16 << 20
	// mimeSniffBytes is how far cloud-init looks for "mime-version:".
	mimeSniffBytes = 4096
	// maxMIMEDepth bounds multipart nesting; real user data has one level.
	maxMIMEDepth = 8
)

// ErrTooLarge is returned when gzip-compressed user data, or compressed
// content inside it, would decompress to more than 16 MiB in all.
var ErrTooLarge = errors.New("cloudinit: user data decompresses to more than 16 MiB")

// startsWith maps what a payload starts with (lower-cased, leading white
// space removed) to its content type, longest first so that
// "#cloud-config-archive" is not taken for "#cloud-config".
var startsWith = func() [][2]string {
	m := [][2]string{
		{"#include", typeIncludeURL},
		{"#include-once", typeIncludeOnce},
		{"#!", typeShellScript},
		{"#cloud-config", typeCloudConfig},
		{"#part-handler", typePartHandler},
		{"#cloud-boothook", typeBoothook},
		{"#cloud-config-archive", typeArchive},
		{"#cloud-config-jsonp", typeJSONP},
		{"## template: jinja", typeJinja},
		// These can only come from MIME; cloud-init lists them anyway.
		{typePerBoot, typePerBoot},
		{typePerInstance, typePerInstance},
		{typePerOnce, typePerOnce},
	}
	slices.SortStableFunc(m, func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
	return m
}()

// gzipTypes are part content types cloud-init decompresses before looking
// at the content.
var gzipTypes = []string{
	"application/gzip",
	"application/gzip-compressed",
	"application/gzipped",
	"application/x-compress",
	"application/x-compressed",
	"application/x-gunzip",
	"application/x-gzip",
	"application/x-gzip-compressed",
}

// part is one piece of user data after MIME, include and archive
// processing, as cloud-init's handlers see it.
type part struct {
	ctype     string
	filename  string // Content-Disposition filename, or part-NNN
	payload   []byte
	mergeType string // Merge-Type or X-Merge-Type header (cloud-config only)
}

// typeFromStartsWith is the content type a payload announces by its first
// characters, or "".
func typeFromStartsWith(payload []byte) string {
	head := bytes.TrimLeftFunc(payload, unicode.IsSpace)
	head = bytes.ToLower(head[:min(len(head), 64)])
	for _, p := range startsWith {
		if bytes.HasPrefix(head, []byte(p[0])) {
			return p[1]
		}
	}
	return ""
}

// gunzip decompresses data, charging what it produces to the render's
// budget. A stream that is not valid gzip is reported by ok=false;
// exceeding the budget is an error.
func (r *renderer) gunzip(data []byte) (out []byte, ok bool, err error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, false, nil
	}
	out, err = io.ReadAll(io.LimitReader(zr, int64(r.budget)+1))
	if len(out) > r.budget {
		return nil, false, ErrTooLarge
	}
	r.budget -= len(out)
	if err != nil {
		return nil, false, nil
	}
	return out, true, nil
}

// split turns (decompressed) user data into parts. Like cloud-init, it
// takes the data for MIME when "mime-version:" appears near the top, and
// otherwise for one part whose type its first line tells.
func (r *renderer) split(data []byte) error {
	if !bytes.Contains(bytes.ToLower(data[:min(len(data), mimeSniffBytes)]), []byte("mime-version:")) {
		return r.process(typeNotMultipart, nil, data)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		// Python's parser reads a first line that is no header as the
		// start of the body: the whole text, typed by its content.
		return r.process(typeNotMultipart, nil, data)
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	return r.walk(textproto.MIMEHeader(msg.Header), body, 0)
}

// walk processes one MIME entity: a multipart container's parts in
// order, or a leaf.
func (r *renderer) walk(h textproto.MIMEHeader, body []byte, depth int) error {
	ctype, params := mediaType(h.Get("Content-Type"))
	if !strings.HasPrefix(ctype, "multipart/") {
		return r.process(ctype, h, decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
	}
	boundary := params["boundary"]
	switch {
	case boundary == "":
		r.warnf("%s has no boundary: ignored", ctype)
		return nil
	case depth >= maxMIMEDepth:
		r.warnf("MIME parts nested more than %d deep: ignored", maxMIMEDepth)
		return nil
	}
	// Python accepts a last part with no closing delimiter; Go's reader
	// wants one, with the line ends the first delimiter has.
	if !bytes.Contains(body, []byte("--"+boundary+"--")) {
		nl := "\n"
		if i := bytes.Index(body, []byte("--"+boundary)); i >= 0 && bytes.HasPrefix(body[i+len(boundary)+2:], []byte("\r\n")) {
			nl = "\r\n"
		}
		body = append(slices.Clip(body), nl+"--"+boundary+"--"+nl...)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			r.warnf("MIME multipart: %v: the rest is ignored", err)
			return nil
		}
		b, err := io.ReadAll(p)
		if err != nil {
			r.warnf("MIME multipart: %v: the rest is ignored", err)
			return nil
		}
		if err := r.walk(p.Header, b, depth+1); err != nil {
			return err
		}
	}
}

// mediaType is the lower-cased type of a Content-Type header and its
// parameters; a missing or unreadable one is text/plain, as in Python.
func mediaType(v string) (string, map[string]string) {
	t, params, err := mime.ParseMediaType(v)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) || t == "" {
		return typePlain, nil
	}
	return t, params
}

// decodeTransfer undoes a Content-Transfer-Encoding. Like Python, it is
// lenient: bytes outside the base64 alphabet are skipped, and a
// quoted-printable body it cannot read is taken as it is.
func decodeTransfer(cte string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		if out, err := decodeBase64(body); err == nil {
			return out
		}
	case "quoted-printable":
		if out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err == nil {
			return out
		}
	}
	return body
}

// filename is the part's file name as Python's email package reads it:
// Content-Disposition's filename, else Content-Type's name.
func filename(h textproto.MIMEHeader) string {
	if _, p, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && p["filename"] != "" {
		return p["filename"]
	}
	_, p := mediaType(h.Get("Content-Type"))
	return p["name"]
}

// process is cloud-init's handling of one part before its handler runs:
// decompress gzip types, type text/plain (and x-shellscript) parts by
// content, expand includes and archives, and number the rest.
func (r *renderer) process(ctype string, h textproto.MIMEHeader, payload []byte) error {
	if slices.Contains(gzipTypes, ctype) {
		out, ok, err := r.gunzip(payload)
		if err != nil {
			return err
		}
		if !ok {
			r.warnf("Failed decompressing payload from %s of length %d due to: not valid gzip", ctype, len(payload))
			return nil
		}
		ctype, payload = typePlain, out
	}
	if ctype == typePlain || ctype == typeNotMultipart || ctype == typeShellScript {
		if t := typeFromStartsWith(payload); t != "" {
			ctype = t
		}
	}
	switch ctype {
	case typeIncludeURL, typeIncludeOnce:
		r.include(payload)
		return nil
	case typeArchive:
		return r.explode(payload)
	}
	p := part{ctype: ctype, payload: payload}
	if h != nil {
		p.filename = filename(h)
		p.mergeType = h.Get("Merge-Type")
		if p.mergeType == "" {
			p.mergeType = h.Get("X-Merge-Type")
		}
	}
	r.attach(p)
	return nil
}

// attach numbers a part as cloud-init does: part-001, part-002... in the
// order parts are kept, whatever their type.
func (r *renderer) attach(p part) {
	if p.filename == "" {
		p.filename = fmt.Sprintf("part-%03d", len(r.parts)+1)
	}
	r.parts = append(r.parts, p)
}

// include reports the URLs of an #include part: nothing is fetched.
func (r *renderer) include(payload []byte) {
	for line := range strings.Lines(string(payload)) {
		lc := strings.ToLower(line)
		switch {
		case strings.HasPrefix(lc, "#include-once"):
			line = line[len("#include-once"):]
		case strings.HasPrefix(lc, "#include"):
			line = line[len("#include"):]
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r.warnf("#include: %s not fetched: user data URLs are not fetched here", line)
	}
}

// explode turns a #cloud-config-archive (a YAML list of parts) into parts.
func (r *renderer) explode(payload []byte) error {
	v, err := loadYAML(payload)
	if err != nil {
		r.warnf("Failed loading yaml blob. %v", err)
		return nil
	}
	entries, ok := v.([]any)
	if !ok {
		if v != nil {
			r.warnf("Failed loading yaml blob. Yaml load allows (list, set) root types, but got %s instead", pyType(v))
		}
		return nil
	}
	for i, e := range entries {
		ent, ok := e.(*omap)
		if s, isStr := e.(string); isStr {
			ent, ok = newOmap(), true
			ent.set("content", s)
		}
		if !ok {
			r.warnf("cloud-config-archive: entry %d is a %s, not a part: ignored", i+1, pyType(e))
			continue
		}
		content, _ := ent.get("content")
		text, ok := scalarString(content)
		if !ok && content != nil {
			r.warnf("cloud-config-archive: entry %d content is a %s: ignored", i+1, pyType(content))
			continue
		}
		p := part{payload: []byte(text)}
		if t, ok := ent.get("type"); ok {
			p.ctype, _ = scalarString(t)
		}
		if p.ctype == "" {
			p.ctype = typeFromStartsWith(p.payload)
		}
		if p.ctype == "" {
			p.ctype = typeCloudConfig
		}
		p.ctype = strings.ToLower(p.ctype)
		if f, ok := ent.get("filename"); ok {
			p.filename, _ = scalarString(f)
		}
		// Other keys are headers, matched without regard to case.
		for _, k := range ent.keys {
			if lk := strings.ToLower(k); (lk == "merge-type" || lk == "x-merge-type") && p.mergeType == "" {
				p.mergeType, _ = scalarString(ent.vals[k])
			}
		}
		r.attach(p)
	}
	return nil
}

// decodeBase64 decodes base64 the way Python's non-strict decoder does:
// characters outside the alphabet are dropped, and so is padding.
func decodeBase64(b []byte) ([]byte, error) {
	clean := bytes.Map(func(c rune) rune {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			return c
		}
		return -1
	}, b)
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.RawStdEncoding.Decode(out, clean)
	return out[:n], err
}

// dos2unix turns CRLF line ends into LF when the first line ends in CRLF,
// as cloud-init does to scripts before it writes them.
func dos2unix(b []byte) []byte {
	i := bytes.IndexByte(b, '\n')
	if i <= 0 || b[i-1] != '\r' {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// cleanFilename keeps the characters cloud-init allows in the file names
// it writes scripts to ("/" becomes "_").
func cleanFilename(fn string) string {
	fn = strings.ReplaceAll(fn, "/", "_")
	fn = strings.Map(func(c rune) rune {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-.()", c)) {
			return c
		}
		return -1
	}, fn)
	return fn
}
