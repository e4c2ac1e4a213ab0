package connections_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	connections "datahub.example/connections"
)

// The key tests share the table with whatever else runs against the database, so they use
// key ids unique to the test and look only at their own rows and key ids.

// keyring holds two keys with ids unique to the test. open(primary, others...) opens a
// store with those of them; the test's rows are deleted and the stores closed at the end.
type keyring struct {
	t        *testing.T
	prefix   string
	kids     map[string]string // "k1" -> the test's key id
	material map[string]string
	stores   []*connections.Store
}

func newKeyring(t *testing.T) *keyring {
	k := &keyring{t: t, prefix: prefix(t), kids: map[string]string{}, material: map[string]string{}}
	for _, name := range []string{"k1", "k2"} {
		k.kids[name] = k.prefix + name
		k.material[name] = base64.StdEncoding.EncodeToString(randomKey(t))
	}
	t.Cleanup(func() {
		if len(k.stores) > 0 {
			cleanup(t, k.stores[0], k.prefix) // listing needs no key
		}
		for _, s := range k.stores {
			s.Close()
		}
	})
	return k
}

func (k *keyring) open(primary string, others ...string) *connections.Store {
	k.t.Helper()
	s, err := connections.Open(k.config(primary, others...))
	if err != nil {
		k.t.Fatal(err)
	}
	k.stores = append(k.stores, s)
	if err := s.Migrate(); err != nil {
		k.t.Fatal(err)
	}
	return s
}

// config is the config of a store with those of the keys, which open opens.
func (k *keyring) config(primary string, others ...string) map[string]any {
	keys := map[string]string{k.kids[primary]: k.material[primary]}
	for _, o := range others {
		keys[k.kids[o]] = k.material[o]
	}
	return map[string]any{"database": database(k.t), "pool_size": 2,
		"keys": map[string]any{"provider": "static", "primary": k.kids[primary], "keys": keys}}
}

