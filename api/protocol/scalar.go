package protocol

import (
	"encoding/base64"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var timeType = reflect.TypeOf(time.Time{})

// Timestamp formats, as the models name them.
const (
	tsISO8601 = "iso8601"
	tsUnix    = "unixTimestamp"
	tsRFC822  = "rfc822"
)

const (
	isoOut    = "2006-01-02T15:04:05.000Z"
	rfc822Out = "Mon, 02 Jan 2006 15:04:05 GMT"
)

func parseTime(s, format string) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch format {
	case tsUnix:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, err
		}
		return unixTime(f), nil
	case tsRFC822:
		for _, layout := range []string{rfc822Out, time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("invalid http-date %q", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// Some clients send ISO 8601 without a zone; AWS reads it as UTC.
		t, err = time.Parse("2006-01-02T15:04:05.999999999", s)
		if err != nil {
			// And some send epoch seconds where ISO 8601 is expected.
			if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
				return unixTime(f), nil
			}
			return time.Time{}, err
		}
	}
	return t.UTC(), nil
}

func unixTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC()
}

func formatTime(t time.Time, format string) string {
	t = t.UTC()
	switch format {
	case tsUnix:
		return formatUnix(t)
	case tsRFC822:
		return t.Format(rfc822Out)
	}
	return t.Format(isoOut)
}

func formatUnix(t time.Time) string {
	if t.Nanosecond() == 0 {
		return strconv.FormatInt(t.Unix(), 10)
	}
	return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', -1, 64)
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// setScalar parses s into v, which is a settable *T or []byte field.
// defaultTS is the protocol's timestamp format where the member names none.
func setScalar(v reflect.Value, f *field, s, defaultTS string) error {
	t := v.Type()
	if t.Kind() == reflect.Slice { // blob
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("invalid base64 for %s", f.member)
		}
		v.SetBytes(b)
		return nil
	}
	if t.Kind() == reflect.Map { // jsonvalue
		return setJSONValue(v, f, s)
	}
	p := reflect.New(t.Elem())
	e := p.Elem()
	switch e.Kind() {
	case reflect.String:
		e.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("invalid boolean %q for %s", s, f.member)
		}
		e.SetBool(b)
	case reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("invalid integer %q for %s", s, f.member)
		}
		e.SetInt(n)
	case reflect.Float64:
		n, err := parseFloat(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid number %q for %s", s, f.member)
		}
		e.SetFloat(n)
	case reflect.Struct:
		format := f.tsFormat
		if format == "" {
			format = defaultTS
		}
		tm, err := parseTime(s, format)
		if err != nil {
			return fmt.Errorf("invalid timestamp %q for %s", s, f.member)
		}
		e.Set(reflect.ValueOf(tm))
	default:
		return fmt.Errorf("unsupported field type %s", t)
	}
	v.Set(p)
	return nil
}

// scalarString formats a non-nil scalar value for the wire.
func scalarString(v reflect.Value, f *field, defaultTS string) string {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int64, reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return formatFloat(v.Float())
	case reflect.Struct:
		format := f.tsFormat
		if format == "" {
			format = defaultTS
		}
		return formatTime(v.Interface().(time.Time), format)
	case reflect.Map:
		return jsonValueString(v)
	}
	return ""
}
