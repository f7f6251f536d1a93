//go:build linux

package cli

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/beaconplg/beacon/internal/store/storetest"
)

// smallDisk mounts a tmpfs of size bytes for the test, or skips it, saying
// why, where it cannot (not root, no mount).
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (root and mount are needed): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill takes all but keep bytes of the disk at dir with a file, and
// returns its path.
func fill(t *testing.T, dir string, keep int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for left := free - keep; left > 0; left -= int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), left)]); err != nil {
			break // full already
		}
	}
	return path
}

// A SQLite store on a disk that fills: the collector answers 503, never a
// 200 for what it could not store, /readyz says the collector is failing,
// and once space returns it takes events again without a restart; every
// event it acknowledged is stored, once.
func TestDiskFull(t *testing.T) {
	dir := smallDisk(t, 16<<20)
	db := storetest.OpenDSN(t, filepath.Join(dir, "beacon.db"))
	srv := startServer(t, db)
	acked := map[string]bool{}
	send := func(batch int) int {
		var msgs []string
		for i := range 50 {
			msgs = append(msgs, fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Filled","messageId":"b%d-%d","properties":{"pad":%q}}`,
				i, batch, i, strings.Repeat("p", 400+batch%97)))
		}
		req, _ := http.NewRequest(http.MethodPost, srv.url+"/v1/batch", strings.NewReader(`{"batch":[`+strings.Join(msgs, ",")+`]}`))
		req.SetBasicAuth(srv.writeKey, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			for i := range 50 {
				acked[fmt.Sprintf("b%d-%d", batch, i)] = true
			}
		}
		return resp.StatusCode
	}
	if code := send(0); code != http.StatusOK {
		t.Fatalf("before the disk fills: %d", code)
	}
	filler := fill(t, dir, 256<<10)
	batch, full := 1, false
	for ; batch < 2000 && !full; batch++ {
		switch code := send(batch); code {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			full = true
		default:
			t.Fatalf("batch %d on a filling disk: %d", batch, code)
		}
	}
	if !full {
		t.Fatal("the disk never filled")
	}
	if code := srv.get(t, "/readyz", "", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while writes fail: %d", code)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code := send(batch); code != http.StatusOK {
		t.Fatalf("once space returned: %d", code)
	}
	if code := srv.get(t, "/readyz", "", nil); code != http.StatusOK {
		t.Fatalf("/readyz once writes work: %d", code)
	}
	stored := waitEvents(t, db, len(acked))
	for id := range acked {
		if stored[id] != 1 {
			t.Fatalf("acknowledged %s stored %d times", id, stored[id])
		}
	}
	t.Logf("%d events acknowledged, %d stored, the disk full at batch %d", len(acked), len(stored), batch)
}