// ours is the census restricted to the test's key ids: {"k1": rows, ...}.
func (k *keyring) ours(s *connections.Store) map[string]int64 {
	k.t.Helper()
	c, err := s.KeysCensus()
	if err != nil {
		k.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range c.Keys {
		for name, kid := range k.kids {
			if e.KeyID == kid {
				out[name] += e.Rows
			}
		}
	}
	return out
}

func samples(p string, n int) []connections.NewConnection {
	out := make([]connections.NewConnection, n)
	for i := range out {
		out[i] = sample(fmt.Sprintf("%s%02d", p, i))
	}
	return out
}

func countPrefix(t *testing.T, s *connections.Store, p string) int {
	t.Helper()
	page, err := s.List(connections.Query{NamePrefix: p, Limit: 1000}, connections.Redact)
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

func TestCreateManyIsAllOrNothing(t *testing.T) {
	s, p := openStore(t)
	batch := samples(p, 10)
	batch[7].Details["port"] = 0
	batch[7].Details["password"] = "hunter2-secret"
	_, err := s.CreateMany(batch, "t")
	var e *connections.Error
	if !errors.As(err, &e) || e.Code != connections.InvalidArgument ||
		!strings.HasPrefix(e.Message, "connections[7].connection_details.port") {
		t.Fatalf("want InvalidArgument naming connections[7], got %v", err)
	}
	if strings.Contains(e.Message, "hunter2") {
		t.Errorf("secret in message %q", e.Message)
	}
	if n := countPrefix(t, s, p); n != 0 {
		t.Fatalf("%d rows written by a failed CreateMany", n)
	}
	// Refused on the Go side (encoding/json would alter invalid UTF-8): named the same way.
	batch = samples(p, 4)
	batch[3].Name = p + "\xff"
	if _, err := s.CreateMany(batch, "t"); !errors.As(err, &e) || e.Code != connections.InvalidArgument ||
		e.Message != "connections[3].name: must be valid UTF-8" {
		t.Fatalf("want connections[3].name, got %v", err)
	}
	if n := countPrefix(t, s, p); n != 0 {
		t.Fatalf("%d rows written by a failed CreateMany", n)
	}
}

func TestCreateManyReturnsRecordsInOrder(t *testing.T) {
	s, p := openStore(t)
	created, err := s.CreateMany(samples(p, 5), "bulk_user")
	if err != nil || len(created) != 5 {
		t.Fatalf("CreateMany: %v, %d records", err, len(created))
	}
	for i, c := range created {
		if c.Name != fmt.Sprintf("%s%02d", p, i) || c.CreatedBy != "bulk_user" || c.ID == 0 {
			t.Errorf("record %d: %+v", i, c)
		}
		if _, ok := c.Details["password"]; ok || len(c.Redacted) != 1 {
			t.Errorf("record %d not redacted: %+v", i, c.Details)
		}
	}
	if full, err := s.Get(created[4].ID, connections.Reveal); err != nil || full.Details["password"] != "s3cret" {
		t.Errorf("Get: %v %+v", err, full)
	}
	if none, err := s.CreateMany(nil, "t"); err != nil || len(none) != 0 {
		t.Errorf("empty CreateMany: %v %v", none, err)
	}
	if _, err := s.CreateMany(samples(p+"x", 1), "nul\x00actor"); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("NUL in actor: %v", err)
	}
}

func TestForEachStreamsAndStops(t *testing.T) {
	s, p := openStore(t)
	created, err := s.CreateMany(samples(p, 12), "t")
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, c := range created {
		want = append(want, c.ID)
	}
	var seen []int64
	err = s.ForEach(connections.Query{NamePrefix: p, Limit: 5}, connections.Reveal, func(c *connections.Connection) error {
		seen = append(seen, c.ID)
		if c.Details["password"] != "s3cret" {
			t.Errorf("revealed record %d: %+v", c.ID, c.Details)
		}
		return nil
	})
	if err != nil || fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("ForEach: %v, saw %v, want %v", err, seen, want)
	}

	seen = nil
	err = s.ForEach(connections.Query{NamePrefix: p, Limit: 2}, connections.Redact, func(c *connections.Connection) error {
		seen = append(seen, c.ID)
		if len(seen) == 3 {
			return connections.Stop
		}
		return nil
	})
	if err != nil || len(seen) != 3 {
		t.Fatalf("Stop: %v after %d records", err, len(seen))
	}

	mine := errors.New("enough")
	seen = nil
	err = s.ForEach(connections.Query{NamePrefix: p}, connections.Redact, func(c *connections.Connection) error {
		seen = append(seen, c.ID)
		return fmt.Errorf("record %d: %w", c.ID, mine)
	})
	if !errors.Is(err, mine) || len(seen) != 1 {
		t.Fatalf("fn's error: %v after %d records", err, len(seen))
	}

	if err := s.ForEach(connections.Query{Limit: 5000}, connections.Redact, func(*connections.Connection) error { return nil }); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("limit 5000: %v", err)
	}
	if err := s.ForEach(connections.Query{}, connections.Redact, nil); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("nil fn: %v", err)
	}
}

func TestForEachRecoversAPanic(t *testing.T) {
	s, p := openStore(t)
	if _, err := s.CreateMany(samples(p, 6), "t"); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := s.ForEach(connections.Query{NamePrefix: p, Limit: 4}, connections.Redact, func(c *connections.Connection) error {
		n++
		if n == 2 {
			panic("boom in " + c.Name)
		}
		return nil
	})
	var pe *connections.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom in "+p+"01" || len(pe.Stack) == 0 || n != 2 {
		t.Fatalf("want a PanicError after 2 records, got %v after %d", err, n)
	}
	// A panic with an error value unwraps to it.
	sentinel := errors.New("sentinel")
	err = s.ForEach(connections.Query{NamePrefix: p}, connections.Redact, func(*connections.Connection) error {
		panic(sentinel)
	})
	if !errors.As(err, &pe) || !errors.Is(err, sentinel) {
		t.Fatalf("want a PanicError wrapping sentinel, got %v", err)
	}
	// The store is intact: sessions were returned, nothing leaked a lock.
	if got := countPrefix(t, s, p); got != 6 {
		t.Fatalf("after the panics: %d rows", got)
	}
}

