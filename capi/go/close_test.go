package connections_test

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	connections "datahub.example/connections"
)

// Close from inside one of the store's own callbacks used to deadlock: Close waited for
// every call in progress, the one running the callback included. These tests run such a
// call on a goroutine of its own and fail after 30 s instead of hanging; a store that may
// be stuck is never closed again by a cleanup.

const deadlock = 30 * time.Second

// returns runs f on a goroutine of its own and fails the test if f has not returned within
// 30 s (f's goroutine is then left behind, stuck).
func returns(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(deadlock):
		t.Fatalf("deadlock: %s has not returned after %v", what, deadlock)
	}
}

// isClosed reports whether err is what a call on a closed store returns.
func isClosed(err error) bool {
	var e *connections.Error
	return errors.As(err, &e) && e.Code == connections.InvalidArgument && e.Message == "store: closed"
}

// checkClosed checks, once no call on s is in progress, that s refuses calls and that its
// C handle has been closed; Close again is a no-op.
func checkClosed(t *testing.T, s *connections.Store) {
	t.Helper()
	if _, err := s.KeysCensus(); !isClosed(err) {
		t.Errorf("a call after Close: %v, want InvalidArgument \"store: closed\"", err)
	}
	if !connections.HandleFreed(s) {
		t.Error("no call is in progress, yet the store's C handle is still open")
	}
	returns(t, "Close of a closed store", func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
}

// closingProvider is a gcmProvider whose Wrap or Unwrap (in), the first time it runs while
// armed, closes the store twice, calls the store once more (nested gets the error), then
// does its work as usual.
type closingProvider struct {
	*gcmProvider
	in     string
	store  *connections.Store // set before arming
	armed  atomic.Bool
	start  time.Time     // set before arming
	closed chan struct{} // closed after the Close calls; then took and nested are set
	took   time.Duration // how long the two Close calls took
	nested error
}

func newClosingProvider(in string, keys map[string][]byte) *closingProvider {
	return &closingProvider{gcmProvider: &gcmProvider{primary: "go-kek", keys: keys}, in: in,
		closed: make(chan struct{})}
}

func (p *closingProvider) arm(s *connections.Store) {
	p.store, p.start = s, time.Now()
	p.armed.Store(true)
}

func (p *closingProvider) maybeClose(method string) {
	if method != p.in || !p.armed.CompareAndSwap(true, false) {
		return
	}
	p.store.Close()
	p.store.Close()
	p.took = time.Since(p.start)
	_, p.nested = p.store.KeysCensus()
	close(p.closed)
}

func (p *closingProvider) Wrap(keyID string, dek, aad []byte) ([]byte, error) {
	p.maybeClose("Wrap")
	return p.gcmProvider.Wrap(keyID, dek, aad)
}

func (p *closingProvider) Unwrap(keyID string, edk, aad []byte) ([]byte, error) {
	p.maybeClose("Unwrap")
	return p.gcmProvider.Unwrap(keyID, edk, aad)
}

// providerStores opens stores whose provider holds one key, "go-kek": an owner, which writes
// the test's rows and deletes them at the end, and (open) stores whose provider closes them.
func providerStores(t *testing.T) (*connections.Store, string, func(in string) (*connections.Store, *closingProvider)) {
	keys := map[string][]byte{"go-kek": randomKey(t)}
	owner := openWith(t, &gcmProvider{primary: "go-kek", keys: keys})
	p := prefix(t)
	t.Cleanup(func() { cleanup(t, owner, p); owner.Close() })
	return owner, p, func(in string) (*connections.Store, *closingProvider) {
		cp := newClosingProvider(in, keys)
		s, err := connections.OpenWithKeyProvider(map[string]any{"database": database(t), "pool_size": 2}, cp)
		if err != nil {
			t.Fatal(err)
		}
		return s, cp
	}
}

// The call whose provider callback closed the store finishes normally; its (and every
// later) call to the store fails; the handle is closed when that call returns.
func TestCloseFromAKeyProviderCallback(t *testing.T) {
	owner, p, open := providerStores(t)
	c, err := owner.Create(sample(p+"get"), "t")
	if err != nil {
		t.Fatal(err)
	}
	checkProvider := func(t *testing.T, s *connections.Store, cp *closingProvider) {
		t.Helper()
		<-cp.closed // the call returned: Close did too
		if !isClosed(cp.nested) {
			t.Errorf("a call from the callback after Close: %v", cp.nested)
		}
		checkClosed(t, s)
	}

	t.Run("Unwrap in Get", func(t *testing.T) {
		s, cp := open("Unwrap")
		cp.arm(s)
		var got *connections.Connection
		var err error
		returns(t, "a Get whose Unwrap calls Close", func() { got, err = s.Get(c.ID, connections.Reveal) })
		if err != nil || got.Details["password"] != "s3cret" {
			t.Fatalf("the Get that closed the store: %v %+v", err, got)
		}
		checkProvider(t, s, cp)
	})

	t.Run("Wrap in Create", func(t *testing.T) {
		s, cp := open("Wrap")
		cp.arm(s)
		var got *connections.Connection
		var err error
		returns(t, "a Create whose Wrap calls Close", func() { got, err = s.Create(sample(p+"create"), "t") })
		if err != nil || got.KeyID != "go-kek" {
			t.Fatalf("the Create that closed the store: %v %+v", err, got)
		}
		checkProvider(t, s, cp)
	})

	// Over 1000 records, CreateMany seals on a helper thread while the caller waits in the
	// library: Close runs on a library thread, its call on another one.
	t.Run("Wrap on CreateMany's helper thread", func(t *testing.T) {
		s, cp := open("Wrap")
		cp.arm(s)
		var got []connections.Connection
		var err error
		returns(t, "a CreateMany whose Wrap calls Close", func() { got, err = s.CreateMany(samples(p+"many-", 1001), "t") })
		if err != nil || len(got) != 1001 {
			t.Fatalf("the CreateMany that closed the store: %v, %d records", err, len(got))
		}
		checkProvider(t, s, cp)
	})
}

// ForEach runs to its end after its fn closed the store (return Stop to end it); the fn's
// calls to the store fail from then on.
func TestCloseFromAForEachCallback(t *testing.T) {
	s, p := storeToClose(t, 3)
	var err error
	var seen []int64
	var nested []error
	returns(t, "a ForEach whose fn calls Close", func() {
		// Limit 1: the library fetches a page with the handle after each callback.
		err = s.ForEach(connections.Query{NamePrefix: p, Limit: 1}, connections.Redact, func(c *connections.Connection) error {
			seen = append(seen, c.ID)
			if len(seen) == 1 {
				s.Close()
				s.Close()
			}
			_, err := s.Get(c.ID, connections.Redact)
			nested = append(nested, err)
			return nil
		})
	})
	if err != nil || len(seen) != 3 {
		t.Fatalf("the ForEach that closed the store: %v after %d records", err, len(seen))
	}
	for i, err := range nested {
		if !isClosed(err) {
			t.Errorf("record %d: a call from the callback after Close: %v", i, err)
		}
	}
	checkClosed(t, s)
}

// The rotation runs to its end (progress returns true) after progress closed the store.
func TestCloseFromARotationProgressCallback(t *testing.T) {
	k := newKeyring(t)
	if _, err := k.open("k1").CreateMany(samples(k.prefix, 4), "t"); err != nil {
		t.Fatal(err)
	}
	// Not k.open: its cleanup would Close s again, which a regression leaves stuck.
	s, err := connections.Open(k.config("k2", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	progress := 0
	var nested error
	var report connections.RotateReport
	returns(t, "a KeysRotate whose progress calls Close", func() {
		report, err = s.KeysRotate(connections.RotateOptions{BatchSize: 1}, func(connections.RotateReport) bool {
			if progress++; progress == 1 {
				s.Close()
				s.Close()
				_, nested = s.KeysCensus()
			}
			return true
		})
	})
	if err != nil || report.Rewritten != 4 || report.Failed != 0 || progress < 2 {
		t.Fatalf("the rotation that closed the store: %v, %+v, progress called %d times", err, report, progress)
	}
	if !isClosed(nested) {
		t.Errorf("a call from progress after Close: %v", nested)
	}
	checkClosed(t, s)
	if got := k.ours(k.stores[0]); fmt.Sprint(got) != "map[k2:4]" {
		t.Fatalf("census after rotating: %v", got)
	}
}

// Several calls' callbacks close the store at once, each twice, while two other goroutines
// close it too: all return, every ForEach runs to its end, the handle is closed once (a
// second dhc_store_close would free it again).
func TestCloseFromSeveralCallbacksAtOnce(t *testing.T) {
	s, p := storeToClose(t, 2)
	const n = 3
	var inside sync.WaitGroup // every ForEach is in its first callback
	inside.Add(n)
	errs, seen := make([]error, n), make([]int, n)
	returns(t, "ForEach calls whose fn call Close at once, and Close calls from outside", func() {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs[i] = s.ForEach(connections.Query{NamePrefix: p, Limit: 1}, connections.Redact, func(*connections.Connection) error {
					if seen[i]++; seen[i] == 1 {
						inside.Done()
						inside.Wait()
						s.Close()
						s.Close()
					}
					return nil
				})
			}(i)
		}
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				inside.Wait()
				s.Close()
			}()
		}
		wg.Wait()
	})
	for i := range errs {
		if errs[i] != nil || seen[i] != 2 {
			t.Errorf("ForEach %d: %v after %d records", i, errs[i], seen[i])
		}
	}
	checkClosed(t, s)
}

