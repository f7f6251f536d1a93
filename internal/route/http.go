package route

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SendError is a failed attempt: whether trying again can help, and when the
// receiver asked to be tried again.
type SendError struct {
	Status     int // 0 when no answer came
	Permanent  bool
	RetryAfter time.Duration
	// Waiting: the destination cannot take anything until RetryAfter (a
	// daily limit spent); the attempt does not count against the budget.
	Waiting bool
	Err     error
	// body is the receiver's answer (up to answerLimit), for a caller
	// that reads the reason out of it.
	body []byte
}

func (e *SendError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("HTTP %d: %v", e.Status, e.Err)
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// answerLimit bounds what is read of a receiver's answer.
const answerLimit = 64 << 10

// post sends body and classifies the answer: 2xx is delivered; 408, 429 and
// 5xx, or no answer, are worth retrying (after Retry-After, if given); other
// statuses are permanent: the request itself is wrong, retrying it as is
// cannot help. answer, if not nil, reads a 2xx body.
func post(ctx context.Context, c *http.Client, method, url string, h http.Header, body []byte, answer func([]byte) error) error {
	return postHeader(ctx, c, method, url, h, body, answer, nil)
}

// postHeader is post that keeps the answer's headers in got, if not nil.
func postHeader(ctx context.Context, c *http.Client, method, url string, h http.Header, body []byte, answer func([]byte) error,
	got *http.Header) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return &SendError{Permanent: true, Err: err}
	}
	req.Header = h
	resp, err := c.Do(req)
	if err != nil {
		return &SendError{Err: err}
	}
	defer resp.Body.Close()
	if got != nil {
		*got = resp.Header
	}
	b, readErr := io.ReadAll(io.LimitReader(resp.Body, answerLimit))
	if resp.StatusCode/100 == 2 {
		if readErr != nil {
			return &SendError{Err: fmt.Errorf("reading the answer: %w", readErr)}
		}
		if answer != nil {
			return answer(b)
		}
		return nil
	}
	e := &SendError{Status: resp.StatusCode, Err: errors.New(summary(b)), body: b}
	switch {
	case resp.StatusCode/100 == 3:
		// Not delivered, and retried: the destination's url may be fixed
		// meanwhile, to where the receiver says it moved.
		e.Err = fmt.Errorf("redirected to %q: Beacon does not follow redirects; set the destination's url to where it points",
			summary([]byte(resp.Header.Get("Location"))))
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode >= 500:
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode == http.StatusLocked:
		// HubSpot: the record is being written by another request; wait
		// at least two seconds.
		e.RetryAfter = max(retryAfter(resp.Header.Get("Retry-After"), time.Now()), 2*time.Second)
	default:
		e.Permanent = true
	}
	return e
}

// summary is the start of a receiver's answer, on one line.
func summary(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "")), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	if s == "" {
		return "no body"
	}
	return s
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
