package connections_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	connections "datahub.example/connections"
)

// gcmProvider wraps data keys with AES-256-GCM from Go's standard library, as a KMS would.
type gcmProvider struct {
	primary string
	keys    map[string][]byte
	unwraps atomic.Int64
}

func (p *gcmProvider) PrimaryKeyID() (string, error) { return p.primary, nil }

func (p *gcmProvider) aead(keyID string) (cipher.AEAD, error) {
	k, ok := p.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("unknown key %q", keyID)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (p *gcmProvider) Wrap(keyID string, dek, aad []byte) ([]byte, error) {
	a, err := p.aead(keyID)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, dek, aad), nil
}

func (p *gcmProvider) Unwrap(keyID string, edk, aad []byte) ([]byte, error) {
	p.unwraps.Add(1)
	a, err := p.aead(keyID)
	if err != nil {
		return nil, err
	}
	if len(edk) < a.NonceSize() {
		return nil, connections.ErrIntegrity
	}
	dek, err := a.Open(nil, edk[:a.NonceSize()], edk[a.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("open: %w", connections.ErrIntegrity)
	}
	return dek, nil
}

func openWith(t *testing.T, p connections.KeyProvider) *connections.Store {
	t.Helper()
	s, err := connections.OpenWithKeyProvider(map[string]any{"database": database(t), "pool_size": 4}, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGoKeyProvider(t *testing.T) {
	p := &gcmProvider{primary: "go-kek", keys: map[string][]byte{"go-kek": randomKey(t)}}
	s := openWith(t, p)
	defer s.Close()
	name := prefix(t)
	defer cleanup(t, s, name)
	c, err := s.Create(sample(name+"p"), "t")
	if err != nil {
		t.Fatal(err)
	}
	full, err := s.Get(c.ID, connections.Reveal)
	if err != nil || full.Details["password"] != "s3cret" || full.KeyID != "go-kek" {
		t.Fatalf("%v %+v", err, full)
	}
	if p.unwraps.Load() == 0 {
		t.Error("the provider was not asked to unwrap")
	}
}

func TestProviderErrorsAndPanics(t *testing.T) {
	key := randomKey(t)
	name := prefix(t)
	first := openWith(t, &gcmProvider{primary: "k", keys: map[string][]byte{"k": key}})
	c, err := first.Create(sample(name+"x"), "t")
	first.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Same key id, another key: the GCM tag fails, reported as Integrity.
	wrong := openWith(t, &gcmProvider{primary: "k", keys: map[string][]byte{"k": randomKey(t)}})
	defer wrong.Close()
	defer cleanup(t, wrong, name)
	if _, err := wrong.Get(c.ID, connections.Reveal); !errors.Is(err, connections.ErrIntegrity) {
		t.Errorf("want Integrity, got %v", err)
	}
	// A key the provider does not hold: KeyUnavailable; a list page carries the row's error.
	other := openWith(t, &gcmProvider{primary: "k2", keys: map[string][]byte{"k2": key}})
	defer other.Close()
	if _, err := other.Get(c.ID, connections.Redact); !errors.Is(err, connections.ErrKeyUnavailable) {
		t.Errorf("want KeyUnavailable, got %v", err)
	}
	page, err := other.List(connections.Query{NamePrefix: name}, connections.Redact)
	if err != nil || len(page.Items) != 1 || page.Items[0].Err == nil ||
		page.Items[0].Err.Code != connections.KeyUnavailable || page.Items[0].Details != nil {
		t.Fatalf("list: %v %+v", err, page)
	}
	// A panicking provider is recovered: KeyUnavailable, no crash.
	boom := openWith(t, panicking{})
	defer boom.Close()
	if _, err := boom.Create(sample(name+"boom"), "t"); !errors.Is(err, connections.ErrKeyUnavailable) {
		t.Errorf("want KeyUnavailable, got %v", err)
	}
}

func TestOpenWithProviderAndKeysIsRefused(t *testing.T) {
	_, err := connections.OpenWithKeyProvider(map[string]any{"database": database(t),
		"keys": map[string]any{"provider": "env"}}, panicking{})
	if !errors.Is(err, connections.ErrInvalidArgument) {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
}

type panicking struct{}

func (panicking) PrimaryKeyID() (string, error)                 { return "boom", nil }
func (panicking) Wrap(string, []byte, []byte) ([]byte, error)   { panic("KMS client bug") }
func (panicking) Unwrap(string, []byte, []byte) ([]byte, error) { panic("KMS client bug") }

// A Store dropped without Close used to keep its sessions, and its KeyProvider through
// the provider's cgo.Handle, for the life of the process.
func TestAStoreDroppedWithoutCloseIsClosedByTheCollector(t *testing.T) {
	released := make(chan struct{})
	func() {
		p := &gcmProvider{primary: "k", keys: map[string][]byte{"k": randomKey(t)}}
		runtime.SetFinalizer(p, func(*gcmProvider) { close(released) })
		if _, err := connections.OpenWithKeyProvider(map[string]any{"database": database(t), "pool_size": 1}, p); err != nil {
			t.Fatal(err)
		}
	}()
	if !releasedAfterGC(released) {
		t.Fatal("the dropped store was never closed: it still holds its KeyProvider")
	}
}

// releasedAfterGC runs the collector until released is closed (a finalizer closes it);
// false when it is not within about 2 s.
func releasedAfterGC(released <-chan struct{}) bool {
	for i := 0; i < 100; i++ {
		runtime.GC()
		select {
		case <-released:
			return true
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

// A value copy of a Store (kept := *s, or a struct embedding one) was closed ("store:
// closed") when the *Store that Open returned was collected: the finalizer was on that
// pointer while the state was shared. It is now on the shared part: the copies work while
// any is reachable, and the collector closes the store once none is.
func TestACopyOfAStoreOutlivesTheOriginalPointer(t *testing.T) {
	type app struct{ connections.Store }
	released := make(chan struct{})
	var kept connections.Store
	var embedded app
	func() {
		p := &gcmProvider{primary: "k", keys: map[string][]byte{"k": randomKey(t)}}
		runtime.SetFinalizer(p, func(*gcmProvider) { close(released) })
		s, err := connections.OpenWithKeyProvider(map[string]any{"database": database(t), "pool_size": 1}, p)
		if err != nil {
			t.Fatal(err)
		}
		kept = *s
		embedded = app{Store: *s}
	}()
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := kept.SchemaStatus(); err != nil {
		t.Errorf("a copy, after the original pointer was collected: %v", err)
	}
	if _, err := embedded.SchemaStatus(); err != nil {
		t.Errorf("an embedded copy, after the original pointer was collected: %v", err)
	}
	select {
	case <-released:
		t.Fatal("the store was closed while copies of it were reachable")
	default:
	}
	kept, embedded = connections.Store{}, app{}
	if !releasedAfterGC(released) {
		t.Fatal("no copy is reachable, yet the store was never closed")
	}
}

// Close on one copy closes the store for every copy.
func TestClosingACopyClosesTheStore(t *testing.T) {
	s, err := connections.Open(staticConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	kept := *s
	if err := kept.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SchemaStatus(); !errors.Is(err, connections.ErrInvalidArgument) || !connections.HandleFreed(s) {
		t.Errorf("after Close on a copy: %v, handle freed %v", err, connections.HandleFreed(s))
	}
}