func TestKeysRotationMovesRowsToTheNewPrimary(t *testing.T) {
	k := newKeyring(t)
	old := k.open("k1")
	created, err := old.CreateMany(samples(k.prefix, 7), "t")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, c := range created {
		ids[c.ID] = true
	}

	s := k.open("k2", "k1") // the new primary, and the old key to read with
	census, err := s.KeysCensus()
	if err != nil || census.Primary != k.kids["k2"] {
		t.Fatalf("census: %v %+v", err, census)
	}
	if got := k.ours(s); fmt.Sprint(got) != "map[k1:7]" {
		t.Fatalf("census before: %v", got)
	}

	dry, err := s.KeysRotate(connections.RotateOptions{DryRun: true}, nil)
	if err != nil || dry.Rewritten != 7 { // only our rows are under k1
		t.Fatalf("dry run: %v %+v", err, dry)
	}
	if got := k.ours(s); fmt.Sprint(got) != "map[k1:7]" {
		t.Fatalf("a dry run wrote: %v", got)
	}

	report, err := s.KeysRotate(connections.RotateOptions{BatchSize: 3}, nil)
	if err != nil || report.Rewritten != 7 || report.SkippedChanged != 0 || report.Scanned < 7 || report.RemainingEstimate < 7 {
		t.Fatalf("rotate: %v %+v", err, report)
	}
	if got := k.ours(s); fmt.Sprint(got) != "map[k2:7]" {
		t.Fatalf("census after: %v", got)
	}

	verify, err := s.KeysVerify()
	if err != nil || verify.Checked < 7 {
		t.Fatalf("verify: %v %+v", err, verify)
	}
	for _, f := range verify.Failed {
		if ids[f.ID] {
			t.Errorf("verify: row %d fails: %+v", f.ID, f)
		}
	}
	for _, c := range created {
		r, err := s.Get(c.ID, connections.Reveal)
		if err != nil || r.KeyID != k.kids["k2"] || r.Stale || r.Details["password"] != "s3cret" || !r.UpdatedAt.Equal(c.UpdatedAt) {
			t.Errorf("row %d after rotation: %v %+v", c.ID, err, r)
		}
	}
	if again, err := s.KeysRotate(connections.RotateOptions{}, nil); err != nil || again.Rewritten != 0 {
		t.Errorf("second rotation: %v %+v", err, again)
	}
	if _, err := old.Get(created[0].ID, connections.Redact); !errors.Is(err, connections.ErrKeyUnavailable) {
		t.Errorf("the old key alone: %v", err)
	}
}

func TestKeysRotateProgressStopsAndPanics(t *testing.T) {
	k := newKeyring(t)
	if _, err := k.open("k1").CreateMany(samples(k.prefix, 6), "t"); err != nil {
		t.Fatal(err)
	}
	s := k.open("k2", "k1")

	calls := 0
	var seen connections.RotateReport
	report, err := s.KeysRotate(connections.RotateOptions{BatchSize: 2}, func(r connections.RotateReport) bool {
		calls++
		seen = r
		return false
	})
	if err != nil || calls != 1 || report != seen || report.Scanned > 2 {
		t.Fatalf("stop after one batch: %v, %d calls, %+v vs %+v", err, calls, report, seen)
	}
	if got := k.ours(s); got["k1"] < 4 {
		t.Fatalf("more than one batch moved: %v", got)
	}

	calls = 0
	report, err = s.KeysRotate(connections.RotateOptions{BatchSize: 1}, func(r connections.RotateReport) bool {
		calls++
		if calls == 2 {
			panic(fmt.Sprintf("progress at %d", r.Scanned))
		}
		return true
	})
	var pe *connections.PanicError
	if !errors.As(err, &pe) || calls != 2 || report.Scanned != 2 {
		t.Fatalf("panic in progress: %v, %d calls, %+v", err, calls, report)
	}

	var scanned []int64
	if _, err := s.KeysRotate(connections.RotateOptions{BatchSize: 2}, func(r connections.RotateReport) bool {
		scanned = append(scanned, r.Scanned)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if !sort.SliceIsSorted(scanned, func(i, j int) bool { return scanned[i] < scanned[j] }) || len(scanned) < 1 {
		t.Errorf("progress totals %v", scanned)
	}
	if got := k.ours(s); fmt.Sprint(got) != "map[k2:6]" {
		t.Fatalf("census after resuming: %v", got)
	}

	if _, err := s.KeysRotate(connections.RotateOptions{BatchSize: 10001}, nil); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("batch size 10001: %v", err)
	}
	if _, err := s.KeysRotate(connections.RotateOptions{BatchSize: -1}, func(connections.RotateReport) bool { return true }); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("batch size -1: %v", err)
	}
}