// silentServer accepts TCP connections on 127.0.0.1 and never answers: a Test of a
// connection to it stays in the library (outside every callback) until its timeout.
// accepted gets a value per connection accepted.
func silentServer(t *testing.T) (port int64, accepted <-chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return int64(ln.Addr().(*net.TCPAddr).Port), ch
}

func silentConnection(name string, port int64) connections.NewConnection {
	return connections.NewConnection{Name: name, Type: connections.TypePostgreSQL,
		Details: connections.Details{"host": "127.0.0.1", "port": port, "database": "d",
			"username": "u", "password": "pw"}}
}

// testResult is a Test's outcome, sent when it returned.
type testResult struct {
	r   *connections.TestResult
	err error
}

// blockedTest starts s.Test(id, timeout) on a goroutine and returns once the library is
// waiting on the silent server, so the call is in the library outside every callback.
func blockedTest(t *testing.T, s *connections.Store, id int64, timeout time.Duration, accepted <-chan struct{}) <-chan testResult {
	t.Helper()
	out := make(chan testResult, 1)
	go func() {
		r, err := s.Test(id, timeout)
		out <- testResult{r, err}
	}()
	select {
	case <-accepted:
	case res := <-out:
		t.Fatalf("Test returned before it reached the server: %+v %v", res.r, res.err)
	case <-time.After(deadlock):
		t.Fatal("Test never reached the server")
	}
	return out
}

