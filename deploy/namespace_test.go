package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

// fakeNamespaces is a server whose namespace cache lags: a new namespace is
// not describable for the first describeLag calls, and added attributes
// are listed only listLag lists after the add.
type fakeNamespaces struct {
	describeLag, listLag int
	describes, lists     int
	adds                 []map[string]enumspb.IndexedValueType
	addedAt              int // lists seen when the add happened
	have                 map[string]enumspb.IndexedValueType
}

func (f *fakeNamespaces) register(context.Context, string) error { return nil }

func (f *fakeNamespaces) describe(context.Context, string) error {
	f.describes++
	if f.describes <= f.describeLag {
		return serviceerror.NewNamespaceNotFound("default")
	}
	return nil
}

func (f *fakeNamespaces) listAttributes(context.Context, string) (map[string]enumspb.IndexedValueType, error) {
	f.lists++
	if len(f.adds) > 0 && f.lists > f.addedAt+f.listLag {
		return f.have, nil
	}
	return map[string]enumspb.IndexedValueType{}, nil
}

func (f *fakeNamespaces) addAttributes(_ context.Context, _ string, attrs map[string]enumspb.IndexedValueType) error {
	f.adds = append(f.adds, attrs)
	f.addedAt = f.lists
	f.have = attrs
	return nil
}

func (f *fakeNamespaces) visible() bool { return len(f.adds) > 0 && f.lists > f.addedAt+f.listLag }

var wantAttrs = map[string]enumspb.IndexedValueType{"OrderId": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "PayflowStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD}

// payflow prod starts the api and worker processes when RegisterNamespace
// returns: it must not return before the frontend describes the namespace
// and lists every search attribute, and it must add them only once (a
// second add against a stale cache would alias another column).
func TestEnsureNamespaceWaitsUntilAttributesAreListed(t *testing.T) {
	f := &fakeNamespaces{describeLag: 2, listLag: 3}
	if err := ensureNamespace(context.Background(), f, "default", wantAttrs, 10*time.Second, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !f.visible() {
		t.Fatalf("returned before the attributes were listed (lists=%d, added at list %d)", f.lists, f.addedAt)
	}
	if len(f.adds) != 1 || len(f.adds[0]) != len(wantAttrs) {
		t.Fatalf("want one add of every attribute, got %v", f.adds)
	}
	if f.describes < 3 {
		t.Fatalf("describes=%d: the namespace was not waited for", f.describes)
	}
}

func TestEnsureNamespaceGivesUp(t *testing.T) {
	f := &fakeNamespaces{listLag: 1 << 30}
	err := ensureNamespace(context.Background(), f, "default", wantAttrs, 50*time.Millisecond, 5*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not listed yet") {
		t.Fatalf("want a timeout naming the unlisted attributes, got %v", err)
	}
	if len(f.adds) != 1 {
		t.Fatalf("added %d times", len(f.adds))
	}
}

func TestEnsureNamespaceCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeNamespaces{describeLag: 1 << 30}
	if err := ensureNamespace(ctx, f, "default", wantAttrs, time.Minute, time.Millisecond); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}
