package money

import (
	"math"
	"testing"
)

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
		// Overflow is refused, never wrapped around.
		{1999, "USD", 18, 0, false},
		{math.MaxInt64 / 10, "JPY", 1, math.MaxInt64 / 10 * 10, true},
		{math.MaxInt64/10 + 1, "JPY", 1, 0, false},
		{-(math.MaxInt64/10 + 1), "JPY", 1, 0, false},
		{1, "USD", -1, 0, false},
	}
	for _, c := range cases {
		got, exact := ToDivisibility(c.amount, c.code, c.div)
		if got != c.want || exact != c.exact {
			t.Errorf("ToDivisibility(%d, %s, %d) = %d, %v; want %d, %v", c.amount, c.code, c.div, got, exact, c.want, c.exact)
		}
	}
}

func TestCheckedArithmetic(t *testing.T) {
	for _, c := range []struct {
		a, b    int64
		mul, ad bool
	}{
		{3, 4, true, true},
		{math.MaxInt64, 2, false, false},
		{math.MaxInt64, 1, true, false},
		{math.MinInt64, -1, false, false},
		{-1, math.MinInt64, false, false},
		{math.MinInt64, 1, true, true},
		{1 << 31, 1 << 31, true, true},
		{1 << 32, 1 << 31, false, true},
		{1 << 32, 1 << 32, false, true},
	} {
		if _, ok := Mul(c.a, c.b); ok != c.mul {
			t.Errorf("Mul(%d, %d) ok = %v", c.a, c.b, ok)
		}
		if _, ok := Add(c.a, c.b); ok != c.ad {
			t.Errorf("Add(%d, %d) ok = %v", c.a, c.b, ok)
		}
	}
	if p, _ := Mul(-6, 7); p != -42 {
		t.Errorf("Mul(-6, 7) = %d", p)
	}
}
