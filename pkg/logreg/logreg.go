// Package logreg fits L2-regularised binary logistic regression on sparse
// feature vectors with L-BFGS. It is deterministic: the same rows in the
// same order give the same weights, bit for bit.
package logreg

import (
	"errors"
	"fmt"
	"math"
)

// ErrNoData is returned by Fit for an empty training set.
var ErrNoData = errors.New("logreg: no training rows")

// Row is one sparse example: feature Idx[k] has value Val[k].
type Row struct {
	Idx []int32
	Val []float64
}

// Model is a fitted logistic regression: P(y=1|x) = sigmoid(Bias + W·x).
type Model struct {
	W    []float64
	Bias float64
}

// Options controls Fit. Zero values take the defaults.
type Options struct {
	// Lambda is the L2 penalty on the weights (not the bias), added to
	// the mean log-loss as Lambda/2 * |W|^2 (default 1e-3).
	Lambda float64
	// MaxIter bounds the L-BFGS iterations (default 400).
	MaxIter int
	// Tol stops when the gradient's norm falls below it (default 1e-6).
	Tol float64
	// Memory is the number of L-BFGS correction pairs (default 10).
	Memory int
}

func (o Options) withDefaults() Options {
	if o.Lambda == 0 {
		o.Lambda = 1e-3
	}
	if o.MaxIter == 0 {
		o.MaxIter = 400
	}
	if o.Tol == 0 {
		o.Tol = 1e-6
	}
	if o.Memory == 0 {
		o.Memory = 10
	}
	return o
}

// Sigmoid is the logistic function, stable for large |z|.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Score returns Bias + W·x.
func (m *Model) Score(r Row) float64 {
	z := m.Bias
	for k, j := range r.Idx {
		z += m.W[j] * r.Val[k]
	}
	return z
}

// Prob returns P(y=1|x).
func (m *Model) Prob(r Row) float64 { return Sigmoid(m.Score(r)) }

// objective holds the data of one fit; parameters are the weights
// followed by the bias.
type objective struct {
	rows   []Row
	y      []float64 // +1 or -1
	lambda float64
	z      []float64
}

// eval returns the objective at p and writes its gradient to g.
func (o *objective) eval(p, g []float64) float64 {
	nf := len(p) - 1
	bias := p[nf]
	n := float64(len(o.rows))
	clear(g)
	loss := 0.0
	for i, r := range o.rows {
		z := bias
		for k, j := range r.Idx {
			z += p[j] * r.Val[k]
		}
		yz := o.y[i] * z
		// log(1+exp(-yz)), stable.
		if yz > 0 {
			loss += math.Log1p(math.Exp(-yz))
		} else {
			loss += -yz + math.Log1p(math.Exp(yz))
		}
		c := -o.y[i] * Sigmoid(-yz) / n
		for k, j := range r.Idx {
			g[j] += c * r.Val[k]
		}
		g[nf] += c
	}
	loss /= n
	reg := 0.0
	for j := range nf {
		reg += p[j] * p[j]
		g[j] += o.lambda * p[j]
	}
	return loss + o.lambda/2*reg
}

// Fit fits a model with nfeat features to rows labelled y.
func Fit(rows []Row, y []bool, nfeat int, opts Options) (*Model, error) {
	if len(rows) == 0 {
		return nil, ErrNoData
	}
	if len(rows) != len(y) {
		return nil, fmt.Errorf("logreg: %d rows but %d labels", len(rows), len(y))
	}
	opts = opts.withDefaults()
	o := &objective{rows: rows, y: make([]float64, len(y)), lambda: opts.Lambda}
	pos := 0
	for i, v := range y {
		o.y[i] = -1
		if v {
			o.y[i] = 1
			pos++
		}
	}
	for _, r := range rows {
		for _, j := range r.Idx {
			if int(j) >= nfeat || j < 0 {
				return nil, fmt.Errorf("logreg: feature index %d outside [0,%d)", j, nfeat)
			}
		}
	}
	p := make([]float64, nfeat+1)
	// Start at the prior log-odds, so that the first steps learn features
	// rather than the base rate.
	rate := (float64(pos) + 0.5) / (float64(len(y)) + 1)
	p[nfeat] = math.Log(rate / (1 - rate))
	lbfgs(o, p, opts)
	return &Model{W: p[:nfeat:nfeat], Bias: p[nfeat]}, nil
}

// lbfgs minimises o from p in place.
func lbfgs(o *objective, p []float64, opts Options) {
	n := len(p)
	g := make([]float64, n)
	f := o.eval(p, g)
	m := opts.Memory
	s := make([][]float64, 0, m)
	yv := make([][]float64, 0, m)
	rho := make([]float64, 0, m)
	alpha := make([]float64, m)
	d := make([]float64, n)
	pn := make([]float64, n)
	gn := make([]float64, n)
	for iter := 0; iter < opts.MaxIter; iter++ {
		if norm(g) < opts.Tol {
			return
		}
		// Two-loop recursion: d = -H g.
		copy(d, g)
		for k := len(s) - 1; k >= 0; k-- {
			alpha[k] = rho[k] * dot(s[k], d)
			axpy(-alpha[k], yv[k], d)
		}
		if k := len(s) - 1; k >= 0 {
			scale(d, dot(s[k], yv[k])/dot(yv[k], yv[k]))
		}
		for k := range s {
			b := rho[k] * dot(yv[k], d)
			axpy(alpha[k]-b, s[k], d)
		}
		scale(d, -1)
		gd := dot(g, d)
		if gd >= 0 { // not a descent direction: restart from the gradient
			copy(d, g)
			scale(d, -1)
			gd = dot(g, d)
			s, yv, rho = s[:0], yv[:0], rho[:0]
		}
		// Backtracking line search (Armijo).
		step := 1.0
		if len(s) == 0 {
			step = 1 / max(1, norm(g))
		}
		var fn float64
		ok := false
		for ls := 0; ls < 40; ls++ {
			for j := range p {
				pn[j] = p[j] + step*d[j]
			}
			fn = o.eval(pn, gn)
			if fn <= f+1e-4*step*gd {
				ok = true
				break
			}
			step /= 2
		}
		if !ok {
			return
		}
		var sk, yk []float64
		if len(s) == m {
			sk, yk = s[0], yv[0]
			s, yv, rho = s[1:], yv[1:], rho[1:]
		} else {
			sk, yk = make([]float64, n), make([]float64, n)
		}
		for j := range p {
			sk[j] = pn[j] - p[j]
			yk[j] = gn[j] - g[j]
		}
		if sy := dot(sk, yk); sy > 1e-12 {
			s, yv, rho = append(s, sk), append(yv, yk), append(rho, 1/sy)
		}
		copy(p, pn)
		copy(g, gn)
		if f-fn < 1e-10*max(1, math.Abs(f)) {
			return
		}
		f = fn
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}

func scale(x []float64, a float64) {
	for i := range x {
		x[i] *= a
	}
}

func norm(x []float64) float64 { return math.Sqrt(dot(x, x)) }