func TestKeysRotateWithWorkers(t *testing.T) {
	k := newKeyring(t)
	if _, err := k.open("k1").CreateMany(samples(k.prefix, 9), "t"); err != nil {
		t.Fatal(err)
	}
	s := k.open("k2", "k1")
	var rewritten []int64
	report, err := s.KeysRotate(connections.RotateOptions{BatchSize: 2, Workers: 3}, func(r connections.RotateReport) bool {
		rewritten = append(rewritten, r.Rewritten)
		return true
	})
	if err != nil || report.Rewritten != 9 || report.SkippedChanged != 0 {
		t.Fatalf("rotate with 3 workers: %v, %+v", err, report)
	}
	if !sort.SliceIsSorted(rewritten, func(i, j int) bool { return rewritten[i] < rewritten[j] }) ||
		len(rewritten) < 1 || rewritten[len(rewritten)-1] != report.Rewritten {
		t.Errorf("progress totals %v, final %d", rewritten, report.Rewritten)
	}
	if got := k.ours(s); fmt.Sprint(got) != "map[k2:9]" {
		t.Fatalf("census after rotating: %v", got)
	}
	if _, err := s.KeysRotate(connections.RotateOptions{Workers: 17}, nil); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("17 workers: %v", err)
	}
}

func TestKeysVerifyNamesRowsWhoseKeyIsMissing(t *testing.T) {
	k := newKeyring(t)
	created, err := k.open("k1").CreateMany(samples(k.prefix, 3), "t")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, c := range created {
		ids[c.ID] = true
	}
	lacking := k.open("k2") // k1 is not in its keyring
	verify, err := lacking.KeysVerify()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range verify.Failed {
		if ids[f.ID] {
			n++
			if f.Code != connections.KeyUnavailable || f.Message == "" {
				t.Errorf("failure %+v", f)
			}
		}
	}
	if n != 3 {
		t.Fatalf("verify names %d of our 3 rows: %+v", n, verify)
	}
	report, err := lacking.KeysRotate(connections.RotateOptions{}, nil)
	if err != nil || report.Failed < 3 {
		t.Fatalf("rotate without the key: %v %+v", err, report)
	}
	if got := k.ours(lacking); fmt.Sprint(got) != "map[k1:3]" {
		t.Fatalf("rows moved without their key: %v", got)
	}
	var rowErrs []connections.Code
	err = lacking.ForEach(connections.Query{NamePrefix: k.prefix}, connections.Redact, func(c *connections.Connection) error {
		if c.Err != nil && c.Details == nil {
			rowErrs = append(rowErrs, c.Err.Code)
		}
		return nil
	})
	if err != nil || fmt.Sprint(rowErrs) != fmt.Sprint([]connections.Code{connections.KeyUnavailable, connections.KeyUnavailable, connections.KeyUnavailable}) {
		t.Fatalf("ForEach over rows that do not open: %v %v", err, rowErrs)
	}
}

func TestBulkAndKeyCallsOnAClosedStore(t *testing.T) {
	s, err := connections.Open(staticConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.KeysCensus(); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("census: %v", err)
	}
	if _, err := s.KeysVerify(); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("verify: %v", err)
	}
	if _, err := s.KeysRotate(connections.RotateOptions{}, func(connections.RotateReport) bool { return true }); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("rotate: %v", err)
	}
	if _, err := s.CreateMany(nil, "t"); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("create many: %v", err)
	}
	if err := s.ForEach(connections.Query{}, connections.Redact, func(*connections.Connection) error { return nil }); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("for each: %v", err)
	}
}

// A ForEach callback calling the store while another goroutine is in Close used to
// deadlock: the callback's call queued behind Close, which waited for ForEach.
func TestCloseWhileAForEachCallbackUsesTheStore(t *testing.T) {
	s, p := storeToClose(t, 3)
	closed := make(chan struct{})
	done := make(chan error, 1)
	seen := 0
	go func() {
		done <- s.ForEach(connections.Query{NamePrefix: p, Limit: 1}, connections.Redact, func(c *connections.Connection) error {
			seen++
			if seen > 1 {
				return nil
			}
			go func() { s.Close(); close(closed) }()
			// Until Close is waiting, the nested call succeeds; then it must fail, not block.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
				if _, err := s.Get(c.ID, connections.Redact); err != nil {
					if !errors.Is(err, connections.ErrInvalidArgument) {
						return fmt.Errorf("nested call: %w", err)
					}
					return nil
				}
			}
			return errors.New("Close never began")
		})
	}()
	select {
	case err := <-done:
		if err != nil || seen != 3 {
			t.Fatalf("ForEach: %v after %d records", err, seen)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("deadlock: ForEach's callback and Close wait for each other") // s stays stuck
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return after ForEach did")
	}
	if _, err := s.KeysCensus(); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("after Close: %v", err)
	}
}
