package workflows

import (
	"reflect"
	"slices"
	"testing"
)

// Each family's stubs are exactly its interface's methods, registered under
// the method's name: a method without a stub would be an activity no worker
// registers.
func TestActivityStubsMatchInterfaces(t *testing.T) {
	for _, fam := range []struct {
		iface reflect.Type
		stubs any
		names []string
	}{
		{reflect.TypeFor[CheckoutActivities](), ckActs, stubNames(familyStubs[CheckoutActivities](ckActs))},
		{reflect.TypeFor[CurrencyActivities](), cmActs, stubNames(familyStubs[CurrencyActivities](cmActs))},
	} {
		var methods []string
		for i := range fam.iface.NumMethod() {
			methods = append(methods, fam.iface.Method(i).Name)
		}
		names := slices.Sorted(slices.Values(fam.names))
		if !slices.Equal(methods, names) {
			t.Errorf("%s: methods %v, stubs registered as %v", fam.iface.Name(), methods, names)
		}
		st := reflect.TypeOf(fam.stubs)
		for i, name := range fam.names {
			if st.Field(i).Name != name {
				t.Errorf("%s.%s is registered as %q", st.Name(), st.Field(i).Name, name)
			}
		}
	}
}

func stubNames[A any](stubs []registrar[A]) []string {
	out := make([]string, 0, len(stubs))
	for _, s := range stubs {
		out = append(out, s.activityName())
	}
	return out
}
