package workflows

import (
	"context"
	"fmt"
	"reflect"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"
)

// The typed seam between the workflows and their activities. Each workflow
// family declares its activities as an interface (CheckoutActivities,
// CurrencyActivities) that the activities package implements and the
// workflow tests fake. A workflow calls an activity through a stub built from
// the interface's method expression, so the compiler checks the input and
// result types of every call against the implementation; the stub carries
// the registered name and the activity options of the call.

// ActivityRegistry is what activities are registered with: a worker, or a
// workflow test environment.
type ActivityRegistry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// options sets the activity (or local activity) options of a call.
type options func(workflow.Context) workflow.Context

// call is an activity of the family A with input In and result Out; a
// local one runs as a local activity.
type call[A, In, Out any] struct {
	name  string
	opts  options
	local bool
	fn    func(A, context.Context, In) (Out, error)
}

func newCall[A, In, Out any](name string, opts options, fn func(A, context.Context, In) (Out, error)) call[A, In, Out] {
	return call[A, In, Out]{name: name, opts: opts, fn: fn}
}

// Run schedules the activity and waits for its result.
func (c call[A, In, Out]) Run(ctx workflow.Context, in In) (Out, error) {
	var out Out
	var f workflow.Future
	if c.local {
		f = workflow.ExecuteLocalActivity(c.opts(ctx), c.name, in)
	} else {
		f = workflow.ExecuteActivity(c.opts(ctx), c.name, in)
	}
	err := f.Get(ctx, &out)
	return out, err
}

// With is the same activity called with other options (local activity
// options for a local one).
func (c call[A, In, Out]) With(opts options) call[A, In, Out] {
	c.opts = opts
	return c
}

// Local is the same activity run as a local activity with opts (local
// activity options): no activity task, no events but a marker.
func (c call[A, In, Out]) Local(opts options) call[A, In, Out] {
	c.opts, c.local = opts, true
	return c
}

func (c call[A, In, Out]) activityName() string { return c.name }

func (c call[A, In, Out]) register(r ActivityRegistry, impl A) {
	r.RegisterActivityWithOptions(func(ctx context.Context, in In) (Out, error) { return c.fn(impl, ctx, in) },
		activity.RegisterOptions{Name: c.name})
}

// effect is an activity of the family A with input In and no result; local
// ones (the read-model saves) run as local activities.
type effect[A, In any] struct {
	name  string
	opts  options
	local bool
	fn    func(A, context.Context, In) error
}

func newEffect[A, In any](name string, opts options, fn func(A, context.Context, In) error) effect[A, In] {
	return effect[A, In]{name: name, opts: opts, fn: fn}
}

func newLocalEffect[A, In any](name string, fn func(A, context.Context, In) error) effect[A, In] {
	return effect[A, In]{name: name, opts: saveOptions, local: true, fn: fn}
}

// Run schedules the activity and waits for it to finish.
func (e effect[A, In]) Run(ctx workflow.Context, in In) error {
	if e.local {
		return workflow.ExecuteLocalActivity(e.opts(ctx), e.name, in).Get(ctx, nil)
	}
	return workflow.ExecuteActivity(e.opts(ctx), e.name, in).Get(ctx, nil)
}

// With is the same activity called with other options (local activity
// options for a local one).
func (e effect[A, In]) With(opts options) effect[A, In] {
	e.opts = opts
	return e
}

// Local is the same activity run as a local activity with opts (local
// activity options).
func (e effect[A, In]) Local(opts options) effect[A, In] {
	e.opts, e.local = opts, true
	return e
}

func (e effect[A, In]) activityName() string { return e.name }

func (e effect[A, In]) register(r ActivityRegistry, impl A) {
	r.RegisterActivityWithOptions(func(ctx context.Context, in In) error { return e.fn(impl, ctx, in) },
		activity.RegisterOptions{Name: e.name})
}

type registrar[A any] interface {
	activityName() string
	register(r ActivityRegistry, impl A)
}

// registerAll registers impl under the name of every stub in stubs, a
// struct whose fields are the family's stubs, named as the interface's
// methods.
func registerAll[A any](r ActivityRegistry, stubs any, impl A) {
	for _, s := range familyStubs[A](stubs) {
		s.register(r, impl)
	}
}

// familyStubs lists the stubs of a family's struct of stubs.
func familyStubs[A any](stubs any) []registrar[A] {
	v := reflect.ValueOf(stubs)
	out := make([]registrar[A], 0, v.NumField())
	for i := range v.NumField() {
		s, ok := v.Field(i).Interface().(registrar[A])
		if !ok {
			panic(fmt.Sprintf("workflows: field %s of %s is not an activity of its family", v.Type().Field(i).Name, v.Type()))
		}
		out = append(out, s)
	}
	return out
}