// checkTimedOut checks that the Test ran to its end: a timeout, not an error.
func checkTimedOut(t *testing.T, out <-chan testResult) {
	t.Helper()
	select {
	case res := <-out:
		if res.err != nil || res.r.OK || res.r.Failure == nil || *res.r.Failure != "timeout" {
			t.Errorf("the Test in progress during Close: %v %+v", res.err, res.r)
		}
	case <-time.After(deadlock):
		t.Fatal("the Test in progress never returned")
	}
}

// A callback's Close still waits for the store's calls that are in the library outside
// every callback (here a Test waiting on a silent server), then returns; the handle is
// closed when the callback's own call returns.
func TestCloseFromACallbackWaitsForACallInTheLibrary(t *testing.T) {
	owner, p, open := providerStores(t)
	port, accepted := silentServer(t)
	silent, err := owner.Create(silentConnection(p+"silent", port), "t")
	if err != nil {
		t.Fatal(err)
	}
	c, err := owner.Create(sample(p+"get"), "t")
	if err != nil {
		t.Fatal(err)
	}
	s, cp := open("Unwrap")
	const timeout = 4 * time.Second
	test := blockedTest(t, s, silent.ID, timeout, accepted) // its Unwrap ran before: not armed
	cp.arm(s)
	var got *connections.Connection
	returns(t, "a Get whose Unwrap calls Close while a Test is in the library", func() {
		got, err = s.Get(c.ID, connections.Reveal)
	})
	if err != nil || got.Details["password"] != "s3cret" {
		t.Fatalf("the Get that closed the store: %v %+v", err, got)
	}
	<-cp.closed
	if cp.took < timeout/2 {
		t.Errorf("Close in the callback returned after %v, before the Test in the library (%v timeout) ended", cp.took, timeout)
	}
	if !isClosed(cp.nested) {
		t.Errorf("a call from the callback after Close: %v", cp.nested)
	}
	checkTimedOut(t, test)
	checkClosed(t, s)
}
