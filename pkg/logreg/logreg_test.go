package logreg

import (
	"errors"
	"math"
	"testing"
)

// toy is feature 0 present in positives, feature 1 in negatives, feature 2
// in both.
func toy() ([]Row, []bool) {
	var rows []Row
	var y []bool
	for i := range 40 {
		pos := i%4 == 0
		r := Row{Idx: []int32{2}, Val: []float64{1}}
		if pos {
			r = Row{Idx: []int32{0, 2}, Val: []float64{1, 1}}
		} else if i%3 == 0 {
			r = Row{Idx: []int32{1, 2}, Val: []float64{1, 1}}
		}
		rows = append(rows, r)
		y = append(y, pos)
	}
	return rows, y
}

func TestFitSeparates(t *testing.T) {
	rows, y := toy()
	m, err := Fit(rows, y, 3, Options{Lambda: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	if m.W[0] <= 0 || m.W[1] >= 0 {
		t.Errorf("weights %v: want feature 0 positive and feature 1 negative", m.W)
	}
	for i, r := range rows {
		if p := m.Prob(r); (p >= 0.5) != y[i] {
			t.Errorf("row %d: probability %.3f for label %v", i, p, y[i])
		}
	}
}

func TestFitIsDeterministic(t *testing.T) {
	rows, y := toy()
	a, _ := Fit(rows, y, 3, Options{})
	b, _ := Fit(rows, y, 3, Options{})
	for j := range a.W {
		if a.W[j] != b.W[j] {
			t.Fatalf("weight %d: %v then %v", j, a.W[j], b.W[j])
		}
	}
	if a.Bias != b.Bias {
		t.Fatalf("bias %v then %v", a.Bias, b.Bias)
	}
}

// TestFitMinimises checks the optimum: the gradient of the objective
// vanishes at the returned weights.
func TestFitMinimises(t *testing.T) {
	rows, y := toy()
	const lambda = 0.05
	m, err := Fit(rows, y, 3, Options{Lambda: lambda, Tol: 1e-9, MaxIter: 2000})
	if err != nil {
		t.Fatal(err)
	}
	o := &objective{rows: rows, y: make([]float64, len(y)), lambda: lambda}
	for i, v := range y {
		o.y[i] = -1
		if v {
			o.y[i] = 1
		}
	}
	p := append(append([]float64{}, m.W...), m.Bias)
	g := make([]float64, len(p))
	o.eval(p, g)
	if n := norm(g); n > 1e-5 {
		t.Errorf("gradient norm %g at the fit, want ~0", n)
	}
}

// TestCalibratedBaseRate: with no informative feature the probability is
// the base rate.
func TestCalibratedBaseRate(t *testing.T) {
	var rows []Row
	var y []bool
	for i := range 100 {
		rows = append(rows, Row{})
		y = append(y, i < 20)
	}
	m, err := Fit(rows, y, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Prob(Row{}); math.Abs(p-0.2) > 1e-3 {
		t.Errorf("probability %.4f, want the base rate 0.2", p)
	}
}

func TestFitErrors(t *testing.T) {
	if _, err := Fit(nil, nil, 1, Options{}); !errors.Is(err, ErrNoData) {
		t.Errorf("empty: %v, want ErrNoData", err)
	}
	if _, err := Fit([]Row{{Idx: []int32{5}, Val: []float64{1}}}, []bool{true}, 2, Options{}); err == nil {
		t.Error("an index outside the features was accepted")
	}
}

func TestSigmoid(t *testing.T) {
	for _, tc := range []struct{ z, want float64 }{{0, 0.5}, {800, 1}, {-800, 0}} {
		if got := Sigmoid(tc.z); math.Abs(got-tc.want) > 1e-12 || math.IsNaN(got) {
			t.Errorf("Sigmoid(%g) = %g, want %g", tc.z, got, tc.want)
		}
	}
}
