package collect

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/store"
)

func (c *Collector) handler(typ string, batch bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allowCORS(w)
		// A key in the header is checked before the body is read; one in
		// the body before its messages are decoded. Either way a request
		// without a valid key costs a read at most.
		key, _, _ := r.BasicAuth()
		if key != "" {
			if err := c.Keys.Check(r.Context(), key, store.WriteKey); err != nil {
				c.Errors.Write(w, err)
				return
			}
		}
		body, perr := c.readBody(w, r)
		if perr != nil {
			c.reject(w, perr)
			return
		}
		if key == "" {
			if err := c.Keys.Check(r.Context(), event.WriteKey(body), store.WriteKey); err != nil {
				c.Errors.Write(w, err)
				return
			}
		}
		receivedAt := c.Now().UTC()
		var b event.Batch
		var derr *event.Error
		if batch {
			b, derr = event.DecodeBatch(body, receivedAt)
		} else {
			b, derr = event.DecodeOne(body, typ, receivedAt)
		}
		if derr != nil {
			c.reject(w, problem(derr))
			return
		}
		c.commit(w, r, b)
	})
}

// commit stores the valid messages of a request. Valid messages are kept even
// when others in the same batch are refused: the answer is then 400 and names
// each refused message by index, and says how many were accepted.
func (c *Collector) commit(w http.ResponseWriter, r *http.Request, b event.Batch) {
	if len(b.Events) > 0 {
		n, err := c.Ingester.AppendEvents(r.Context(), b.Events)
		if r.Context().Err() == nil {
			c.stored(err) // a client gone is no failure of the store
		}
		if err != nil {
			c.Errors.Write(w, err)
			return
		}
		c.Metrics.EventsAccepted.Add(float64(n))
		c.Metrics.EventsDuplicate.Add(float64(len(b.Events) - n))
		if n > 0 {
			c.Committed()
		}
	}
	for _, e := range b.Errors {
		c.Metrics.EventsRejected.WithLabelValues(e.Kind).Inc()
	}
	switch {
	case len(b.Errors) == 1 && len(b.Events) == 0:
		c.Errors.Write(w, problem(b.Errors[0]))
	case len(b.Errors) > 0:
		accepted := len(b.Events)
		msg := fmt.Sprintf("%d of %d messages were refused; the other %d were accepted", len(b.Errors), len(b.Errors)+accepted, accepted)
		if len(b.Errors) > maxErrorsListed {
			msg += fmt.Sprintf("; the first %d refused are listed", maxErrorsListed)
		}
		c.Errors.Write(w, &httpjson.Problem{Status: http.StatusBadRequest, Code: "invalid_messages", Message: msg,
			Accepted: &accepted, Details: b.Errors[:min(len(b.Errors), maxErrorsListed)]})
	default:
		httpjson.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
	}
}

// maxErrorsListed bounds the refused messages an answer names: the rest
// are counted in its message.
const maxErrorsListed = 100

// reject refuses a whole request, counted as one rejected message.
func (c *Collector) reject(w http.ResponseWriter, p *httpjson.Problem) {
	c.Metrics.EventsRejected.WithLabelValues(p.Code).Inc()
	c.Errors.Write(w, p)
}

func problem(e *event.Error) *httpjson.Problem {
	status := http.StatusBadRequest
	if e.Kind == event.KindBadRequest {
		status = http.StatusRequestEntityTooLarge
	}
	return &httpjson.Problem{Status: status, Code: e.Kind, Message: e.Message, Field: e.Field, Index: e.Index, Limit: e.Limit}
}

// bodyRoom is the room to read a request's body into: its stated length,
// if plain and within the limit (ReadFrom wants a little more to see the
// end), or a guess that a batch from an SDK fits.
func bodyRoom(r *http.Request) int {
	const guess = 64 << 10
	if r.ContentLength <= 0 || r.ContentLength > event.MaxRequestBytes || r.Header.Get("Content-Encoding") != "" {
		return guess
	}
	return int(r.ContentLength) + bytes.MinRead
}

// bodyDeadline is when a request's body must have arrived by.
func (c *Collector) bodyDeadline(r *http.Request) time.Time {
	size := int64(event.MaxRequestBytes)
	if r.ContentLength > 0 && r.ContentLength < size {
		size = r.ContentLength
	}
	return time.Now().Add(c.BodyGrace + time.Duration(size)*time.Second/time.Duration(c.MinBodyRate))
}

// readBody reads at most MaxRequestBytes of (decompressed) body, by the
// body's deadline. The limit applies after gzip, so a small compressed bomb
// cannot exhaust memory.
func (c *Collector) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *httpjson.Problem) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(c.bodyDeadline(r)) // a writer that cannot set one (a test's recorder) has no connection to hold
	body, p := c.readLimited(w, r)
	if p == nil {
		// Taken whole: the connection's next request must not inherit the
		// deadline. A body cut short keeps it, so that the server, which
		// drains what is left of a body to reuse the connection, gives up
		// at once instead of waiting on the same slow client.
		_ = rc.SetReadDeadline(time.Time{})
	}
	return body, p
}

// readLimited reads the body up to the request limit.
func (c *Collector) readLimited(w http.ResponseWriter, r *http.Request) ([]byte, *httpjson.Problem) {
	var src io.Reader = http.MaxBytesReader(w, r.Body, event.MaxRequestBytes+1)
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(src)
		if err != nil {
			return nil, &httpjson.Problem{Status: http.StatusBadRequest, Code: "bad_encoding", Message: "body is not valid gzip: " + err.Error()}
		}
		defer gz.Close()
		src = gz
	default:
		return nil, &httpjson.Problem{Status: http.StatusUnsupportedMediaType, Code: "bad_encoding",
			Message: fmt.Sprintf("Content-Encoding %q is not supported; send gzip or nothing", r.Header.Get("Content-Encoding"))}
	}
	// Sized for what the request says it holds, the body is read without
	// growing its buffer a doubling at a time: at 45,000 events/s that
	// regrowth and its zeroing were 2 % of the CPU.
	buf := bytes.NewBuffer(make([]byte, 0, bodyRoom(r)))
	_, err := buf.ReadFrom(io.LimitReader(src, event.MaxRequestBytes+1))
	body := buf.Bytes()
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(body) > event.MaxRequestBytes {
		return nil, problem(event.RequestTooLarge())
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, &httpjson.Problem{Status: http.StatusRequestTimeout, Code: "slow_body", Message: fmt.Sprintf(
			"the body did not arrive in time: %s, then at least %d KB a second", c.BodyGrace, c.MinBodyRate>>10)}
	}
	if err != nil {
		return nil, &httpjson.Problem{Status: http.StatusBadRequest, Code: "bad_body", Message: "could not read body: " + err.Error()}
	}
	return body, nil
}
