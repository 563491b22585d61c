package workflows

import (
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// PinnedVersions has a worker record, for new runs, the given version of
// each pinned change id instead of the newest its code supports
// (PAYFLOW_WORKFLOW_VERSION_PINS). A rolling deploy of a change ships the
// code with its change pinned to the version before it, so that workers of
// the previous build, still running, can take any workflow task; once none
// is left the pin goes and new runs take the change. Until then the deploy
// can be rolled back. A pin outside a call's range is clamped to it.
func PinnedVersions(pins map[string]int) sdkworker.PreferredVersionProvider {
	if len(pins) == 0 {
		return nil
	}
	return func(in sdkworker.PreferredVersionProviderInput) *sdkworker.VersionPreference {
		v, ok := pins[in.ChangeID]
		if !ok {
			return nil
		}
		return &sdkworker.VersionPreference{Version: workflow.Version(v), ClampToSupportedRange: true}
	}
}
