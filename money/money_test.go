package money

import "testing"

func TestToDivisibility(t *testing.T) {
	cases := []struct {
		amount int64
		code   string
		div    int
		want   int64
		exact  bool
	}{
		{1999, "USD", 2, 1999, true},
		{1999, "USD", 7, 199900000, true},
		{1999, "USD", 0, 0, false},
		{2000, "USD", 0, 20, true},
		{500, "JPY", 2, 50000, true},
		{1234, "KWD", 2, 0, false},
		{1230, "KWD", 2, 123, true},
	}
	for _, c := range cases {
		got, exact := ToDivisibility(c.amount, c.code, c.div)
		if got != c.want || exact != c.exact {
			t.Errorf("ToDivisibility(%d, %s, %d) = %d, %v; want %d, %v", c.amount, c.code, c.div, got, exact, c.want, c.exact)
		}
	}
}
