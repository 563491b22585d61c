package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/payflow/payflow/devserver"
)

// Retention of closed workflows' histories in the registered namespace.
const Retention = 7 * 24 * time.Hour

// namespaceWait bounds how long RegisterNamespace waits for the namespace and
// its search attributes to be visible; namespacePoll is how often it looks.
const (
	namespaceWait = 2 * time.Minute
	namespacePoll = time.Second
)

// healthy is nil once the frontend at addr answers its health check.
func healthy(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Logger: quiet{}})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// RegisterNamespace registers namespace on the server at addr if it is new,
// adds payflow's search attributes (the set the embedded dev server creates,
// devserver.SearchAttributes) that it lacks, and returns only once the
// frontend describes the namespace and lists every one of them. With SQL
// visibility an attribute is a namespace alias that reaches the frontend's
// namespace cache seconds after AddSearchAttributes returns; an api or
// worker started before that would see its first workflows' upserts fail.
// Safe to run on every start.
func RegisterNamespace(ctx context.Context, addr, namespace string) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Logger: quiet{}})
	if err != nil {
		return err
	}
	defer c.Close()
	return ensureNamespace(ctx, temporalNamespaces{c}, namespace, devserver.SearchAttributes, namespaceWait, namespacePoll)
}

// namespaceServer is what ensureNamespace asks of the Temporal server.
type namespaceServer interface {
	// register creates the namespace; one that exists already is no error.
	register(ctx context.Context, namespace string) error
	describe(ctx context.Context, namespace string) error
	listAttributes(ctx context.Context, namespace string) (map[string]enumspb.IndexedValueType, error)
	// addAttributes adds attributes; ones that exist already are no error.
	addAttributes(ctx context.Context, namespace string, attrs map[string]enumspb.IndexedValueType) error
}

// ensureNamespace registers namespace and adds the attributes it lacks until
// a describe succeeds and a list shows all of want, or wait has passed. An
// attribute is added once: with SQL visibility the server picks a free
// column from its cached namespace, so adding again before the cache shows
// the first add would alias a second column.
func ensureNamespace(ctx context.Context, s namespaceServer, namespace string, want map[string]enumspb.IndexedValueType, wait, poll time.Duration) error {
	if err := s.register(ctx, namespace); err != nil {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	added := map[string]bool{}
	deadline := time.Now().Add(wait)
	for {
		missing, err := missingAttributes(ctx, s, namespace, want)
		if err == nil {
			if len(missing) == 0 {
				return nil
			}
			add := map[string]enumspb.IndexedValueType{}
			for name, typ := range missing {
				if !added[name] {
					add[name] = typ
				}
			}
			err = fmt.Errorf("search attributes %v not listed yet", keys(missing))
			if len(add) > 0 {
				if aerr := s.addAttributes(ctx, namespace, add); aerr != nil {
					err = fmt.Errorf("add search attributes: %w", aerr)
				} else {
					for name := range add {
						added[name] = true
					}
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s not ready after %s: %w", namespace, wait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// missingAttributes describes the namespace (a new one reaches the
// frontend's cache within seconds; until then calls answer NotFound) and
// returns the attributes of want it does not list.
func missingAttributes(ctx context.Context, s namespaceServer, namespace string, want map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	if err := s.describe(ctx, namespace); err != nil {
		return nil, fmt.Errorf("describe namespace: %w", err)
	}
	have, err := s.listAttributes(ctx, namespace)
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		if _, ok := have[name]; !ok {
			missing[name] = typ
		}
	}
	return missing, nil
}

func keys(m map[string]enumspb.IndexedValueType) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// temporalNamespaces is namespaceServer over a client.
type temporalNamespaces struct{ c client.Client }

func (t temporalNamespaces) register(ctx context.Context, namespace string) error {
	_, err := t.c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(Retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	return err
}

func (t temporalNamespaces) describe(ctx context.Context, namespace string) error {
	_, err := t.c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	return err
}

func (t temporalNamespaces) listAttributes(ctx context.Context, namespace string) (map[string]enumspb.IndexedValueType, error) {
	have, err := t.c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	return have.GetCustomAttributes(), nil
}

func (t temporalNamespaces) addAttributes(ctx context.Context, namespace string, attrs map[string]enumspb.IndexedValueType) error {
	_, err := t.c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: attrs})
	var exists *serviceerror.AlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	return err
}

// quiet drops the SDK client's logs (dial retries while the server starts).
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
